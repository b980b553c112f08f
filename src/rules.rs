//! Rules: decide, for one image string, whether and how it is rewritten.
//!
//! Order (the first that applies wins): unparseable → kept; Docker Hub aliases folded into
//! `docker.io`; already on a destination registry → kept (so a second run changes nothing);
//! namespace not included or excluded → kept; `exclude` glob → kept; `registries` entry →
//! `<mirror>/<prefix>/<path>` or `<destination>/<path>`; regex rules on the normalized reference
//! (`domain/path:tag@digest`, `:latest` added when neither is written) → their replacement;
//! otherwise kept (`no rule`). The output keeps the input's tag and digest and adds `:latest`
//! when the input had neither, as the seed's Kyverno policy does.

use std::fmt;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;

use crate::manifest::fields::{FieldSet, ValueKind};
use crate::reference::ImageRef;
use crate::settings::{RewriteSettings, Setting};

/// Why an image got the value it got; `explain` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Rewritten through the `registries` entry for this upstream.
    Registry(String),
    /// Rewritten by the n-th regex rule (1-based, as people count).
    Regex(usize),
    Excluded(String),
    AlreadyMirrored,
    NamespaceExcluded(String),
    NoRule(String),
    Unparseable(String),
    Disabled,
    NotAString(&'static str),
    /// An `*alias` whose anchor is itself an image field: it reads whatever the anchor holds.
    FollowsAnchor,
    /// A field that holds an image only when it names a registry, holding a bare word.
    NotQualified,
    /// A value pullthrough never rewrites, with the reason (Istio's `image: auto`).
    Placeholder(&'static str),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Registry(r) => write!(f, "registry {r}"),
            Reason::Regex(n) => write!(f, "regex #{n}"),
            Reason::Excluded(g) => write!(f, "excluded ({g})"),
            Reason::AlreadyMirrored => f.write_str("already on mirror"),
            Reason::NamespaceExcluded(ns) => write!(f, "namespace excluded ({ns})"),
            Reason::NoRule(r) => write!(f, "no rule for {r}"),
            Reason::Unparseable(e) => write!(f, "unparseable: {e}"),
            Reason::Disabled => f.write_str("disabled"),
            Reason::NotAString(what) => write!(f, "not a string ({what})"),
            Reason::FollowsAnchor => f.write_str("follows its anchor"),
            Reason::NotQualified => f.write_str("not a full reference (no registry), left as is"),
            Reason::Placeholder(why) => write!(f, "placeholder ({why})"),
        }
    }
}

/// The outcome for one image string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The new value, or `None` to leave the bytes alone.
    pub to: Option<String>,
    pub reason: Reason,
}

/// A settings value that cannot be compiled into a rule; names where it came from.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {msg}")]
pub struct RuleError {
    pub origin: String,
    pub msg: String,
}

#[derive(Debug)]
struct RegexRule {
    /// Seed rules apply only to images of this registry (the seed's precondition).
    registry: Option<String>,
    re: Regex,
    replace: String,
}

/// Compiled rewrite rules.
#[derive(Debug)]
pub struct Rules {
    enabled: bool,
    /// (upstream registry, destination `host[:port]/path`)
    registries: Vec<(String, String)>,
    exclude: (GlobSet, Vec<String>),
    ns_include: Option<GlobSet>,
    ns_exclude: GlobSet,
    regex: Vec<RegexRule>,
    docker_hub_aliases: Vec<String>,
    /// Registries pullthrough writes to: an image already there is never touched.
    destinations: Vec<String>,
    default_namespace: String,
    fields: FieldSet,
}


fn glob_set(s: &Setting<Vec<String>>) -> Result<(GlobSet, Vec<String>), RuleError> {
    let mut b = GlobSetBuilder::new();
    for g in &s.value {
        let glob = Glob::new(g).map_err(|e| RuleError { origin: s.origin.clone(), msg: format!("invalid glob {g:?}: {}", e.kind()) })?;
        b.add(glob);
    }
    let set = b.build().map_err(|e| RuleError { origin: s.origin.clone(), msg: e.to_string() })?;
    Ok((set, s.value.clone()))
}

/// The host part (`host[:port]`) of a destination.
fn host_of(dest: &str) -> &str {
    dest.split('/').next().unwrap_or(dest)
}

/// A destination is full when its first component looks like a registry host (has `.` or `:`,
/// or is `localhost`); otherwise it is a prefix under the mirror.
pub fn is_full_destination(s: &str) -> bool {
    let first = s.split('/').next().unwrap_or("");
    first.contains('.') || first.contains(':') || first == "localhost"
}

