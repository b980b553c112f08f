// Not beside this file: both.libsonnet comes from the libs before the app directory.
{
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'jsonnet-sub' },
  data: { both: import 'both.libsonnet', which: import 'which.libsonnet', escaped: std.extVar('escaped') },
}
