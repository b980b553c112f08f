//! The parameter table in `src/argocd/parameters.rs` is the single source of truth: the
//! `parameters.static` sections of the install files and the README's table are generated from
//! it. This test fails when a file is stale; `PULLTHROUGH_BLESS=1 cargo test --test tests generated::`
//! rewrites them.

use std::path::PathBuf;

use pullthrough::argocd::parameters::{
    markdown_table, replace_generated, static_yaml, BEGIN_MARKER,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The indentation of the marker line: generated YAML lines use the same.
fn marker_indent(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.contains(BEGIN_MARKER))
        .expect("marker");
    line[..line.len() - line.trim_start().len()].to_string()
}

fn check(rel: &str, body: impl Fn(&str) -> String) {
    let path = root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let want = replace_generated(&text, &body(&text))
        .unwrap_or_else(|| panic!("{rel}: generated-section markers missing"));
    if want != text {
        if std::env::var_os("PULLTHROUGH_BLESS").is_some() {
            std::fs::write(&path, want).unwrap();
        } else {
            panic!("{rel} is stale: run `PULLTHROUGH_BLESS=1 cargo test --test tests generated::`");
        }
    }
}

#[test]
fn plugin_yaml_static_parameters() {
    for rel in [
        "argocd/plugin.yaml",
        "argocd/plugin-discovery.yaml",
        "argocd/helm-values.yaml",
    ] {
        check(rel, |t| static_yaml(&marker_indent(t)));
    }
}

#[test]
fn readme_parameter_table() {
    check("README.md", |_| markdown_table());
}

#[test]
fn generated_static_section_parses_as_the_table() {
    // The generated YAML must read back (in Go's YAML 1.1 too) as exactly the table's entries.
    let yaml = format!("parameters:\n  static:\n{}", static_yaml("  "));
    let v: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    let list = v["parameters"]["static"].as_array().unwrap();
    assert_eq!(list.len(), pullthrough::argocd::parameters::PARAMS.len());
    for (p, e) in pullthrough::argocd::parameters::PARAMS.iter().zip(list) {
        assert_eq!(e["name"], p.name);
        assert_eq!(e["tooltip"], p.help);
        assert_eq!(e["collectionType"], p.collection.as_str());
    }
}

/// The README's table of built-in profiles is `profiles::markdown_table()`.
#[test]
fn readme_profile_table() {
    let (begin, end) = ("<!-- BEGIN GENERATED: profiles (do not edit; generated from src/manifest/profiles.rs) -->\n", "<!-- END GENERATED: profiles -->");
    let path = root().join("README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let b = text.find(begin).expect("README: profile table markers") + begin.len();
    let e = b + text[b..]
        .find(end)
        .expect("README: profile table end marker");
    let want = format!(
        "{}{}{}",
        &text[..b],
        pullthrough::manifest::profiles::markdown_table(),
        &text[e..]
    );
    if want != text {
        if std::env::var_os("PULLTHROUGH_BLESS").is_some() {
            std::fs::write(&path, want).unwrap();
        } else {
            panic!("README.md's profile table is stale: run `PULLTHROUGH_BLESS=1 cargo test --test tests generated::`");
        }
    }
}
