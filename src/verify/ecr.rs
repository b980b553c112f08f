//! What an Amazon ECR pull-through cache can front.

use std::sync::OnceLock;

use regex::Regex;

/// Whether `host` is a private ECR registry endpoint:
/// `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` or the dual-stack
/// `<account>.dkr-ecr[-fips].<region>.on.aws`.
pub fn is_ecr_host(host: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^[0-9]{12}\.(dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?|dkr-ecr(-fips)?\.[a-z0-9-]+\.on\.aws)$")
            .expect("valid regex")
    });
    re.is_match(&host.to_ascii_lowercase())
}

/// The upstream registries an ECR pull-through cache rule can point at: Docker Hub, ECR Public,
/// the Kubernetes registry, Quay, GitHub, Azure Container Registry, GitLab and Chainguard.
/// `None` when supported; otherwise the reason.
pub fn unsupported_upstream(domain: &str) -> Option<String> {
    let d = domain.to_ascii_lowercase();
    let supported = matches!(
        d.as_str(),
        "docker.io"
            | "registry-1.docker.io"
            | "public.ecr.aws"
            | "registry.k8s.io"
            | "quay.io"
            | "ghcr.io"
            | "registry.gitlab.com"
            | "cgr.dev"
    ) || d.ends_with(".azurecr.io");
    if supported {
        None
    } else {
        Some(format!(
            "an ECR pull-through cache cannot front {domain} (supported: Docker Hub, ECR Public, registry.k8s.io, Quay, GHCR, \
             Azure *.azurecr.io, registry.gitlab.com, cgr.dev)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_hosts() {
        assert!(is_ecr_host("111111111111.dkr.ecr.eu-west-1.amazonaws.com"));
        assert!(is_ecr_host(
            "111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn"
        ));
        assert!(is_ecr_host(
            "111111111111.dkr.ecr-fips.us-east-1.amazonaws.com"
        ));
        assert!(is_ecr_host("111111111111.dkr-ecr.eu-west-1.on.aws"));
        assert!(!is_ecr_host("public.ecr.aws"));
        assert!(!is_ecr_host("127.0.0.1:5000"));
        assert!(!is_ecr_host(
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com.evil.example"
        ));
    }

    #[test]
    fn upstreams() {
        for ok in [
            "docker.io",
            "public.ecr.aws",
            "registry.k8s.io",
            "quay.io",
            "ghcr.io",
            "myreg.azurecr.io",
            "registry.gitlab.com",
            "cgr.dev",
        ] {
            assert_eq!(unsupported_upstream(ok), None, "{ok}");
        }
        for bad in [
            "gcr.io",
            "k8s.gcr.io",
            "us-docker.pkg.dev",
            "mcr.microsoft.com",
            "127.0.0.1:5000",
        ] {
            assert!(unsupported_upstream(bad).is_some(), "{bad}");
        }
    }
}
