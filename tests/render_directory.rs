//! Directory apps, as Argo CD's `findManifests` reads them.

mod util;

use std::path::{Path, PathBuf};

use pullthrough::render::{self, Limits, RenderSettings, SourceType};
use util::cmd::TestDir;

fn checkout() -> (TestDir, PathBuf) {
    let dir = TestDir::new();
    dir.copy_tree(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/render/directory/repo"),
        "repo",
    );
    let root = std::fs::canonicalize(dir.join("repo")).unwrap();
    (dir, root)
}

fn settings(root: &Path) -> RenderSettings {
    let mut s = RenderSettings::new(root.join("app"), root, "x");
    s.source_type = Some(SourceType::Directory);
    s
}

fn origins(s: &RenderSettings) -> Vec<String> {
    render::render(s)
        .unwrap_or_else(|e| panic!("{e}"))
        .parts
        .into_iter()
        .map(|p| p.origin)
        .collect()
}

#[test]
fn files_byte_for_byte_in_walk_order() {
    let (_dir, root) = checkout();
    let s = settings(&root);
    let r = render::render(&s).unwrap();
    assert_eq!(r.source_type, SourceType::Directory);
    let got: Vec<&str> = r.parts.iter().map(|p| p.origin.as_str()).collect();
    assert_eq!(got, [".hidden.yaml", "a.yaml", "b.json", "c.yml"]);
    for p in &r.parts {
        assert_eq!(
            p.text.as_bytes(),
            std::fs::read(root.join("app").join(&p.origin)).unwrap()
        );
    }
    assert_eq!(render::detect(&root.join("app")), SourceType::Directory);
}

/// (recurse, include, exclude, expected origins)
type Case<'a> = (bool, &'a [&'a str], &'a [&'a str], &'a [&'a str]);

#[test]
fn filters_table() {
    let (_dir, root) = checkout();
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    #[rustfmt::skip]
    let cases: &[Case] = &[
        (false, &[], &[], &[".hidden.yaml", "a.yaml", "b.json", "c.yml"]),
        (true, &[], &[], &[".hidden.yaml", "a.yaml", "b/e.yaml", "b.json", "c.yml", "sub/deep/f.yaml"]),
        (true, &["*.yaml"], &[], &[".hidden.yaml", "a.yaml", "b/e.yaml", "sub/deep/f.yaml"]),
        (true, &["{a.yaml,c.yml}"], &[], &["a.yaml", "c.yml"]),
        (true, &["a.yaml", "*.json"], &[], &["a.yaml", "b.json"]),
        (true, &[], &["sub/*", ".*"], &["a.yaml", "b/e.yaml", "b.json", "c.yml"]),
        (true, &["*.yaml"], &["b/*"], &[".hidden.yaml", "a.yaml", "sub/deep/f.yaml"]),
        (false, &["sub/*"], &[], &[]),
        (true, &["nothing"], &[], &[]),
    ];
    for (recurse, include, exclude, want) in cases {
        let mut s = settings(&root);
        s.directory.recurse = *recurse;
        s.directory.include = v(include);
        s.directory.exclude = v(exclude);
        assert_eq!(
            origins(&s),
            v(want),
            "recurse {recurse} include {include:?} exclude {exclude:?}"
        );
    }
}

#[test]
fn symlinks() {
    let (dir, root) = checkout();
    // Inside the repo: a file link is read (under its own name); a directory link is not descended.
    dir.symlink("a.yaml", "repo/app/link-in.yaml");
    dir.symlink("b", "repo/app/alias");
    dir.symlink("missing.yaml", "repo/app/dangling.yaml");
    let mut s = settings(&root);
    s.directory.recurse = true;
    let got = origins(&s);
    assert_eq!(
        got,
        [
            ".hidden.yaml",
            "a.yaml",
            "b/e.yaml",
            "b.json",
            "c.yml",
            "link-in.yaml",
            "sub/deep/f.yaml"
        ]
    );

    // Refused for the whole repository before anything is read (render/symlinks.rs), even when
    // excluded or dangling, and wherever the link is, as Argo CD's repo-server does.
    for (target, link, shown, why) in [
        ("/etc/hostname", "repo/app/out.yaml", "app/out.yaml", "is absolute"),
        (
            "../../../../../../../../../etc/passwd",
            "repo/app/sub/rel-out.yaml",
            "app/sub/rel-out.yaml",
            "rises above the repository root",
        ),
        ("/etc", "repo/app/etc-dir", "app/etc-dir", "is absolute"),
        ("/nonexistent/x.yaml", "repo/app/dangling-out.yaml", "app/dangling-out.yaml", "is absolute"),
        ("../../outside", "repo/other-app/x.yaml", "other-app/x.yaml", "rises above the repository root"),
    ] {
        let (dir, root) = checkout();
        dir.symlink(target, link);
        let mut s = settings(&root);
        s.directory.recurse = true;
        s.directory.exclude = vec!["*".into()]; // refused even when excluded, as in Argo CD
        assert_eq!(
            render::render(&s).unwrap_err().to_string(),
            format!("repository: symlink '{shown}' -> '{target}' {why}; refused before rendering, as Argo CD's repo-server refuses the repository (out of bounds symlink, CVE-2022-24904)")
        );
    }
}

#[test]
fn json_must_be_one_object() {
    let (dir, root) = checkout();
    dir.write(
        "repo/app/list.json",
        "[{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\"}]\n",
    );
    assert_eq!(
        render::render(&settings(&root)).unwrap_err().to_string(),
        "directory: 'list.json' holds a JSON array; Argo CD accepts exactly one JSON object per .json file"
    );
    let (dir, root) = checkout();
    dir.write(
        "repo/app/two.json",
        "{\"kind\": \"A\"}\n{\"kind\": \"B\"}\n",
    );
    assert_eq!(
        render::render(&settings(&root)).unwrap_err().to_string(),
        "directory: 'two.json' holds more than one JSON value; Argo CD accepts exactly one JSON object per .json file"
    );
    let (dir, root) = checkout();
    dir.write(
        "repo/app/list-kind.json",
        "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}",
    );
    assert!(origins(&settings(&root)).contains(&"list-kind.json".to_string()));
}

#[test]
fn size_limit() {
    let (_dir, root) = checkout();
    let mut s = settings(&root);
    s.limits = Limits {
        max_output_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        render::render(&s).unwrap_err().to_string(),
        "directory: the manifest files total more than 100 bytes; raise render.maxOutputBytes in the config if this app is really that large"
    );
}
