//! Directory apps, as Argo CD's `findManifests` reads them.

use crate::util;

use std::path::{Path, PathBuf};

use pullthrough::render::{self, Limits, RenderSettings, SourceType, Tools};
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
    let mut s = RenderSettings::new(root.join("app"), root, "x", path_tools());
    s.source_type = Some(SourceType::Directory);
    s
}

/// The tools on this test process's `PATH` (a directory app without Jsonnet runs none).
fn path_tools() -> Tools {
    Tools::discover(None, None, None, std::env::var_os("PATH").as_deref())
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
        (
            "/etc/hostname",
            "repo/app/out.yaml",
            "app/out.yaml",
            "is absolute",
        ),
        (
            "../../../../../../../../../etc/passwd",
            "repo/app/sub/rel-out.yaml",
            "app/sub/rel-out.yaml",
            "rises above the repository root",
        ),
        ("/etc", "repo/app/etc-dir", "app/etc-dir", "is absolute"),
        (
            "/nonexistent/x.yaml",
            "repo/app/dangling-out.yaml",
            "app/dangling-out.yaml",
            "is absolute",
        ),
        (
            "../../outside",
            "repo/other-app/x.yaml",
            "other-app/x.yaml",
            "rises above the repository root",
        ),
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

// ---------------------------------------------------------------------------------------------
// Jsonnet, with the real go-jsonnet v0.22.0 (tools::jsonnet panics when it is missing).

use std::collections::BTreeMap;

use pullthrough::render::{JsonnetVar, Part};
use util::tools;

/// A repository `repo/` with the app `repo/apps/web` and the given files (paths under `repo/`).
fn jsonnet_repo(files: &[(&str, &str)]) -> (TestDir, PathBuf, RenderSettings) {
    let dir = TestDir::new();
    dir.mkdir("repo/apps/web");
    for (rel, text) in files {
        dir.write(format!("repo/{rel}"), text);
    }
    let root = std::fs::canonicalize(dir.join("repo")).unwrap();
    let mut s = RenderSettings::new(root.join("apps/web"), &root, "x", path_tools());
    s.source_type = Some(SourceType::Directory);
    s.tools.jsonnet = tools::jsonnet();
    s.build_env = BTreeMap::from([("ARGOCD_APP_NAME".to_string(), "web".to_string())]);
    (dir, root, s)
}

fn var(name: &str, value: &str, code: bool) -> JsonnetVar {
    JsonnetVar {
        name: name.into(),
        value: value.into(),
        code,
    }
}

fn parts(s: &RenderSettings) -> Vec<Part> {
    render::render(s).unwrap_or_else(|e| panic!("{e}")).parts
}

fn json(p: &Part) -> serde_json::Value {
    serde_json::from_str(&p.text).unwrap_or_else(|e| panic!("{}: {e}: {}", p.origin, p.text))
}

/// Imports beside the file, from the app dir and from libs (in makeJsonnetVM's lookup order),
/// ext-str vs ext-code, TLAs, `$VAR` substitution, array output; the jsonnet objects come in
/// walk order among the YAML files, one part each.
#[test]
fn jsonnet_evaluated_like_argo_cd() {
    let main = r#"
local here = import 'here.libsonnet';
local which = import 'which.libsonnet';
local both = import 'both.libsonnet';
function(tier, replicas=1) [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'main' },
    data: { here: here, which: which, both: both, tier: tier, replicas: std.toString(replicas),
            str: std.extVar('str'), strType: std.type(std.extVar('str')),
            code: std.toString(std.extVar('code')), codeType: std.type(std.extVar('code')),
            app: std.extVar('app'), thisFile: std.thisFile } },
  null,
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'second' } },
]
"#;
    let sub = r#"{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sub' }, data: { both: import 'both.libsonnet', which: import 'which.libsonnet' } }"#;
    let (_dir, root, mut s) = jsonnet_repo(&[
        (
            "apps/web/a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        ),
        ("apps/web/main.jsonnet", main),
        ("apps/web/here.libsonnet", "'beside the file'"),
        ("apps/web/both.libsonnet", "'app dir'"),
        ("apps/web/sub/s.jsonnet", sub),
        (
            "apps/web/z.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\n",
        ),
        ("lib1/which.libsonnet", "'lib1'"),
        ("lib1/both.libsonnet", "'lib1'"),
        ("lib2/which.libsonnet", "'lib2'"),
    ]);
    s.directory.recurse = true;
    s.directory.jsonnet.libs = vec!["lib1".into(), "/lib2".into()];
    s.directory.jsonnet.ext_vars = vec![
        var("str", "3", false),
        var("code", "1 + 2", true),
        var("app", "$ARGOCD_APP_NAME-${ARGOCD_APP_NAME}", false),
    ];
    s.directory.jsonnet.tlas = vec![var("tier", "gold", false), var("replicas", "2 * 2", true)];
    let got = parts(&s);
    let origins: Vec<&str> = got.iter().map(|p| p.origin.as_str()).collect();
    assert_eq!(
        origins,
        [
            "a.yaml",
            "main.jsonnet (output[0])",
            "main.jsonnet (output[2])",
            "sub/s.jsonnet (output)",
            "z.yaml"
        ]
    );
    let main_cm = json(&got[1]);
    assert_eq!(
        main_cm["data"],
        serde_json::json!({
            "here": "beside the file",
            "which": "lib2",           // JPaths are tried last to first: lib2 before lib1
            "both": "app dir",         // the importing file's own directory first
            "tier": "gold", "replicas": "4",
            "str": "3", "strType": "string",
            "code": "3", "codeType": "number",
            "app": "web-web",
            "thisFile": root.join("apps/web/main.jsonnet").display().to_string(),
        })
    );
    assert_eq!(json(&got[2])["kind"], "Secret");
    // From sub/: both.libsonnet is not beside the file; lib1 is tried before the app dir.
    assert_eq!(
        json(&got[3])["data"],
        serde_json::json!({"both": "lib1", "which": "lib2"})
    );
    // The text is jsonnet's own (3-space indented JSON), one object per part.
    assert!(
        got[2].text.starts_with("{\n      \"apiVersion\": \"v1\","),
        "{}",
        got[2].text
    );
}

