// U+0085 (NEL): Go's JSON reader of a native directory app keeps it; go-yaml, Argo CD's reader
// of plugin output, reads it as a space. The plugin refuses the file rather than change it.
{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { nel: 'a\u0085b' } }
