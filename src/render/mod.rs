//! Render an application's manifests exactly like Argo CD's native sources would.
//!
//! | source | what runs | reference |
//! |---|---|---|
//! | [`SourceType::Helm`] | `helm template . --name-template … --include-crds`, cwd = app dir | `reposerver/repository/repository.go` `helmTemplate`, `util/helm/cmd.go` |
//! | [`SourceType::Kustomize`] | `kustomize build <abs app dir> [build options]` (or `kubectl kustomize`), cwd = repo root | `util/kustomize/kustomize.go` `Build` |
//! | [`SourceType::Directory`] | `*.yaml`, `*.yml`, `*.json` files, one [`Part`] each; `*.jsonnet` files evaluated by `jsonnet` (go-jsonnet), one [`Part`] per object | `repository.go` `findManifests`, `makeJsonnetVM` |
//!
//! Every tool runs through [`process`]: argv only, stdin `/dev/null`, its own process group, a
//! deadline ([`Limits::timeout`]) after which the whole group is killed, and a cap on stdout
//! ([`Limits::max_output_bytes`]). Temp files (helm homes, the inline values file) live in a
//! private temp dir outside the checkout; rendering never writes into the checkout.
//! Only [`init`] may (`helm dependency build` fills `charts/`, as it does in Argo CD).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

mod directory;
pub mod envsubst;
mod helm;
pub mod jsonnet;
mod kustomize;
pub mod process;
mod symlinks;
pub mod valuefiles;

pub use envsubst::{clean_set_parameter, envsubst};
pub use helm::{check_helm_version as helm_version_check, helm_template_args};
pub use jsonnet::{JsonnetOptions, JsonnetVar};
pub use kustomize::{atoi, parse_patches};
pub use symlinks::RepoScope;

/// Which native Argo CD source the app is rendered like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceType {
    Helm,
    Kustomize,
    Directory,
}

impl SourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::Helm => "helm",
            SourceType::Kustomize => "kustomize",
            SourceType::Directory => "directory",
        }
    }
}

impl fmt::Display for SourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceType {
    type Err = RenderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "helm" => Ok(SourceType::Helm),
            "kustomize" => Ok(SourceType::Kustomize),
            "directory" => Ok(SourceType::Directory),
            other => Err(RenderError::UnknownSourceType(other.to_string())),
        }
    }
}

/// Everything [`render`] and [`init`] need. Paths must be absolute.
#[derive(Clone, Debug)]
pub struct RenderSettings {
    /// The app path (the cwd Argo CD gives `generate`).
    pub app_dir: PathBuf,
    /// The repository root: containment boundary for value files and symlinks.
    pub repo_root: PathBuf,
    /// Which files under it the symlink check judges.
    pub repo_scope: RepoScope,
    /// `None` = [`detect`].
    pub source_type: Option<SourceType>,
    /// Argo CD's build env (`ARGOCD_APP_*`; not `KUBE_*`, which its `Envsubst` does not know).
    /// Used for `$VAR` substitution like Argo CD's
    /// `Env.Envsubst` (value-file and set-file paths, `--set`/`--set-string` values); never
    /// exported to any tool. (Argo CD's `kustomize build` gets it in its env; in the sidecar the
    /// same variables are already in the process env every tool inherits.)
    pub build_env: BTreeMap<String, String>,
    pub helm: HelmOptions,
    pub kustomize: KustomizeOptions,
    pub directory: DirectoryOptions,
    pub tools: Tools,
    pub limits: Limits,
}

impl RenderSettings {
    /// Settings with Argo CD's defaults for an app, rendering with `tools` (found once, by the
    /// caller, from its environment snapshot: nothing here reads the process environment).
    pub fn new(
        app_dir: impl Into<PathBuf>,
        repo_root: impl Into<PathBuf>,
        release_name: impl Into<String>,
        tools: Tools,
    ) -> Self {
        RenderSettings {
            app_dir: app_dir.into(),
            repo_root: repo_root.into(),
            repo_scope: RepoScope::default(),
            source_type: None,
            build_env: BTreeMap::new(),
            helm: HelmOptions {
                release_name: release_name.into(),
                ..HelmOptions::default()
            },
            kustomize: KustomizeOptions::default(),
            directory: DirectoryOptions::default(),
            tools,
            limits: Limits::default(),
        }
    }