impl Rules {
    /// Compiles settings. Fails on an invalid glob or regex, a regex without a capture group in
    /// seed rules, a relative prefix without a mirror, or a destination that is not a valid
    /// registry/repository name.
    pub fn compile(s: &RewriteSettings) -> Result<Rules, RuleError> {
        let mirror = s.mirror.value.as_deref().map(|m| m.trim_end_matches('/').to_string()).filter(|m| !m.is_empty());
        let mut registries = Vec::new();
        let mut destinations = Vec::new();
        if let Some(m) = &mirror {
            check_destination(m, &s.mirror.origin)?;
            destinations.push(host_of(m).to_string());
        }
        for (upstream, target) in &s.registries.value {
            let origin = format!("{}.{upstream}", s.registries.origin);
            let target = target.trim_matches('/');
            let dest = if is_full_destination(target) {
                target.to_string()
            } else {
                let Some(m) = &mirror else {
                    return Err(RuleError { origin, msg: format!("prefix {target:?} is relative but no mirror is set") });
                };
                if target.is_empty() { m.clone() } else { format!("{m}/{target}") }
            };
            check_destination(&dest, &origin)?;
            destinations.push(host_of(&dest).to_string());
            registries.push((upstream.to_ascii_lowercase(), dest));
        }
        let mut regex = Vec::new();
        for (i, r) in s.rules.value.iter().enumerate() {
            let origin = r.origin.clone().unwrap_or_else(|| format!("{}[{i}]", s.rules.origin));
            // Compiled size capped (`limits.maxRegexBytes`): a pathological rule fails here, at start-up.
            let re = regex::RegexBuilder::new(&r.pattern).size_limit(s.max_regex_bytes.value).build().map_err(|e| {
                let msg = match e {
                    regex::Error::CompiledTooBig(n) => {
                        format!("the compiled regex exceeds the limit of {n} bytes (raise limits.maxRegexBytes in the config)")
                    }
                    e => format!("invalid regex: {}", e.to_string().lines().last().unwrap_or("")),
                };
                RuleError { origin: origin.clone(), msg }
            })?;
            if r.require_capture && re.captures_len() < 2 {
                return Err(RuleError { origin, msg: format!("regex {:?} has no capture group; the replacement needs $1", r.pattern) });
            }
            // The replacement's literal host, if it has one, is a destination too.
            if let Some(host) = r.replace.split('/').next().filter(|h| !h.contains('$') && (h.contains('.') || h.contains(':'))) {
                destinations.push(host.to_string());
            }
            regex.push(RegexRule { registry: r.registry.clone(), re, replace: r.replace.clone() });
        }
        let ns_include = if s.namespaces_include.value.is_empty() { None } else { Some(glob_set(&s.namespaces_include)?.0) };
        destinations.sort();
        destinations.dedup();
        Ok(Rules {
            enabled: s.enabled.value,
            registries,
            exclude: glob_set(&s.exclude)?,
            ns_include,
            ns_exclude: glob_set(&s.namespaces_exclude)?.0,
            regex,
            docker_hub_aliases: s.docker_hub_aliases.value.iter().map(|a| a.to_ascii_lowercase()).collect(),
            destinations,
            default_namespace: s.default_namespace.clone(),
            fields: crate::settings::fields::compile(s)?,
        })
    }

    /// False when rewriting is switched off (`enabled: false`): every image is kept.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The namespace an object without `metadata.namespace` lands in.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// Where images are looked for: configured fields and profiles (built-ins are always on).
    pub fn fields(&self) -> &FieldSet {
        &self.fields
    }

    /// Decides what `image` (as written) becomes for an object in `namespace`.
    pub fn decide(&self, image: &str, namespace: Option<&str>) -> Decision {
        self.decide_as(image, namespace, ValueKind::Image)
    }

    /// Like [`Rules::decide`]; a [`ValueKind::Repository`] gets no `:latest` added.
    pub fn decide_as(&self, image: &str, namespace: Option<&str>, kind: ValueKind) -> Decision {
        let keep = |reason| Decision { to: None, reason };
        if !self.enabled {
            return keep(Reason::Disabled);
        }
        if kind == ValueKind::Prefix {
            return self.decide_prefix(image, namespace);
        }
        let parsed = match image.parse::<ImageRef>() {
            Ok(r) => r,
            Err(e) => return keep(Reason::Unparseable(e.to_string())),
        };
        let r = self.fold_docker_hub(parsed);
        if self.destinations.iter().any(|d| d == r.domain()) {
            return keep(Reason::AlreadyMirrored);
        }
        let ns = namespace.unwrap_or(&self.default_namespace);
        if self.ns_include.as_ref().is_some_and(|inc| !inc.is_match(ns)) || self.ns_exclude.is_match(ns) {
            return keep(Reason::NamespaceExcluded(ns.to_string()));
        }
        let name = r.name();
        if let Some(i) = self.exclude.0.matches(&name).first() {
            return keep(Reason::Excluded(self.exclude.1[*i].clone()));
        }
        let suffix = tag_and_digest(&r, kind);
        if let Some((up, dest)) = self.registries.iter().find(|(up, _)| up == r.domain()) {
            return Decision { to: Some(format!("{dest}/{}{suffix}", r.path())), reason: Reason::Registry(up.clone()) };
        }
        let normalized = format!("{name}{suffix}");
        for (i, rule) in self.regex.iter().enumerate() {
            if rule.registry.as_deref().is_some_and(|reg| reg != r.domain()) {
                continue;
            }
            if rule.re.is_match(&normalized) {
                let to = rule.re.replace(&normalized, rule.replace.as_str()).into_owned();
                return Decision { to: Some(to), reason: Reason::Regex(i + 1) };
            }
        }
        keep(Reason::NoRule(r.domain().to_string()))
    }