/// Argo CD substitutes `$VAR` in the request's own jsonnet values once per `.jsonnet` file it
/// evaluates (makeJsonnetVM writes the result back into the shared slices): the first file sees
/// `$$X` as `$X`, the second as X's value.
#[test]
fn jsonnet_values_substituted_once_more_per_file() {
    let file = "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: std.thisFile }, data: { v: std.extVar('v'), t: t } }";
    let (_dir, _root, mut s) = jsonnet_repo(&[
        ("apps/web/a.jsonnet", &format!("function(t) {file}")),
        ("apps/web/b.jsonnet", &format!("function(t) {file}")),
        ("apps/web/c.jsonnet", &format!("function(t) {file}")),
    ]);
    s.directory.jsonnet.ext_vars = vec![var("v", "$$$$ARGOCD_APP_NAME", false)];
    s.directory.jsonnet.tlas = vec![var("t", "$$ARGOCD_APP_NAME", false)];
    let got: Vec<serde_json::Value> = parts(&s).iter().map(|p| json(p)["data"].clone()).collect();
    assert_eq!(
        got,
        [
            serde_json::json!({"v": "$$ARGOCD_APP_NAME", "t": "$ARGOCD_APP_NAME"}),
            serde_json::json!({"v": "$ARGOCD_APP_NAME", "t": "web"}),
            serde_json::json!({"v": "web", "t": "web"}),
        ]
    );
}

/// The files Argo CD never evaluates: `.libsonnet` (not a manifest name), excluded or not
/// included, marked `+argocd:skip-file-rendering`, in a sub-directory without recurse. Each
/// holds an error, so evaluating it would fail the test.
#[test]
fn jsonnet_files_argo_cd_skips() {
    let boom = "error 'evaluated'";
    let (_dir, _root, mut s) = jsonnet_repo(&[
        (
            "apps/web/ok.jsonnet",
            "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok' } }",
        ),
        ("apps/web/lib.libsonnet", boom),
        ("apps/web/excluded.jsonnet", boom),
        (
            "apps/web/marked.jsonnet",
            "// +argocd:skip-file-rendering\nerror 'evaluated'",
        ),
        ("apps/web/sub/deep.jsonnet", boom),
        ("apps/web/empty.jsonnet", "[]"),
        ("apps/web/null.jsonnet", "null"),
    ]);
    s.directory.exclude = vec!["excluded.*".into()];
    let origins: Vec<String> = parts(&s).into_iter().map(|p| p.origin).collect();
    assert_eq!(origins, ["ok.jsonnet (output)"]);
    s.directory.include = vec!["sub/*".into()];
    s.directory.exclude = vec![];
    assert_eq!(parts(&s), []);
}

