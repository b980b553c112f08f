//! A plain directory app, as Argo CD's `findManifests` / `getPotentiallyValidManifests` read it:
//!
//! * `filepath.Walk` order: depth first, entries of each directory sorted by name (so
//!   `b/c.yaml` comes before `b.yaml`); sub-directories only when `recurse`; hidden files and
//!   directories are **not** skipped (Argo CD does not skip them either);
//! * files named `*.yaml`, `*.yml`, `*.json` (`.jsonnet` is not supported and is ignored);
//! * `include`/`exclude`: gobwas-style globs on the path relative to the app dir, `*` crossing
//!   `/`; excluded if any `exclude` matches, else taken if `include` is empty or any matches;
//! * files containing `+argocd:skip-file-rendering` are skipped;
//! * symlinks: a symlinked directory is never descended (Walk does not follow it); a symlink,
//!   file or directory, whose target leaves the repository root is an error naming it
//!   (CVE-2022-24904; Argo CD's repo-server refuses such links for the whole repo); a link to a
//!   missing file or to a non-regular file inside the repo is skipped;
//! * a `.json` file must hold exactly one JSON value, an object (Argo CD decodes one
//!   `unstructured` object and refuses arrays and `Found multiple objects`); `kind: List` objects
//!   pass (the caller flattens them);
//! * the total size is capped at `max_output_bytes`.
//!
//! Each file is one [`Part`] holding its bytes unchanged (they must be UTF-8).
//!
//! Not mirrored here: Argo CD silently ignores a YAML file that does not parse as Kubernetes
//! objects and does not contain `apiVersion:`, `kind:` and `metadata:`; that is a property of the
//! parsed documents, left to the caller.

use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::{Part, RenderError, RenderSettings};

const SKIP_MARKER: &[u8] = b"+argocd:skip-file-rendering";

fn glob_set(param: &'static str, patterns: &[String]) -> Result<GlobSet, RenderError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = GlobBuilder::new(p)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|e| RenderError::BadGlob {
                param,
                pattern: p.clone(),
                reason: e.kind().to_string(),
            })?;
        b.add(g);
    }
    b.build().map_err(|e| RenderError::BadGlob {
        param,
        pattern: patterns.join(" "),
        reason: e.to_string(),
    })
}

struct Walker {
    app: PathBuf,
    root: PathBuf,
    recurse: bool,
    include: GlobSet,
    include_all: bool,
    exclude: GlobSet,
    limit: u64,
    total: u64,
    parts: Vec<Part>,
}

pub(crate) fn render(s: &RenderSettings) -> Result<Vec<Part>, RenderError> {
    let app = std::fs::canonicalize(&s.app_dir)
        .map_err(|e| RenderError::io("app directory", &s.app_dir, e))?;
    let root = std::fs::canonicalize(&s.repo_root)
        .map_err(|e| RenderError::io("repository root", &s.repo_root, e))?;
    let mut w = Walker {
        app: app.clone(),
        root,
        recurse: s.directory.recurse,
        include: glob_set("include", &s.directory.include)?,
        include_all: s.directory.include.is_empty(),
        exclude: glob_set("exclude", &s.directory.exclude)?,
        limit: s.limits.max_output_bytes,
        total: 0,
        parts: Vec::new(),
    };
    w.dir(&app)?;
    Ok(w.parts)
}

fn is_manifest_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
}

