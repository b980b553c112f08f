//! Helm value-file resolution with Argo CD's containment rules (`ResolveValueFilePathOrUrl`,
//! `getResolvedValueFiles`; CVE-2022-24348 is the model).
//!
//! 1. `$VAR`/`${VAR}` are substituted from the build env first.
//! 2. A string with a URL scheme is a URL: kept as is if the scheme is allowed
//!    (case-insensitive), refused otherwise (empty list = every URL refused).
//! 3. Relative paths are relative to the app dir, `/x` is relative to the **repo root**; the
//!    join is cleaned lexically (so `..` cannot be hidden behind a symlinked directory).
//! 4. Symlinks are resolved (at most 10 hops, then the whole path is canonicalised); the result
//!    must lie inside the repo root and must not be the root itself.
//! 5. Globs (`*`, `?`, `[`) expand in lexical order; every match is root-checked. A file that is
//!    also listed explicitly keeps its explicit position. Duplicates are dropped.
//! 6. A missing file (or a glob without a match) is an error unless `ignore_missing` (skipped).

use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};

use super::envsubst::envsubst;
use super::RenderError;

/// A resolved value file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValueFile {
    /// Absolute, symlinks resolved, inside the repo root.
    Local(PathBuf),
    /// A URL with an allowed scheme, passed to helm as is.
    Url(String),
}

impl ValueFile {
    pub fn as_arg(&self) -> std::ffi::OsString {
        match self {
            ValueFile::Local(p) => p.clone().into_os_string(),
            ValueFile::Url(u) => u.into(),
        }
    }
}

/// Where and how value files are resolved.
#[derive(Clone, Debug)]
pub struct Resolver<'a> {
    /// The parameter named in errors (`values-files`, `set-file`).
    pub param: &'static str,
    app_dir: PathBuf,
    repo_root: PathBuf,
    pub env: &'a BTreeMap<String, String>,
    pub schemes: &'a [String],
}

enum Local {
    Exists(PathBuf),
    Missing(PathBuf),
}

impl<'a> Resolver<'a> {
    /// `app_dir` and `repo_root` are canonicalised here (they must exist).
    pub fn new(
        param: &'static str,
        app_dir: &Path,
        repo_root: &Path,
        env: &'a BTreeMap<String, String>,
        schemes: &'a [String],
    ) -> Result<Self, RenderError> {
        let repo_root = std::fs::canonicalize(repo_root)
            .map_err(|e| RenderError::io("repository root", repo_root, e))?;
        let app_dir = std::fs::canonicalize(app_dir)
            .map_err(|e| RenderError::io("app directory", app_dir, e))?;
        Ok(Resolver {
            param,
            app_dir,
            repo_root,
            env,
            schemes,
        })
    }

