//! Hand-written fixtures for every YAML construct the corpus lacks: a table of input → expected
//! output, each case also run with CRLF line endings and with a BOM, and each checked with the Go
//! oracle (Go reads the output as the input except at image paths).

use crate::util;

use pullthrough::rewrite::{self, Input, Options};
use pullthrough::rules::Rules;

const CONFIG: &str = "\
mirror: mirror.example.com
registries:
  docker.io: hub
  quay.io: quay
  ghcr.io: ghcr
exclude: [docker.io/library/busybox]
namespaces:
  exclude: [kube-system]
";

fn rules() -> Rules {
    util::rules::rules_from_yaml("fixtures.yaml", CONFIG)
}

fn rewrite(text: &str) -> Result<String, String> {
    let inputs = [Input {
        name: "in.yaml".into(),
        text: text.to_string(),
    }];
    let plan = rewrite::plan(&inputs, &rules(), &Options::default()).map_err(|e| e.to_string())?;
    rewrite::apply(&inputs, &plan).map_err(|e| e.to_string())
}

fn image_path(p: &str) -> bool {
    regex::Regex::new(r"(containers|initContainers|ephemeralContainers)\[\d+\]\.image$|volumes\[\d+\]\.image\.reference$").unwrap().is_match(p)
}

/// Checks `input` → `expected`, the CRLF and BOM variants, and Go's reading of both sides.
fn check(name: &str, input: &str, expected: &str) {
    let got = rewrite(input).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(got, expected, "{name}");
    let crlf =
        rewrite(&input.replace('\n', "\r\n")).unwrap_or_else(|e| panic!("{name} (CRLF): {e}"));
    assert_eq!(crlf, expected.replace('\n', "\r\n"), "{name} (CRLF)");
    let bom = rewrite(&format!("\u{feff}{input}")).unwrap_or_else(|e| panic!("{name} (BOM): {e}"));
    assert_eq!(bom, format!("\u{feff}{expected}"), "{name} (BOM)");
    let (a, b) = (
        util::oracle::read_bytes(input.as_bytes()),
        util::oracle::read_bytes(got.as_bytes()),
    );
    assert_eq!(
        a.len(),
        b.len(),
        "{name}: Go sees a different number of documents"
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.error, y.error, "{name}: Go's verdict changed");
        if let (Some(jx), Some(jy)) = (&x.json, &y.json) {
            for p in util::oracle::differing_paths(jx, jy) {
                assert!(image_path(&p), "{name}: Go reads a different value at {p}");
            }
        }
    }
}

