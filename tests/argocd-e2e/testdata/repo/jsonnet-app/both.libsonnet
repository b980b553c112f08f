'app dir'