    /// Resolve a list of value files (`--values`), in order.
    pub fn resolve_all(
        &self,
        raw_files: &[String],
        ignore_missing: bool,
    ) -> Result<Vec<ValueFile>, RenderError> {
        // Explicit (non-glob) entries keep their own position even if a glob also matches them.
        let explicit: HashSet<PathBuf> = raw_files
            .iter()
            .filter(|raw| !is_glob(&envsubst(raw, self.env)))
            .filter_map(|raw| match self.resolve_one(raw) {
                Ok(ValueFile::Local(p)) => Some(p),
                _ => None,
            })
            .collect();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for raw in raw_files {
            let s = envsubst(raw, self.env);
            if self.url_or_refusal(&s)?.is_none() && is_glob(&s) {
                let matches = self.expand_glob(&s)?;
                if matches.is_empty() {
                    if ignore_missing {
                        continue;
                    }
                    return Err(RenderError::GlobNoMatch {
                        param: self.param,
                        pattern: raw.clone(),
                    });
                }
                for m in matches {
                    if !explicit.contains(&m) && seen.insert(ValueFile::Local(m.clone())) {
                        out.push(ValueFile::Local(m));
                    }
                }
                continue;
            }
            match self.resolve_one(raw) {
                Ok(v) => {
                    if seen.insert(v.clone()) {
                        out.push(v);
                    }
                }
                Err(RenderError::ValueFileMissing { .. }) if ignore_missing => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Resolve one path or URL literally, without glob expansion (`--set-file`, as Argo CD does,
    /// or one non-glob entry of `--values`).
    pub fn resolve_one(&self, raw: &str) -> Result<ValueFile, RenderError> {
        let s = envsubst(raw, self.env);
        if let Some(url) = self.url_or_refusal(&s)? {
            return Ok(url);
        }
        let joined = self.join(&s);
        match self.resolve_local(raw, &joined)? {
            Local::Exists(p) => Ok(ValueFile::Local(p)),
            Local::Missing(p) => Err(RenderError::ValueFileMissing {
                param: self.param,
                file: raw.to_string(),
                looked_at: self.rel_to_root(&p),
                hint: if self.param == "values-files" {
                    "; set ignore-missing-value-files to skip missing files"
                } else {
                    ""
                },
            }),
        }
    }

    /// `Ok(Some)` for an allowed URL, `Err` for a refused one, `Ok(None)` for a path.
    fn url_or_refusal(&self, s: &str) -> Result<Option<ValueFile>, RenderError> {
        let Some(scheme) = url_scheme(s) else {
            return Ok(None);
        };
        if self.schemes.iter().any(|a| a.eq_ignore_ascii_case(scheme)) {
            return Ok(Some(ValueFile::Url(s.to_string())));
        }
        Err(RenderError::SchemeNotAllowed {
            param: self.param,
            file: s.to_string(),
            scheme: scheme.to_string(),
            allowed: if self.schemes.is_empty() {
                "no URL schemes are allowed".to_string()
            } else {
                format!("allowed: {}", self.schemes.join(", "))
            },
        })
    }

    fn join(&self, s: &str) -> PathBuf {
        match s.strip_prefix('/') {
            Some(rest) => clean(&self.repo_root.join(rest)),
            None => clean(&self.app_dir.join(s)),
        }
    }

    fn check_inside(&self, raw: &str, p: &Path) -> Result<(), RenderError> {
        if p == self.repo_root {
            return Err(RenderError::ResolvesToRoot {
                param: self.param,
                file: raw.to_string(),
            });
        }
        if !p.starts_with(&self.repo_root) {
            return Err(RenderError::OutsideRoot {
                param: self.param,
                file: raw.to_string(),
            });
        }
        Ok(())
    }

    /// Argo CD's `resolveSymbolicLinkRecursive` (10 hops) on the final component, then a full
    /// canonicalisation (which also catches symlinked parent directories).
    fn resolve_local(&self, raw: &str, joined: &Path) -> Result<Local, RenderError> {
        // A lexical escape is refused whether or not the target exists.
        self.check_inside(raw, joined)?;
        let mut cur = joined.to_path_buf();
        let mut hops = 0;
        while let Ok(target) = std::fs::read_link(&cur) {
            if hops == 10 {
                return Err(RenderError::SymlinkLoop {
                    param: self.param,
                    file: raw.to_string(),
                });
            }
            hops += 1;
            cur = clean(&cur.parent().unwrap_or(Path::new("/")).join(target));
        }
        match std::fs::canonicalize(&cur) {
            Ok(real) => {
                self.check_inside(raw, &real)?;
                Ok(Local::Exists(real))
            }
            Err(e) if e.raw_os_error() == Some(40) => Err(RenderError::SymlinkLoop {
                param: self.param,
                file: raw.to_string(),
            }),
            Err(_) => {
                self.check_inside(raw, &cur)?;
                Ok(Local::Missing(cur))
            }
        }
    }

    /// Expand a glob (after substitution) to existing files, lexically sorted, each root-checked.
    fn expand_glob(&self, s: &str) -> Result<Vec<PathBuf>, RenderError> {
        let pattern = self.join(s);
        self.check_inside(s, &pattern)?;
        let pattern_str = pattern.to_string_lossy().into_owned();
        let matcher = globset::GlobBuilder::new(&pattern_str)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| RenderError::BadGlob {
                param: self.param,
                pattern: s.to_string(),
                reason: e.kind().to_string(),
            })?
            .compile_matcher();
        // The walk starts at the deepest directory without glob characters.
        let comps: Vec<Component> = pattern.components().collect();
        let first_glob = comps
            .iter()
            .position(|c| is_glob(&c.as_os_str().to_string_lossy()))
            .unwrap_or(comps.len());
        let base: PathBuf = comps[..first_glob].iter().collect();
        let rest = &comps[first_glob..];
        let max_depth = if rest
            .iter()
            .any(|c| c.as_os_str().to_string_lossy().contains("**"))
        {
            32
        } else {
            rest.len()
        };
        let mut found = Vec::new();
        walk(&base, max_depth, &mut |p| {
            if matcher.is_match(p) {
                found.push(p.to_path_buf());
            }
        });
        found.sort();
        found.dedup();
        let mut out = Vec::new();
        for m in found {
            let real =
                std::fs::canonicalize(&m).map_err(|e| RenderError::io("value file", &m, e))?;
            if real == self.repo_root || !real.starts_with(&self.repo_root) {
                return Err(RenderError::GlobMatchOutsideRoot {
                    param: self.param,
                    pattern: s.to_string(),
                    matched: self.rel_to_root(&m),
                });
            }
            if !out.contains(&real) {
                out.push(real);
            }
        }
        Ok(out)
    }

    fn rel_to_root(&self, p: &Path) -> String {
        match p.strip_prefix(&self.repo_root) {
            Ok(rel) => format!("/{}", rel.display()),
            Err(_) => p.display().to_string(),
        }
    }
}

/// Files (following symlinks) under `dir`, at most `depth` levels down.
fn walk(dir: &Path, depth: usize, f: &mut dyn FnMut(&Path)) {
    if depth == 0 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, depth - 1, f),
            Ok(m) if m.is_file() => f(&p),
            _ => {}
        }
    }
}

/// Whether Argo CD treats the path as a glob (`isGlobPath`).
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Go `url.Parse`'s scheme: letters first, then letters, digits, `+`, `-`, `.`, up to a `:`.
pub fn url_scheme(s: &str) -> Option<&str> {
    for (i, c) in s.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i > 0 => return Some(&s[..i]),
            _ => return None,
        }
    }
    None
}

/// Lexical cleaning like Go's `filepath.Clean` for absolute paths (`..` above `/` stays at `/`).
pub fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}
