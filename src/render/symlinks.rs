//! The repository may not hold a symlink that leaves it, checked before anything is rendered.
//!
//! Helm follows symlinks inside a chart (a `templates/x.yaml -> /proc/self/environ` puts the
//! sidecar's environment into the output), kustomize follows them in resources and patches, and
//! value files may name any path in the repository. Argo CD's repo-server refuses such a
//! repository outright (`util/app/path/path.go` `CheckOutOfBoundsSymlinks`, CVE-2022-24904) and
//! its cmp-server re-links every archived symlink relatively and refuses those leaving the
//! archive; pullthrough applies the same rule itself, so it holds for `pullthrough render DIR`
//! too and does not depend on what ran before it.
//!
//! The rule, as Argo CD's: every symlink anywhere under the repository root (the walk does not
//! follow links, so each link is judged on its own text) is refused when its target is absolute
//! or when, walked component by component from the link's directory, the path ever rises above
//! the root (`a -> ../../x` is refused even if a later component would come back). A dangling
//! link inside the repository is fine. The first offender in walk order (names sorted) is named.
//!
//! Which files are judged depends on where the repository comes from ([`RepoScope`]). What Argo
//! CD hands a plugin is an archive of its checkout, every file on disk, so there every file is
//! judged. A local run (`pullthrough render DIR` in a developer's clone) finds the root as the
//! git top level, whose working tree also holds git-ignored files no Argo CD checkout ever has
//! (`target/`, `.tools/`, a virtualenv's absolute links): judging them refused clean
//! repositories, and walking a build directory cost ~0.35 s per run. There the files judged are
//! the ones git would ship: `git ls-files --cached --others --exclude-standard` (tracked files,
//! *also when they match an ignore pattern*, plus untracked files that are not ignored). When
//! git cannot answer (not installed, not a repository), every file is judged, which is stricter,
//! and the error says why git's view was not used.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use super::process::{self, Cmd};
use super::{Limits, RenderError};

/// Which files under the repository root are judged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RepoScope {
    /// Every file on disk: what Argo CD archives for a plugin (and a directory outside git).
    #[default]
    Everything,
    /// A git working tree outside Argo CD: the files git would commit, see the module docs.
    GitWorkingTree,
}

/// Refuses the repository at `root` if any symlink under it leaves it (see the module docs).
/// `git` is used for [`RepoScope::GitWorkingTree`] only.
///
/// # Errors
/// [`RenderError::OutOfBoundsSymlink`] naming the link (relative to `root`) and its target;
/// [`RenderError::Io`] when a directory cannot be read or a link cannot be resolved.
pub(crate) fn check_repository(
    root: &Path,
    scope: RepoScope,
    git: Option<&Path>,
    deadline: Instant,
    limits: &Limits,
) -> Result<(), RenderError> {
    let root =
        std::fs::canonicalize(root).map_err(|e| RenderError::io("repository root", root, e))?;
    let unavailable = match scope {
        RepoScope::Everything => None,
        RepoScope::GitWorkingTree => match git_files(&root, git, deadline, limits) {
            Ok(files) => return check_listed(&root, &files),
            Err(why) => Some(why),
        },
    };
    walk(&root, &root).map_err(|e| match (e, unavailable) {
        (RenderError::OutOfBoundsSymlink { file, target, why }, Some(no_git)) => {
            RenderError::OutOfBoundsSymlinkNoGit {
                file,
                target,
                why,
                no_git,
            }
        }
        (e, _) => e,
    })
}

/// git's repository-local environment variables (`git rev-parse --local-env-vars`, git 2.39),
/// which git itself clears before it works in another repository (a submodule). Left in place,
/// a user's `GIT_INDEX_FILE`, object directory or config would make git describe some other
/// state than the checkout's, and could hide a link from the check.
const GIT_LOCAL_ENV: &[&str] = &[
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
];