    /// The source type that renders this app: the one set, else what the app dir holds
    /// ([`detect`]).
    pub fn resolved_source_type(&self) -> SourceType {
        self.source_type.unwrap_or_else(|| detect(&self.app_dir))
    }

    /// The repository checks every command runs before touching the app (the symlink check,
    /// [`symlinks::check_repository`]), within `deadline`.
    fn check_repository(&self, deadline: Instant) -> Result<(), RenderError> {
        symlinks::check_repository(
            &self.repo_root,
            self.repo_scope,
            self.tools.git.as_deref(),
            deadline,
            &self.limits,
        )
    }
}

/// `spec.source.helm` equivalents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelmOptions {
    pub release_name: String,
    pub namespace: Option<String>,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    /// In order; see [`valuefiles`].
    pub values_files: Vec<String>,
    /// Inline YAML, passed as the last `--values` via a temp file outside the repo.
    pub values: Option<String>,
    pub set: Vec<(String, String)>,
    pub set_string: Vec<(String, String)>,
    /// Values are paths, resolved and contained like value files.
    pub set_file: Vec<(String, String)>,
    pub skip_crds: bool,
    pub skip_tests: bool,
    pub skip_schema_validation: bool,
    pub ignore_missing_value_files: bool,
    /// URL schemes allowed in `values_files`; empty = URLs refused.
    pub value_file_schemes: Vec<String>,
    /// `spec.source.helm.passCredentials`: `init` passes the repositories' credentials to
    /// every domain (`pass_credentials_all` on each entry of a private copy of
    /// [`HelmOptions::repository_config`]).
    pub pass_credentials: bool,
    /// The admin's Helm repositories file (`HELM_REPOSITORY_CONFIG`), if any.
    pub repository_config: Option<PathBuf>,
    /// The admin's Helm registry config (`HELM_REGISTRY_CONFIG`), if any.
    pub registry_config: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KustomizeOptions {
    /// Argo CD's `kustomize.buildOptions`, already split into words.
    pub build_options: Vec<String>,
    /// Passed as `--helm-kube-version` with `--enable-helm` on kustomize ≥ 5.3.0.
    pub kube_version: Option<String>,
    /// Passed as `--helm-api-versions` (one each) with `--enable-helm` on kustomize ≥ 5.3.0.
    pub api_versions: Vec<String>,
    /// `spec.source.kustomize` edits, applied with `kustomize edit` to a private copy.
    pub edits: KustomizeEdits,
}

/// The `spec.source.kustomize` fields Argo CD applies with `kustomize edit` (and, for
/// `patches`, by rewriting the kustomization file) before it builds, in the order of
/// `util/kustomize/kustomize.go` `Build`. Empty = not set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KustomizeEdits {
    pub name_prefix: String,
    pub name_suffix: String,
    /// `kustomize edit set image` arguments (`$VAR` substituted from the build env first).
    pub images: Vec<String>,
    /// Deployment/StatefulSet name → count (an integer, as Go's `strconv.Atoi` reads it).
    pub replicas: Vec<(String, String)>,
    /// Values get `$VAR` substitution.
    pub common_labels: Vec<(String, String)>,
    pub common_annotations: Vec<(String, String)>,
    /// `commonAnnotationsEnvsubst`: substitute `$VAR` in annotation values.
    pub common_annotations_envsubst: bool,
    pub force_common_labels: bool,
    pub force_common_annotations: bool,
    pub label_without_selector: bool,
    pub label_include_templates: bool,
    pub namespace: String,
    /// A YAML (or JSON) list of patches, Argo CD's `KustomizePatch` objects.
    pub patches: Option<String>,
    pub components: Vec<String>,
    pub ignore_missing_components: bool,
}

impl KustomizeEdits {
    /// Whether any edit is set (the build then runs on a private copy of the repository).
    pub fn any(&self) -> bool {
        !(self.name_prefix.is_empty()
            && self.name_suffix.is_empty()
            && self.images.is_empty()
            && self.replicas.is_empty()
            && self.common_labels.is_empty()
            && self.common_annotations.is_empty()
            && self.namespace.is_empty()
            && self.patches.as_deref().is_none_or(|p| p.trim().is_empty())
            && self.components.is_empty())
    }
}

