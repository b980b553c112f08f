//! The `.jsonnet` files of a directory app, evaluated as Argo CD's repo-server evaluates them
//! (`reposerver/repository/repository.go`: `findManifests`, `makeJsonnetVM`), so that an app
//! moved to the plugin renders the same objects.
//!
//! * **Evaluator**: the `jsonnet` command of go-jsonnet v0.22.0, the module and version Argo CD
//!   v3.5.1 links, run as argv through [`super::process`] (deadline, output cap, stderr kept).
//!   A different evaluator (the C++ one, another version) could differ in its standard library
//!   or error texts, and Argo CD would then prune or change objects.
//! * **Search paths**: `makeJsonnetVM` gives its `FileImporter` `JPaths = [app dir, libs…]`,
//!   each lib resolved relative to the repository root (`ResolveFileOrDirectoryPath(repoRoot,
//!   repoRoot, lib)`: a leading `/` is the root too, a final symlink is followed up to 10 hops,
//!   the root itself is allowed, a path leaving the root is refused). The importer tries the
//!   importing file's directory, then `JPaths` **from the last to the first**. The CLI builds
//!   its `JPaths` from `JSONNET_PATH` (reversed) and then each `-J` in argv order, with the same
//!   importer, so `-J <app> -J <lib1> -J <lib2>` gives exactly Argo CD's lookup order ("right-most
//!   wins" is the same rule). `JSONNET_PATH` (and the CLI's profiling variables, which would
//!   write files) are removed from the child's environment: Argo CD's VM reads none of them.
//! * **Variables**: `extVars` and `tlas` become `--ext-str`/`--ext-code`/`--tla-str`/
//!   `--tla-code NAME=VALUE` in their order (a later entry of the same name wins, as in the VM's
//!   maps). Values go through Argo CD's `Env.Envsubst` of the build environment. Argo CD
//!   substitutes in place on the request's own slices, once per `.jsonnet` file it evaluates, so
//!   the *n*-th file of an app sees the values substituted *n* times (`$$X` is `$X` for the
//!   first file and the value of `X` for the second): reproduced, because it changes objects.
//! * **Evaluation**: `vm.EvaluateFile(path)` with the path the directory walk produced (the app
//!   dir joined with the file's relative path, a symlink not resolved), so imports are relative
//!   to the file's own directory and `std.thisFile` is that path. The CLI evaluates the file it
//!   is given the same way (`EvaluateFile`). Its stdout is the JSON text `EvaluateFile` returns.
//! * **Objects**: Argo CD unmarshals the output into `[]*unstructured.Unstructured` first, else
//!   into one `Unstructured`. So: an array gives its elements (a `null` element is skipped, an
//!   empty array gives nothing), `null` gives nothing, an object gives itself; every object must
//!   have a non-empty string `kind` (`Object 'Kind' is missing`), and anything else (a scalar,
//!   an element that is not an object) fails the app. Each object becomes one [`Part`] holding
//!   its JSON text exactly as jsonnet printed it (no number is re-formatted), named
//!   `file (output)` or `file (output[i])`: places in later messages count in that text. Raw
//!   U+2028/U+2029 are written as `\u` escapes (go-yaml, Argo CD's reader of plugin output,
//!   would read them as line breaks); characters no plugin output can carry (C1 controls,
//!   U+FFFE/U+FFFF) are refused by the directory's stream check, naming the file.
//! * **Not counted** against the directory size limit, as Argo CD does not count `.jsonnet`
//!   files; the output is capped by [`super::Limits::max_output_bytes`] like any tool's.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;

use super::envsubst::envsubst;
use super::process::{self, Cmd};
use super::valuefiles::clean;
use super::{Part, RenderError, RenderSettings};

/// The parameter naming the library paths, for errors.
pub const LIBS_PARAM: &str = "directory-jsonnet-libs";

/// Environment variables the `jsonnet` CLI reads and Argo CD's VM does not.
const CLEARED_ENV: &[&str] = &["JSONNET_PATH", "JSONNET_CPU_PROFILE", "JSONNET_MEM_PROFILE"];

/// `spec.source.directory.jsonnet`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonnetOptions {
    /// `extVars`, in order.
    pub ext_vars: Vec<JsonnetVar>,
    /// `tlas`, in order.
    pub tlas: Vec<JsonnetVar>,
    /// `libs`: paths relative to the repository root.
    pub libs: Vec<String>,
}

/// Argo CD's `JsonnetVar`: a name, a value, and whether the value is Jsonnet code.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonnetVar {
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub code: bool,
}

