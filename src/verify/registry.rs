//! A small OCI distribution client: resolve a manifest reference to its digest.
//!
//! `HEAD /v2/<name>/manifests/<reference>` with the OCI and Docker manifest and index media
//! types; `GET` when the `HEAD` answer is not conclusive (no usable `Docker-Content-Digest`, a
//! 404 that a pull-through cache may only fill on `GET`, a method the registry refuses). Requests
//! start anonymous; a 401 challenge leads to the token flow (`Bearer`) or basic credentials
//! (`Basic`). 429 and 5xx answers are retried with bounded exponential backoff.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{
    HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode, Url};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::auth::{parse_challenge, Credentials, Secret};
use crate::environ::Environ;

/// What `Accept` asks for: images and indexes, OCI and Docker.
pub const MANIFEST_MEDIA_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Manifests larger than this are not read (the distribution registry's own limit is 4 MiB).
const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Longest single backoff sleep, also the cap for a `Retry-After` the server asks for.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// How a lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Found,
    NotFound,
    AuthFailed,
    Unreachable,
    Error,
}

/// One manifest lookup on one registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The host asked (`registry-1.docker.io` for Docker Hub).
    pub registry: String,
    pub repository: String,
    /// The tag or digest asked for.
    pub reference: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The last HTTP status, when there was an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where to look: an image's registry (its reference domain), repository and tag or digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub domain: String,
    pub repository: String,
    pub reference: String,
}

/// The host that serves a registry domain's API.
pub fn api_host(domain: &str) -> &str {
    if domain == "docker.io" {
        "registry-1.docker.io"
    } else {
        domain
    }
}

pub struct Client {
    http: reqwest::Client,
    /// Lowercased `host[:port]` (or bare host: any port) entries served over plain HTTP.
    insecure: BTreeSet<String>,
    creds: Credentials,
    /// `Authorization` values by (domain, repository); basic ones under (domain, "").
    auth_cache: Mutex<HashMap<(String, String), Secret>>,
    timeout: Duration,
    retries: u32,
}

/// Why a request did not produce a response to judge.
enum Failure {
    Auth { status: Option<u16>, detail: String },
    Unreachable(String),
    Other { status: Option<u16>, detail: String },
}

impl Client {
    /// `env` supplies the proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`,
    /// upper or lower case); nothing else is read from the process environment.
    pub fn new(
        creds: Credentials,
        insecure: &[String],
        timeout: Duration,
        retries: u32,
        env: &Environ,
    ) -> anyhow::Result<Client> {
        // One process-wide provider; an error only means another part installed one already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("pullthrough/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy();
        for p in proxies(env)? {
            builder = builder.proxy(p);
        }
        let http = builder
            .build()
            .map_err(|e| anyhow::anyhow!("building the HTTP client: {e}"))?;
        Ok(Client {
            http,
            insecure: insecure
                .iter()
                .map(|h| h.trim().trim_end_matches('/').to_ascii_lowercase())
                .collect(),
            creds,
            auth_cache: Mutex::new(HashMap::new()),
            timeout,
            retries,
        })
    }

    fn is_insecure(&self, host: &str) -> bool {
        let h = host.to_ascii_lowercase();
        if self.insecure.contains(&h) {
            return true;
        }
        let bare = match h.rfind(':') {
            Some(i) if !h.ends_with(']') => &h[..i],
            _ => &h[..],
        };
        self.insecure.contains(bare)
    }

    fn base_url(&self, domain: &str) -> String {
        let host = api_host(domain);
        let scheme = if self.is_insecure(domain) || self.is_insecure(host) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{host}")
    }

