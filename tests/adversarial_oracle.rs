//! The Go oracle over every manifest fixture under `tests/data` that `tests/corpus.rs` (the real
//! charts) and `tests/fixtures.rs` (inline constructs) do not already read: the fixture
//! repositories' and render tests' manifest files, the seed's playground Pod. Found by walking the
//! tree, so a new fixture is covered without editing this file. For each: Go reads input and
//! output as the same objects except at image paths, and a second rewrite changes nothing.

use crate::util;

use std::path::{Path, PathBuf};

use util::cmd::TestDir;
use util::oracle;

/// Not manifests (chart metadata, templates, values, configs, reference vectors), or read by
/// another oracle test (the corpus).
fn is_manifest_fixture(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let ext_ok = [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e));
    let excluded = rel.starts_with("corpus/")
        || rel.starts_with("conformance/")
        || rel.contains("/templates/")
        || name == "Chart.yaml"
        || name == "kustomization.yaml"
        || name.contains("values")
        || rel.contains("/values/")
        || rel == "seed/config.yaml";
    ext_ok && !excluded
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            walk(root, &p, out);
        } else if meta.is_file() {
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if is_manifest_fixture(&rel) {
                out.push((rel, p));
            }
        }
    }
}

fn is_image_path(p: &str) -> bool {
    let re = regex::Regex::new(r"(containers|initContainers|ephemeralContainers)\[\d+\]\.image$|volumes\[\d+\]\.image\.reference$").unwrap();
    re.is_match(p)
}

#[test]
fn go_reads_every_manifest_fixture_the_same_except_images() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    assert!(
        files.len() >= 15,
        "expected the fixture manifests, found {files:?}"
    );
    let dir = TestDir::new();
    let mut rewritten_total = 0;
    for (rel, path) in &files {
        let input = std::fs::read(path).unwrap();
        let rewrite = |bytes: &[u8]| {
            let out = dir
                .cmd()
                .args([
                    "rewrite",
                    "--mirror",
                    "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
                ])
                .args([
                    "--map",
                    "docker.io=docker-hub",
                    "--map",
                    "quay.io=quay",
                    "--map",
                    "ghcr.io=ghcr",
                ])
                .args([
                    "--map",
                    "registry.k8s.io=registry-k8s-io",
                    "--map",
                    "public.ecr.aws=public-ecr",
                ])
                .stdin(bytes.to_vec())
                .output();
            assert!(
                out.status.success(),
                "{rel}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let out = rewrite(&input);
        assert_eq!(
            rewrite(&out),
            out,
            "{rel}: a second rewrite changed the output"
        );
        let before = oracle::read_bytes(&input);
        let after = oracle::read_bytes(&out);
        assert_eq!(
            before.len(),
            after.len(),
            "{rel}: Go sees a different number of documents"
        );
        for (x, y) in before.iter().zip(&after) {
            assert_eq!(
                x.error, y.error,
                "{rel} doc {}: Go's verdict changed",
                x.doc
            );
            assert!(
                x.error.is_none(),
                "{rel} doc {}: Go cannot read the fixture: {:?}",
                x.doc,
                x.error
            );
            if let (Some(jx), Some(jy)) = (&x.json, &y.json) {
                for p in oracle::differing_paths(jx, jy) {
                    assert!(
                        is_image_path(&p),
                        "{rel} doc {}: Go reads a different value at {p}",
                        x.doc
                    );
                    rewritten_total += 1;
                }
            }
        }
    }
    assert!(
        rewritten_total > 10,
        "the fixtures hold images; only {rewritten_total} were rewritten"
    );
}
