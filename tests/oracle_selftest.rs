//! Proves that the fidelity oracle is the real YAML 1.1 reader Argo CD uses (go-yaml v2
//! via sigs.k8s.io/yaml, split like apimachinery's YAMLOrJSONDecoder), and that
//! `differing_paths` points at exactly what changed. If any of these fail, every fidelity
//! test built on the oracle is meaningless.

use crate::util;

use serde_json::json;
use util::cmd::{Cmd, TestDir};
use util::oracle::{self, differing_paths, OracleDoc};

fn only_doc(input: &str) -> serde_json::Value {
    let docs = oracle::read_bytes(input.as_bytes());
    assert_eq!(
        docs.len(),
        1,
        "expected one document from {input:?}, got {docs:?}"
    );
    docs[0]
        .json
        .clone()
        .unwrap_or_else(|| panic!("error for {input:?}: {:?}", docs[0].error))
}

#[test]
fn yaml_1_1_octal_is_an_int() {
    assert_eq!(only_doc("defaultMode: 0644\n"), json!({"defaultMode": 420}));
}

#[test]
fn yaml_1_1_on_is_true() {
    assert_eq!(only_doc("enabled: on\n"), json!({"enabled": true}));
}

#[test]
fn yaml_1_1_bool_keys_become_strings() {
    // `n` is the bool false, also as a key; 012 is octal.
    assert_eq!(only_doc("n: 012\n"), json!({"false": 10}));
}

#[test]
fn unknown_escape_is_an_error() {
    let docs = oracle::read_bytes(b"a: \"x\\/y\"\n");
    assert_eq!(docs.len(), 1, "{docs:?}");
    let err = docs[0]
        .error
        .as_deref()
        .expect("\\/ must be rejected by go-yaml v2");
    assert!(err.contains("unknown escape"), "{err}");
    assert!(docs[0].json.is_none());
}

#[test]
fn three_document_stream() {
    let dir = TestDir::new();
    let path = dir.write(
        "s.yaml",
        "---\na: 1\n---\nb: 2\n--- # trailing comment is allowed\nc: 3\n",
    );
    let docs = oracle::read(&path);
    let expected: Vec<OracleDoc> = [json!({"a": 1}), json!({"b": 2}), json!({"c": 3})]
        .into_iter()
        .enumerate()
        .map(|(doc, v)| OracleDoc {
            doc,
            json: Some(v.clone()),
            error: None,
            unstructured_error: Some(format!(
                "failed to unmarshal manifest: error unmarshaling JSON: while decoding JSON: Object 'Kind' is missing in '{}'",
                serde_json::to_string(&v).unwrap()
            )),
        })
        .collect();
    assert_eq!(docs, expected);
}

/// SplitYAML's second step: a document without a string `kind` is refused (Argo CD fails the
/// app); with one it is accepted, List or not.
#[test]
fn unstructured_decoding_needs_a_kind() {
    let docs = oracle::read_bytes(
        b"kind: Pod
---
kind: List
items: [a]
---
kind: 1
---
kind: ''
",
    );
    let errs: Vec<bool> = docs
        .iter()
        .map(|d| d.unstructured_error.is_some())
        .collect();
    assert_eq!(errs, vec![false, false, true, true], "{docs:?}");
}

#[test]
fn json_stream() {
    let docs = oracle::read_bytes(b"  {\"a\": 1}\n{\"b\": \"0644\"}null {\"c\": [true]}");
    let got: Vec<_> = docs.iter().map(|d| (d.doc, d.json.clone())).collect();
    assert_eq!(
        got,
        vec![
            (0, Some(json!({"a": 1}))),
            (1, Some(json!({"b": "0644"}))),
            (2, Some(json!({"c": [true]}))),
        ]
    );
}

