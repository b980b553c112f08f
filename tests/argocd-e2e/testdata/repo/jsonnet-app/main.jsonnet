// Evaluated with extVars, tlas and libs (tests/argocd-e2e: TestJsonnetNativeParity).
local here = import 'here.libsonnet';  // beside this file
local which = import 'which.libsonnet';  // in both libs: the last lib wins
local pod = import 'pod.libsonnet';  // in the first lib only
function(tier, replicas=1) [
  pod('jsonnet-pod', std.extVar('image')),
  null,  // skipped, as Argo CD skips a nil object
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'jsonnet-main' },
    data: {
      here: here,
      which: which,
      tier: tier,
      replicas: std.toString(replicas),
      str: std.extVar('str'),
      strType: std.type(std.extVar('str')),
      code: std.manifestJsonEx(std.extVar('code'), ''),
      codeType: std.type(std.extVar('code')),
      app: std.extVar('app'),
      escaped: std.extVar('escaped'),
    },
  },
  {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'jsonnet-numbers' },
    spec: {
      big: 1e20,
      small: 0.1,
      third: 1 / 3,
      int: 42,
      negative: -7,
      text: 'é 😀 \u00a0 \u2028 \u0001 "quoted" \\ tab\t',
      yes: 'yes',
      nothing: null,
      empty: {},
      list: [1, 'two', true],
    },
  },
]