/// `/`-separated path relative to the app dir.
fn rel(app: &Path, p: &Path) -> String {
    p.strip_prefix(app)
        .unwrap_or(p)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Walker {
    fn dir(&mut self, dir: &Path) -> Result<(), RenderError> {
        let rd =
            std::fs::read_dir(dir).map_err(|e| RenderError::io("cannot read directory", dir, e))?;
        let mut entries: Vec<(String, PathBuf)> = Vec::new();
        for e in rd {
            let e = e.map_err(|e| RenderError::io("cannot read directory", dir, e))?;
            entries.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (name, path) in entries {
            let meta = std::fs::symlink_metadata(&path)
                .map_err(|e| RenderError::io("cannot stat", &path, e))?;
            let relp = rel(&self.app, &path);
            if meta.file_type().is_symlink() {
                self.symlink(&name, &path, &relp)?;
            } else if meta.is_dir() {
                if self.recurse {
                    self.dir(&path)?;
                }
            } else if meta.is_file() && is_manifest_name(&name) {
                self.file(&path, &relp, meta.len())?;
            }
        }
        Ok(())
    }

    fn symlink(&mut self, name: &str, path: &Path, relp: &str) -> Result<(), RenderError> {
        let outside = || RenderError::SymlinkOutside {
            file: relp.to_string(),
        };
        let real = match std::fs::canonicalize(path) {
            Ok(real) => real,
            Err(_) => {
                // Dangling (or a loop): refused if it points outside, otherwise skipped.
                let target = std::fs::read_link(path)
                    .map_err(|e| RenderError::io("cannot read symlink", path, e))?;
                let lexical =
                    super::valuefiles::clean(&path.parent().unwrap_or(Path::new("/")).join(target));
                return if lexical.starts_with(&self.root) {
                    Ok(())
                } else {
                    Err(outside())
                };
            }
        };
        if !real.starts_with(&self.root) {
            return Err(outside());
        }
        // Walk never descends a symlinked directory; only manifest-named links to regular files count.
        let meta =
            std::fs::metadata(&real).map_err(|e| RenderError::io("cannot stat", &real, e))?;
        if meta.is_file() && is_manifest_name(name) {
            self.file(path, relp, meta.len())?;
        }
        Ok(())
    }

    fn file(&mut self, path: &Path, relp: &str, len: u64) -> Result<(), RenderError> {
        if self.exclude.is_match(relp) || !(self.include_all || self.include.is_match(relp)) {
            return Ok(());
        }
        self.total += len;
        if self.total > self.limit {
            return Err(RenderError::DirectoryTooLarge { limit: self.limit });
        }
        let bytes = std::fs::read(path).map_err(|e| RenderError::io("cannot read", path, e))?;
        if contains(&bytes, SKIP_MARKER) {
            return Ok(());
        }
        let text = String::from_utf8(bytes).map_err(|e| RenderError::InvalidFile {
            file: relp.to_string(),
            kind: "UTF-8",
            reason: format!("invalid byte at offset {}", e.utf8_error().valid_up_to()),
        })?;
        if relp.ends_with(".json") {
            check_json(relp, &text)?;
        }
        self.parts.push(Part {
            origin: relp.to_string(),
            text,
        });
        Ok(())
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Exactly one JSON value, an object.
fn check_json(relp: &str, text: &str) -> Result<(), RenderError> {
    let mut it = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    match it.next() {
        Some(Ok(serde_json::Value::Object(_))) => {}
        Some(Ok(serde_json::Value::Array(_))) => {
            return Err(RenderError::JsonNotOneObject {
                file: relp.to_string(),
                what: "a JSON array",
            })
        }
        Some(Ok(_)) => {
            return Err(RenderError::JsonNotOneObject {
                file: relp.to_string(),
                what: "a JSON scalar",
            })
        }
        Some(Err(e)) => {
            return Err(RenderError::InvalidFile {
                file: relp.to_string(),
                kind: "JSON",
                reason: e.to_string(),
            })
        }
        None => {
            return Err(RenderError::InvalidFile {
                file: relp.to_string(),
                kind: "JSON",
                reason: "the file is empty".into(),
            })
        }
    }
    match it.next() {
        None => Ok(()),
        Some(Ok(_)) => Err(RenderError::JsonNotOneObject {
            file: relp.to_string(),
            what: "more than one JSON value",
        }),
        Some(Err(e)) => Err(RenderError::InvalidFile {
            file: relp.to_string(),
            kind: "JSON",
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_checks() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<&str>)] = &[
            ("{\"kind\":\"ConfigMap\"}", None),
            ("  {\"kind\":\"List\",\"items\":[]}\n", None),
            ("[{\"kind\":\"ConfigMap\"}]", Some("directory: 'x.json' holds a JSON array; Argo CD accepts exactly one JSON object per .json file")),
            ("{} {}", Some("directory: 'x.json' holds more than one JSON value; Argo CD accepts exactly one JSON object per .json file")),
            ("42", Some("directory: 'x.json' holds a JSON scalar; Argo CD accepts exactly one JSON object per .json file")),
            ("", Some("directory: 'x.json' is not valid JSON: the file is empty")),
            ("{", Some("directory: 'x.json' is not valid JSON: EOF while parsing an object at line 1 column 1")),
        ];
        for (text, want) in cases {
            let got = check_json("x.json", text).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), *want, "{text:?}");
        }
    }
}