/// `spec.source.directory` equivalents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryOptions {
    pub recurse: bool,
    /// Globs on the path relative to the app dir (`*` crosses `/`, `{a,b}` alternatives, as
    /// Argo CD's gobwas globs). A file is taken if it matches one of them (when non-empty)…
    pub include: Vec<String>,
    /// …and none of these.
    pub exclude: Vec<String>,
    /// `spec.source.directory.jsonnet`: how `.jsonnet` files are evaluated ([`jsonnet`]).
    pub jsonnet: JsonnetOptions,
}

/// Tool binaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tools {
    pub helm: PathBuf,
    /// `None`: kustomize apps use `kubectl kustomize`.
    pub kustomize: Option<PathBuf>,
    pub kubectl: Option<PathBuf>,
    /// Lists a local working tree's files for the symlink check ([`RepoScope::GitWorkingTree`]).
    pub git: Option<PathBuf>,
    /// go-jsonnet's `jsonnet` command, for a directory app's `.jsonnet` files.
    pub jsonnet: PathBuf,
}

impl Tools {
    /// Overrides first, else a search of `path_env` (pure: nothing else is read). `helm` and
    /// `jsonnet` fall back to their bare names, so a missing one fails with an error naming it
    /// (only when an app needs it).
    pub fn discover(
        helm: Option<PathBuf>,
        kustomize: Option<PathBuf>,
        jsonnet: Option<PathBuf>,
        path_env: Option<&OsStr>,
    ) -> Tools {
        Tools {
            helm: helm
                .or_else(|| find_in_path("helm", path_env))
                .unwrap_or_else(|| PathBuf::from("helm")),
            kustomize: kustomize.or_else(|| find_in_path("kustomize", path_env)),
            kubectl: find_in_path("kubectl", path_env),
            git: find_in_path("git", path_env),
            jsonnet: jsonnet
                .or_else(|| find_in_path("jsonnet", path_env))
                .unwrap_or_else(|| PathBuf::from("jsonnet")),
        }
    }
}

fn find_in_path(name: &str, path_env: Option<&OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_env?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Resource limits for one [`render`] or [`init`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deadline for all tool runs of one call together; on expiry the tool's process group is
    /// killed. Default 50 s, below Argo CD's 60 s repo-server deadline.
    pub timeout: Duration,
    /// Cap on a tool's stdout (and on a directory app's total file size). Default 256 MiB.
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(50),
            max_output_bytes: 256 * 1024 * 1024,
        }
    }
}

/// The rendered manifests, as the tool printed them or as the files hold them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub source_type: SourceType,
    pub parts: Vec<Part>,
    /// Printed once each on stderr (a directory app's skipped unrelated files).
    pub warnings: Vec<String>,
}

/// One piece of output: a tool's stdout, or one file of a directory app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// `"helm template"`, `"kustomize build"`, `"kubectl kustomize"`, or a file path relative to
    /// the app dir (`/`-separated).
    pub origin: String,
    /// Byte for byte (a directory file is checked to be UTF-8).
    pub text: String,
}