macro_rules! cases {
    ($($name:ident: $input:expr => $expected:expr;)*) => { $( #[test] fn $name() { check(stringify!($name), $input, $expected); } )* };
}

const M: &str = "mirror.example.com";

cases! {
    plain_with_comment_and_neighbours:
"apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  volumes:
  - name: cfg
    configMap: {name: c, defaultMode: 0644}
  containers:
  - name: a   # first
    image: nginx # the web server
    tty: on
    stdin: yes
    args: [\"12345678901234567890\", 1e3]
" => "apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  volumes:
  - name: cfg
    configMap: {name: c, defaultMode: 0644}
  containers:
  - name: a   # first
    image: mirror.example.com/hub/library/nginx:latest # the web server
    tty: on
    stdin: yes
    args: [\"12345678901234567890\", 1e3]
";

    quoting_styles_are_kept:
"kind: Pod
spec:
  containers:
  - image: \"quay.io/prometheus/node-exporter:v1.8.2\"
  - image: 'ghcr.io/fluxcd/flux:v2'
  - image: \"\\x6Eginx:1.25\"
  - image: !!str nginx:1.27
" => "kind: Pod
spec:
  containers:
  - image: \"mirror.example.com/quay/prometheus/node-exporter:v1.8.2\"
  - image: 'mirror.example.com/ghcr/fluxcd/flux:v2'
  - image: \"mirror.example.com/hub/library/nginx:1.25\"
  - image: !!str mirror.example.com/hub/library/nginx:1.27
";

    flow_style_and_json_document:
"{\"apiVersion\": \"batch/v1\", \"kind\": \"Job\", \"metadata\": {\"name\": \"j\"},
 \"spec\": {\"template\": {\"spec\": {\"containers\": [{\"name\": \"x\", \"image\": \"quay.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}]}}}}
" => "{\"apiVersion\": \"batch/v1\", \"kind\": \"Job\", \"metadata\": {\"name\": \"j\"},
 \"spec\": {\"template\": {\"spec\": {\"containers\": [{\"name\": \"x\", \"image\": \"mirror.example.com/quay/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}]}}}}
";

    flow_map_in_block_yaml:
"kind: Deployment
spec:
  template:
    spec:
      initContainers: [{name: init, image: alpine:3.20}, {name: two, image: 'quay.io/x/y'}]
" => "kind: Deployment
spec:
  template:
    spec:
      initContainers: [{name: init, image: mirror.example.com/hub/library/alpine:3.20}, {name: two, image: 'mirror.example.com/quay/x/y:latest'}]
";

    json_stream_of_objects:
"{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}
{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"image\":\"ghcr.io/a/b:1\"}]}}
" => "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"image\":\"mirror.example.com/hub/library/nginx:latest\"}]}}
{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"image\":\"mirror.example.com/ghcr/a/b:1\"}]}}
";

    block_scalars_single_line:
"kind: Pod
spec:
  containers:
  - image: |-
      nginx:1.25
  - image: >
      quay.io/a/b:2
  - image: |+
      ghcr.io/a/b:3

  - image: |
      nginx
      :1.25
  - name: last
" => "kind: Pod
spec:
  containers:
  - image: |-
      mirror.example.com/hub/library/nginx:1.25
  - image: >
      mirror.example.com/quay/a/b:2
  - image: |+
      mirror.example.com/ghcr/a/b:3

  - image: |
      nginx
      :1.25
  - name: last
";

    anchors_and_aliases:
"kind: Pod
metadata:
  name: p
  annotations:
    upstream: &up quay.io/a/b:1
spec:
  initContainers:
  - image: &img nginx:1.25
  containers:
  - image: *img
  - image: *up
  - image: &lone ghcr.io/c/d:2
" => "kind: Pod
metadata:
  name: p
  annotations:
    upstream: &up quay.io/a/b:1
spec:
  initContainers:
  - image: &img mirror.example.com/hub/library/nginx:1.25
  containers:
  - image: *img
  - image: mirror.example.com/quay/a/b:1
  - image: &lone mirror.example.com/ghcr/c/d:2
";

    document_markers_and_comment_only_documents:
"---
# Source: chart/templates/empty.yaml
---
# Source: chart/templates/pod.yaml
kind: Pod
spec:
  containers:
  - image: nginx
...
---
kind: Pod
spec: {containers: [{image: nginx}]}
...
" => "---
# Source: chart/templates/empty.yaml
---
# Source: chart/templates/pod.yaml
kind: Pod
spec:
  containers:
  - image: mirror.example.com/hub/library/nginx:latest
...
---
kind: Pod
spec: {containers: [{image: mirror.example.com/hub/library/nginx:latest}]}
...
";

    workload_kinds_lists_and_volumes:
"apiVersion: v1
kind: List
items:
- kind: CronJob
  metadata: {name: c, namespace: apps}
  spec:
    jobTemplate:
      spec:
        template:
          spec:
            containers:
            - image: nginx
            ephemeralContainers:
            - image: quay.io/debug/tools
            volumes:
            - name: data
              image:
                reference: ghcr.io/org/data:v1
                pullPolicy: IfNotPresent
- kind: Pod
  metadata: {name: sys, namespace: kube-system}
  spec:
    containers:
    - image: nginx
" => "apiVersion: v1
kind: List
items:
- kind: CronJob
  metadata: {name: c, namespace: apps}
  spec:
    jobTemplate:
      spec:
        template:
          spec:
            containers:
            - image: mirror.example.com/hub/library/nginx:latest
            ephemeralContainers:
            - image: mirror.example.com/quay/debug/tools:latest
            volumes:
            - name: data
              image:
                reference: mirror.example.com/ghcr/org/data:v1
                pullPolicy: IfNotPresent
- kind: Pod
  metadata: {name: sys, namespace: kube-system}
  spec:
    containers:
    - image: nginx
";

    kept_as_is:
"kind: CustomResourceDefinition
spec:
  versions:
  - schema:
      default: {containers: [{image: nginx}]}
---
kind: Pod
spec:
  containers:
  - image: mirror.example.com/hub/library/nginx:latest
  - image: busybox:1.36
  - image: \"{{ .Values.image }}\"
  - image: \"\"
  - image: 123
  - image:
  - image: registry.example.org/team/app:1
  - image: nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  - image: registry-1.docker.io/bitnami/redis:7.2
" => "kind: CustomResourceDefinition
spec:
  versions:
  - schema:
      default: {containers: [{image: nginx}]}
---
kind: Pod
spec:
  containers:
  - image: mirror.example.com/hub/library/nginx:latest
  - image: busybox:1.36
  - image: \"{{ .Values.image }}\"
  - image: \"\"
  - image: 123
  - image:
  - image: registry.example.org/team/app:1
  - image: mirror.example.com/hub/library/nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  - image: mirror.example.com/hub/bitnami/redis:7.2
";

    duplicate_keys_and_kind_after_spec:
"spec:
  containers:
  - image: nginx:1
    image: nginx:2
metadata: {name: late, namespace: kube-system}
kind: Pod
---
spec: {containers: [{image: nginx}]}
kind: Pod
" => "spec:
  containers:
  - image: nginx:1
    image: nginx:2
metadata: {name: late, namespace: kube-system}
kind: Pod
---
spec: {containers: [{image: mirror.example.com/hub/library/nginx:latest}]}
kind: Pod
";
}

#[test]
fn mirror_constant_matches_config() {
    assert!(CONFIG.contains(M));
}

macro_rules! refused {
    ($($name:ident: $input:expr => $err:expr;)*) => { $( #[test] fn $name() { assert_eq!(rewrite($input), Err($err.to_string())); } )* };
}

refused! {
    alias_reads_rewritten_image:
"kind: Pod
metadata:
  labels: {copy: *img}
spec:
  containers:
  - image: &img nginx
" => "in.yaml:3:18: while parsing node, found unknown anchor";

    alias_outside_image_field:
"kind: Pod
spec:
  containers:
  - image: &img nginx
metadata:
  annotations: {copy: *img}
" => "in.yaml:6:23: alias *img reads an anchored image that is being rewritten, outside an image field; rewriting it would change this value too: write the value out instead of the alias";


    unterminated_quote:
"kind: Pod
spec:
  containers:
  - image: \"nginx
" => "in.yaml:4:12: unclosed quote";

    tab_indentation:
"kind: Pod
spec:
\tcontainers: []
" => "in.yaml:3:2: tabs disallowed within this context (block indentation)";
}
