//! Rules: decide, for one image string, whether and how it is rewritten.
//!
//! Order (the first that applies wins; the tests' `precedence` table pins it): disabled
//! (`enabled: false`) → kept; unparseable → kept; registries folded (ASCII lowercase,
//! `index.docker.io` and the Docker Hub aliases into `docker.io`, `library/` added); at or below
//! a destination (the mirror, a full destination, where an anchored regex rule's replacement
//! starts; whole path components) → kept; namespace not included or excluded → kept; `exclude`
//! glob → kept; `registries` entry → `<mirror>/<prefix>/<path>` or `<destination>/<path>`;
//! regex rules on the normalized reference (`domain/path:tag@digest`, `:latest` added when
//! neither is written) → their replacement; otherwise kept (`no rule`). The output keeps the
//! input's tag and digest and adds `:latest` when the input had neither, as the seed's Kyverno
//! policy does.
//!
//! Nothing here fails silently. Configuration is folded and checked the way images are:
//! `registries` keys (and the seed's `registriesToOverwrite` keys) are registries folded like
//! image registries, two keys for one registry with different destinations are an error, and
//! a destination that is a whole upstream registry (so that registry's entry could never apply)
//! is an error. Every value a rule produces must parse as an image reference and must be final
//! (deciding it again keeps it), else the run fails naming the rule: a second run with the same
//! settings changes nothing.

mod fields;

use std::fmt;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;

use regex_syntax::hir::Look;

use crate::destination::{fold_registry, looks_like_host, Destination};
use crate::manifest::fields::{FieldSet, ValueKind};
use crate::settings::{RewriteSettings, Setting};
use pullthrough_reference::location::path_under;
use pullthrough_reference::{
    grammar, ImageRef, ReferenceError, DEFAULT_DOMAIN, MAX_INPUT_LEN, NAME_TOTAL_LENGTH_MAX,
};

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

impl Decision {
    /// The value is left as it is, for `reason`.
    pub fn kept(reason: Reason) -> Decision {
        Decision { to: None, reason }
    }
}

/// A settings value that cannot be compiled into a rule, or a rule whose output for one image is
/// not a valid reference or not final; `origin` names the setting (`config.yaml: rules[0]`).
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {msg}")]
pub struct RuleError {
    pub origin: String,
    pub msg: String,
}

#[derive(Debug)]
struct RegexRule {
    /// Seed rules apply only to images of one registry (the seed's precondition): the registry
    /// folded like images are, and the spelling its key was written in, which the regex sees.
    registry: Option<(String, String)>,
    re: Regex,
    replace: String,
    /// Names the rule in errors about what it produced (`config.yaml: rules[0]`).
    name: String,
}

/// One `registries` entry after compiling.
#[derive(Debug)]
struct RegistryRule {
    /// The upstream registry, folded like images are (`registry-1.docker.io` → `docker.io`).
    upstream: String,
    /// The key as written (lowercase), shown by `explain`.
    key: String,
    /// `host[:port][/path]` the image's path goes under.
    dest: String,
    /// Length of `dest`'s path (0 for a bare host).
    dest_path_len: usize,
    origin: String,
}

/// Which entry or rule rewrote an image.
#[derive(Clone, Copy)]
enum By<'a> {
    /// A `registries` entry, and the path length of what it made.
    Registry(&'a RegistryRule, usize),
    Regex(&'a RegexRule),
}

impl<'a> By<'a> {
    fn origin(self) -> &'a str {
        match self {
            By::Registry(e, _) => &e.origin,
            By::Regex(r) => &r.name,
        }
    }
}

/// The message for a rule's output that is not an image reference.
fn invalid_output(image: &str, to: &str, e: &ReferenceError) -> String {
    format!("{image:?} became {to:?}, which is not a valid image reference ({e})")
}

/// A place pullthrough writes to (the mirror, a full destination, where an anchored regex rule's
/// replacement starts): an image at or below it is final and never rewritten again.
#[derive(Debug)]
struct Written {
    /// `host[:port]`, folded like images are.
    domain: String,
    /// Path prefix, matched on whole components; empty: the whole registry.
    path: String,
    shown: String,
    origin: String,
}

impl Written {
    /// The place `dest` names, with its registry folded like images are.
    fn of(dest: &Destination, origin: &str, aliases: &[String]) -> Written {
        let loc = dest.location();
        Written {
            domain: fold_registry(&loc.domain(), aliases).into_owned(),
            path: loc.path().to_string(),
            shown: dest.as_str().to_string(),
            origin: origin.to_string(),
        }
    }

    fn holds(&self, r: &ImageRef) -> bool {
        r.domain() == self.domain && path_under(r.path(), &self.path)
    }
}

/// Compiled rewrite rules.
#[derive(Debug)]
pub struct Rules {
    enabled: bool,
    registries: Vec<RegistryRule>,
    exclude: (GlobSet, Vec<String>),
    ns_include: Option<GlobSet>,
    ns_exclude: GlobSet,
    regex: Vec<RegexRule>,
    docker_hub_aliases: Vec<String>,
    /// Where pullthrough writes: an image under one of them is never touched.
    destinations: Vec<Written>,
    default_namespace: String,
    fields: FieldSet,
}

fn glob_set(s: &Setting<Vec<String>>) -> Result<(GlobSet, Vec<String>), RuleError> {
    let mut b = GlobSetBuilder::new();
    for g in &s.value {
        let glob = Glob::new(g).map_err(|e| RuleError {
            origin: s.origin.clone(),
            msg: format!("invalid glob {g:?}: {}", e.kind()),
        })?;
        b.add(glob);
    }
    let set = b.build().map_err(|e| RuleError {
        origin: s.origin.clone(),
        msg: e.to_string(),
    })?;
    Ok((set, s.value.clone()))
}

/// A `registries`/`registriesToOverwrite` key: a registry `host[:port]`, folded.
fn upstream_key(key: &str, aliases: &[String], origin: &str) -> Result<String, RuleError> {
    let lower = key.to_ascii_lowercase();
    let whole = grammar::domain_and_port(&lower).is_some_and(|(_, rest)| rest.is_empty());
    if !whole || !looks_like_host(&lower) {
        return Err(RuleError {
            origin: origin.to_string(),
            msg: format!("{key:?} is not a registry host[:port] (a key names the registry an image is pulled from; exclude and rules match paths)"),
        });
    }
    Ok(fold_registry(&lower, aliases).into_owned())
}

/// Whether every match of `pattern` starts at the beginning of the text (`^…`, `\A…`).
fn anchored_at_start(pattern: &str) -> bool {
    regex_syntax::parse(pattern).is_ok_and(|hir| {
        let looks = hir.properties().look_set_prefix();
        looks.contains(Look::Start)
            || looks.contains(Look::StartLF)
            || looks.contains(Look::StartCRLF)
    })
}