/// Why rendering failed. Messages name the input or parameter and the place; tool failures carry
/// the command (api versions redacted as Argo CD does) and the tail of its stderr.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("source-type: unknown source type '{0}' (expected helm, kustomize or directory)")]
    UnknownSourceType(String),

    #[error("{param}: value file '{file}' resolved to outside repository root")]
    OutsideRoot { param: &'static str, file: String },

    #[error("{param}: value file '{file}' resolved to the repository root, which is not allowed")]
    ResolvesToRoot { param: &'static str, file: String },

    #[error(
        "{param}: value file '{file}' not found (looked at '{looked_at}' in the repository){hint}"
    )]
    ValueFileMissing {
        param: &'static str,
        file: String,
        looked_at: String,
        hint: &'static str,
    },

    #[error(
        "{param}: glob '{pattern}' matched '{matched}', which resolved to outside repository root"
    )]
    GlobMatchOutsideRoot {
        param: &'static str,
        pattern: String,
        matched: String,
    },

    #[error("{param}: values file glob '{pattern}' matched no files; set ignore-missing-value-files to skip it")]
    GlobNoMatch {
        param: &'static str,
        pattern: String,
    },

    #[error("{param}: invalid glob '{pattern}': {reason}")]
    BadGlob {
        param: &'static str,
        pattern: String,
        reason: String,
    },

    #[error("{param}: value file '{file}': the URL scheme '{scheme}' is not allowed ({allowed})")]
    SchemeNotAllowed {
        param: &'static str,
        file: String,
        scheme: String,
        allowed: String,
    },

    #[error("{param}: value file '{file}': too many levels of symbolic links")]
    SymlinkLoop { param: &'static str, file: String },

    #[error("repository: symlink '{file}' -> '{target}' {why}; refused before rendering, as Argo CD's repo-server refuses the repository (out of bounds symlink, CVE-2022-24904)")]
    OutOfBoundsSymlink {
        file: String,
        target: String,
        why: &'static str,
    },

    #[error("repository: symlink '{file}' -> '{target}' {why}; refused before rendering, as Argo CD's repo-server refuses the repository (out of bounds symlink, CVE-2022-24904); every file was judged because git could not list the working tree's files ({no_git})")]
    OutOfBoundsSymlinkNoGit {
        file: String,
        target: String,
        why: &'static str,
        no_git: String,
    },

    #[error("directory: symlink '{file}' points outside the repository root (refused, as Argo CD does since CVE-2022-24904)")]
    SymlinkOutside { file: String },

    #[error(
        "directory: '{file}' holds {what}; Argo CD accepts exactly one JSON object per .json file"
    )]
    JsonNotOneObject { file: String, what: &'static str },

    #[error("directory: '{file}' is not valid {kind}: {reason}")]
    InvalidFile {
        file: String,
        kind: &'static str,
        reason: String,
    },

    #[error("directory: {place}: {msg}")]
    DirectoryFile { place: String, msg: String },

    #[error("directory: '{file}': jsonnet evaluation failed: {stderr}")]
    JsonnetFailed { file: String, stderr: String },

    #[error("directory: '{file}': the jsonnet output is {what}; Argo CD accepts one JSON object with a string `kind`, or an array of them (null elements skipped), and fails the app otherwise")]
    JsonnetOutput { file: String, what: String },

    #[error("directory-jsonnet-libs: library path '{lib}' {why} (Argo CD refuses it too, when it evaluates a .jsonnet file)")]
    JsonnetLib { lib: String, why: &'static str },

    #[error("directory: '{file}': {source}")]
    InFile {
        file: String,
        source: Box<RenderError>,
    },

    #[error("directory: the manifest files total more than {limit} bytes; raise render.maxOutputBytes in the config if this app is really that large")]
    DirectoryTooLarge { limit: u64 },

    #[error("{what} '{path}': {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },

    #[error("{param}: cannot parse Kubernetes version '{value}'")]
    KubeVersion { param: &'static str, value: String },

    #[error("Chart.yaml: {0}")]
    ChartYaml(String),

    #[error("could not start `{command}`: {source} (install {tool} or point the plugin at it)")]
    Spawn {
        command: String,
        tool: String,
        source: std::io::Error,
    },

    #[error("{param}: {source}")]
    ForParam {
        param: &'static str,
        source: Box<RenderError>,
    },

    #[error("{param}: {msg}")]
    BadParam { param: &'static str, msg: String },

    #[error("`{command}` failed {status}: {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },

    #[error("`{command}` did not finish within {}s and was killed with its process group; raise render.timeoutSeconds in the config if the app really needs longer (Argo CD's own deadline is 60s)", limit.as_secs_f64())]
    Timeout { command: String, limit: Duration },

    #[error("`{command}` printed more than {limit} bytes and was killed; raise render.maxOutputBytes in the config if this app is really that large")]
    OutputTooLarge { command: String, limit: u64 },

    #[error("`{command}` printed output that is not UTF-8 (at byte {at})")]
    NotUtf8 { command: String, at: usize },
}

impl RenderError {
    pub(crate) fn io(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        RenderError::Io {
            what,
            path: path.display().to_string(),
            source,
        }
    }
}

/// Argo CD's tool detection for an app dir without an explicit type: `Chart.yaml` → Helm;
/// `kustomization.yaml`, `kustomization.yml` or `Kustomization` → Kustomize; else Directory.
pub fn detect(app_dir: &Path) -> SourceType {
    let is_file = |n: &str| app_dir.join(n).is_file();
    if is_file("Chart.yaml") {
        SourceType::Helm
    } else if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|n| is_file(n))
    {
        SourceType::Kustomize
    } else {
        SourceType::Directory
    }
}

/// Render the app. See the module docs.
pub fn render(s: &RenderSettings) -> Result<Rendered, RenderError> {
    type NoWork = fn(&str, Vec<u8>) -> (Vec<u8>, Option<()>);
    render_early(s, None::<NoWork>).map(|(rendered, _)| rendered)
}

/// [`render`], and `early` started on a tool's output (helm, kustomize) once the tool has stopped
/// writing, while it is still exiting ([`process::run_early`]). `early` gets the part's
/// [`Part::origin`] and its bytes so far and gives the bytes back with its result; the result is
/// returned only when it was computed on exactly the bytes of the returned (single) part.
/// Directory apps run no tool: no early result.
pub fn render_early<T, F>(
    s: &RenderSettings,
    early: Option<F>,
) -> Result<(Rendered, Option<T>), RenderError>
where
    T: Send + 'static,
    F: EarlyWork<T>,
{
    let deadline = Instant::now() + s.limits.timeout;
    s.check_repository(deadline)?;
    let source_type = s.resolved_source_type();
    let mut warnings = Vec::new();
    let (parts, result) = match source_type {
        SourceType::Helm => helm::render(s, deadline, early)?,
        SourceType::Kustomize => kustomize::render(s, deadline, early)?,
        SourceType::Directory => {
            let files = directory::render(s, deadline)?;
            warnings = files.warnings;
            (files.parts, None)
        }
    };
    Ok((
        Rendered {
            source_type,
            parts,
            warnings,
        },
        result,
    ))
}

/// Work started on a tool's output before the tool has exited ([`render_early`]): it gets the
/// part's [`Part::origin`] and the bytes so far, and gives the bytes back with its result.
pub trait EarlyWork<T>: FnOnce(&str, Vec<u8>) -> (Vec<u8>, Option<T>) + Send + 'static {}

impl<T, F: FnOnce(&str, Vec<u8>) -> (Vec<u8>, Option<T>) + Send + 'static> EarlyWork<T> for F {}

/// Runs a renderer whose stdout is the one part `origin` ([`process::run_early`]), with `early`
/// started on its output; the output must be UTF-8.
fn tool_part<T, F>(
    cmd: &process::Cmd,
    origin: &'static str,
    deadline: Instant,
    limits: &Limits,
    early: Option<F>,
) -> Result<(Vec<Part>, Option<T>), RenderError>
where
    T: Send + 'static,
    F: EarlyWork<T>,
{
    let early = early.map(|work| move |bytes| work(origin, bytes));
    let (out, result) = process::run_early(cmd, deadline, limits, early)?;
    let text = String::from_utf8(out.stdout).map_err(|e| RenderError::NotUtf8 {
        command: cmd.display.clone(),
        at: e.utf8_error().valid_up_to(),
    })?;
    Ok((
        vec![Part {
            origin: origin.to_string(),
            text,
        }],
        result,
    ))
}

/// What must happen before [`render`]: for Helm, `helm dependency build` — only when a dependency
/// declared in `Chart.yaml` (or `requirements.yaml`) is missing from `charts/`. Nothing otherwise.
pub fn init(s: &RenderSettings) -> Result<(), RenderError> {
    let deadline = Instant::now() + s.limits.timeout;
    s.check_repository(deadline)?;
    match s.resolved_source_type() {
        SourceType::Helm => helm::init(s, deadline),
        SourceType::Kustomize | SourceType::Directory => Ok(()),
    }
}

/// A private temp dir for one call, outside the checkout (refused if the temp dir is inside it).
pub(crate) fn private_temp_dir(s: &RenderSettings) -> Result<tempfile::TempDir, RenderError> {
    let dir = tempfile::Builder::new()
        .prefix("pullthrough-render-")
        .tempdir()
        .map_err(|e| {
            RenderError::io(
                "cannot create a private temp dir in",
                &std::env::temp_dir(),
                e,
            )
        })?;
    let real = std::fs::canonicalize(dir.path()).unwrap_or_else(|_| dir.path().to_path_buf());
    let root = std::fs::canonicalize(&s.repo_root).unwrap_or_else(|_| s.repo_root.clone());
    if real.starts_with(&root) {
        return Err(RenderError::Io {
            what: "the temp dir is inside the repository checkout",
            path: real.display().to_string(),
            source: std::io::Error::other("set TMPDIR to a directory outside the checkout"),
        });
    }
    Ok(dir)
}
