//! Conformance of this crate (`pullthrough-reference`) with Go's `github.com/distribution/reference`.
//!
//! Runs every vector of `tests/data/reference-vectors.json` (349, transcribed from the
//! upstream tests at 0965666a6ade; see the README there) through the function it names, checks
//! every field the upstream test asserts and the derived ones (normalized form, familiar form,
//! `ParseDockerRef`, exact error texts), and does the same for the `derived_distribution_reference`
//! rows of `peer-vectors.json`. All mismatches are collected and reported together, with vector
//! id, input, expected and actual values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use pullthrough_reference::{grammar, AnyReference, ImageRef, Reference, ReferenceError};
use serde_json::Value;

const REFERENCE_VECTORS: &str = include_str!("data/reference-vectors.json");
const PEER_VECTORS: &str = include_str!("data/peer-vectors.json");

/// Collects mismatches for one vector and remembers which fields were compared.
struct Check<'a> {
    label: String,
    /// How to show the input in a failure (quoted, or the builder arguments).
    input: String,
    /// The raw input, for error texts that quote it.
    raw_input: String,
    failures: &'a mut Vec<String>,
    checked: BTreeSet<&'static str>,
}

impl Check<'_> {
    fn eq<T: PartialEq + Debug>(&mut self, field: &'static str, expected: T, got: T) {
        self.checked.insert(field);
        if expected != got {
            self.failures.push(format!(
                "{} input={}: field `{field}`: expected {expected:?}, got {got:?}",
                self.label, self.input
            ));
        }
    }

    fn fail(&mut self, what: String) {
        self.failures
            .push(format!("{} input={}: {what}", self.label, self.input));
    }

    /// Compares an error with the upstream error *name* in the vector, by exact text.
    fn error(&mut self, field: &'static str, expected_name: &str, got: &ReferenceError) {
        self.checked.insert(field);
        let got_text = got.to_string();
        if !error_matches(expected_name, &self.raw_input, got) {
            self.failures.push(format!(
                "{} input={}: field `{field}`: expected {expected_name} ({:?}), got {got:?} ({got_text:?})",
                self.label,
                self.input,
                error_text(expected_name, &self.raw_input).unwrap_or_default()
            ));
        }
    }

    /// Compares a result with a vector that expects either success (checked by `ok`) or the
    /// error named in `expected_error`.
    fn result<T: Debug>(
        &mut self,
        field: &'static str,
        expected_error: Option<&str>,
        got: &Result<T, ReferenceError>,
        ok: impl FnOnce(&mut Self, &T),
    ) {
        match (expected_error, got) {
            (None, Ok(v)) => {
                self.checked.insert("err");
                ok(self, v)
            }
            (Some(name), Err(e)) => {
                self.checked.insert("err");
                self.error(field, name, e)
            }
            // A mismatch here is the failure for `err` / `error` too; no second report.
            (None, Err(e)) => {
                self.checked.extend(["err", field]);
                self.fail(format!(
                    "`{field}`: expected success, got error {e:?} ({e})"
                ))
            }
            (Some(name), Ok(v)) => {
                self.checked.extend(["err", field]);
                self.fail(format!("`{field}`: expected error {name}, got {v:?}"))
            }
        }
    }
}

/// Upstream's text for an error name from the vectors (`None` for names without a fixed text).
fn error_text(name: &str, input: &str) -> Option<String> {
    Some(
        match name {
            "ErrReferenceInvalidFormat" => "invalid reference format",
            "ErrTagInvalidFormat" => "invalid tag format",
            "ErrDigestInvalidFormat" => "invalid digest format",
            "ErrNameContainsUppercase" => "repository name must be lowercase",
            "ErrNameEmpty" => "repository name must have at least one component",
            "ErrNameTooLong" => "repository name must not be more than 255 characters",
            "ErrNameNotCanonical" => "repository name must be canonical",
            "digest.ErrDigestInvalidFormat" => "invalid checksum digest format",
            "digest.ErrDigestInvalidLength" => "invalid checksum digest length",
            "digest.ErrDigestUnsupported" => "unsupported digest algorithm",
            "path.ErrBadPattern" => "syntax error in pattern",
            "ErrIdentifier64Hex" => {
                return Some(format!(
                    "invalid repository name ({input}), cannot specify 64-byte hexadecimal strings"
                ))
            }
            _ => return None,
        }
        .to_owned(),
    )
}