impl JsonnetVar {
    /// Reads one entry of `directory-jsonnet-ext-vars` / `directory-jsonnet-tlas`: `NAME=VALUE`
    /// (a string, split at the first `=`, like `argocd app set --jsonnet-ext-var-str`), or
    /// Argo CD's own `{"name": …, "value": …, "code": true|false}` as JSON (the form for code).
    ///
    /// Fails (with the reason, for the caller to prefix with the parameter and entry) on an entry
    /// that is neither, on a JSON object with unknown fields or without a name, and on names the
    /// `jsonnet` command line cannot pass unchanged: one holding `=` (the CLI splits `NAME=VALUE`
    /// at the first `=`), one starting with `-` (the CLI splits such an argument into flags), or
    /// any NUL byte (not possible in argv).
    pub fn parse(entry: &str) -> Result<JsonnetVar, String> {
        let var = if entry.starts_with('{') {
            serde_json::from_str::<JsonnetVar>(entry).map_err(|e| {
                format!(
                    "not a JSON object {{\"name\": …, \"value\": …, \"code\": true|false}}: {e}"
                )
            })?
        } else {
            let (name, value) = entry.split_once('=').ok_or(
                "expected NAME=VALUE (a string) or {\"name\": …, \"value\": …, \"code\": true} (code)",
            )?;
            JsonnetVar {
                name: name.to_string(),
                value: value.to_string(),
                code: false,
            }
        };
        if var.name.contains('=') {
            return Err(format!(
                "the name {:?} holds '=', which the jsonnet command line cannot pass",
                var.name
            ));
        }
        if var.name.starts_with('-') {
            return Err(format!(
                "the name {:?} starts with '-', which the jsonnet command line would read as flags",
                var.name
            ));
        }
        if var.name.contains('\0') || var.value.contains('\0') {
            return Err("a NUL byte cannot be passed to jsonnet".into());
        }
        Ok(var)
    }

    /// The entry [`JsonnetVar::parse`] reads back as `self`: `NAME=VALUE` for a string whose name
    /// cannot be mistaken for JSON, the JSON object otherwise.
    pub fn to_entry(&self) -> String {
        if self.code || self.name.starts_with('{') {
            serde_json::json!({"name": self.name, "value": self.value, "code": self.code})
                .to_string()
        } else {
            format!("{}={}", self.name, self.value)
        }
    }
}

/// `makeJsonnetVM`'s `JPaths`: the app dir, then each lib resolved against the repository root
/// as `ResolveFileOrDirectoryPath(repoRoot, repoRoot, lib)` does (a lib need not exist). Both
/// `app` and `root` must be absolute and clean.
///
/// Fails when a lib resolves outside the repository root, or through more than 10 symlinks.
pub fn search_paths(app: &Path, root: &Path, libs: &[String]) -> Result<Vec<PathBuf>, RenderError> {
    let mut out = vec![app.to_path_buf()];
    for lib in libs {
        // filepath.Join(root, lib): relative and absolute libs alike are under the root.
        let mut cur = clean(&root.join(lib.trim_start_matches('/')));
        // resolveSymbolicLinkRecursive: only the final component, at most 10 links.
        let mut hops = 0;
        while let Ok(target) = std::fs::read_link(&cur) {
            if hops == 10 {
                return Err(RenderError::JsonnetLib {
                    lib: lib.clone(),
                    why: "goes through more than 10 symbolic links",
                });
            }
            hops += 1;
            cur = clean(&cur.parent().unwrap_or(Path::new("/")).join(target));
        }
        if !cur.starts_with(root) {
            return Err(RenderError::JsonnetLib {
                lib: lib.clone(),
                why: "resolved to outside repository root",
            });
        }
        out.push(cur);
    }
    Ok(out)
}

/// The `jsonnet` argv (without the program) that evaluates `file` like Argo CD's VM: `-J` for
/// each search path in order (see the module docs), the ext vars, the TLAs, then `--` and the
/// file (so no path can be read as a flag). `ext_vars`/`tlas` hold the values already
/// substituted.
pub fn args(
    file: &Path,
    jpaths: &[PathBuf],
    ext_vars: &[JsonnetVar],
    tlas: &[JsonnetVar],
) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    for p in jpaths {
        a.push("-J".into());
        a.push(p.clone().into_os_string());
    }
    for (vars, str_flag, code_flag) in [
        (ext_vars, "--ext-str", "--ext-code"),
        (tlas, "--tla-str", "--tla-code"),
    ] {
        for v in vars {
            a.push(if v.code { code_flag } else { str_flag }.into());
            a.push(format!("{}={}", v.name, v.value).into());
        }
    }
    a.push("--".into());
    a.push(file.as_os_str().to_os_string());
    a
}