/// An evaluation error is one error naming the file and carrying jsonnet's stderr (the main
/// binary folds it onto one line); output Argo CD refuses names the file.
#[test]
fn jsonnet_errors_name_the_file() {
    let (_dir, root, s) = jsonnet_repo(&[
        (
            "apps/web/a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        ),
        ("apps/web/bad.jsonnet", "local x = 1;\nerror 'boom: ' + x\n"),
    ]);
    assert_eq!(
        render::render(&s).unwrap_err().to_string(),
        format!(
            "directory: 'bad.jsonnet': jsonnet evaluation failed: RUNTIME ERROR: boom: 1\n\t{}:2:1-19\t$\n\tDuring evaluation",
            root.join("apps/web/bad.jsonnet").display()
        )
    );
    let (_dir, _root, s) = jsonnet_repo(&[("apps/web/s.jsonnet", "'just a string'")]);
    assert_eq!(
        render::render(&s).unwrap_err().to_string(),
        "directory: 's.jsonnet': the jsonnet output is a JSON string; Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise"
    );
    // A character go-yaml (Argo CD's reader of plugin output) would not read back: refused.
    let (_dir, _root, s) = jsonnet_repo(&[(
        "apps/web/c1.jsonnet",
        "{ kind: 'ConfigMap', data: { nel: 'a\\u0085b' } }",
    )]);
    assert_eq!(
        render::render(&s).unwrap_err().to_string(),
        "directory: c1.jsonnet (output):3:16: a C1 control character or U+FFFE/U+FFFF (go-yaml refuses it, or reads U+0085 as a space): Argo CD reads a plugin's output with go-yaml, which refuses it where its JSON reader of a native directory app does not (leave the character out: no plugin output can carry it)"
    );
    let (_dir, _root, s) = jsonnet_repo(&[("apps/web/i.jsonnet", "import 'nowhere.libsonnet'")]);
    let err = render::render(&s).unwrap_err().to_string();
    assert!(
        err.starts_with("directory: 'i.jsonnet': jsonnet evaluation failed: RUNTIME ERROR: couldn't open import \"nowhere.libsonnet\": no match locally or in the Jsonnet library paths"),
        "{err}"
    );
    let (_dir, _root, mut s) = jsonnet_repo(&[("apps/web/a.jsonnet", "{}")]);
    s.tools.jsonnet = PathBuf::from("/nonexistent/jsonnet");
    let err = render::render(&s).unwrap_err().to_string();
    assert!(
        err.starts_with("directory: 'a.jsonnet': could not start `/nonexistent/jsonnet -J "),
        "{err}"
    );
    assert!(
        err.ends_with("(install jsonnet or point the plugin at it)"),
        "{err}"
    );
}

/// A lib leaving the repository is refused, when a `.jsonnet` file is evaluated (as Argo CD's
/// makeJsonnetVM does); an app without one renders.
#[test]
fn jsonnet_lib_outside_the_repository_is_refused() {
    for lib in ["..", "../elsewhere", "/../etc", "lib/../../x"] {
        let (_dir, _root, mut s) = jsonnet_repo(&[("apps/web/a.jsonnet", "{ kind: 'ConfigMap' }")]);
        s.directory.jsonnet.libs = vec!["lib".into(), lib.into()];
        assert_eq!(
            render::render(&s).unwrap_err().to_string(),
            format!("directory-jsonnet-libs: library path '{lib}' resolved to outside repository root (Argo CD refuses it too, when it evaluates a .jsonnet file)")
        );
        let (_dir, _root, mut s) = jsonnet_repo(&[("apps/web/a.yaml", "kind: ConfigMap\n")]);
        s.directory.jsonnet.libs = vec![lib.into()];
        assert_eq!(parts(&s).len(), 1);
    }
}