/// Whether `got` is the error upstream reports under `name`, text included.
fn error_matches(name: &str, input: &str, got: &ReferenceError) -> bool {
    let text = got.to_string();
    if name == "ErrRemoteNameUppercase" {
        // `invalid reference format: repository name (<remote>) must be lowercase`, where
        // <remote> is the repository part of the input (after `library/` is added for bare names).
        let Some(remote) = text
            .strip_prefix("invalid reference format: repository name (")
            .and_then(|t| t.strip_suffix(") must be lowercase"))
        else {
            return false;
        };
        let from_input = input.contains(remote) || format!("library/{input}").starts_with(remote);
        return matches!(got, ReferenceError::RemoteNameUppercase(_))
            && from_input
            && remote.to_lowercase() != remote;
    }
    error_text(name, input).is_some_and(|t| t == text)
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// `""` in the vectors means "absent".
fn opt(v: &Value, key: &str) -> Option<String> {
    s(v, key).filter(|x| !x.is_empty())
}

/// Compares the fields describing a named result (`domain`, `path`, `name`, `tag`, `digest`,
/// `string`) with a `Reference` view of it.
fn check_named(c: &mut Check, v: &Value, r: &Reference) {
    c.eq("domain", s(v, "domain").as_deref(), Some(r.domain()));
    c.eq("path", s(v, "path").as_deref(), Some(r.path()));
    c.eq("name", s(v, "name"), Some(r.name()));
    c.eq("tag", opt(v, "tag").as_deref(), r.tag());
    c.eq("digest", opt(v, "digest").as_deref(), r.digest());
    c.eq("string", s(v, "string"), Some(r.to_string()));
}

fn check_image_ref(c: &mut Check, v: &Value, r: &ImageRef) {
    check_named(c, v, &r.to_reference());
    c.eq(
        "string (round trip)",
        Ok(r.clone()),
        r.to_string().parse::<ImageRef>(),
    );
}

/// The derived columns: `ParseNormalizedNamed`, `FamiliarString` and `ParseDockerRef` of `input`.
fn check_normalized(c: &mut Check, v: &Value, input: &str) {
    if v.get("normalized").is_none() {
        return;
    }
    let normalized = ImageRef::parse_normalized(input);
    let docker_ref = ImageRef::parse_docker_ref(input);
    match s(v, "normalized_err") {
        None => match (&normalized, &docker_ref) {
            (Ok(n), Ok(d)) => {
                c.eq("normalized", s(v, "normalized"), Some(n.to_string()));
                c.eq(
                    "normalized_domain",
                    s(v, "normalized_domain").as_deref(),
                    Some(n.domain()),
                );
                c.eq(
                    "normalized_path",
                    s(v, "normalized_path").as_deref(),
                    Some(n.path()),
                );
                c.eq("familiar", s(v, "familiar"), Some(n.familiar()));
                c.eq("docker_ref", s(v, "docker_ref"), Some(d.to_string()));
                c.eq(
                    "normalized round trip",
                    Ok(n.clone()),
                    n.to_string().parse::<ImageRef>(),
                );
            }
            _ => c.fail(format!(
                "`normalized`: expected success, got {normalized:?} / docker_ref {docker_ref:?}"
            )),
        },
        Some(name) => {
            c.eq(
                "normalized",
                None,
                normalized.as_ref().ok().map(ToString::to_string),
            );
            c.eq("familiar", s(v, "familiar"), None);
            c.eq("docker_ref", s(v, "docker_ref"), None);
            if let Err(e) = &normalized {
                c.error("normalized_err", &name, e);
            }
            if let Err(e) = &docker_ref {
                c.error("normalized_err", &name, e);
            }
        }
    }
}

/// Runs one vector; returns false when its `func` is unknown (counted as skipped).
fn run_vector(c: &mut Check, v: &Value) -> bool {
    let func = v["func"].as_str().unwrap_or_default();
    let input = s(v, "input");
    let inp = input.as_deref().unwrap_or_default();
    let expected_error = if v["err"].as_bool() == Some(true) {
        s(v, "error")
    } else {
        None
    };
    let expected_error = expected_error.as_deref();
    let with_name = s(v, "with_name").unwrap_or_default();

    match func {
        "Parse" => {
            c.result("error", expected_error, &Reference::parse(inp), |c, r| {
                check_named(c, v, r)
            });
        }
        "ParseNormalizedNamed" => {
            c.result(
                "error",
                expected_error,
                &ImageRef::parse_normalized(inp),
                |c, r| check_image_ref(c, v, r),
            );
        }
        "ParseNamed" => {
            c.result(
                "error",
                expected_error,
                &ImageRef::parse_named(inp),
                |c, r| check_image_ref(c, v, r),
            );
        }
        "ParseDockerRef" => {
            c.result(
                "error",
                expected_error,
                &ImageRef::parse_docker_ref(inp),
                |c, r| {
                    check_image_ref(c, v, r);
                    c.eq("docker_ref", s(v, "docker_ref"), Some(r.to_string()));
                },
            );
        }
        "ParseAnyReference" => {
            c.result(
                "error",
                expected_error,
                &AnyReference::parse(inp),
                |c, r| match r {
                    AnyReference::Named(n) => check_image_ref(c, v, n),
                    AnyReference::Digest(d) => {
                        c.eq("domain", s(v, "domain"), Some(String::new()));
                        c.eq("path", s(v, "path"), Some(String::new()));
                        c.eq("digest", s(v, "digest").as_ref(), Some(d));
                        c.eq("string", s(v, "string"), Some(r.to_string()));
                    }
                },
            );
        }
        "FamiliarMatch(ParseAnyReference)" => {
            let pattern = s(v, "pattern").unwrap_or_default();
            match AnyReference::parse(inp) {
                Ok(r) => {
                    if expected_error.is_none() {
                        match &r {
                            AnyReference::Named(n) => check_image_ref(c, v, n),
                            AnyReference::Digest(_) => c.fail("expected a name".into()),
                        }
                    }
                    c.result(
                        "error",
                        expected_error,
                        &r.familiar_match(&pattern),
                        |c, m| c.eq("match", v["match"].as_bool(), Some(*m)),
                    );
                }
                Err(e) => c.fail(format!("ParseAnyReference failed: {e}")),
            }
        }
        "WithName" => {
            c.result(
                "error",
                expected_error,
                &Reference::with_name(inp),
                |c, r| check_named(c, v, r),
            );
        }
        "WithName+WithDigest?+WithTag" | "WithName+WithTag?+WithDigest" => {
            let tag_first = func == "WithName+WithTag?+WithDigest";
            let built = Reference::with_name(&with_name).and_then(|r| {
                let (tag, digest) = (s(v, "with_tag"), s(v, "with_digest"));
                let with_tag = |r: Reference| match &tag {
                    Some(t) => r.with_tag(t),
                    None => Ok(r),
                };
                let with_digest = |r: Reference| match &digest {
                    Some(d) => r.with_digest(d),
                    None => Ok(r),
                };
                if tag_first {
                    with_tag(r).and_then(with_digest)
                } else {
                    with_digest(r).and_then(with_tag)
                }
            });
            c.result("error", expected_error, &built, |c, r| {
                check_named(c, v, r);
                let reparse = Reference::parse(&r.to_string());
                c.result(
                    "reparse_err",
                    s(v, "reparse_err").as_deref(),
                    &reparse,
                    |c, p| c.eq("reparse string", r.to_string(), p.to_string()),
                );
            });
        }
        "ParseNormalizedNamed(busybox)+WithTag" | "ParseNormalizedNamed(busybox)+WithDigest" => {
            let base = ImageRef::parse_normalized(&with_name).expect("busybox parses");
            let (got, got_raw) = if func.ends_with("WithTag") {
                let t = s(v, "with_tag").unwrap_or_default();
                (base.with_tag(&t), base.to_reference().with_tag(&t))
            } else {
                let d = s(v, "with_digest").unwrap_or_default();
                (base.with_digest(&d), base.to_reference().with_digest(&d))
            };
            c.result("error", expected_error, &got, |c, r| {
                c.eq("string", s(v, "string"), Some(r.to_string()))
            });
            c.result("error (Reference)", expected_error, &got_raw, |c, r| {
                c.eq("string", s(v, "string"), Some(r.to_string()))
            });
        }
        "regex:^domainAndPort$" => {
            c.eq(
                "match",
                v["match"].as_bool(),
                Some(grammar::match_domain_and_port(inp)),
            );
        }
        "regex:^identifier$" => {
            c.eq(
                "match",
                v["match"].as_bool(),
                Some(grammar::is_identifier(inp)),
            );
        }
        "regex:anchoredNameRegexp (subs=[domain,path])" => {
            let got = grammar::match_anchored_name(inp);
            c.eq("match", v["match"].as_bool(), Some(got.is_some()));
            let subs: Option<Vec<String>> = serde_json::from_value(v["subs"].clone()).ok();
            c.eq(
                "subs",
                subs,
                got.map(|(d, p)| vec![d.to_owned(), p.to_owned()]),
            );
        }
        "regex:referenceRegexp (subs=[name,tag,digest])" => {
            let got = grammar::match_reference(inp);
            c.eq("match", v["match"].as_bool(), Some(got.is_some()));
            let subs: Option<Vec<String>> = serde_json::from_value(v["subs"].clone()).ok();
            c.eq(
                "subs",
                subs,
                got.map(|m| vec![m.name.to_owned(), m.tag.to_owned(), m.digest.to_owned()]),
            );
        }
        _ => return false,
    }
    if input.is_some() {
        check_normalized(c, v, inp);
    }
    // Every field the upstream test asserts must have been compared above.
    for field in v["asserted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let covered = match field {
            "error" => c.checked.contains("error") || c.checked.contains("normalized_err"),
            f => c.checked.contains(f),
        };
        if !covered {
            c.fail(format!("asserted field `{field}` was not checked"));
        }
    }
    true
}