    /// Resolves `t` to a digest.
    pub async fn resolve(&self, t: &Target) -> Resolution {
        let mut res = Resolution {
            registry: api_host(&t.domain).to_string(),
            repository: t.repository.clone(),
            reference: t.reference.clone(),
            outcome: Outcome::Error,
            digest: None,
            media_type: None,
            http_status: None,
            detail: None,
        };
        let url = format!(
            "{}/v2/{}/manifests/{}",
            self.base_url(&t.domain),
            t.repository,
            t.reference
        );
        let url = match Url::parse(&url) {
            Ok(u) => u,
            Err(e) => {
                res.detail = Some(format!("invalid registry URL: {e}"));
                return res;
            }
        };
        // HEAD first: cheap, and not counted by Docker Hub's pull limit.
        match self.request(Method::HEAD, &url, t).await {
            Ok(resp) => {
                let status = resp.status();
                res.http_status = Some(status.as_u16());
                if status.is_success() {
                    if let Some(d) = header_digest(resp.headers()) {
                        res.outcome = Outcome::Found;
                        res.digest = Some(d);
                        res.media_type = content_type(resp.headers());
                        return res;
                    }
                }
                // Anything else (no digest header, 404, 405…): GET decides.
            }
            Err(f) => return fail(res, f),
        }
        let resp = match self.request(Method::GET, &url, t).await {
            Ok(r) => r,
            Err(f) => return fail(res, f),
        };
        let status = resp.status();
        res.http_status = Some(status.as_u16());
        if status == StatusCode::NOT_FOUND {
            res.outcome = Outcome::NotFound;
            res.detail = Some("manifest unknown (404)".to_string());
            return res;
        }
        if !status.is_success() {
            res.outcome = Outcome::Error;
            res.detail = Some(format!("unexpected HTTP status {status}"));
            return res;
        }
        let header = header_digest(resp.headers());
        res.media_type = content_type(resp.headers());
        match read_limited(resp, MAX_MANIFEST_BYTES).await {
            Ok(body) => {
                let computed = format!("sha256:{:x}", Sha256::digest(&body));
                res.outcome = Outcome::Found;
                res.digest = Some(header.unwrap_or(computed));
            }
            Err(e) => {
                res.outcome = Outcome::Error;
                res.detail = Some(e);
            }
        }
        res
    }

