//! Registry credentials and `WWW-Authenticate` challenges.
//!
//! Credentials come from a Docker config file (`auths.<host>.auth`, base64 `user:pass`, or
//! `username`/`password`: what `docker login` and `aws ecr get-login-password | docker login`
//! write) and from `--username` with the password on stdin. Secrets live in [`Secret`], whose
//! `Debug` prints nothing, and never reach an error message, a log line or the report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use crate::environ::Environ;

/// A string that must never be printed (a password, a token, an `Authorization` value).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for building a request header. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A user name and password for one registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Basic {
    pub username: String,
    pub password: Secret,
}

impl Basic {
    /// The `Authorization` header value.
    pub fn header(&self) -> Secret {
        let raw = format!("{}:{}", self.username, self.password.expose());
        Secret(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }
}

/// Where credentials for a registry host come from.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// From the Docker config, by normalized host.
    config: BTreeMap<String, Basic>,
    /// Hosts the Docker config hands to a credential helper (`credHelpers`, or all with
    /// `credsStore`), which verify does not run; named in auth failures.
    helpers: BTreeSet<String>,
    creds_store: Option<String>,
    /// `--username`/`--password-stdin`, for these hosts (the mirror's).
    explicit: Option<(Basic, BTreeSet<String>)>,
    /// The config file read, for messages.
    pub source: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// `https://index.docker.io/v1/` → `docker.io`; `https://host:5000/v2/` → `host:5000`.
pub fn normalize_host(key: &str) -> String {
    let k = key.trim().to_ascii_lowercase();
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(&k);
    let host = k.split('/').next().unwrap_or(k).to_string();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    }
}

/// The Docker config directory: `--docker-config`, else `$DOCKER_CONFIG`, else `$HOME/.docker`.
pub fn config_dir(flag: Option<&Path>, env: &Environ) -> Option<PathBuf> {
    if let Some(d) = flag {
        return Some(d.to_path_buf());
    }
    if let Some(d) = env.get("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    env.get("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| Path::new(h).join(".docker"))
}

impl Credentials {
    /// Reads `<dir>/config.json` if it exists. An explicitly named directory whose file is
    /// missing is an error; so is a file that is not valid JSON. Error messages name the file and
    /// the entry, never a value.
    pub fn load(dir: Option<&Path>, explicit_dir: bool) -> anyhow::Result<Credentials> {
        let mut c = Credentials::default();
        let Some(dir) = dir else { return Ok(c) };
        let path = dir.join("config.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit_dir => return Ok(c),
            Err(e) => anyhow::bail!("{}: {e}", path.display()),
        };
        // serde_json's messages quote no input text, only positions and types.
        let file: ConfigFile = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not a Docker config file: {e}", path.display()))?;
        for (key, entry) in file.auths {
            let host = normalize_host(&key);
            let basic = match (&entry.auth, &entry.username, &entry.password) {
                (Some(a), _, _) if !a.is_empty() => Some(decode_auth(a).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: auths.{key}.auth is not base64 of user:password",
                        path.display()
                    )
                })?),
                (_, Some(u), Some(p)) => Some(Basic {
                    username: u.clone(),
                    password: Secret(p.clone()),
                }),
                _ => None,
            };
            if let Some(b) = basic {
                c.config.insert(host, b);
            }
        }
        c.helpers = file
            .cred_helpers
            .keys()
            .map(|k| normalize_host(k))
            .collect();
        c.creds_store = file.creds_store.filter(|s| !s.is_empty());
        c.source = Some(path);
        Ok(c)
    }

    /// Adds `--username` credentials for `hosts`.
    pub fn with_explicit(
        mut self,
        basic: Basic,
        hosts: impl IntoIterator<Item = String>,
    ) -> Credentials {
        self.explicit = Some((
            basic,
            hosts.into_iter().map(|h| normalize_host(&h)).collect(),
        ));
        self
    }

    /// Credentials for `host` (an image's domain, e.g. `docker.io`, `127.0.0.1:5000`).
    pub fn get(&self, host: &str) -> Option<&Basic> {
        let host = normalize_host(host);
        if let Some((b, hosts)) = &self.explicit {
            if hosts.contains(&host) {
                return Some(b);
            }
        }
        self.config.get(&host)
    }

    /// Why there may be no usable credentials for `host`, for an auth failure's message.
    pub fn hint(&self, host: &str) -> String {
        let h = normalize_host(host);
        if self.get(host).is_some() {
            return "the credentials were refused".to_string();
        }
        if self.helpers.contains(&h) || self.creds_store.is_some() {
            return format!(
                "no credentials for {host}: the Docker config uses a credential helper, which verify does not run; \
                 pass --username and --password-stdin"
            );
        }
        format!(
            "no credentials for {host} (Docker config auths, or --username with --password-stdin)"
        )
    }
}

