'beside main.jsonnet'