/// Where an anchored rule writes: its replacement's literal text up to the first `$`, cut back to
/// the last `/`, read as `[host[:port]/]path` (normalized like an image, so `mirrored/$1` writes
/// to `docker.io/mirrored`). `Ok(None)` when no whole component is literal.
///
/// # Errors
/// The message when no output of the rule can be a valid reference (`m.example.com//gcr/$1`).
fn replacement_destination(
    replace: &str,
    aliases: &[String],
) -> Result<Option<(String, String, String)>, String> {
    let literal = &replace[..replace.find('$').unwrap_or(replace.len())];
    let Some(cut) = literal.rfind('/') else {
        return Ok(None);
    };
    let prefix = &literal[..cut];
    if prefix.is_empty() {
        return Ok(None);
    }
    // Two probe components: a single one would gain `library/` on Docker Hub.
    let probe = format!("{prefix}/x/x:latest");
    let r = probe.parse::<ImageRef>().map_err(|e| {
        let start = &literal[..=cut];
        format!("replacement {replace:?} can never give a valid image reference: no reference starts with {start:?} ({e})")
    })?;
    let path = r
        .path()
        .strip_suffix("x/x")
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();
    Ok(Some((
        fold_registry(r.domain(), aliases).into_owned(),
        path,
        prefix.to_string(),
    )))
}

/// The `registries` entries, each with its destination (added to `destinations`); two keys for
/// one registry must agree on it.
fn compile_registries(
    s: &RewriteSettings,
    aliases: &[String],
    mirror: Option<&Destination>,
    destinations: &mut Vec<Written>,
) -> Result<Vec<RegistryRule>, RuleError> {
    let mut registries: Vec<RegistryRule> = Vec::new();
    for (key, raw) in &s.registries.value {
        let origin = format!("{}.{key}", s.registries.origin);
        let upstream = upstream_key(key, aliases, &origin)?;
        let d = Destination::entry(raw, mirror).map_err(|e| RuleError {
            origin: origin.clone(),
            msg: e.to_string(),
        })?;
        destinations.push(Written::of(&d, &origin, aliases));
        let dest_path_len = d.location().path().len();
        let dest = d.as_str().to_string();
        if let Some(prev) = registries.iter().find(|r| r.upstream == upstream) {
            if prev.dest != dest {
                return Err(RuleError {
                    origin: prev.origin.clone(),
                    msg: format!(
                        "{origin} is the same registry ({upstream}; Docker Hub aliases fold into docker.io) with another destination ({:?}, {dest:?}): keep one",
                        prev.dest
                    ),
                });
            }
            continue;
        }
        registries.push(RegistryRule {
            upstream,
            key: key.to_ascii_lowercase(),
            dest,
            dest_path_len,
            origin,
        });
    }
    Ok(registries)
}

/// The regex rules, in order; an anchored rule's replacement start is added to `destinations`.
fn compile_regex(
    s: &RewriteSettings,
    aliases: &[String],
    destinations: &mut Vec<Written>,
) -> Result<Vec<RegexRule>, RuleError> {
    let mut regex: Vec<RegexRule> = Vec::new();
    for (i, r) in s.rules.value.iter().enumerate() {
        let origin = r
            .origin
            .clone()
            .unwrap_or_else(|| format!("{}[{i}]", s.rules.origin));
        let name = r
            .name
            .clone()
            .unwrap_or_else(|| format!("{}[{i}]", s.rules.origin));
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
            return Err(RuleError {
                origin,
                msg: format!(
                    "regex {:?} has no capture group; the replacement needs $1",
                    r.pattern
                ),
            });
        }
        let registry = match &r.registry {
            Some(key) => Some((upstream_key(key, aliases, &name)?, key.to_ascii_lowercase())),
            None => None,
        };
        if let Some((folded, _)) = &registry {
            let clash = regex.iter().find(|o| {
                o.registry.as_ref().is_some_and(|(f, _)| f == folded) && o.replace != r.replace
            });
            if let Some(o) = clash {
                return Err(RuleError {
                    origin: o.name.clone(),
                    msg: format!(
                        "{name} is the same registry ({folded}; Docker Hub aliases fold into docker.io) with another replacement ({:?}, {:?}): keep one",
                        o.replace, r.replace
                    ),
                });
            }
        }
        // Only when every match starts at the beginning does the output start with the
        // replacement's literal text; then that is a destination too.
        if anchored_at_start(&r.pattern) {
            let found = replacement_destination(&r.replace, aliases).map_err(|msg| RuleError {
                origin: name.clone(),
                msg,
            })?;
            if let Some((domain, path, shown)) = found {
                destinations.push(Written {
                    domain,
                    path,
                    shown,
                    origin: name.clone(),
                });
            }
        }
        regex.push(RegexRule {
            registry,
            re,
            replace: r.replace.clone(),
            name,
        });
    }
    Ok(regex)
}

/// No destination may be a whole upstream registry that an entry or rule rewrites.
fn no_whole_upstream_destination(
    registries: &[RegistryRule],
    regex: &[RegexRule],
    destinations: &[Written],
) -> Result<(), RuleError> {
    // A destination that is a whole upstream registry would make every image of it "already
    // mirrored": the entry for that registry could never apply.
    let upstreams = registries
        .iter()
        .map(|r| (r.upstream.as_str(), r.origin.as_str()))
        .chain(regex.iter().filter_map(|r| {
            r.registry
                .as_ref()
                .map(|(f, _)| (f.as_str(), r.name.as_str()))
        }));
    for (upstream, origin) in upstreams {
        if let Some(d) = destinations
            .iter()
            .find(|d| d.path.is_empty() && d.domain == upstream)
        {
            return Err(RuleError {
                origin: d.origin.clone(),
                msg: format!(
                    "{:?} is the whole registry {upstream}, so every image of it would count as already mirrored and {origin} could never apply; write to a path under it",
                    d.shown
                ),
            });
        }
    }
    Ok(())
}

