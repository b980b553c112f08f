// The second .jsonnet file Argo CD evaluates: it substitutes the values once more.
{
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'jsonnet-second' },
  data: { app: std.extVar('app'), escaped: std.extVar('escaped') },
}