fn decode_auth(a: &str) -> Option<Basic> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(a.trim())
        .ok()?;
    let s = String::from_utf8(bytes).ok()?;
    let (u, p) = s.split_once(':')?;
    Some(Basic {
        username: u.to_string(),
        password: Secret(p.to_string()),
    })
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercased: `bearer`, `basic`.
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses the first challenge of a `WWW-Authenticate` value:
/// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`.
pub fn parse_challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, rest) = match value.find(char::is_whitespace) {
        Some(i) => (&value[..i], value[i..].trim_start()),
        None => (value, ""),
    };
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            // A second challenge (`Basic realm=…` after a Bearer one) or a token68: stop.
            break;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                val.push(c);
                chars.next();
            }
        }
        params.insert(key.to_ascii_lowercase(), val);
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let c = parse_challenge(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#)
            .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:library/nginx:pull");
    }

    #[test]
    fn basic_challenge_and_escapes() {
        let c = parse_challenge(r#"Basic realm="a \"q\", b""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], r#"a "q", b"#);
        let c = parse_challenge("Basic").unwrap();
        assert!(c.params.is_empty());
        let c = parse_challenge("Bearer realm=https://x/token , service=s").unwrap();
        assert_eq!(c.params["realm"], "https://x/token");
        assert_eq!(c.params["service"], "s");
    }

    #[test]
    fn hosts_normalize() {
        assert_eq!(normalize_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(
            normalize_host("HTTP://Reg.Example:5000/v2/"),
            "reg.example:5000"
        );
        assert_eq!(
            normalize_host("111111111111.dkr.ecr.eu-west-1.amazonaws.com"),
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn config_file_and_debug_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("AWS:s3cr3t-token");
        std::fs::write(
            dir.path().join("config.json"),
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"reg:5000":{{"username":"u","password":"p4ss"}}}},"credHelpers":{{"public.ecr.aws":"ecr-login"}}}}"#
            ),
        )
        .unwrap();
        let c = Credentials::load(Some(dir.path()), true).unwrap();
        let hub = c.get("docker.io").unwrap();
        assert_eq!(hub.username, "AWS");
        assert_eq!(hub.password.expose(), "s3cr3t-token");
        assert_eq!(c.get("reg:5000").unwrap().password.expose(), "p4ss");
        assert!(c.get("other").is_none());
        assert!(c.hint("public.ecr.aws").contains("credential helper"));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cr3t") && !dbg.contains("p4ss"), "{dbg}");
        assert!(!format!("{:?}", hub.header()).contains("QVdT"));
    }

    #[test]
    fn bad_auth_entry_names_key_not_value() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"reg":{"auth":"!!notbase64-secretvalue"}}}"#,
        )
        .unwrap();
        let e = Credentials::load(Some(dir.path()), true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("auths.reg.auth") && !e.contains("secretvalue"),
            "{e}"
        );
        // Missing file: fine unless the directory was named explicitly.
        let empty = tempfile::tempdir().unwrap();
        assert!(Credentials::load(Some(empty.path()), false).is_ok());
        assert!(Credentials::load(Some(empty.path()), true).is_err());
    }
}
