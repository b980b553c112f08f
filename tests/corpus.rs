//! Byte preservation on real rendered charts (tests/data/corpus, Apache-2.0, see its README).
//!
//! For every corpus file, with a config that maps every registry the corpus uses:
//! 1. every image field is rewritten, and the count matches the corpus README's census;
//! 2. the only lines that differ are image lines, and on them only the value after the key;
//! 3. the Go oracle (sigs.k8s.io/yaml, what Argo CD reads with) sees the same objects except at
//!    image paths, and exactly as many image values change as pullthrough recorded;
//! 4. a second run changes nothing.

use crate::util;

use std::path::Path;

use pullthrough::rewrite::{self, Input, Options};
use pullthrough::rules::Rules;

const CONFIG: &str = "\
mirror: 111111111111.dkr.ecr.eu-west-1.amazonaws.com
registries:
  docker.io: docker-hub
  quay.io: quay
  registry.k8s.io: registry-k8s-io
  ghcr.io: ghcr
  public.ecr.aws: public-ecr
  gcr.io: mirror.example.com:5000/gcr
  reg.kyverno.io: kyverno
  ecr-public.aws.com: ecr-public-aws
";

/// (file, container image refs) from tests/data/corpus/README.md.
const CENSUS: &[(&str, usize)] = &[
    ("argo-cd.yaml", 19),
    ("argo-rollouts.yaml", 2),
    ("argo-workflows.yaml", 3),
    ("aws-load-balancer-controller.yaml", 1),
    ("cert-manager.yaml", 4),
    ("cluster-autoscaler.yaml", 1),
    ("external-dns.yaml", 2),
    ("argo-cd-install.yaml", 10),
    ("ingress-nginx-static-cloud-deploy.yaml", 3),
    ("metrics-server-kustomize-release.yaml", 1),
    ("harbor.yaml", 10),
    ("ingress-nginx.yaml", 4),
    ("kube-prometheus-stack.yaml", 11),
    ("kube-state-metrics.yaml", 2),
    ("kyverno.yaml", 14),
    ("metrics-server.yaml", 2),
    ("podinfo.yaml", 5),
    ("prometheus-node-exporter.yaml", 2),
];

fn rules() -> Rules {
    util::rules::rules_from_yaml("corpus.yaml", CONFIG)
}

fn corpus(name: &str) -> Input {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus")
        .join(name);
    Input {
        name: name.to_string(),
        text: std::fs::read_to_string(&path).unwrap(),
    }
}

fn is_image_path(p: &str) -> bool {
    let re = regex::Regex::new(r"(containers|initContainers|ephemeralContainers)\[\d+\]\.image$|volumes\[\d+\]\.image\.reference$").unwrap();
    re.is_match(p)
}

#[test]
fn corpus_is_rewritten_byte_for_byte() {
    let rules = rules();
    let opts = Options::default();
    let key = regex::Regex::new(
        r#"^(\s*(?:-\s+)?(?:image|reference|"image"|"reference")\s*:\s*)(\S.*)$"#,
    )
    .unwrap();
    let mut failures = Vec::new();
    for (name, census) in CENSUS {
        let input = corpus(name);
        let inputs = [input];
        let plan = rewrite::plan(&inputs, &rules, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rewritten = plan.records.iter().filter(|r| r.edit.is_some()).count();
        let unmapped: Vec<_> = plan
            .records
            .iter()
            .filter(|r| r.decision.to.is_none())
            .map(|r| (&r.before, r.decision.reason.to_string()))
            .collect();
        if !unmapped.is_empty() {
            failures.push(format!("{name}: images left untouched: {unmapped:?}"));
        }
        if rewritten != *census {
            failures.push(format!(
                "{name}: rewrote {rewritten} image fields, the corpus census counts {census}"
            ));
        }
        let out = rewrite::apply(&inputs, &plan).unwrap();
        let input = &inputs[0].text;

        // 2. line-level: same line count, differing lines are image lines with the same prefix.
        let (a, b): (Vec<&str>, Vec<&str>) =
            (input.split('\n').collect(), out.split('\n').collect());
        assert_eq!(a.len(), b.len(), "{name}: line count changed");
        let mut changed_lines = 0;
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            if x == y {
                continue;
            }
            changed_lines += 1;
            let (Some(cx), Some(cy)) = (key.captures(x), key.captures(y)) else {
                failures.push(format!(
                    "{name}:{}: a non-image line changed:\n- {x}\n+ {y}",
                    i + 1
                ));
                continue;
            };
            if cx[1] != cy[1] {
                failures.push(format!(
                    "{name}:{}: bytes before the image value changed",
                    i + 1
                ));
            }
        }
        assert_eq!(
            changed_lines, rewritten,
            "{name}: changed lines vs rewritten fields"
        );

        // 3. what Go reads.
        let before = util::oracle::read_bytes(input.as_bytes());
        let after = util::oracle::read_bytes(out.as_bytes());
        assert_eq!(
            before.len(),
            after.len(),
            "{name}: document count differs for Go"
        );
        let mut go_changes = 0;
        for (x, y) in before.iter().zip(&after) {
            assert_eq!(
                x.error, y.error,
                "{name} doc {}: Go's verdict changed",
                x.doc
            );
            if let (Some(jx), Some(jy)) = (&x.json, &y.json) {
                for p in util::oracle::differing_paths(jx, jy) {
                    if is_image_path(&p) {
                        go_changes += 1;
                    } else {
                        failures.push(format!(
                            "{name} doc {}: Go reads a different value at {p}",
                            x.doc
                        ));
                    }
                }
            }
        }
        assert_eq!(
            go_changes, rewritten,
            "{name}: Go-visible image changes vs rewritten fields"
        );

        // 4. idempotent.
        let again = [Input {
            name: name.to_string(),
            text: out.clone(),
        }];
        let plan2 = rewrite::plan(&again, &rules, &opts).unwrap();
        assert!(
            plan2.records.iter().all(|r| r.edit.is_none()),
            "{name}: second run would change something"
        );
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn crd_decoys_are_never_touched() {
    // kyverno's CRDs hold ~44 image-like strings in their schemas; none may be a site.
    let inputs = [corpus("kyverno.yaml")];
    let plan = rewrite::plan(&inputs, &rules(), &Options::default()).unwrap();
    for r in &plan.records {
        assert_ne!(
            r.object.kind.as_deref(),
            Some("CustomResourceDefinition"),
            "{r:?}"
        );
    }
}