/// The paths (relative to `root`) git would commit, or why git could not say.
fn git_files(
    root: &Path,
    git: Option<&Path>,
    deadline: Instant,
    limits: &Limits,
) -> Result<Vec<PathBuf>, String> {
    let git = git.ok_or_else(|| "git was not found in PATH".to_string())?;
    // An explicit --git-dir/--work-tree: the user's GIT_DIR cannot point elsewhere, and git's
    // ownership check (safe.directory), which applies to discovered repositories, does not
    // refuse a clone owned by another user. `.git` may be a file (a worktree): git reads it.
    let mut dir_arg = OsString::from("--git-dir=");
    dir_arg.push(root.join(".git"));
    let mut tree_arg = OsString::from("--work-tree=");
    tree_arg.push(root);
    let args: Vec<OsString> = vec![
        dir_arg,
        tree_arg,
        "ls-files".into(),
        "-z".into(),
        "--cached".into(),
        "--others".into(),
        "--exclude-standard".into(),
    ];
    let mut cmd = Cmd::new(git, args, root, "git");
    cmd.env_remove = GIT_LOCAL_ENV.iter().map(OsString::from).collect();
    let out = process::run(&cmd, deadline, limits).map_err(|e| e.to_string())?;
    Ok(out
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(std::ffi::OsStr::from_bytes(p)))
        .collect())
}

/// Judges each listed path (git's order: sorted by path). A listed directory is a submodule
/// (git lists its gitlink, not its files): it is walked whole, as Argo CD's checkout has it.
fn check_listed(root: &Path, files: &[PathBuf]) -> Result<(), RenderError> {
    for rel in files {
        let path = root.join(rel);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // Deleted in the working tree but still in the index: nothing on disk to follow.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(RenderError::io("cannot stat", &path, e)),
        };
        let dir = path.parent().unwrap_or(root);
        if meta.file_type().is_symlink() {
            judge(root, dir, &path)?;
        } else if meta.is_dir() {
            walk(root, &path)?;
        }
    }
    Ok(())
}

/// Refuses the link at `path` (in `dir`) if it leaves `root`.
fn judge(root: &Path, dir: &Path, path: &Path) -> Result<(), RenderError> {
    let target =
        std::fs::read_link(path).map_err(|e| RenderError::io("cannot read symlink", path, e))?;
    match leaves(root, dir, &target) {
        Some(why) => Err(RenderError::OutOfBoundsSymlink {
            file: path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string(),
            target: target.display().to_string(),
            why,
        }),
        None => Ok(()),
    }
}

fn walk(root: &Path, dir: &Path) -> Result<(), RenderError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| RenderError::io("cannot read directory", dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| RenderError::io("cannot read directory", dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = match entry.file_type() {
            Ok(kind) => kind,
            // Gone between listing and stat (a lock file): nothing to check, as in Argo CD.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(RenderError::io("cannot stat", &path, e)),
        };
        if kind.is_symlink() {
            judge(root, dir, &path)?;
        } else if kind.is_dir() {
            walk(root, &path)?;
        }
    }
    Ok(())
}

/// Why a link in `dir` to `target` leaves `root`, if it does.
fn leaves(root: &Path, dir: &Path, target: &Path) -> Option<&'static str> {
    if target.is_absolute() {
        return Some("is absolute");
    }
    // `dir` is under the canonical root, so the depth below it counts whole components.
    let mut depth = dir
        .strip_prefix(root)
        .map(|rel| rel.components().count())
        .unwrap_or(0);
    for c in target.components() {
        match c {
            Component::ParentDir if depth == 0 => return Some("rises above the repository root"),
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    None
}

/// Test helper: the verdict for a link at `rel_dir` (relative to the root) pointing at `target`.
#[cfg(test)]
fn verdict(rel_dir: &str, target: &str) -> Option<&'static str> {
    let root = std::path::PathBuf::from("/repo");
    leaves(&root, &root.join(rel_dir), Path::new(target))
}

#[cfg(test)]
mod tests {
    use super::verdict;

    macro_rules! link {
        ($dir:literal, $target:literal => inside) => {
            assert_eq!(verdict($dir, $target), None, "{} -> {}", $dir, $target)
        };
        ($dir:literal, $target:literal => $why:literal) => {
            assert_eq!(
                verdict($dir, $target),
                Some($why),
                "{} -> {}",
                $dir,
                $target
            )
        };
    }

    #[test]
    fn links() {
        link!("", "values.yaml" => inside);
        link!("chart/templates", "../../shared/cm.yaml" => inside);
        link!("chart/templates", "./../x" => inside);
        link!("chart", "a/../../b" => inside);
        link!("", "../etc/passwd" => "rises above the repository root");
        link!("chart/templates", "../../../x" => "rises above the repository root");
        // Leaves and comes back: refused, like Argo CD's component walk.
        link!("", "../repo/values.yaml" => "rises above the repository root");
        link!("chart", "/proc/self/environ" => "is absolute");
        link!("", "/repo/values.yaml" => "is absolute");
    }
}
