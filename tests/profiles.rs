//! Images named outside `containers[].image`: configured fields, container args and env, and the
//! built-in profiles, on the real charts that need them and on fixtures for every form.

use crate::util;

use std::path::Path;

use pullthrough::rewrite::{self, Input, Options, Record};
use pullthrough::rules::Rules;

const M: &str = "111111111111.dkr.ecr.eu-west-1.amazonaws.com";

fn rules(yaml: &str) -> Rules {
    util::rules::rules_from_yaml("test.yaml", yaml)
}

fn corpus_rules() -> Rules {
    rules(&format!(
        "mirror: {M}\nregistries: {{docker.io: docker-hub, quay.io: quay, ghcr.io: ghcr, registry.k8s.io: registry-k8s-io}}\nprofiles: [prometheus-operator, cert-manager, argo-workflows, harbor]\n"
    ))
}

fn plan(rules: &Rules, name: &str, text: String) -> (Vec<Input>, Vec<Record>) {
    let inputs = vec![Input {
        name: name.into(),
        text,
    }];
    let plan = rewrite::plan(&inputs, rules, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    (inputs, plan.records)
}

fn corpus(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/corpus")
            .join(name),
    )
    .unwrap()
}

/// (path, after) of the records not found by the container-image rule.
fn outside(records: &[Record]) -> Vec<(String, String)> {
    records
        .iter()
        .filter(|r| r.field != "container image")
        .map(|r| {
            (
                format!("{} {}", r.object.kind.as_deref().unwrap_or("-"), r.path),
                r.decision.to.clone().unwrap_or_else(|| "-".into()),
            )
        })
        .collect()
}

#[test]
fn corpus_charts_with_profiles() {
    let rules = corpus_rules();
    // (file, container image edits, fields outside containers: (kind + path, value after))
    type Case<'a> = (&'a str, usize, &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        (
            "kube-prometheus-stack.yaml",
            11,
            &[
                ("Deployment spec.template.spec.containers[0].args[4]", "--prometheus-config-reloader=M/quay/prometheus-operator/prometheus-config-reloader:v0.93.1"),
                // The Thanos sidecar's default image (deployment.yaml: `--thanos-default-base-image=`, with a tag here).
                ("Deployment spec.template.spec.containers[0].args[9]", "--thanos-default-base-image=M/quay/thanos/thanos:v0.42.4"),
                ("Alertmanager spec.image", "M/quay/prometheus/alertmanager:v0.34.0"),
                ("Prometheus spec.image", "M/quay/prometheus/prometheus:v3.14.0-distroless"),
                ("ThanosRuler spec.image", "M/quay/thanos/thanos:v0.42.4"),
            ],
        ),
        ("cert-manager.yaml", 4, &[("Deployment spec.template.spec.containers[0].args[3]", "--acme-http01-solver-image=M/quay/jetstack/cert-manager-acmesolver:v1.21.1")]),
        ("argo-workflows.yaml", 3, &[("Deployment spec.template.spec.containers[0].args[3]", "M/quay/argoproj/argoexec:v4.0.6")]),
        (
            "harbor.yaml",
            10,
            &[
                // Repositories, not images: no tag added; mirror.gcr.io has no rule and stays.
                ("StatefulSet spec.template.spec.containers[0].env[14].value", "mirror.gcr.io/aquasec/trivy-db,M/ghcr/aquasecurity/trivy-db"),
                ("StatefulSet spec.template.spec.containers[0].env[15].value", "mirror.gcr.io/aquasec/trivy-java-db,M/ghcr/aquasecurity/trivy-java-db"),
            ],
        ),
    ];
    for (file, containers, expected) in cases {
        let text = corpus(file);
        let (inputs, records) = plan(&rules, file, text.clone());
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|(p, a)| (p.to_string(), a.replace("M/", &format!("{M}/"))))
            .collect();
        assert_eq!(outside(&records), want, "{file}");
        let container_edits = records
            .iter()
            .filter(|r| r.field == "container image" && r.edit.is_some())
            .count();
        assert_eq!(container_edits, *containers, "{file}");
        // The output differs from the input exactly on those lines.
        let out = rewrite::apply(
            &inputs,
            &rewrite::Plan {
                records: records.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        let changed = text
            .lines()
            .zip(out.lines())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(changed, containers + expected.len(), "{file}");
        // Go reads the same except at those paths.
        let (a, b) = (
            util::oracle::read_bytes(text.as_bytes()),
            util::oracle::read_bytes(out.as_bytes()),
        );
        let mut diffs = 0;
        for (x, y) in a.iter().zip(&b) {
            if let (Some(jx), Some(jy)) = (&x.json, &y.json) {
                diffs += util::oracle::differing_paths(jx, jy).len();
            }
        }
        assert_eq!(diffs, containers + expected.len(), "{file}");
    }
}