/// What Argo CD reads from a `.jsonnet` file's output (see the module docs): the JSON text of
/// each object, in order, with its index in the output array (`None` for a single object).
///
/// Fails, naming `file`, on output that is not JSON, a scalar, an array element that is not an
/// object, or an object without a non-empty string `kind`: Argo CD fails the app on each.
pub fn objects<'a>(
    file: &str,
    json: &'a str,
) -> Result<Vec<(Option<usize>, &'a str)>, RenderError> {
    use serde_json::value::RawValue;
    let bad = |what: String| RenderError::JsonnetOutput {
        file: file.to_string(),
        what,
    };
    let text = json.trim_matches([' ', '\t', '\r', '\n']);
    let check = |raw: &str, at: &str| -> Result<(), RenderError> {
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(m)) => match m.get("kind") {
                Some(serde_json::Value::String(k)) if !k.is_empty() => Ok(()),
                _ => Err(bad(format!(
                    "{at}an object without a string `kind` (Argo CD: Object 'Kind' is missing)"
                ))),
            },
            Ok(other) => Err(bad(format!("{at}{}", json_kind(&other)))),
            Err(e) => Err(bad(format!("not JSON: {e}"))),
        }
    };
    if text.starts_with('[') {
        let items: Vec<&RawValue> =
            serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let mut out = Vec::new();
        for (i, raw) in items.into_iter().enumerate() {
            if raw.get() == "null" {
                continue; // a nil *Unstructured: GenerateManifests skips it
            }
            check(raw.get(), &format!("an array whose element {i} is "))?;
            out.push((Some(i), raw.get()));
        }
        return Ok(out);
    }
    if text == "null" {
        return Ok(Vec::new()); // unmarshals into a nil slice: no objects
    }
    check(text, "")?;
    Ok(vec![(None, text)])
}

/// jsonnet prints U+2028/U+2029 raw; go-yaml (Argo CD's reader of plugin output) takes a raw
/// one for a line break and drops the white space around it, where Go's JSON reader of a native
/// app keeps it. Escaped (`\u2028`), go-yaml reads the character as itself. JSON allows them only
/// inside strings, so replacing every one keeps the value.
pub fn escape_line_separators(json: &str) -> std::borrow::Cow<'_, str> {
    if json.contains(['\u{2028}', '\u{2029}']) {
        json.replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029")
            .into()
    } else {
        json.into()
    }
}

fn json_kind(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(_) => "a JSON boolean".into(),
        serde_json::Value::Number(_) => "a JSON number".into(),
        serde_json::Value::String(_) => "a JSON string".into(),
        serde_json::Value::Array(_) => "a JSON array".into(),
        serde_json::Value::Object(_) => "a JSON object".into(),
    }
}

/// Evaluates the `.jsonnet` files of one directory render, in walk order.
pub(crate) struct Evaluator<'a> {
    s: &'a RenderSettings,
    app: PathBuf,
    root: PathBuf,
    deadline: Instant,
    /// Resolved at the first file, as `makeJsonnetVM` runs only for a `.jsonnet` file.
    jpaths: Option<Vec<PathBuf>>,
    /// The values as the next file sees them (substituted once more per file, as Argo CD does).
    ext_vars: Vec<JsonnetVar>,
    tlas: Vec<JsonnetVar>,
}

impl<'a> Evaluator<'a> {
    /// `app` and `root` canonical.
    pub(crate) fn new(s: &'a RenderSettings, app: &Path, root: &Path, deadline: Instant) -> Self {
        let j = &s.directory.jsonnet;
        Evaluator {
            s,
            app: app.to_path_buf(),
            root: root.to_path_buf(),
            deadline,
            jpaths: None,
            ext_vars: j.ext_vars.clone(),
            tlas: j.tlas.clone(),
        }
    }