    /// Sends `method url`, with cached auth, doing the challenge dance on a 401 once.
    async fn request(&self, method: Method, url: &Url, t: &Target) -> Result<Response, Failure> {
        let key = (t.domain.clone(), t.repository.clone());
        let mut auth = self.cached_auth(&key);
        let mut challenged = false;
        loop {
            let resp = self
                .send(method.clone(), url.clone(), auth.as_ref())
                .await
                .map_err(|e| Failure::Unreachable(describe(&e, self.timeout)))?;
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                let header = resp
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let a = self.authenticate(header.as_deref(), t).await?;
                auth = Some(a);
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                // Refused with what we sent: forget it so a retry re-authenticates.
                if let Ok(mut c) = self.auth_cache.lock() {
                    c.remove(&key);
                    c.remove(&(t.domain.clone(), String::new()));
                }
                let what = if auth.is_some() {
                    self.creds.hint(&t.domain)
                } else {
                    "anonymous access refused".to_string()
                };
                return Err(Failure::Auth {
                    status: Some(status.as_u16()),
                    detail: format!("HTTP {status}: {what}"),
                });
            }
            return Ok(resp);
        }
    }

    fn cached_auth(&self, key: &(String, String)) -> Option<Secret> {
        let c = self.auth_cache.lock().ok()?;
        c.get(key)
            .or_else(|| c.get(&(key.0.clone(), String::new())))
            .cloned()
    }

    /// Answers a challenge: basic credentials, or a bearer token from the realm.
    async fn authenticate(&self, header: Option<&str>, t: &Target) -> Result<Secret, Failure> {
        let auth_err = |detail: String| Failure::Auth {
            status: Some(401),
            detail,
        };
        let Some(ch) = header.and_then(parse_challenge) else {
            return Err(auth_err(
                "HTTP 401 without a WWW-Authenticate challenge".to_string(),
            ));
        };
        let creds = self.creds.get(&t.domain);
        match ch.scheme.as_str() {
            "basic" => {
                let Some(b) = creds else {
                    return Err(auth_err(format!(
                        "HTTP 401: {}",
                        self.creds.hint(&t.domain)
                    )));
                };
                let h = b.header();
                if let Ok(mut c) = self.auth_cache.lock() {
                    c.insert((t.domain.clone(), String::new()), h.clone());
                }
                Ok(h)
            }
            "bearer" => {
                let Some(realm) = ch.params.get("realm") else {
                    return Err(auth_err(
                        "HTTP 401: bearer challenge without a realm".to_string(),
                    ));
                };
                let mut url = Url::parse(realm)
                    .map_err(|e| auth_err(format!("HTTP 401: bad token realm: {e}")))?;
                if let Some(s) = ch.params.get("service") {
                    url.query_pairs_mut().append_pair("service", s);
                }
                let scope = ch
                    .params
                    .get("scope")
                    .cloned()
                    .unwrap_or_else(|| format!("repository:{}:pull", t.repository));
                url.query_pairs_mut().append_pair("scope", &scope);
                let realm_host = url.host_str().unwrap_or("").to_string();
                let realm_host_port = match url.port() {
                    Some(p) => format!("{realm_host}:{p}"),
                    None => realm_host.clone(),
                };
                // Credentials go to the token service only over TLS, or to a host named insecure.
                let may_send = url.scheme() == "https" || self.is_insecure(&realm_host_port);
                let basic = creds.filter(|_| may_send).map(|b| b.header());
                let resp = self
                    .send(Method::GET, url, basic.as_ref())
                    .await
                    .map_err(|e| {
                        Failure::Unreachable(format!(
                            "token service {realm_host}: {}",
                            describe(&e, self.timeout)
                        ))
                    })?;
                let status = resp.status();
                if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                    let what = if basic.is_some() {
                        "the credentials were refused".to_string()
                    } else {
                        self.creds.hint(&t.domain)
                    };
                    return Err(Failure::Auth {
                        status: Some(status.as_u16()),
                        detail: format!("token service {realm_host}: HTTP {status}: {what}"),
                    });
                }
                if !status.is_success() {
                    return Err(Failure::Other {
                        status: Some(status.as_u16()),
                        detail: format!("token service {realm_host}: HTTP {status}"),
                    });
                }
                let body = read_limited(resp, 1 << 20)
                    .await
                    .map_err(|e| Failure::Other {
                        status: None,
                        detail: format!("token service {realm_host}: {e}"),
                    })?;
                #[derive(serde::Deserialize)]
                struct TokenResponse {
                    token: Option<String>,
                    access_token: Option<String>,
                }
                let tr: TokenResponse =
                    serde_json::from_slice(&body).map_err(|_| Failure::Other {
                        status: None,
                        detail: format!(
                            "token service {realm_host}: answer is not a token document"
                        ),
                    })?;
                let Some(token) = tr.token.or(tr.access_token).filter(|t| !t.is_empty()) else {
                    return Err(auth_err(format!(
                        "token service {realm_host}: no token in the answer"
                    )));
                };
                let h = Secret::new(format!("Bearer {token}"));
                if let Ok(mut c) = self.auth_cache.lock() {
                    c.insert((t.domain.clone(), t.repository.clone()), h.clone());
                }
                Ok(h)
            }
            other => Err(auth_err(format!(
                "HTTP 401: unsupported authentication scheme {other:?}"
            ))),
        }
    }

    /// One request, retried on 429 and 5xx with exponential backoff (honouring a short
    /// `Retry-After`), at most `retries` times.
    async fn send(
        &self,
        method: Method,
        url: Url,
        auth: Option<&Secret>,
    ) -> Result<Response, reqwest::Error> {
        let mut attempt = 0u32;
        loop {
            let mut req = self.http.request(method.clone(), url.clone());
            if url.path().contains("/manifests/") {
                req = req.header(ACCEPT, MANIFEST_MEDIA_TYPES);
            }
            if let Some(a) = auth {
                let mut v = reqwest::header::HeaderValue::from_str(a.expose())
                    .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
                v.set_sensitive(true);
                req = req.header(AUTHORIZATION, v);
            }
            let resp = req.send().await?;
            let status = resp.status();
            tracing::debug!(method = %method, url = %url, status = status.as_u16(), attempt, "registry request");
            if (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
                && attempt < self.retries
            {
                let wait = backoff(attempt, retry_after(resp.headers()));
                tracing::debug!(url = %url, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Ok(resp);
        }
    }
}

/// Proxies from the environment, as curl reads them. The error names the variable, never its
/// value (a proxy URL may carry credentials).
fn proxies(env: &Environ) -> anyhow::Result<Vec<reqwest::Proxy>> {
    let var = |name: &str| {
        [name.to_string(), name.to_ascii_lowercase()]
            .into_iter()
            .find_map(|n| {
                env.get(&n)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (n, v.trim().to_string()))
            })
    };
    let no_proxy = var("NO_PROXY").and_then(|(_, v)| reqwest::NoProxy::from_string(&v));
    let mut out = Vec::new();
    type Make = fn(String) -> reqwest::Result<reqwest::Proxy>;
    let kinds: [(&str, Make); 3] = [
        ("HTTPS_PROXY", |u| reqwest::Proxy::https(u)),
        ("HTTP_PROXY", |u| reqwest::Proxy::http(u)),
        ("ALL_PROXY", |u| reqwest::Proxy::all(u)),
    ];
    for (name, make) in kinds {
        if let Some((n, v)) = var(name) {
            let p = make(v)
                .map_err(|_| crate::error::UsageError(format!("${n} is not a valid proxy URL")))?;
            out.push(p.no_proxy(no_proxy.clone()));
        }
    }
    Ok(out)
}

fn fail(mut res: Resolution, f: Failure) -> Resolution {
    match f {
        Failure::Auth { status, detail } => {
            res.outcome = Outcome::AuthFailed;
            res.http_status = status.or(res.http_status);
            res.detail = Some(detail);
        }
        Failure::Unreachable(d) => {
            res.outcome = Outcome::Unreachable;
            res.detail = Some(d);
        }
        Failure::Other { status, detail } => {
            res.outcome = Outcome::Error;
            res.http_status = status.or(res.http_status);
            res.detail = Some(detail);
        }
    }
    res
}

/// `250ms · 2^attempt`, or the server's `Retry-After`, capped at [`MAX_BACKOFF`].
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = Duration::from_millis(250u64.saturating_mul(1u64 << attempt.min(16)));
    retry_after.unwrap_or(exp).min(MAX_BACKOFF)
}

fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A `Docker-Content-Digest` we can compare: `sha256:` and 64 lowercase hex digits.
fn header_digest(h: &HeaderMap) -> Option<String> {
    let v = h.get("docker-content-digest")?.to_str().ok()?.trim();
    let hex = v.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then(|| v.to_string())
}

fn content_type(h: &HeaderMap) -> Option<String> {
    let v = h.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next().unwrap_or(v).trim().to_string()).filter(|s| !s.is_empty())
}

async fn read_limited(mut resp: Response, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("reading the answer: {}", innermost(&e)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(format!("answer larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e;
    while let Some(n) = s.source() {
        s = n;
    }
    s.to_string()
}

/// A transport error in a few words: timeout, connection failure, or the root cause.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {}s (timeout)", fmt_secs(timeout));
    }
    let root = innermost(e);
    if e.is_connect() {
        format!("cannot connect: {root}")
    } else {
        format!("request failed: {root}")
    }
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        assert_eq!(backoff(0, None), Duration::from_millis(250));
        assert_eq!(backoff(2, None), Duration::from_millis(1000));
        assert_eq!(backoff(30, None), MAX_BACKOFF);
        assert_eq!(backoff(0, Some(Duration::from_secs(3600))), MAX_BACKOFF);
        assert_eq!(
            backoff(0, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn digests_from_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(header_digest(&h), None);
        h.insert("docker-content-digest", "sha256:abc".parse().unwrap());
        assert_eq!(header_digest(&h), None);
        let d = format!("sha256:{}", "a1".repeat(32));
        h.insert("docker-content-digest", d.parse().unwrap());
        assert_eq!(header_digest(&h), Some(d));
    }

    #[test]
    fn proxies_from_environ_never_echo_the_value() {
        let env = Environ::from_pairs([
            ("https_proxy", "http://u:pw@127.0.0.1:3128"),
            ("NO_PROXY", "127.0.0.1"),
        ]);
        assert_eq!(proxies(&env).unwrap().len(), 1);
        assert!(proxies(&Environ::default()).unwrap().is_empty());
        let bad = Environ::from_pairs([("HTTP_PROXY", "::not a url s3cret::")]);
        let e = proxies(&bad).unwrap_err().to_string();
        assert!(e.contains("$HTTP_PROXY") && !e.contains("s3cret"), "{e}");
    }

    #[test]
    fn docker_hub_api_host() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
    }
}