#[test]
fn comment_only_and_empty_documents_are_skipped_without_a_number() {
    let docs = oracle::read_bytes(b"---\n# only a comment\n---\n---\na: 1\n---\n\n---\nb: 2\n");
    let got: Vec<_> = docs.iter().map(|d| (d.doc, d.json.clone())).collect();
    assert_eq!(
        got,
        vec![(0, Some(json!({"a": 1}))), (1, Some(json!({"b": 2})))]
    );
}

#[test]
fn text_after_separator_is_an_error() {
    let docs = oracle::read_bytes(b"a: 1\n--- b: 2\n");
    assert_eq!(docs.len(), 1, "{docs:?}");
    let err = docs[0].error.as_deref().expect("separator error");
    assert!(err.contains("invalid Yaml document separator"), "{err}");
}

#[test]
fn differing_paths_finds_exactly_the_changed_image() {
    let original = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    app.kubernetes.io/name: web
spec:
  template:
    spec:
      volumes:
      - name: config
        configMap: {name: web, defaultMode: 0644}
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
      - name: sidecar
        image: busybox
";
    let rewritten = original.replace(
        "nginx:1.27",
        "mirror.example.com/docker-hub/library/nginx:1.27",
    );
    let dir = TestDir::new();
    let a = oracle::read(&dir.write("a.yaml", original));
    let b = oracle::read(&dir.write("b.yaml", &rewritten));
    assert_eq!((a.len(), b.len()), (1, 1));
    let (a, b) = (a[0].json.as_ref().unwrap(), b[0].json.as_ref().unwrap());
    assert_eq!(differing_paths(a, a), Vec::<String>::new());
    assert_eq!(
        differing_paths(a, b),
        vec!["spec.template.spec.containers[0].image"]
    );
}

#[test]
fn differing_paths_counts_missing_keys_types_and_lengths() {
    let a = json!({"a": {"b": 1, "c.d": "x"}, "l": [1, 2], "t": "420"});
    let b = json!({"a": {"c.d": "y", "e": null}, "l": [1], "t": 420});
    assert_eq!(
        differing_paths(&a, &b),
        vec!["a.b", "a[\"c.d\"]", "a.e", "l[1]", "t"]
    );
    assert_eq!(differing_paths(&json!(1), &json!("1")), vec![""]);
}

/// The oracle splits the real corpus into the document counts listed in its README.
#[test]
fn corpus_document_counts() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let readme = std::fs::read_to_string(corpus.join("README.md")).expect("corpus README");
    let mut checked = 0;
    for line in readme.lines() {
        // | `file.yaml` | bytes | documents | ...
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].starts_with('`') || !cells[1].ends_with(".yaml`") {
            continue;
        }
        let file = cells[1].trim_matches('`');
        let expected: usize = cells[3].parse().expect("document count");
        let docs = oracle::read(&corpus.join(file));
        assert_eq!(docs.len(), expected, "{file}");
        assert!(docs.iter().all(|d| d.json.is_some()), "{file}: {docs:?}");
        checked += 1;
    }
    assert_eq!(checked, 18, "corpus table rows");
}

/// The pinned tool versions from scripts/install-tools are the ones found.
#[test]
fn pinned_tools_are_installed() {
    let helm3 = Cmd::program(util::tools::helm3())
        .args(["version", "--short"])
        .stdout_ok();
    assert!(helm3.starts_with("v3.16.1"), "{helm3}");
    let helm4 = Cmd::program(util::tools::helm4())
        .args(["version", "--short"])
        .stdout_ok();
    assert!(helm4.starts_with("v4.2.1"), "{helm4}");
    let kustomize = Cmd::program(util::tools::kustomize())
        .args(["version"])
        .stdout_ok();
    assert_eq!(kustomize.trim(), "v5.8.1");
    let kubectl = Cmd::program(util::tools::kubectl())
        .args(["version", "--client"])
        .stdout_ok();
    assert!(
        kubectl.contains("v1.35.2") && kubectl.contains("Kustomize Version: v5.7.1"),
        "{kubectl}"
    );
    assert!(util::tools::registry().is_file());
}