impl Rules {
    /// Compiles settings.
    ///
    /// # Errors
    /// A [`RuleError`] naming the setting for: an invalid glob or regex; a regex over
    /// `limits.maxRegexBytes`; a seed regex without a capture group; a relative prefix without a
    /// mirror; a mirror or destination that is not a registry `host[:port][/path]`; a
    /// `registries` key that is not a registry `host[:port]`; two keys naming the same registry
    /// (Docker Hub aliases fold into `docker.io`) with different destinations; an anchored
    /// rule's replacement that can never make a valid reference; a destination that is a whole
    /// upstream registry another entry rewrites (that entry could never apply).
    pub fn compile(s: &RewriteSettings) -> Result<Rules, RuleError> {
        let aliases: Vec<String> = s
            .docker_hub_aliases
            .value
            .iter()
            .map(|a| a.to_ascii_lowercase())
            .collect();
        let mirror = match s.mirror.value.as_deref().and_then(Destination::mirror) {
            Some(Err(e)) => {
                return Err(RuleError {
                    origin: s.mirror.origin.clone(),
                    msg: e.to_string(),
                })
            }
            Some(Ok(m)) => Some(m),
            None => None,
        };
        // Where pullthrough writes: the mirror, each destination and each anchored rule's start.
        let mut destinations: Vec<Written> = mirror
            .iter()
            .map(|m| Written::of(m, &s.mirror.origin, &aliases))
            .collect();
        let registries = compile_registries(s, &aliases, mirror.as_ref(), &mut destinations)?;
        let regex = compile_regex(s, &aliases, &mut destinations)?;
        no_whole_upstream_destination(&registries, &regex, &destinations)?;
        let ns_include = if s.namespaces_include.value.is_empty() {
            None
        } else {
            Some(glob_set(&s.namespaces_include)?.0)
        };
        Ok(Rules {
            enabled: s.enabled.value,
            registries,
            exclude: glob_set(&s.exclude)?,
            ns_include,
            ns_exclude: glob_set(&s.namespaces_exclude)?.0,
            regex,
            docker_hub_aliases: aliases,
            destinations,
            default_namespace: s.default_namespace.clone(),
            fields: fields::compile(s)?,
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
    ///
    /// # Errors
    /// As [`Rules::decide_as`].
    pub fn decide(&self, image: &str, namespace: Option<&str>) -> Result<Decision, RuleError> {
        self.decide_as(image, namespace, ValueKind::Image)
    }

    /// Like [`Rules::decide`]; a [`ValueKind::Repository`] gets no `:latest` added.
    ///
    /// Every rewritten value is checked before it is returned, so a second run with the same
    /// settings changes nothing: it must parse as an image reference, and deciding it again
    /// must keep it (it lies under a destination, or no rule applies to it).
    ///
    /// # Errors
    /// A [`RuleError`] naming the entry or rule that made the value (`config.yaml: rules[0]`),
    /// the image and what it became, when the result does not parse (`m.example.com//gcr/x`,
    /// `…/x:1:mirrored`), or when the rules would rewrite the result again.
    pub fn decide_as(
        &self,
        image: &str,
        namespace: Option<&str>,
        kind: ValueKind,
    ) -> Result<Decision, RuleError> {
        if !self.enabled {
            return Ok(Decision::kept(Reason::Disabled));
        }
        if kind == ValueKind::Prefix {
            return self.decide_prefix(image, namespace);
        }
        let parsed = match image.parse::<ImageRef>() {
            Ok(r) => r,
            Err(e) => return Ok(Decision::kept(Reason::Unparseable(e.to_string()))),
        };
        let (d, by) = self.decide_parsed(parsed, namespace, kind);
        let (Some(to), Some(by)) = (&d.to, by) else {
            return Ok(d);
        };
        match by {
            // `<dest>/<path>[:tag][@digest]` from a valid destination and a parsed image: it can
            // only fail on length, and it lies under the entry's own destination, so deciding
            // it again keeps it. Checked without a second parse (this is the common case, once
            // per image); debug builds, so the test suite, also check it the long way.
            By::Registry(entry, path_len) => {
                let too_long = if to.len() > MAX_INPUT_LEN {
                    Some(ReferenceError::InputTooLong(to.len()))
                } else {
                    (path_len > NAME_TOTAL_LENGTH_MAX).then_some(ReferenceError::NameTooLong)
                };
                let result = match too_long {
                    Some(e) => Err(RuleError {
                        origin: entry.origin.clone(),
                        msg: invalid_output(image, to, &e),
                    }),
                    None => Ok(()),
                };
                debug_assert_eq!(
                    result.as_ref().err().map(|e| e.to_string()),
                    self.check_output(image, to, &entry.origin, namespace, kind)
                        .err()
                        .map(|e| e.to_string()),
                    "the fast check of a registries output disagrees with the parser"
                );
                result.map(|()| d)
            }
            By::Regex(rule) => self
                .check_output(image, to, &rule.name, namespace, kind)
                .map(|()| d),
        }
    }

    /// `to`, made from `image` by `origin`, must parse and be kept when decided again.
    fn check_output(
        &self,
        image: &str,
        to: &str,
        origin: &str,
        namespace: Option<&str>,
        kind: ValueKind,
    ) -> Result<(), RuleError> {
        let fail = |msg: String| {
            Err(RuleError {
                origin: origin.to_string(),
                msg,
            })
        };
        let output = match to.parse::<ImageRef>() {
            Ok(r) => r,
            Err(e) => return fail(invalid_output(image, to, &e)),
        };
        let (again, by_again) = self.decide_parsed(output, namespace, kind);
        if let Some(to_again) = again.to.filter(|t| t != to) {
            return fail(format!(
                "{image:?} became {to:?}, which {} would rewrite again to {to_again:?}; a rule's output must be final (write it under the mirror or a destination)",
                by_again.map_or("another rule", |b| b.origin())
            ));
        }
        Ok(())
    }

    /// One pass of the decision order on a parsed image; also returns the origin of the entry
    /// or rule that rewrote it.
    fn decide_parsed(
        &self,
        parsed: ImageRef,
        namespace: Option<&str>,
        kind: ValueKind,
    ) -> (Decision, Option<By<'_>>) {
        let keep = |reason| (Decision::kept(reason), None);
        let r = self.fold(parsed);
        if self.destinations.iter().any(|d| d.holds(&r)) {
            return keep(Reason::AlreadyMirrored);
        }
        let name = r.name();
        if let Some(reason) = self.gated(namespace, &name) {
            return keep(reason);
        }
        let suffix = tag_and_digest(&r, kind);
        if let Some(e) = self.registries.iter().find(|e| e.upstream == r.domain()) {
            let to = format!("{}/{}{suffix}", e.dest, r.path());
            let path_len = if e.dest_path_len == 0 {
                r.path().len()
            } else {
                e.dest_path_len + 1 + r.path().len()
            };
            return (
                Decision {
                    to: Some(to),
                    reason: Reason::Registry(e.key.clone()),
                },
                Some(By::Registry(e, path_len)),
            );
        }
        let normalized = format!("{name}{suffix}");
        for (i, rule) in self.regex.iter().enumerate() {
            // A seed rule reads the image spelled with its own key (`registry-1.docker.io/…`),
            // as the seed's policy does for images written that way.
            let spelled;
            let subject = match &rule.registry {
                Some((folded, _)) if folded != r.domain() => continue,
                Some((_, key)) if key != r.domain() => {
                    spelled = format!("{key}/{}{suffix}", r.path());
                    &spelled
                }
                _ => &normalized,
            };
            if rule.re.is_match(subject) {
                let to = rule.re.replace(subject, rule.replace.as_str()).into_owned();
                return (
                    Decision {
                        to: Some(to),
                        reason: Reason::Regex(i + 1),
                    },
                    Some(By::Regex(rule)),
                );
            }
        }
        keep(Reason::NoRule(r.domain().to_string()))
    }

    /// Steps 4 and 5 of the decision order, shared by images and prefixes: the object's
    /// namespace (or the default) not included or excluded, then an `exclude` glob on `name`
    /// (the folded `registry/path`). The reason to keep the value, if one applies.
    fn gated(&self, namespace: Option<&str>, name: &str) -> Option<Reason> {
        let ns = namespace.unwrap_or(&self.default_namespace);
        if self
            .ns_include
            .as_ref()
            .is_some_and(|inc| !inc.is_match(ns))
            || self.ns_exclude.is_match(ns)
        {
            return Some(Reason::NamespaceExcluded(ns.to_string()));
        }
        let i = self.exclude.0.matches(name).first().copied()?;
        Some(Reason::Excluded(self.exclude.1[i].clone()))
    }

    /// Registries compared as [`fold_registry`] folds them: `registry-1.docker.io/nginx` is
    /// `docker.io/library/nginx` (ECR's Docker Hub rule points there), `GHCR.io/x` is `ghcr.io/x`.
    fn fold(&self, r: ImageRef) -> ImageRef {
        let domain = fold_registry(r.domain(), &self.docker_hub_aliases);
        if domain == r.domain() {
            return r;
        }
        let path = if domain == DEFAULT_DOMAIN && !r.path().contains('/') {
            format!("library/{}", r.path())
        } else {
            r.path().to_string()
        };
        r.with_name(&format!("{domain}/{path}")).unwrap_or(r)
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

impl Rules {
    /// The mirror form of a registry or a registry/path prefix ([`ValueKind::Prefix`]):
    /// `docker.io/mongodb` → `<mirror>/docker-hub/mongodb`, `quay.io/` → `<mirror>/quay/`,
    /// `docker.elastic.co` → its `registries` destination. Nothing is added (no `library/`, no
    /// tag) and a trailing `/` is kept. The same checks as for images apply in the same order
    /// (aliases folded, already under a destination, namespaces, `exclude` globs on the
    /// prefix); regex rules are written for whole references and do not apply. A value that is
    /// not a registry host with an optional path (`UseDefault`, `a b`) is left as is.
    fn decide_prefix(&self, value: &str, namespace: Option<&str>) -> Result<Decision, RuleError> {
        let keep = |reason| Ok(Decision::kept(reason));
        let slash = value.ends_with('/');
        let body = value.trim_end_matches('/');
        let (host, rest) = body.split_once('/').unwrap_or((body, ""));
        if !looks_like_host(host) {
            return keep(Reason::Unparseable(format!(
                "{value:?} does not name a registry host"
            )));
        }
        // `<prefix>/x:latest` must be an image reference on that host, with that path.
        let probe = match format!("{body}/x:latest").parse::<ImageRef>() {
            Ok(r) if r.domain() == host.to_ascii_lowercase() => r,
            Ok(_) => {
                return keep(Reason::Unparseable(format!(
                    "{value:?} does not name a registry host"
                )))
            }
            Err(e) => return keep(Reason::Unparseable(e.to_string())),
        };
        let domain = fold_registry(probe.domain(), &self.docker_hub_aliases).into_owned();
        if self
            .destinations
            .iter()
            .any(|d| d.domain == domain && path_under(rest, &d.path))
        {
            return keep(Reason::AlreadyMirrored);
        }
        let name = if rest.is_empty() {
            domain.clone()
        } else {
            format!("{domain}/{rest}")
        };
        if let Some(reason) = self.gated(namespace, &name) {
            return keep(reason);
        }
        let Some(e) = self.registries.iter().find(|e| e.upstream == domain) else {
            return keep(Reason::NoRule(domain));
        };
        let mut to = if rest.is_empty() {
            e.dest.clone()
        } else {
            format!("{}/{rest}", e.dest)
        };
        // The output must be a prefix again: `<to>/x:latest` a valid reference.
        if let Err(err) = format!("{to}/x:latest").parse::<ImageRef>() {
            return Err(RuleError {
                origin: e.origin.clone(),
                msg: invalid_output(value, &to, &err),
            });
        }
        if slash {
            to.push('/');
        }
        Ok(Decision {
            to: Some(to),
            reason: Reason::Registry(e.key.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    //! One vector per line. Every rewrite vector also decides its output again and requires it
    //! kept: the idempotence guarantee, checked on each.
    use super::*;
    use crate::settings::config::{self, Loaded};

    const E: &str = "111111111111.dkr.ecr.eu-west-1.amazonaws.com";

    /// Rules from config text (native or seed format), as the CLI compiles them.
    fn compile(cfg: &str) -> Result<Rules, String> {
        let mut s = RewriteSettings::default();
        match config::parse("c.yaml", cfg).map_err(|e| e.to_string())? {
            Loaded::Native(c) => s.apply_config("c.yaml", &c),
            Loaded::Seed(v) => {
                crate::settings::seed::apply(&mut s, "v.yaml", &v);
            }
        }
        Rules::compile(&s).map_err(|e| e.to_string())
    }

    fn rules(cfg: &str) -> Rules {
        compile(cfg).unwrap_or_else(|e| panic!("{cfg}: {e}"))
    }

    /// `rewrites!(rules, image => output, reason)`, and the output is final.
    macro_rules! rewrites {
        ($r:expr, $image:expr => $want:expr, $reason:expr) => {{
            let d = $r
                .decide($image, None)
                .unwrap_or_else(|e| panic!("{}: {e}", $image));
            assert_eq!(d.to.as_deref(), Some($want.as_ref()), "image {}", $image);
            assert_eq!(d.reason.to_string(), $reason, "image {}", $image);
            let again = $r.decide($want.as_ref(), None).unwrap();
            assert_eq!(again.to, None, "second run of {} rewrote {}", $image, $want);
        }};
    }
    /// `keeps!(rules, image, reason)`.
    macro_rules! keeps {
        ($r:expr, $image:expr, $reason:expr) => {{
            let d = $r
                .decide($image, None)
                .unwrap_or_else(|e| panic!("{}: {e}", $image));
            assert_eq!(
                (d.to, d.reason.to_string()),
                (None, $reason.to_string()),
                "image {}",
                $image
            );
        }};
    }
    /// `fails!(rules, image => error)`: the rule's output is refused, exact text.
    macro_rules! fails {
        ($r:expr, $image:expr => $msg:expr) => {{
            match $r.decide($image, None) {
                Ok(d) => panic!("{} decided {d:?}, expected {:?}", $image, $msg),
                Err(e) => assert_eq!(e.to_string(), $msg, "image {}", $image),
            }
        }};
    }
    /// `refused!(config => error)`: compiling fails, exact text.
    macro_rules! refused {
        ($cfg:expr => $msg:expr) => {{
            match compile(&$cfg) {
                Ok(_) => panic!("{} compiled, expected {:?}", $cfg, $msg),
                Err(e) => assert_eq!(e, $msg, "config {}", $cfg),
            }
        }};
    }
    /// `decides!(rules, Kind, namespace, value => output, reason)` or `… => kept, reason`: one
    /// `decide_as`, the reason's text exact. An output is decided again with the same kind and
    /// namespace and must be kept, as on the next sync.
    macro_rules! decides {
        ($r:expr, $kind:ident, $ns:expr, $value:expr => kept, $reason:expr) => {{
            // Bound before borrowing, so a `format!` argument lives to the end of the block.
            let (value, ns) = ($value, $ns);
            let (value, ns): (&str, Option<&str>) = (value.as_ref(), ns);
            let d = $r
                .decide_as(value, ns, ValueKind::$kind)
                .unwrap_or_else(|e| panic!("{value}: {e}"));
            let got = (d.to.as_deref(), d.reason.to_string());
            assert_eq!(
                got,
                (None, $reason.to_string()),
                "{value} ({:?}, {ns:?})",
                ValueKind::$kind
            );
        }};
        ($r:expr, $kind:ident, $ns:expr, $value:expr => $want:expr, $reason:expr) => {{
            // Bound before borrowing, as above.
            let (value, want, ns) = ($value, $want, $ns);
            let (value, want, ns): (&str, &str, Option<&str>) = (value.as_ref(), want.as_ref(), ns);
            let d = $r
                .decide_as(value, ns, ValueKind::$kind)
                .unwrap_or_else(|e| panic!("{value}: {e}"));
            let got = (d.to.as_deref(), d.reason.to_string());
            assert_eq!(
                got,
                (Some(want), $reason.to_string()),
                "{value} ({:?}, {ns:?})",
                ValueKind::$kind
            );
            let again = $r.decide_as(want, ns, ValueKind::$kind).unwrap();
            assert_eq!(again.to, None, "second run of {value} rewrote {want}");
        }};
    }

    /// A digest for vectors that carry one (sha256 of nothing).
    const DIGEST: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// `decide_as` by value kind and namespace: what each kind becomes (README "How an image is
    /// decided"; `ValueKind`), and how `namespaces` and the default namespace gate all three.
    #[test]
    fn decide_as_table() {
        let cfg = "mirror: m.example.com\n\
            registries: {docker.io: hub, quay.io: quay, harbor.example.com: 'mirror.internal:5000/harbor'}\n\
            exclude: [docker.io/library/busybox]\n\
            namespaces: {include: ['team-*', default], exclude: [team-legacy]}\n\
            rules: [{match: '^gcr\\.io/(.*)$', replace: 'm.example.com/gcr/$1'}]\n";
        let r = rules(cfg);
        // Image: tag and digest kept, `:latest` when neither is written (the regex sees it too).
        decides!(r, Image, None, "nginx" => "m.example.com/hub/library/nginx:latest", "registry docker.io");
        decides!(r, Image, Some("team-a"), format!("quay.io/a/b:1@{DIGEST}") => format!("m.example.com/quay/a/b:1@{DIGEST}"), "registry quay.io");
        decides!(r, Image, Some("team-a"), "harbor.example.com/p/x:2" => "mirror.internal:5000/harbor/p/x:2", "registry harbor.example.com");
        decides!(r, Image, Some("team-a"), "gcr.io/p/x" => "m.example.com/gcr/p/x:latest", "regex #1");
        decides!(r, Image, Some("team-a"), "m.example.com/hub/library/nginx:latest" => kept, "already on mirror");
        decides!(r, Image, Some("team-a"), "busybox:1" => kept, "excluded (docker.io/library/busybox)");
        decides!(r, Image, Some("team-a"), "ghcr.io/a/b:1" => kept, "no rule for ghcr.io");
        decides!(r, Image, Some("team-a"), "Nginx" => kept, "unparseable: invalid reference format: repository name (library/Nginx) must be lowercase");
        // Repository: the same, but nothing is added (a written tag is still kept).
        decides!(r, Repository, None, "nginx" => "m.example.com/hub/library/nginx", "registry docker.io");
        decides!(r, Repository, Some("team-a"), "quay.io/a/b:1" => "m.example.com/quay/a/b:1", "registry quay.io");
        decides!(r, Repository, Some("team-a"), "gcr.io/p/x" => "m.example.com/gcr/p/x", "regex #1");
        decides!(r, Repository, Some("team-a"), "m.example.com/hub/library/nginx" => kept, "already on mirror");
        decides!(r, Repository, Some("team-a"), "busybox" => kept, "excluded (docker.io/library/busybox)");
        // Prefix: registry[/path] as written (aliases folded, no `library/`, a trailing `/` kept);
        // regex rules are for whole references and never apply.
        decides!(r, Prefix, None, "docker.io/mongodb" => "m.example.com/hub/mongodb", "registry docker.io");
        decides!(r, Prefix, Some("team-a"), "docker.io" => "m.example.com/hub", "registry docker.io");
        decides!(r, Prefix, Some("team-a"), "quay.io/" => "m.example.com/quay/", "registry quay.io");
        decides!(r, Prefix, Some("team-a"), "registry-1.docker.io/bitnami" => "m.example.com/hub/bitnami", "registry docker.io");
        decides!(r, Prefix, Some("team-a"), "harbor.example.com/p" => "mirror.internal:5000/harbor/p", "registry harbor.example.com");
        decides!(r, Prefix, Some("team-a"), "gcr.io/p" => kept, "no rule for gcr.io");
        decides!(r, Prefix, Some("team-a"), "m.example.com/hub/" => kept, "already on mirror");
        decides!(r, Prefix, Some("team-a"), "docker.io/library/busybox" => kept, "excluded (docker.io/library/busybox)");
        decides!(r, Prefix, Some("team-a"), "UseDefault" => kept, "unparseable: \"UseDefault\" does not name a registry host");
        // Namespaces gate every kind: not included, or included and excluded (exclude wins).
        decides!(r, Image, Some("kube-system"), "nginx" => kept, "namespace excluded (kube-system)");
        decides!(r, Image, Some("team-legacy"), "nginx" => kept, "namespace excluded (team-legacy)");
        decides!(r, Repository, Some("kube-system"), "nginx" => kept, "namespace excluded (kube-system)");
        decides!(r, Prefix, Some("team-legacy"), "docker.io/mongodb" => kept, "namespace excluded (team-legacy)");
        // No `metadata.namespace`: the app's destination namespace decides; a written one wins.
        let mut r = rules(cfg);
        r.default_namespace = "kube-system".into();
        decides!(r, Image, None, "nginx" => kept, "namespace excluded (kube-system)");
        decides!(r, Prefix, None, "docker.io/mongodb" => kept, "namespace excluded (kube-system)");
        decides!(r, Image, Some("team-a"), "nginx" => "m.example.com/hub/library/nginx:latest", "registry docker.io");
        decides!(r, Image, Some("default"), "nginx" => "m.example.com/hub/library/nginx:latest", "registry docker.io");
    }

    /// Which step wins when several apply, in the order the README's "How an image is decided"
    /// lists (and the module doc): each line is a value that two steps would decide differently,
    /// named in its comment, and shows the earlier one winning.
    #[test]
    fn precedence() {
        // `enabled: false` comes before every step.
        let r = rules("enabled: false\nmirror: m.example.com\nregistries: {docker.io: hub}\nnamespaces: {exclude: [kube-system]}\n");
        decides!(r, Image, None, "nginx" => kept, "disabled"); // registries entry
        decides!(r, Image, None, "{{ .Values.image }}" => kept, "disabled"); // 1 unparseable
        decides!(r, Image, None, "m.example.com/hub/library/nginx:1" => kept, "disabled"); // 3 destination
        decides!(r, Image, Some("kube-system"), "nginx" => kept, "disabled"); // 4 namespace
        decides!(r, Prefix, None, "docker.io/mongodb" => kept, "disabled"); // registries entry

        // Steps 1 and 3–8, each against a later one.
        let r = rules("mirror: m.example.com/cache\n\
            registries: {docker.io: hub, quay.io: quay, m.example.com: local}\n\
            exclude: ['**/busybox']\n\
            namespaces: {include: ['team-*'], exclude: [team-legacy]}\n\
            rules: [{match: '^quay\\.io/(.*)$', replace: 'm.example.com/cache/by-regex/$1'}, {match: '^ghcr\\.io/(.*)$', replace: 'm.example.com/cache/ghcr/$1'}, {match: '^ghcr\\.io/org/(.*)$', replace: 'm.example.com/cache/org/$1'}]\n");
        decides!(r, Image, Some("kube-system"), "{{ .image }}" => kept, "unparseable: invalid reference format"); // 1 over 4: still reported
        decides!(r, Prefix, Some("kube-system"), "UseDefault" => kept, "unparseable: \"UseDefault\" does not name a registry host"); // 1 over 4
        decides!(r, Image, Some("kube-system"), "m.example.com/cache/hub/library/nginx:1" => kept, "already on mirror"); // 3 over 4
        decides!(r, Prefix, Some("kube-system"), "m.example.com/cache/hub" => kept, "already on mirror"); // 3 over 4
        decides!(r, Image, Some("team-a"), "m.example.com/cache/hub/library/busybox:1" => kept, "already on mirror"); // 3 over 5
        decides!(r, Image, Some("team-a"), "m.example.com/cache/x:1" => kept, "already on mirror"); // 3 over 6 (registries.m.example.com)
        decides!(r, Image, Some("team-a"), "m.example.com/other/x:1" => "m.example.com/cache/local/other/x:1", "registry m.example.com"); // 6: outside the mirror's path
        decides!(r, Image, Some("team-legacy"), "busybox" => kept, "namespace excluded (team-legacy)"); // 4 over 5
        decides!(r, Prefix, Some("team-legacy"), "quay.io/busybox" => kept, "namespace excluded (team-legacy)"); // 4 over 5
        decides!(r, Image, Some("kube-system"), "nginx" => kept, "namespace excluded (kube-system)"); // 4 over 6
        decides!(r, Image, Some("kube-system"), "ghcr.io/a:1" => kept, "namespace excluded (kube-system)"); // 4 over 7
        decides!(r, Image, Some("team-a"), "busybox:1" => kept, "excluded (**/busybox)"); // 5 over 6
        decides!(r, Prefix, Some("team-a"), "quay.io/busybox" => kept, "excluded (**/busybox)"); // 5 over 6
        decides!(r, Image, Some("team-a"), "ghcr.io/org/busybox:1" => kept, "excluded (**/busybox)"); // 5 over 7
        decides!(r, Image, Some("team-a"), "quay.io/a/b:1" => "m.example.com/cache/quay/a/b:1", "registry quay.io"); // 6 over 7 (rules[0])
        decides!(r, Image, Some("team-a"), "ghcr.io/org/x:1" => "m.example.com/cache/ghcr/org/x:1", "regex #2"); // 7: rules in order, #2 over #3
        decides!(r, Prefix, Some("team-a"), "ghcr.io/org" => kept, "no rule for ghcr.io"); // 8: no regex for a prefix
        decides!(r, Image, Some("team-a"), "registry.k8s.io/pause:3.9" => kept, "no rule for registry.k8s.io"); // 8

        // Step 2, Docker Hub aliases folded, comes before every step that compares registries.
        let r = rules("mirror: m.example.com\n\
            dockerHubAliases: [hub.corp.example]\n\
            exclude: [docker.io/library/busybox]\n\
            rules: [{match: '^docker\\.io/library/(.*)$', replace: 'm.example.com/hub/$1'}, {match: '^quay\\.io/(.*)$', replace: 'docker.io/quay-copy/$1'}]\n");
        decides!(r, Image, None, "hub.corp.example/quay-copy/a:1" => kept, "already on mirror"); // 2 before 3 (rules[1]'s destination)
        decides!(r, Prefix, None, "hub.corp.example/quay-copy" => kept, "already on mirror"); // 2 before 3
        decides!(r, Image, None, "hub.corp.example/busybox:1" => kept, "excluded (docker.io/library/busybox)"); // 2 before 5, `library/` added
        decides!(r, Image, None, "HUB.corp.example/nginx:1" => "m.example.com/hub/nginx:1", "regex #1"); // 2 before 7
        decides!(r, Image, None, "index.docker.io/nginx:1" => "m.example.com/hub/nginx:1", "regex #1"); // always Docker Hub

        // The admin's list replaces the default: `registry-1.docker.io` is a registry of its own.
        decides!(r, Image, None, "registry-1.docker.io/nginx:1" => kept, "no rule for registry-1.docker.io");
    }

    #[test]
    fn registries_keys_fold_like_images() {
        let r = rules(&format!(
            "mirror: {E}\nregistries: {{registry-1.docker.io: docker-hub}}\n"
        ));
        rewrites!(r, "registry-1.docker.io/library/nginx:1.25" => format!("{E}/docker-hub/library/nginx:1.25"), "registry registry-1.docker.io");
        rewrites!(r, "registry-1.docker.io/nginx" => format!("{E}/docker-hub/library/nginx:latest"), "registry registry-1.docker.io");
        rewrites!(r, "nginx" => format!("{E}/docker-hub/library/nginx:latest"), "registry registry-1.docker.io");
        rewrites!(r, "index.docker.io/bitnami/redis:7" => format!("{E}/docker-hub/bitnami/redis:7"), "registry registry-1.docker.io");
        rewrites!(r, "registry.hub.docker.com/library/nginx" => format!("{E}/docker-hub/library/nginx:latest"), "registry registry-1.docker.io");
        rewrites!(r, "Registry-1.Docker.IO/library/nginx:1" => format!("{E}/docker-hub/library/nginx:1"), "registry registry-1.docker.io");
        keeps!(r, "quay.io/a/b:1", "no rule for quay.io");
        for key in [
            "index.docker.io",
            "registry.hub.docker.com",
            "Docker.IO",
            "REGISTRY-1.docker.io",
        ] {
            let r = rules(&format!("mirror: {E}\nregistries: {{{key}: docker-hub}}\n"));
            rewrites!(r, "registry-1.docker.io/library/nginx:1.25" => format!("{E}/docker-hub/library/nginx:1.25"), format!("registry {}", key.to_ascii_lowercase()));
        }
        // A Docker Hub alias of the admin's own.
        let r = rules(&format!("mirror: {E}\nregistries: {{hub.corp.example: docker-hub}}\ndockerHubAliases: [hub.corp.example]\n"));
        rewrites!(r, "nginx:1" => format!("{E}/docker-hub/library/nginx:1"), "registry hub.corp.example");
        rewrites!(r, "hub.corp.example/nginx:1" => format!("{E}/docker-hub/library/nginx:1"), "registry hub.corp.example");
        // Host names are case-insensitive: an uppercase spelling is the same registry.
        let r = rules(&format!(
            "mirror: {E}\nregistries: {{ghcr.io: ghcr}}\nexclude: [ghcr.io/x/kept]\n"
        ));
        rewrites!(r, "GHCR.io/a/b:1" => format!("{E}/ghcr/a/b:1"), "registry ghcr.io");
        keeps!(r, "GHCR.IO/x/kept:1", "excluded (ghcr.io/x/kept)");
    }

    #[test]
    fn keys_for_one_registry_must_agree() {
        let r = rules(&format!("mirror: {E}\nregistries: {{docker.io: docker-hub, registry-1.docker.io: docker-hub}}\n"));
        rewrites!(r, "nginx" => format!("{E}/docker-hub/library/nginx:latest"), "registry docker.io");
        refused!(format!("mirror: {E}\nregistries: {{docker.io: docker-hub, registry-1.docker.io: hub}}\n")
            => format!("c.yaml: registries.docker.io: c.yaml: registries.registry-1.docker.io is the same registry (docker.io; Docker Hub aliases fold into docker.io) with another destination (\"{E}/docker-hub\", \"{E}/hub\"): keep one"));
        refused!(format!("mirror: {E}\nregistries: {{index.docker.io: a, docker.io: b}}\n")
            => format!("c.yaml: registries.docker.io: c.yaml: registries.index.docker.io is the same registry (docker.io; Docker Hub aliases fold into docker.io) with another destination (\"{E}/b\", \"{E}/a\"): keep one"));
        refused!(format!("mirror: {E}\nregistries: {{ghcr.io: a, GHCR.io: b}}\n")
            => format!("c.yaml: registries.GHCR.io: c.yaml: registries.ghcr.io is the same registry (ghcr.io; Docker Hub aliases fold into docker.io) with another destination (\"{E}/b\", \"{E}/a\"): keep one"));
    }

    #[test]
    fn keys_are_registries() {
        let tail = "is not a registry host[:port] (a key names the registry an image is pulled from; exclude and rules match paths)";
        refused!(format!("mirror: {E}\nregistries: {{docker.io/bitnami: hub}}\n") => format!("c.yaml: registries.docker.io/bitnami: \"docker.io/bitnami\" {tail}"));
        refused!(format!("mirror: {E}\nregistries: {{hub: hub}}\n") => format!("c.yaml: registries.hub: \"hub\" {tail}"));
        refused!(format!("mirror: {E}\nregistries: {{'ghcr.io ': hub}}\n") => format!("c.yaml: registries.ghcr.io : \"ghcr.io \" {tail}"));
        let r = rules(&format!(
            "mirror: {E}\nregistries: {{localhost: l, 'localhost:5000': l5, '[::1]:5000': v6}}\n"
        ));
        rewrites!(r, "localhost/a:1" => format!("{E}/l/a:1"), "registry localhost");
        rewrites!(r, "localhost:5000/a:1" => format!("{E}/l5/a:1"), "registry localhost:5000");
        rewrites!(r, "[::1]:5000/a:1" => format!("{E}/v6/a:1"), "registry [::1]:5000");
    }

    #[test]
    fn seed_keys_fold_like_images() {
        let seed = |keys: &[(&str, &str, &str)]| {
            let mut s = format!("common:\n  ecrRegistryFullname: {E}\nregistriesToOverwrite:\n");
            for (k, re, prefix) in keys {
                s.push_str(&format!(
                    "  {k}:\n    upstreamUrlRegexp: '{re}'\n    ecrPrefixName: {prefix}\n"
                ));
            }
            s
        };
        let r = rules(&seed(&[(
            "registry-1.docker.io",
            r"^registry-1\\.docker\\.io/(.*)$",
            "docker-hub",
        )]));
        rewrites!(r, "registry-1.docker.io/library/nginx:1.25" => format!("{E}/docker-hub/library/nginx:1.25"), "regex #1");
        // Docker Hub under any spelling is Docker Hub (a documented difference from the seed).
        rewrites!(r, "nginx:1.25" => format!("{E}/docker-hub/library/nginx:1.25"), "regex #1");
        rewrites!(r, "index.docker.io/bitnami/redis" => format!("{E}/docker-hub/bitnami/redis:latest"), "regex #1");
        let r = rules(&seed(&[(
            "index.docker.io",
            r"^index\\.docker\\.io/(.*)$",
            "docker-hub",
        )]));
        rewrites!(r, "index.docker.io/library/nginx:1.25" => format!("{E}/docker-hub/library/nginx:1.25"), "regex #1");
        let r = rules(&seed(&[
            ("docker.io", r"^docker\\.io/(.*)$", "docker-hub"),
            (
                "registry-1.docker.io",
                r"^registry-1\\.docker\\.io/(.*)$",
                "docker-hub",
            ),
        ]));
        rewrites!(r, "registry-1.docker.io/library/nginx:1.25" => format!("{E}/docker-hub/library/nginx:1.25"), "regex #1");
        refused!(seed(&[("docker.io", r"^docker\\.io/(.*)$", "docker-hub"), ("registry-1.docker.io", r"^registry-1\\.docker\\.io/(.*)$", "hub")])
            => format!("v.yaml: registriesToOverwrite.docker.io: v.yaml: registriesToOverwrite.registry-1.docker.io is the same registry (docker.io; Docker Hub aliases fold into docker.io) with another replacement (\"{E}/docker-hub/${{1}}\", \"{E}/hub/${{1}}\"): keep one"));
        refused!(seed(&[("quay", r"^quay/(.*)$", "quay")])
            => "v.yaml: registriesToOverwrite.quay: \"quay\" is not a registry host[:port] (a key names the registry an image is pulled from; exclude and rules match paths)");
    }

    #[test]
    fn already_mirrored_means_under_the_path() {
        let r = rules("mirror: us-docker.pkg.dev/my-project/cache\nregistries: {us-docker.pkg.dev: gar, docker.io: hub}\n");
        let m = "us-docker.pkg.dev/my-project/cache";
        rewrites!(r, "us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0" => format!("{m}/gar/google-samples/containers/gke/hello-app:1.0"), "registry us-docker.pkg.dev");
        rewrites!(r, "us-docker.pkg.dev/my-project/cachex/y:1" => format!("{m}/gar/my-project/cachex/y:1"), "registry us-docker.pkg.dev");
        rewrites!(r, "us-docker.pkg.dev/my-project/y:1" => format!("{m}/gar/my-project/y:1"), "registry us-docker.pkg.dev");
        rewrites!(r, "nginx" => format!("{m}/hub/library/nginx:latest"), "registry docker.io");
        keeps!(
            r,
            "us-docker.pkg.dev/my-project/cache/hub/library/nginx:latest",
            "already on mirror"
        );
        keeps!(
            r,
            "us-docker.pkg.dev/my-project/cache/anything:1",
            "already on mirror"
        );
        keeps!(
            r,
            "US-Docker.pkg.dev/my-project/cache/anything:1",
            "already on mirror"
        );
        // A full destination with a path is a destination on its path only.
        let r = rules(&format!("mirror: {E}\nregistries: {{quay.io: 'mirror.internal:5000/quay', 'mirror.internal:5000': local}}\n"));
        rewrites!(r, "quay.io/a/b:1" => "mirror.internal:5000/quay/a/b:1", "registry quay.io");
        rewrites!(r, "mirror.internal:5000/other/x:1" => format!("{E}/local/other/x:1"), "registry mirror.internal:5000");
        keeps!(r, "mirror.internal:5000/quay/x:1", "already on mirror");
        keeps!(
            r,
            "mirror.internal:5001/quay/x:1",
            "no rule for mirror.internal:5001"
        );
        // A destination on an upstream registry's path: the rest of that registry is still upstream.
        let r = rules(&format!("mirror: {E}\nregistries: {{ghcr.io: registry-1.docker.io/ghcr-copy, docker.io: hub}}\n"));
        rewrites!(r, "ghcr.io/a/b:1" => "registry-1.docker.io/ghcr-copy/a/b:1", "registry ghcr.io");
        keeps!(r, "docker.io/ghcr-copy/a/b:1", "already on mirror");
        rewrites!(r, "docker.io/ghcr-copyx/a:1" => format!("{E}/hub/ghcr-copyx/a:1"), "registry docker.io");
    }

    #[test]
    fn a_whole_upstream_registry_cannot_be_a_destination() {
        refused!("mirror: quay.io\nregistries: {quay.io: q}\n"
            => "c.yaml: mirror: \"quay.io\" is the whole registry quay.io, so every image of it would count as already mirrored and c.yaml: registries.quay.io could never apply; write to a path under it");
        refused!(format!("mirror: {E}\nregistries: {{docker.io: hub, ghcr.io: registry-1.docker.io}}\n")
            => "c.yaml: registries.ghcr.io: \"registry-1.docker.io\" is the whole registry docker.io, so every image of it would count as already mirrored and c.yaml: registries.docker.io could never apply; write to a path under it");
        refused!(format!("mirror: {E}\nregistries: {{quay.io: quay}}\nrules: [{{match: '^old\\.example\\.com/(.*)$', replace: 'quay.io/$1'}}]\n")
            => "c.yaml: rules[0]: \"quay.io\" is the whole registry quay.io, so every image of it would count as already mirrored and c.yaml: registries.quay.io could never apply; write to a path under it");
    }

    #[test]
    fn rule_output_must_parse() {
        refused!("mirror: m.example.com\nrules: [{match: '^gcr\\.io/(.*)$', replace: 'mirror.example.com//gcr/$1'}]\n"
            => "c.yaml: rules[0]: replacement \"mirror.example.com//gcr/$1\" can never give a valid image reference: no reference starts with \"mirror.example.com//gcr/\" (invalid reference format)");
        refused!("rules: [{match: '^gcr\\.io/(.*)$', replace: 'mirror.example.com/GCR/$1'}]\n"
            => "c.yaml: rules[0]: replacement \"mirror.example.com/GCR/$1\" can never give a valid image reference: no reference starts with \"mirror.example.com/GCR/\" (invalid reference format: repository name (GCR/x/x) must be lowercase)");
        let r = rules("rules: [{match: '^quay\\.io/(.*)$', replace: 'mirror.example.com/quay/$1:mirrored'}]\n");
        fails!(r, "quay.io/a/b:1" => "c.yaml: rules[0]: \"quay.io/a/b:1\" became \"mirror.example.com/quay/a/b:1:mirrored\", which is not a valid image reference (invalid reference format)");
        fails!(r, "quay.io/a/b" => "c.yaml: rules[0]: \"quay.io/a/b\" became \"mirror.example.com/quay/a/b:latest:mirrored\", which is not a valid image reference (invalid reference format)");
        // Unanchored: the replacement's text is not where the output starts, so it is only
        // checked on what it makes.
        let r = rules("rules: [{match: 'gcr\\.io/', replace: 'mirror.example.com//'}]\n");
        fails!(r, "gcr.io/x:1" => "c.yaml: rules[0]: \"gcr.io/x:1\" became \"mirror.example.com//x:1\", which is not a valid image reference (invalid reference format)");
        let r =
            rules("rules: [{match: '^gcr\\.io/(.*)$', replace: 'mirror.example.com/$1@latest'}]\n");
        fails!(r, "gcr.io/x" => "c.yaml: rules[0]: \"gcr.io/x\" became \"mirror.example.com/x:latest@latest\", which is not a valid image reference (invalid reference format)");
        // A `registries` entry can make too long a path.
        let long = "a".repeat(200);
        let r = rules(&format!(
            "mirror: m.example.com/{long}\nregistries: {{docker.io: hub}}\n"
        ));
        let img = format!("docker.io/{}/x:1", "b".repeat(60));
        fails!(r, &img => format!("c.yaml: registries.docker.io: \"{img}\" became \"m.example.com/{long}/hub/{}/x:1\", which is not a valid image reference (repository name must not be more than 255 characters)", "b".repeat(60)));
        // …or too long a reference.
        let host = format!("{}.io", "a".repeat(3900));
        let r = rules(&format!("mirror: {host}\nregistries: {{docker.io: hub}}\n"));
        let (path, tag) = ("b".repeat(150), "t".repeat(128));
        let img = format!("docker.io/{path}:{tag}");
        fails!(r, &img => format!("c.yaml: registries.docker.io: \"{img}\" became \"{host}/hub/library/{path}:{tag}\", which is not a valid image reference (invalid reference format: 4195 bytes is longer than the 4096 accepted)"));
        // Valid outputs pass.
        let r =
            rules("rules: [{match: '^gcr\\.io/(.*)$', replace: 'mirror.example.com/gcr/$1'}]\n");
        rewrites!(r, "gcr.io/x/y:1" => "mirror.example.com/gcr/x/y:1", "regex #1");
        keeps!(r, "mirror.example.com/gcr/x/y:1", "already on mirror");
        keeps!(
            r,
            "mirror.example.com/other/x:1",
            "no rule for mirror.example.com"
        );
    }

    #[test]
    fn rule_output_is_final() {
        // The replacement's literal start is a destination: its outputs are never rewritten,
        // even on a registry another entry rewrites.
        let r = rules(&format!("mirror: {E}\nregistries: {{docker.io: hub}}\nrules: [{{match: '^old\\.example\\.com/(.*)$', replace: 'docker.io/mirrored/$1'}}]\n"));
        rewrites!(r, "old.example.com/a/b:1" => "docker.io/mirrored/a/b:1", "regex #1");
        keeps!(r, "docker.io/mirrored/a/b:1", "already on mirror");
        keeps!(r, "mirrored/a/b:1", "already on mirror");
        rewrites!(r, "docker.io/other/b:1" => format!("{E}/hub/other/b:1"), "registry docker.io");
        let r = rules(&format!("mirror: {E}\nregistries: {{docker.io: hub}}\nrules: [{{match: '^old\\.example\\.com/(.*)$', replace: 'mirrored/$1'}}]\n"));
        rewrites!(r, "old.example.com/a:1" => "mirrored/a:1", "regex #1");
        keeps!(r, "docker.io/mirrored/a:1", "already on mirror");
        // No literal registry in the replacement: the output is decided again, and a rule that
        // would rewrite it is an error, never a second rewrite on the next run.
        let r = rules(&format!("mirror: {E}\nregistries: {{docker.io: hub}}\nrules: [{{match: '^old\\.example\\.com/(.*)$', replace: '$1'}}]\n"));
        fails!(r, "old.example.com/x/y:1" => format!("c.yaml: rules[0]: \"old.example.com/x/y:1\" became \"x/y:1\", which c.yaml: registries.docker.io would rewrite again to \"{E}/hub/x/y:1\"; a rule's output must be final (write it under the mirror or a destination)"));
        let r = rules("rules: [{match: '^old\\.example\\.com/(.*)$', replace: '$1'}, {match: '^docker\\.io/library/(.*)$', replace: 'm.example.com/hub/$1'}]\n");
        fails!(r, "old.example.com/nginx:1" => "c.yaml: rules[0]: \"old.example.com/nginx:1\" became \"nginx:1\", which c.yaml: rules[1] would rewrite again to \"m.example.com/hub/nginx:1\"; a rule's output must be final (write it under the mirror or a destination)");
        // …unless nothing applies to it: then it is final as it is.
        let r = rules("rules: [{match: '^old\\.example\\.com/(.*)$', replace: '$1'}]\n");
        rewrites!(r, "old.example.com/x/y:1" => "x/y:1", "regex #1");
        // Unanchored rules have no destination of their own.
        let r = rules(&format!("mirror: {E}\nregistries: {{docker.io: hub}}\nrules: [{{match: 'old\\.example\\.com/', replace: 'docker.io/mirrored/'}}]\n"));
        fails!(r, "old.example.com/a:1" => format!("c.yaml: rules[0]: \"old.example.com/a:1\" became \"docker.io/mirrored/a:1\", which c.yaml: registries.docker.io would rewrite again to \"{E}/hub/mirrored/a:1\"; a rule's output must be final (write it under the mirror or a destination)"));
    }

    #[test]
    fn anchoring() {
        assert!(anchored_at_start(r"^gcr\.io/(.*)$"));
        assert!(anchored_at_start(r"\Agcr\.io/"));
        assert!(anchored_at_start(r"^(?:gcr|k8s)\.io/(.*)$"));
        assert!(anchored_at_start(r"(?m)^gcr\.io/"));
        assert!(!anchored_at_start(r"gcr\.io/(.*)$"));
        assert!(!anchored_at_start(r"^gcr\.io/|k8s\.gcr\.io/"));
        assert!(!anchored_at_start(r"(^a)?b"));
    }
}
