//! `kustomize build <abs app dir> [build options…]` with cwd = repo root, as Argo CD's
//! `util/kustomize/kustomize.go` `Build` (without the `kustomize edit` parameters, which mutate
//! the checkout). Falls back to `kubectl kustomize` when no standalone kustomize is configured.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use regex::Regex;

use super::helm::normalize_kube_version;
use super::process::{self, Cmd};
use super::{EarlyWork, Part, RenderError, RenderSettings};

/// A kustomize version (major, minor, patch).
pub type Version = (u64, u64, u64);

/// The first version whose build accepts `--helm-kube-version`/`--helm-api-versions`.
pub const HELM_FLAGS_SINCE: Version = (5, 3, 0);

/// The kustomize version in `kustomize version` output (`v5.4.2`, `{kustomize/v4.5.7 …}`) or in
/// `kubectl version --client` output (its `Kustomize Version:` line). `None` if there is none.
pub fn parse_version(output: &str, from_kubectl: bool) -> Option<Version> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?").expect("valid regex")
    });
    let text = if from_kubectl {
        output
            .lines()
            .find_map(|l| l.trim().strip_prefix("Kustomize Version:"))?
    } else {
        output
    };
    let c = re.captures(text)?;
    let n = |i: usize| c.get(i).map_or(Some(0), |m| m.as_str().parse().ok());
    Some((n(1)?, n(2)?, n(3)?))
}

/// Whether the build options enable Helm (`isHelmEnabled`: any option containing `--enable-helm`).
fn helm_enabled(options: &[String]) -> bool {
    options.iter().any(|o| o.contains("--enable-helm"))
}

pub(crate) fn render<T, F>(
    s: &RenderSettings,
    deadline: Instant,
    early: Option<F>,
) -> Result<(Vec<Part>, Option<T>), RenderError>
where
    T: Send + 'static,
    F: EarlyWork<T>,
{
    let app = std::fs::canonicalize(&s.app_dir)
        .map_err(|e| RenderError::io("app directory", &s.app_dir, e))?;
    let root = std::fs::canonicalize(&s.repo_root)
        .map_err(|e| RenderError::io("repository root", &s.repo_root, e))?;
    let (program, sub, origin, tool, from_kubectl): (PathBuf, &str, &'static str, &str, bool) =
        match &s.tools.kustomize {
            Some(k) => (k.clone(), "build", "kustomize build", "kustomize", false),
            None => (
                s.tools
                    .kubectl
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("kubectl")),
                "kustomize",
                "kubectl kustomize",
                "kustomize (or kubectl)",
                true,
            ),
        };
    let mut args: Vec<OsString> = vec![sub.into(), app.clone().into_os_string()];
    args.extend(s.kustomize.build_options.iter().map(OsString::from));

    let kube_version = normalize_kube_version(
        "kube-version",
        s.kustomize.kube_version.as_deref().unwrap_or(""),
    )?;
    let tmp = super::private_temp_dir(s)?;
    let env = super::helm::helm_home_env(&tmp.path().join("home"));
    if helm_enabled(&s.kustomize.build_options)
        && (kube_version.is_some() || !s.kustomize.api_versions.is_empty())
    {
        // Argo CD assumes a new kustomize when the version cannot be told (v99.99.99).
        let version =
            tool_version(&program, from_kubectl, &root, &env, deadline, s)?.unwrap_or((99, 99, 99));
        if version >= HELM_FLAGS_SINCE {
            if let Some(kv) = &kube_version {
                args.push("--helm-kube-version".into());
                args.push(kv.into());
            }
            for v in &s.kustomize.api_versions {
                args.push("--helm-api-versions".into());
                args.push(v.into());
            }
        }
    }

    let mut cmd = Cmd::new(&program, args, &root, tool);
    cmd.display = cmd.display.replace(&format!("{}/", root.display()), "./");
    cmd.env = env;
    super::tool_part(&cmd, origin, deadline, &s.limits, early)
}

/// Run `kustomize version` / `kubectl version --client` (nothing is cached across calls).
fn tool_version(
    program: &Path,
    from_kubectl: bool,
    cwd: &Path,
    env: &[(OsString, OsString)],
    deadline: Instant,
    s: &RenderSettings,
) -> Result<Option<Version>, RenderError> {
    let args: Vec<OsString> = if from_kubectl {
        vec!["version".into(), "--client".into()]
    } else {
        vec!["version".into()]
    };
    let mut cmd = Cmd::new(
        program,
        args,
        cwd,
        if from_kubectl { "kubectl" } else { "kustomize" },
    );
    cmd.env = env.to_vec();
    match process::run(&cmd, deadline, &s.limits) {
        Ok(out) => Ok(parse_version(
            &String::from_utf8_lossy(&out.stdout),
            from_kubectl,
        )),
        // A missing tool or a timeout is reported by the caller's own run / here; a version
        // command that merely fails means "unknown", as in Argo CD.
        Err(e @ (RenderError::Spawn { .. } | RenderError::Timeout { .. })) => Err(e),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_table() {
        #[rustfmt::skip]
        let cases: &[(&str, bool, Option<Version>)] = &[
            ("v5.4.2\n", false, Some((5, 4, 2))),
            ("{Version:kustomize/v4.5.7 GitCommit:56d82a8 BuildDate:2022-08-02T16:35:54Z GoOs:linux GoArch:amd64}", false, Some((4, 5, 7))),
            ("{kustomize/v3.8.1  2020-07-16T00:58:46Z  }", false, Some((3, 8, 1))),
            ("Client Version: v1.35.2\nKustomize Version: v5.7.1\n", true, Some((5, 7, 1))),
            ("Client Version: v1.31.0\nKustomize Version: v5.4.2\n", true, Some((5, 4, 2))),
            ("Client Version: v1.20.0\n", true, None),
            ("garbage", false, None),
        ];
        for (out, kubectl, want) in cases {
            assert_eq!(parse_version(out, *kubectl), *want, "{out:?}");
        }
        assert!((5, 3, 0) >= HELM_FLAGS_SINCE && (5, 2, 9) < HELM_FLAGS_SINCE);
    }
}