#[test]
fn distribution_reference_vectors() {
    let json: Value = serde_json::from_str(REFERENCE_VECTORS).expect("vectors parse");
    let vectors = json["vectors"].as_array().expect("vectors array");
    let mut failures = Vec::new();
    let mut per_func: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut skipped = Vec::new();

    for v in vectors {
        let func = v["func"].as_str().unwrap_or_default().to_owned();
        let before = failures.len();
        let mut c = Check {
            label: format!(
                "#{} {func} ({})",
                v["id"],
                v["source"].as_str().unwrap_or_default()
            ),
            input: match (s(v, "input"), s(v, "with_name")) {
                (Some(i), _) => format!("{i:?}"),
                (None, Some(n)) => format!(
                    "with_name={n:?} with_tag={:?} with_digest={:?}",
                    s(v, "with_tag"),
                    s(v, "with_digest")
                ),
                _ => "null".into(),
            },
            raw_input: s(v, "input").unwrap_or_default(),
            failures: &mut failures,
            checked: BTreeSet::new(),
        };
        if !run_vector(&mut c, v) {
            skipped.push(format!("#{} {func}", v["id"]));
            continue;
        }
        let entry = per_func.entry(func).or_default();
        entry.0 += 1;
        entry.1 += usize::from(failures.len() > before);
    }

    let total: usize = per_func.values().map(|(n, _)| n).sum();
    println!("distribution/reference conformance vectors run per func:");
    for (func, (n, failed)) in &per_func {
        println!(
            "  {n:>4} {func}{}",
            if *failed > 0 {
                format!(" ({failed} failing)")
            } else {
                String::new()
            }
        );
    }
    println!("  {total:>4} total, {} skipped", skipped.len());

    assert!(
        skipped.is_empty(),
        "vectors skipped (unknown func): {skipped:#?}"
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(json["count"].as_u64(), Some(349));
    assert_eq!(total, 349, "expected to run all 349 vectors");
}

#[test]
fn peer_derived_distribution_rows() {
    let json: Value = serde_json::from_str(PEER_VECTORS).expect("peer vectors parse");
    let rows = json["derived_distribution_reference"]
        .as_array()
        .expect("rows");
    let mut failures = Vec::new();
    for (i, v) in rows.iter().enumerate() {
        let input = s(v, "input").expect("input");
        let mut c = Check {
            label: format!("peer derived row {i}"),
            input: format!("{input:?}"),
            raw_input: input.clone(),
            failures: &mut failures,
            checked: BTreeSet::new(),
        };
        let expected_error = if v["err"].as_bool() == Some(true) {
            s(v, "error")
        } else {
            None
        };
        c.result(
            "error",
            expected_error.as_deref(),
            &ImageRef::parse_normalized(&input),
            |c, r| {
                c.eq("domain", s(v, "domain").as_deref(), Some(r.domain()));
                c.eq("path", s(v, "path").as_deref(), Some(r.path()));
                c.eq("tag", opt(v, "tag").as_deref(), r.tag());
                c.eq("digest", opt(v, "digest").as_deref(), r.digest());
                c.eq("normalized", s(v, "normalized"), Some(r.to_string()));
                c.eq("familiar", s(v, "familiar"), Some(r.familiar()));
                c.eq(
                    "docker_ref",
                    s(v, "docker_ref"),
                    Some(r.docker_ref().to_string()),
                );
                c.eq(
                    "round trip",
                    Ok(r.clone()),
                    r.to_string().parse::<ImageRef>(),
                );
            },
        );
        let raw = &v["parse_nonnormalizing"];
        c.result(
            "parse_nonnormalizing.err",
            s(raw, "err").as_deref(),
            &Reference::parse(&input),
            |c, r| {
                c.eq(
                    "parse_nonnormalizing.domain",
                    s(raw, "domain").as_deref(),
                    Some(r.domain()),
                );
                c.eq(
                    "parse_nonnormalizing.path",
                    s(raw, "path").as_deref(),
                    Some(r.path()),
                );
                c.eq(
                    "parse_nonnormalizing.tag",
                    opt(raw, "tag").as_deref(),
                    r.tag(),
                );
                c.eq(
                    "parse_nonnormalizing.digest",
                    opt(raw, "digest").as_deref(),
                    r.digest(),
                );
            },
        );
    }
    println!(
        "peer-vectors.json derived_distribution_reference rows run: {}",
        rows.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(rows.len(), 41);
}