    /// `registry-1.docker.io/nginx` is Docker Hub too (ECR's Docker Hub rule points there).
    fn fold_docker_hub(&self, r: ImageRef) -> ImageRef {
        if !self.docker_hub_aliases.iter().any(|a| a == r.domain()) {
            return r;
        }
        let path = if r.path().contains('/') { r.path().to_string() } else { format!("library/{}", r.path()) };
        r.with_name(&format!("docker.io/{path}")).unwrap_or(r)
    }
}

/// `:tag@digest` as written, `:latest` when neither was.
fn tag_and_digest(r: &ImageRef, kind: ValueKind) -> String {
    let mut s = String::new();
    match (r.tag(), r.digest()) {
        (None, None) if kind == ValueKind::Image => s.push_str(":latest"),
        (None, None) => {}
        (t, d) => {
            if let Some(t) = t {
                s.push(':');
                s.push_str(t);
            }
            if let Some(d) = d {
                s.push('@');
                s.push_str(d);
            }
        }
    }
    s
}

/// A destination must make valid image names: `<dest>/x:latest` has to parse with `<dest>`'s host.
fn check_destination(dest: &str, origin: &str) -> Result<(), RuleError> {
    let probe = format!("{dest}/x:latest");
    match probe.parse::<ImageRef>() {
        Ok(r) if r.name() == format!("{dest}/x") => Ok(()),
        Ok(_) => Err(RuleError { origin: origin.into(), msg: format!("{dest:?} is not a registry host[:port][/path]") }),
        Err(e) => Err(RuleError { origin: origin.into(), msg: format!("{dest:?} does not make valid image names: {e}") }),
    }
}

impl Rules {
    /// The mirror form of a registry or a registry/path prefix ([`ValueKind::Prefix`]):
    /// `docker.io/mongodb` → `<mirror>/docker-hub/mongodb`, `quay.io/` → `<mirror>/quay/`,
    /// `docker.elastic.co` → its `registries` destination. Nothing is added (no `library/`, no
    /// tag) and a trailing `/` is kept. The same checks as for images apply in the same order
    /// (aliases folded, already mirrored, namespaces, `exclude` globs on the prefix); regex rules
    /// are written for whole references and do not apply. A value that is not a registry host
    /// with an optional path (`UseDefault`, `a b`) is left as is.
    pub fn decide_prefix(&self, value: &str, namespace: Option<&str>) -> Decision {
        let keep = |reason| Decision { to: None, reason };
        let slash = value.ends_with('/');
        let body = value.trim_end_matches('/');
        let (host, rest) = match body.split_once('/') {
            Some((h, r)) => (h, r),
            None => (body, ""),
        };
        let host_like = host.contains('.') || host.contains(':') || host == "localhost";
        // The probe: `<prefix>/x:latest` must be an image reference naming this host.
        let probe = format!("{body}/x:latest");
        let parsed = probe.parse::<ImageRef>();
        let parsed = match parsed {
            Ok(r) if host_like && r.domain() == host.to_ascii_lowercase() => r,
            Ok(_) => return keep(Reason::Unparseable(format!("{value:?} does not name a registry host"))),
            Err(e) => return keep(Reason::Unparseable(e.to_string())),
        };
        let r = self.fold_docker_hub(parsed);
        let domain = r.domain().to_string();
        let rest = if domain == host { rest.to_string() } else { r.path().strip_suffix("x").unwrap_or("").trim_end_matches('/').to_string() };
        if self.destinations.iter().any(|d| d == &domain) {
            return keep(Reason::AlreadyMirrored);
        }
        let ns = namespace.unwrap_or(&self.default_namespace);
        if self.ns_include.as_ref().is_some_and(|inc| !inc.is_match(ns)) || self.ns_exclude.is_match(ns) {
            return keep(Reason::NamespaceExcluded(ns.to_string()));
        }
        let name = if rest.is_empty() { domain.clone() } else { format!("{domain}/{rest}") };
        if let Some(i) = self.exclude.0.matches(&name).first() {
            return keep(Reason::Excluded(self.exclude.1[*i].clone()));
        }
        let Some((up, dest)) = self.registries.iter().find(|(up, _)| *up == domain) else {
            return keep(Reason::NoRule(domain));
        };
        let mut to = if rest.is_empty() { dest.clone() } else { format!("{dest}/{rest}") };
        if slash {
            to.push('/');
        }
        Decision { to: Some(to), reason: Reason::Registry(up.clone()) }
    }
}