#[test]
fn without_profiles_only_containers_change() {
    let rules = rules(&format!("mirror: {M}\nregistries: {{quay.io: quay}}\n"));
    let (_, records) = plan(&rules, "kps", corpus("kube-prometheus-stack.yaml"));
    assert!(outside(&records).is_empty());
}

fn rewrite_with(config: &str, input: &str) -> String {
    let rules = rules(config);
    let (inputs, records) = plan(&rules, "in.yaml", input.to_string());
    rewrite::apply(
        &inputs,
        &rewrite::Plan {
            records,
            ..Default::default()
        },
    )
    .unwrap()
}

const CFG: &str = "mirror: m.io
registries: {docker.io: hub, quay.io: quay}
fields:
- kinds: [Thing]
  group: example.com
  paths: [spec.image, 'spec.workers[].image', 'spec.*.sidecar']
- paths: [spec.runner.repo]
  repository: true
args:
- flag: --image
env:
- name: RELATED_IMAGE_*
- name: DB_REPOS
  repository: true
  separator: ','
";

#[test]
fn every_path_form_arg_form_and_env_glob() {
    let input = "apiVersion: example.com/v1
kind: Thing
spec:
  image: nginx
  workers:
  - image: quay.io/a/b:1
  - image: \"quay.io/a/c\"
  extra:
    sidecar: busybox:1
  runner:
    repo: quay.io/runner/cache
  other:
    image: nginx
---
apiVersion: other.io/v1
kind: Thing
spec:
  image: nginx
---
apiVersion: example.com/v1
kind: Thing
items:
- spec:
    image: nginx
---
apiVersion: v1
kind: List
items:
- apiVersion: example.com/v1
  kind: Thing
  spec:
    image: nginx
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: op
        image: quay.io/op/op:1
        args: [\"--image=nginx:1.25\", --image, quay.io/x/y:2, --image-pull-policy=Always, --imagex=nginx]
        command: [op, --image, nginx]
        env:
        - name: RELATED_IMAGE_DB
          value: quay.io/db/db:9
        - value: nginx
          name: RELATED_IMAGE_CACHE
        - name: OTHER
          value: nginx
        - name: DB_REPOS
          value: quay.io/a/db,docker.io/b/db
";
    let want = "apiVersion: example.com/v1
kind: Thing
spec:
  image: m.io/hub/library/nginx:latest
  workers:
  - image: m.io/quay/a/b:1
  - image: \"m.io/quay/a/c:latest\"
  extra:
    sidecar: m.io/hub/library/busybox:1
  runner:
    repo: m.io/quay/runner/cache
  other:
    image: nginx
---
apiVersion: other.io/v1
kind: Thing
spec:
  image: nginx
---
apiVersion: example.com/v1
kind: Thing
items:
- spec:
    image: nginx
---
apiVersion: v1
kind: List
items:
- apiVersion: example.com/v1
  kind: Thing
  spec:
    image: m.io/hub/library/nginx:latest
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: op
        image: m.io/quay/op/op:1
        args: [\"--image=m.io/hub/library/nginx:1.25\", --image, m.io/quay/x/y:2, --image-pull-policy=Always, --imagex=nginx]
        command: [op, --image, m.io/hub/library/nginx:latest]
        env:
        - name: RELATED_IMAGE_DB
          value: m.io/quay/db/db:9
        - value: m.io/hub/library/nginx:latest
          name: RELATED_IMAGE_CACHE
        - name: OTHER
          value: nginx
        - name: DB_REPOS
          value: m.io/quay/a/db,m.io/hub/b/db
";
    assert_eq!(rewrite_with(CFG, input), want);
}

#[test]
fn crd_decoy_is_never_touched() {
    let input = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  runner: {repo: quay.io/a/b}
  versions:
  - schema:
      openAPIV3Schema:
        properties:
          spec:
            properties:
              image: {type: string, default: nginx}
  template:
    spec:
      containers:
      - image: nginx
        args: [--image=nginx]
";
    assert_eq!(rewrite_with(CFG, input), input);
}

#[test]
fn explain_names_the_profile() {
    let out = util::cmd::Cmd::new()
        .args(["explain", "-o", "json", "--mirror", "m.io", "--map", "quay.io=quay"])
        .stdin("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: quay.io/jetstack/cert-manager-controller:v1\n    args: [--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:v1]\n")
        .stdout_ok();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = report["fields"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "no profile chosen: only the container image");
    let dir = util::cmd::TestDir::new();
    let cfg = dir.write(
        "c.yaml",
        "mirror: m.io\nregistries: {quay.io: quay}\nprofiles: [cert-manager]\n",
    );
    let out = util::cmd::Cmd::new()
        .args(["explain", "-o", "json", "--config"])
        .arg(&cfg)
        .stdin("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: quay.io/jetstack/cert-manager-controller:v1\n    args: [--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:v1]\n")
        .stdout_ok();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = report["fields"].as_array().unwrap();
    assert_eq!(rows[1]["field"], "spec.containers[0].args[0]");
    assert_eq!(
        rows[1]["found_by"],
        "profile cert-manager: arg --acme-http01-solver-image"
    );
    assert_eq!(
        rows[1]["after"],
        "--acme-http01-solver-image=m.io/quay/jetstack/cert-manager-acmesolver:v1"
    );
}

#[test]
fn config_errors_name_the_setting() {
    for (yaml, msg) in [
        ("profiles: [nope]\n", "test.yaml: profiles: unknown profile \"nope\" (known: prometheus-operator, cert-manager, argo-workflows, harbor, cloudnative-pg, strimzi, longhorn, rook-ceph, local-path-provisioner, openebs-localpv, zalando-postgres-operator, mongodb, percona, nvidia-gpu-operator, opentelemetry-operator, fluent-operator, trivy-operator, actions-runner-controller, istio, linkerd, vault, dapr, jenkins, elastic-eck, tigera-operator, minio, velero, or all for every one)"),
        ("fields: [{paths: [spec.x], repository: true, prefix: true}]\n", "test.yaml: fields[0]: repository and prefix exclude each other"),
        ("fields: [{paths: [spec.x], innerPaths: [a]}]\n", "test.yaml: fields[0].innerPaths: innerPaths need embedded: true"),
        ("fields: [{paths: ['spec..image']}]\n", "test.yaml: fields[0].paths: empty segment in path \"spec..image\""),
        ("args: [{flag: 'image='}]\n", "test.yaml: args[0].flag: \"image=\" is not a flag (`--name`, without `=`)"),
        ("env: [{name: 'A['}]\n", "test.yaml: env[0].name: invalid glob \"A[\": unclosed character class; missing ']'"),
    ] {
        let s = util::rules::settings_from_yaml("test.yaml", yaml);
        assert_eq!(Rules::compile(&s).unwrap_err().to_string(), msg);
    }
}

// ---------------------------------------------------------------------------------------------
// `profiles: [all]` on the operators' real charts (tests/data/charts, see its README).

/// The shipped `argocd/config.yaml` (its ConfigMap's `config.yaml`), with every profile on and
/// no `exclude` (so busybox shows where it is named).
fn shipped_with_all_profiles() -> Rules {
    let cm =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("argocd/config.yaml"))
            .unwrap();
    let body: String = cm
        .split("config.yaml: |\n")
        .nth(1)
        .expect("argocd/config.yaml has a config.yaml key")
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let mut s = util::rules::settings_from_yaml("argocd/config.yaml", &body);
    s.exclude.set(Vec::new(), "test");
    s.profiles.set(vec!["all".into()], "test");
    util::rules::compile(&s)
}

/// (kind, name, before, after) of each value outside the container rule, a list value line by line.
fn found_outside(records: &[Record]) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for r in records.iter().filter(|r| r.field != "container image") {
        let after = r.decision.to.clone().unwrap_or_else(|| r.before.clone());
        for (b, a) in r.before.split('\n').zip(after.split('\n')) {
            if !b.trim().is_empty() {
                out.push((
                    r.object.kind.clone().unwrap_or_default(),
                    r.object.name.clone().unwrap_or_default(),
                    b.trim().to_string(),
                    a.trim().to_string(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn operator_charts_with_all_profiles() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/charts");
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut by_chart: std::collections::BTreeMap<&str, Vec<(String, String, String, String)>> =
        Default::default();
    for line in expected.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        by_chart.entry(c[0]).or_default().push((
            c[1].into(),
            c[2].into(),
            c[3].into(),
            c[4].into(),
        ));
    }
    let rules = shipped_with_all_profiles();
    let (mut rewritten, mut outside) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(chart) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".yaml"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let (inputs, records) = plan(&rules, chart, text.clone());
        let mut want = by_chart.remove(chart).unwrap_or_default();
        want.sort();
        let got = found_outside(&records);
        // Values left on purpose are not records, or records that keep their value.
        let got_changed: Vec<_> = got.iter().filter(|(_, _, b, a)| b != a).cloned().collect();
        let want_changed: Vec<_> = want.iter().filter(|(_, _, b, a)| b != a).cloned().collect();
        assert_eq!(
            got_changed, want_changed,
            "{chart}: the rewritten values outside pod specs"
        );
        for (k, n, b, _) in want.iter().filter(|(_, _, b, a)| b == a) {
            assert!(
                got.iter()
                    .all(|(gk, gn, gb, ga)| !(gk == k && gn == n && gb == b) || ga == b),
                "{chart}: {k}/{n} {b} must stay"
            );
        }
        rewritten += want_changed.len();
        outside += want.len();
        // Go reads the output as the input except at the records' fields.
        let out = rewrite::apply(
            &inputs,
            &rewrite::Plan {
                records: records.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            !out.contains("docker-hub/library/auto"),
            "{chart}: Istio's image: auto was rewritten"
        );
        let (a, b) = (
            util::oracle::read_bytes(text.as_bytes()),
            util::oracle::read_bytes(out.as_bytes()),
        );
        assert_eq!(a.len(), b.len(), "{chart}");
        let edited_docs: std::collections::BTreeSet<usize> = records
            .iter()
            .filter(|r| r.edit.is_some())
            .map(|r| r.doc)
            .collect();
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let diffs =
                util::oracle::differing_paths(x.json.as_ref().unwrap(), y.json.as_ref().unwrap());
            assert!(
                diffs.is_empty() || edited_docs.contains(&i),
                "{chart} doc {i}: Go reads {diffs:?} differently, no edit there"
            );
        }
    }
    assert!(
        by_chart.is_empty(),
        "expected.tsv names charts without a file: {:?}",
        by_chart.keys()
    );
    // The figures quoted in the README and the closing note.
    assert_eq!(
        (outside, rewritten),
        (145, 105),
        "references outside pod specs / rewritten with the shipped map"
    );
}

// ---------------------------------------------------------------------------------------------
// Field rules that compose (issue 16), one table row per behaviour: (name, config, input, output).

macro_rules! rewrites {
    ($($name:ident: $config:expr, $input:expr => $output:expr;)*) => {
        $( #[test] fn $name() { assert_eq!(rewrite_with(&format!("mirror: m.io\nregistries: {{docker.io: hub, quay.io: quay, ghcr.io: ghcr, docker.elastic.co: elastic}}\n{}", $config), $input), $output); } )*
    };
}

rewrites! {
    // No entry hides another: an admin's entry and a profile's, and two entries in either order.
    admin_entry_does_not_hide_a_profile:
        "fields: [{kinds: [FluentBit], group: fluentbit.fluent.io, paths: [spec.image]}]\nprofiles: [prometheus-operator]\n",
        "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nspec: {image: quay.io/prometheus/prometheus:v3}\n---\napiVersion: fluentbit.fluent.io/v1alpha2\nkind: FluentBit\nspec: {image: ghcr.io/fluent/fluent-bit:3}\n"
        => "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nspec: {image: m.io/quay/prometheus/prometheus:v3}\n---\napiVersion: fluentbit.fluent.io/v1alpha2\nkind: FluentBit\nspec: {image: m.io/ghcr/fluent/fluent-bit:3}\n";
    two_entries_same_path_first_order:
        "fields: [{kinds: [FluentBit], paths: [spec.image]}, {kinds: [Tenant], paths: [spec.image]}]\n",
        "kind: FluentBit\nspec: {image: ghcr.io/fluent/fluent-bit:3}\n---\nkind: Tenant\nspec: {image: quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z}\n"
        => "kind: FluentBit\nspec: {image: m.io/ghcr/fluent/fluent-bit:3}\n---\nkind: Tenant\nspec: {image: m.io/quay/minio/minio:RELEASE.2025-04-08T15-41-24Z}\n";
    two_entries_same_path_other_order:
        "fields: [{kinds: [Tenant], paths: [spec.image]}, {kinds: [FluentBit], paths: [spec.image]}]\n",
        "kind: FluentBit\nspec: {image: ghcr.io/fluent/fluent-bit:3}\n---\nkind: Tenant\nspec: {image: quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z}\n"
        => "kind: FluentBit\nspec: {image: m.io/ghcr/fluent/fluent-bit:3}\n---\nkind: Tenant\nspec: {image: m.io/quay/minio/minio:RELEASE.2025-04-08T15-41-24Z}\n";
    // Keys with dots, named in brackets.
    dotted_configmap_key:
        "fields: [{kinds: [ConfigMap], paths: ['data[\"node.collector.imageRef\"]']}]\n",
        "kind: ConfigMap\ndata:\n  node.collector.imageRef: ghcr.io/aquasecurity/node-collector:0.3.1\n  node.collector.other: ghcr.io/x/y:1\n"
        => "kind: ConfigMap\ndata:\n  node.collector.imageRef: m.io/ghcr/aquasecurity/node-collector:0.3.1\n  node.collector.other: ghcr.io/x/y:1\n";
    // Registry and prefix values: the mirror form of the prefix, nothing added.
    prefix_docker_hub_namespace_gets_no_library:
        "env: [{name: MONGODB_REPO_URL, prefix: true}]\n",
        "kind: Pod\nspec:\n  containers:\n  - image: quay.io/mongodb/op:1\n    env: [{name: MONGODB_REPO_URL, value: docker.io/mongodb}]\n"
        => "kind: Pod\nspec:\n  containers:\n  - image: m.io/quay/mongodb/op:1\n    env: [{name: MONGODB_REPO_URL, value: m.io/hub/mongodb}]\n";
    prefix_registry_host_alone:
        "fields: [{kinds: [ConfigMap], paths: ['data[\"container-registry\"]'], prefix: true}]\n",
        "kind: ConfigMap\ndata: {container-registry: docker.elastic.co}\n" => "kind: ConfigMap\ndata: {container-registry: m.io/elastic}\n";
    prefix_keeps_its_trailing_slash:
        "fields: [{kinds: [Installation], paths: [spec.registry], prefix: true}]\n",
        "kind: Installation\nspec: {registry: quay.io/}\n" => "kind: Installation\nspec: {registry: m.io/quay/}\n";
    prefix_that_is_no_registry_stays:
        "fields: [{kinds: [Installation], paths: [spec.registry], prefix: true}]\n",
        "kind: Installation\nspec: {registry: UseDefault}\n" => "kind: Installation\nspec: {registry: UseDefault}\n";
    // VERSION=IMAGE lists: only the part after `=` changes, line by line, blank lines kept.
    keyed_lines:
        "env: [{name: STRIMZI_KAFKA_IMAGES, separator: \"\\n\", keyed: true}]\n",
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: quay.io/strimzi/operator:1\n        env:\n        - name: STRIMZI_KAFKA_IMAGES\n          value: |\n            4.2.0=quay.io/strimzi/kafka:1-kafka-4.2.0\n            4.3.0=quay.io/strimzi/kafka:1-kafka-4.3.0\n"
        => "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: m.io/quay/strimzi/operator:1\n        env:\n        - name: STRIMZI_KAFKA_IMAGES\n          value: |\n            4.2.0=m.io/quay/strimzi/kafka:1-kafka-4.2.0\n            4.3.0=m.io/quay/strimzi/kafka:1-kafka-4.3.0\n";
    keyed_comma_list:
        "env: [{name: IMAGES, separator: ',', keyed: true}]\n",
        "kind: Pod\nspec:\n  containers:\n  - image: nginx\n    env: [{name: IMAGES, value: 'a=nginx:1, b=quay.io/x/y:2'}]\n"
        => "kind: Pod\nspec:\n  containers:\n  - image: m.io/hub/library/nginx:latest\n    env: [{name: IMAGES, value: 'a=m.io/hub/library/nginx:1, b=m.io/quay/x/y:2'}]\n";
    // A plain flag stays plain after its image changed.
    flag_stays_plain:
        "args: [{flag: --collector-image}]\n",
        "kind: Pod\nspec:\n  containers:\n  - image: nginx\n    args:\n    - --collector-image=ghcr.io/open-telemetry/collector:0.1\n"
        => "kind: Pod\nspec:\n  containers:\n  - image: m.io/hub/library/nginx:latest\n    args:\n    - --collector-image=m.io/ghcr/open-telemetry/collector:0.1\n";
    // Fields that hold an image only when it names a registry.
    qualified_field_skips_bare_names:
        "fields: [{kinds: [ClusterPolicy], paths: ['spec.*.image'], qualified: true}]\n",
        "kind: ClusterPolicy\nspec:\n  driver: {image: driver}\n  other: {image: quay.io/x/y:1}\n"
        => "kind: ClusterPolicy\nspec:\n  driver: {image: driver}\n  other: {image: m.io/quay/x/y:1}\n";
    // ConfigMap entries scoped by name.
    configmap_by_name:
        "fields: [{kinds: [ConfigMap], names: [rook-*], paths: [data.plugin]}]\n",
        "kind: ConfigMap\nmetadata: {name: rook-csi}\ndata: {plugin: quay.io/cephcsi/cephcsi:v3}\n---\nkind: ConfigMap\nmetadata: {name: other}\ndata: {plugin: quay.io/cephcsi/cephcsi:v3}\n"
        => "kind: ConfigMap\nmetadata: {name: rook-csi}\ndata: {plugin: m.io/quay/cephcsi/cephcsi:v3}\n---\nkind: ConfigMap\nmetadata: {name: other}\ndata: {plugin: quay.io/cephcsi/cephcsi:v3}\n";
    // A document embedded in a ConfigMap value: edited inside its literal block, nothing else.
    embedded_document:
        "fields: [{kinds: [ConfigMap], paths: ['data[\"helperPod.yaml\"]', data.values], embedded: true, innerPaths: [global.hub], prefix: true}]\n",
        "kind: ConfigMap\ndata:\n  helperPod.yaml: |-\n    apiVersion: v1\n    kind: Pod\n    spec:\n      containers:\n      - name: helper\n        image: busybox:1.36   # kept comment\n  values: |-\n    {\"global\": {\"hub\": \"docker.io/istio\", \"tag\": \"1.30\"}}\n"
        => "kind: ConfigMap\ndata:\n  helperPod.yaml: |-\n    apiVersion: v1\n    kind: Pod\n    spec:\n      containers:\n      - name: helper\n        image: m.io/hub/library/busybox:1.36   # kept comment\n  values: |-\n    {\"global\": {\"hub\": \"m.io/hub/istio\", \"tag\": \"1.30\"}}\n";
    // Hand-written documents for the profiles whose charts are not copied here (licences).
    eck_profile:
        "profiles: [elastic-eck]\n",
        "apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch\nspec: {version: 9.1.0, image: docker.elastic.co/elasticsearch/elasticsearch:9.1.0}\n---\nkind: ConfigMap\nmetadata: {name: elastic-operator}\ndata:\n  eck.yaml: |-\n    log-verbosity: 0\n    container-registry: docker.elastic.co\n"
        => "apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch\nspec: {version: 9.1.0, image: m.io/elastic/elasticsearch/elasticsearch:9.1.0}\n---\nkind: ConfigMap\nmetadata: {name: elastic-operator}\ndata:\n  eck.yaml: |-\n    log-verbosity: 0\n    container-registry: m.io/elastic\n";
    minio_profile:
        "profiles: [minio]\n",
        "apiVersion: minio.min.io/v2\nkind: Tenant\nspec: {image: quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z, kes: {image: quay.io/minio/kes:2025-03-12T09-35-18Z}}\n"
        => "apiVersion: minio.min.io/v2\nkind: Tenant\nspec: {image: m.io/quay/minio/minio:RELEASE.2025-04-08T15-41-24Z, kes: {image: m.io/quay/minio/kes:2025-03-12T09-35-18Z}}\n";
    vault_profile:
        "profiles: [vault]\n",
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: hashicorp/vault-k8s:1.7.0\n        env:\n        - {name: AGENT_INJECT_VAULT_IMAGE, value: \"hashicorp/vault:2.0.4\"}\n"
        => "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: m.io/hub/hashicorp/vault-k8s:1.7.0\n        env:\n        - {name: AGENT_INJECT_VAULT_IMAGE, value: \"m.io/hub/hashicorp/vault:2.0.4\"}\n";
    mongodb_kubernetes_profile:
        "profiles: [mongodb]\n",
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: quay.io/mongodb/mongodb-kubernetes:1.10.0\n        env:\n        - {name: MDB_AGENT_IMAGE_REPOSITORY, value: quay.io/mongodb/mongodb-agent}\n        - {name: RELATED_IMAGE_AGENT_IMAGE_108_0_12_8846_1, value: 'quay.io/mongodb/mongodb-agent:108.0.12.8846-1'}\n        - {name: MDB_SEARCH_REPO_URL, value: quay.io/mongodb}\n        - {name: MONGODB_REPO_URL, value: quay.io/mongodb}\n"
        => "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: m.io/quay/mongodb/mongodb-kubernetes:1.10.0\n        env:\n        - {name: MDB_AGENT_IMAGE_REPOSITORY, value: m.io/quay/mongodb/mongodb-agent}\n        - {name: RELATED_IMAGE_AGENT_IMAGE_108_0_12_8846_1, value: 'm.io/quay/mongodb/mongodb-agent:108.0.12.8846-1'}\n        - {name: MDB_SEARCH_REPO_URL, value: m.io/quay/mongodb}\n        - {name: MONGODB_REPO_URL, value: quay.io/mongodb}\n";
}

/// explain's second section: what would still be pulled from the internet, with the entry that
/// reaches it; once that entry is configured, the section is empty.
#[test]
fn explain_reports_images_outside_image_fields() {
    let input = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: op, namespace: kafka}\nspec:\n  template:\n    spec:\n      containers:\n      - image: quay.io/strimzi/operator:1.2.0\n        args: [--helper-image, 'quay.io/x/helper:1', --other=ghcr.io/o/t:2]\n        env:\n        - {name: STRIMZI_DEFAULT_BRIDGE_IMAGE, value: 'quay.io/strimzi/kafka-bridge:1.1.0'}\n        - {name: LIST, value: \"4.2.0=quay.io/strimzi/kafka:1\\n4.3.0=quay.io/strimzi/kafka:2\"}\n        - {name: CIDRS, value: 10.0.0.0/8}\n---\napiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\nspec: {engine: {image: 'nvcr.io/nvidia/driver:550'}, note: see quay.io/a/b:1 for details}\n";
    let explain = |config: &str| -> serde_json::Value {
        let out = util::cmd::Cmd::new()
            .args([
                "explain",
                "-o",
                "json",
                "--mirror",
                "m.io",
                "--map",
                "quay.io=quay",
                "--map",
                "ghcr.io=ghcr",
            ])
            .args(if config.is_empty() {
                vec![]
            } else {
                vec!["--config", config]
            })
            .stdin(input)
            .stdout_ok();
        serde_json::from_str(&out).unwrap()
    };
    let report = explain("");
    let leaks: Vec<(String, String, String)> = report["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["image"].as_str().unwrap().to_string(),
                l["would_be"].as_str().unwrap_or("-").to_string(),
                l["suggestion"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(&str, &str, &str)> = vec![
        ("quay.io/x/helper:1", "m.io/quay/x/helper:1", "args: [{flag: --helper-image}]"),
        ("ghcr.io/o/t:2", "m.io/ghcr/o/t:2", "args: [{flag: --other}]"),
        ("quay.io/strimzi/kafka-bridge:1.1.0", "m.io/quay/strimzi/kafka-bridge:1.1.0", "env: [{name: STRIMZI_DEFAULT_BRIDGE_IMAGE}]"),
        ("quay.io/strimzi/kafka:1", "m.io/quay/strimzi/kafka:1", "env: [{name: LIST, separator: \"\\n\", keyed: true}]"),
        ("quay.io/strimzi/kafka:2", "m.io/quay/strimzi/kafka:2", "env: [{name: LIST, separator: \"\\n\", keyed: true}]"),
        ("nvcr.io/nvidia/driver:550", "-", "fields: [{kinds: [Thing], group: example.com, paths: ['spec.engine.image']}]"),
        ("quay.io/a/b:1", "m.io/quay/a/b:1", "fields: [{kinds: [Thing], group: example.com, paths: ['spec.note'], separator: \"\\n\"}]  (the value holds more than the image: an embedded document or a list)"),
    ];
    let want: Vec<(String, String, String)> = want
        .into_iter()
        .map(|(a, b, c)| (a.into(), b.into(), c.into()))
        .collect();
    assert_eq!(leaks, want);
    assert_eq!(report["leaks"][5]["reason"], "no rule for nvcr.io");
    // Configured as suggested: nothing is left (the note is prose, not a field anyone pulls).
    let dir = util::cmd::TestDir::new();
    let cfg = dir.write("c.yaml", "args: [{flag: --helper-image}, {flag: --other}]\nenv: [{name: STRIMZI_DEFAULT_BRIDGE_IMAGE}, {name: LIST, separator: \"\\n\", keyed: true}]\nfields: [{kinds: [Thing], group: example.com, paths: [spec.engine.image]}]\n");
    let report = explain(cfg.to_str().unwrap());
    let left: Vec<&str> = report["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["image"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["quay.io/a/b:1"]);
}
