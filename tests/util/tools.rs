//! Locations of the external tools the tests run.
//!
//! Lookup order for each tool: an environment override (`PULLTHROUGH_TEST_<TOOL>`), then
//! `<CARGO_MANIFEST_DIR>/.tools/bin/<name>` (filled by `scripts/install-tools`), then a
//! system path where any installed version will do. Version-sensitive tools (Helm,
//! kubectl, the oracle) are never taken from `PATH`. A missing tool panics: tests must
//! fail, not skip, when a real component is absent.

use std::env;
use std::path::{Path, PathBuf};

/// `<repo>/.tools/bin`.
pub fn tools_bin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools")
        .join("bin")
}

/// `PATH` with [`tools_bin`] first, for a command that must find the installed tools (and
/// whatever else this process finds).
pub fn path_with_tools() -> String {
    format!(
        "{}:{}",
        tools_bin().display(),
        env::var("PATH").unwrap_or_default()
    )
}

fn lookup(env_var: &str, name: &str, system: &[&str]) -> Option<PathBuf> {
    if let Some(value) = env::var_os(env_var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        assert!(
            is_executable(&path),
            "{env_var}={} is not an executable file",
            path.display()
        );
        return Some(path);
    }
    std::iter::once(tools_bin().join(name))
        .chain(system.iter().map(PathBuf::from))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn require(env_var: &str, name: &str, system: &[&str]) -> PathBuf {
    lookup(env_var, name, system).unwrap_or_else(|| {
        panic!(
            "{name} not found (looked at ${env_var}, {}{}): run scripts/install-tools",
            tools_bin().join(name).display(),
            if system.is_empty() {
                String::new()
            } else {
                format!(", {}", system.join(", "))
            }
        )
    })
}

/// Helm v3.16.1.
pub fn helm3() -> PathBuf {
    require("PULLTHROUGH_TEST_HELM3", "helm3", &[])
}

/// Helm v4.2.1 (the version Argo CD v3.5 pins), built from its Go module.
pub fn helm4() -> PathBuf {
    require("PULLTHROUGH_TEST_HELM4", "helm4", &[])
}

/// kubectl v1.35.2 (built-in kustomize v5.7.1).
pub fn kubectl() -> PathBuf {
    require("PULLTHROUGH_TEST_KUBECTL", "kubectl", &[])
}

/// kubectl v1.31.0 (built-in kustomize v5.4.2).
pub fn kubectl_1_31() -> PathBuf {
    require("PULLTHROUGH_TEST_KUBECTL_1_31", "kubectl-1.31", &[])
}

/// The standalone kustomize v5.8.1 (the version Argo CD v3.5 pins), built from its Go module.
pub fn kustomize() -> PathBuf {
    require("PULLTHROUGH_TEST_KUSTOMIZE", "kustomize", &[])
}

/// go-jsonnet's `jsonnet` v0.22.0 (the evaluator Argo CD v3.5.1 links), built from its Go module.
pub fn jsonnet() -> PathBuf {
    require("PULLTHROUGH_TEST_JSONNET", "jsonnet", &[])
}

/// The Go fidelity oracle built from `tests/oracle/yaml-oracle.go`.
pub fn yaml_oracle() -> PathBuf {
    require("PULLTHROUGH_TEST_YAML_ORACLE", "yaml-oracle", &[])
}

/// The CNCF distribution registry (Debian package `docker-registry`).
pub fn registry() -> PathBuf {
    require(
        "PULLTHROUGH_TEST_REGISTRY",
        "docker-registry",
        &["/usr/bin/docker-registry"],
    )
}
