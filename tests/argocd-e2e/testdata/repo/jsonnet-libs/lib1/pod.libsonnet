function(name, image) {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: name },
  spec: { containers: [{ name: 'app', image: image }] },
}
