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

use std::path::{Component, Path};

use super::RenderError;

/// Refuses the repository at `root` if any symlink under it leaves it (see the module docs).
///
/// # Errors
/// [`RenderError::OutOfBoundsSymlink`] naming the link (relative to `root`) and its target;
/// [`RenderError::Io`] when a directory cannot be read or a link cannot be resolved.
pub(crate) fn check_repository(root: &Path) -> Result<(), RenderError> {
    let root = std::fs::canonicalize(root).map_err(|e| RenderError::io("repository root", root, e))?;
    walk(&root, &root)
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
            let target = std::fs::read_link(&path).map_err(|e| RenderError::io("cannot read symlink", &path, e))?;
            if let Some(why) = leaves(root, dir, &target) {
                return Err(RenderError::OutOfBoundsSymlink {
                    file: path.strip_prefix(root).unwrap_or(&path).display().to_string(),
                    target: target.display().to_string(),
                    why,
                });
            }
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
    let mut depth = dir.strip_prefix(root).map(|rel| rel.components().count()).unwrap_or(0);
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
            assert_eq!(verdict($dir, $target), Some($why), "{} -> {}", $dir, $target)
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