    /// Evaluates `path` (`relp` relative to the app dir) and returns its objects as parts
    /// (origin `relp (output)`, or `relp (output[i])` for element `i` of an output array).
    ///
    /// Fails on a lib outside the repository, when jsonnet cannot be started, fails (the error
    /// carries its stderr), exceeds the deadline or output cap, or prints what Argo CD refuses.
    pub(crate) fn evaluate(&mut self, path: &Path, relp: &str) -> Result<Vec<Part>, RenderError> {
        let in_file = |e: RenderError| match e {
            RenderError::Failed { stderr, .. } => RenderError::JsonnetFailed {
                file: relp.to_string(),
                stderr,
            },
            other => RenderError::InFile {
                file: relp.to_string(),
                source: Box::new(other),
            },
        };
        let env: &BTreeMap<String, String> = &self.s.build_env;
        for v in self.tlas.iter_mut().chain(self.ext_vars.iter_mut()) {
            v.value = envsubst(&v.value, env);
        }
        if self.jpaths.is_none() {
            self.jpaths = Some(search_paths(
                &self.app,
                &self.root,
                &self.s.directory.jsonnet.libs,
            )?);
        }
        let jpaths = self.jpaths.as_deref().unwrap_or_default();
        let mut cmd = Cmd::new(
            &self.s.tools.jsonnet,
            args(path, jpaths, &self.ext_vars, &self.tlas),
            &self.app,
            "jsonnet",
        );
        cmd.env_remove = CLEARED_ENV.iter().map(OsString::from).collect();
        let out = process::run(&cmd, self.deadline, &self.s.limits).map_err(in_file)?;
        let text = String::from_utf8(out.stdout).map_err(|e| {
            in_file(RenderError::NotUtf8 {
                command: cmd.display.clone(),
                at: e.utf8_error().valid_up_to(),
            })
        })?;
        Ok(objects(relp, &text)?
            .into_iter()
            .map(|(i, raw)| Part {
                // Lines and columns in later messages count in this text, jsonnet's output.
                origin: match i {
                    Some(i) => format!("{relp} (output[{i}])"),
                    None => format!("{relp} (output)"),
                },
                text: format!("{}\n", escape_line_separators(raw)),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str, code: bool) -> JsonnetVar {
        JsonnetVar {
            name: name.into(),
            value: value.into(),
            code,
        }
    }

    #[test]
    fn line_separators_escaped() {
        assert_eq!(
            escape_line_separators("{\"a\": \"x \u{2028} \u{2029}\"}"),
            "{\"a\": \"x \\u2028 \\u2029\"}"
        );
        assert!(matches!(
            escape_line_separators("{}"),
            std::borrow::Cow::Borrowed("{}")
        ));
    }

    #[test]
    fn argv_order_and_flags() {
        let got = args(
            Path::new("/r/app/x.jsonnet"),
            &["/r/app".into(), "/r/lib1".into(), "/r/lib2".into()],
            &[
                var("a", "1", false),
                var("b", "{x: 1}", true),
                var("a", "2", false),
            ],
            &[var("t", "s", false), var("n", "3", true)],
        );
        let got: Vec<String> = got
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            got,
            [
                "-J",
                "/r/app",
                "-J",
                "/r/lib1",
                "-J",
                "/r/lib2",
                "--ext-str",
                "a=1",
                "--ext-code",
                "b={x: 1}",
                "--ext-str",
                "a=2",
                "--tla-str",
                "t=s",
                "--tla-code",
                "n=3",
                "--",
                "/r/app/x.jsonnet",
            ]
        );
    }

    #[test]
    fn var_entries_table() {
        #[rustfmt::skip]
        let cases: &[(&str, Result<JsonnetVar, &str>)] = &[
            ("a=b", Ok(var("a", "b", false))),
            ("a=b=c", Ok(var("a", "b=c", false))),
            ("a=", Ok(var("a", "", false))),
            ("=x", Ok(var("", "x", false))),
            (r#"{"name": "n", "value": "{a: 1}", "code": true}"#, Ok(var("n", "{a: 1}", true))),
            (r#"{"name": "n", "value": "v"}"#, Ok(var("n", "v", false))),
            (r#"{"name": "n"}"#, Ok(var("n", "", false))),
            ("novalue", Err("expected NAME=VALUE (a string) or {\"name\": …, \"value\": …, \"code\": true} (code)")),
            (r#"{"name": "n", "valu": "v"}"#, Err("not a JSON object {\"name\": …, \"value\": …, \"code\": true|false}: unknown field `valu`, expected one of `name`, `value`, `code` at line 1 column 20")),
            (r#"{"value": "v"}"#, Err("not a JSON object {\"name\": …, \"value\": …, \"code\": true|false}: missing field `name` at line 1 column 14")),
            (r#"{"name": "a=b", "value": "v"}"#, Err("the name \"a=b\" holds '=', which the jsonnet command line cannot pass")),
            ("-x=1", Err("the name \"-x\" starts with '-', which the jsonnet command line would read as flags")),
            ("a=\0", Err("a NUL byte cannot be passed to jsonnet")),
        ];
        for (entry, want) in cases {
            let got = JsonnetVar::parse(entry);
            assert_eq!(got, want.clone().map_err(str::to_string), "{entry:?}");
            if let Ok(v) = got {
                assert_eq!(
                    JsonnetVar::parse(&v.to_entry()).as_ref(),
                    Ok(&v),
                    "round trip of {entry:?}"
                );
            }
        }
        assert_eq!(
            var("{n", "v", false).to_entry(),
            r#"{"code":false,"name":"{n","value":"v"}"#
        );
    }

    /// (jsonnet output, the objects with their array index, or the error)
    type OutputCase = (
        String,
        Result<Vec<(Option<usize>, &'static str)>, &'static str>,
    );

    #[test]
    fn output_to_objects_table() {
        let cm = r#"{"apiVersion": "v1", "kind": "ConfigMap"}"#;
        let pretty = "[\n   {\n      \"kind\": \"A\",\n      \"n\": 100000000000000000000\n   },\n   null,\n   {\"kind\": \"B\"}\n]\n";
        #[rustfmt::skip]
        let cases: Vec<OutputCase> = vec![
            (format!("{cm}\n"), Ok(vec![(None, cm)])),
            (format!("[{cm}, {cm}]\n"), Ok(vec![(Some(0), cm), (Some(1), cm)])),
            (pretty.into(), Ok(vec![(Some(0), "{\n      \"kind\": \"A\",\n      \"n\": 100000000000000000000\n   }"), (Some(2), "{\"kind\": \"B\"}")])),
            ("[]\n".into(), Ok(vec![])),
            ("[null]\n".into(), Ok(vec![])),
            ("null\n".into(), Ok(vec![])),
            ("{\"kind\": \"List\", \"items\": []}".into(), Ok(vec![(None, "{\"kind\": \"List\", \"items\": []}")])),
            ("{}\n".into(), Err("directory: 'x.jsonnet': the jsonnet output is an object without a string `kind` (Argo CD: Object 'Kind' is missing); Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
            ("{\"kind\": \"\"}".into(), Err("directory: 'x.jsonnet': the jsonnet output is an object without a string `kind` (Argo CD: Object 'Kind' is missing); Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
            ("{\"kind\": 3}".into(), Err("directory: 'x.jsonnet': the jsonnet output is an object without a string `kind` (Argo CD: Object 'Kind' is missing); Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
            (format!("[{cm}, \"s\"]"), Err("directory: 'x.jsonnet': the jsonnet output is an array whose element 1 is a JSON string; Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
            (format!("[{cm}, [{cm}]]"), Err("directory: 'x.jsonnet': the jsonnet output is an array whose element 1 is a JSON array; Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
            ("[{\"a\": 1}]".into(), Err("directory: 'x.jsonnet': the jsonnet output is an array whose element 0 is an object without a string `kind` (Argo CD: Object 'Kind' is missing); Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
            ("\"text\"\n".into(), Err("directory: 'x.jsonnet': the jsonnet output is a JSON string; Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
            ("42".into(), Err("directory: 'x.jsonnet': the jsonnet output is a JSON number; Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
            ("true".into(), Err("directory: 'x.jsonnet': the jsonnet output is a JSON boolean; Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")),
        ];
        for (json, want) in cases {
            let got = objects("x.jsonnet", &json).map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_string), "{json:?}");
        }
    }

    #[test]
    fn search_paths_resolve_against_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let app = root.join("apps/web");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::create_dir_all(root.join("vendor/real")).unwrap();
        std::os::unix::fs::symlink("real", root.join("vendor/link")).unwrap();
        std::os::unix::fs::symlink("../../..", root.join("vendor/up")).unwrap();
        let libs = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            search_paths(
                &app,
                &root,
                &libs(&[
                    "lib",
                    "/vendor/x",
                    "vendor/../y",
                    ".",
                    "",
                    "vendor/link",
                    "missing/dir"
                ])
            )
            .unwrap(),
            [
                app.clone(),
                root.join("lib"),
                root.join("vendor/x"),
                root.join("y"),
                root.clone(),
                root.clone(),
                root.join("vendor/real"),
                root.join("missing/dir")
            ]
        );
        for bad in ["..", "../x", "/../x", "vendor/../../x", "vendor/up"] {
            assert_eq!(
                search_paths(&app, &root, &libs(&[bad])).unwrap_err().to_string(),
                format!("directory-jsonnet-libs: library path '{bad}' resolved to outside repository root (Argo CD refuses it too, when it evaluates a .jsonnet file)"),
            );
        }
    }
}
