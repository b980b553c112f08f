//! Upstream's syntactic layer (`reference.go`): `Parse`, `WithName`, `WithTag`, `WithDigest`.
//!
//! Nothing here applies Docker Hub's defaults: `Parse("nginx")` has no domain and path `nginx`,
//! and `Parse("library/nginx")` has *domain* `library`, because the grammar reads any first
//! component that looks like a host as one. The rewriter wants [`ImageRef`](super::ImageRef);
//! this type exists for the conformance vectors and for callers that need upstream's exact
//! non-normalizing behaviour.

use std::fmt;

use super::{
    check_input_len, digest, grammar, join_name, normalize, Parts, ReferenceError,
    NAME_TOTAL_LENGTH_MAX,
};

/// A syntactically valid reference as `Parse`/`WithName` build it: `[domain/]path[:tag][@digest]`,
/// `domain` possibly empty. Fields are private; values come only from the constructors below.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// `Parse`: checks `s` against the grammar without normalizing it.
    ///
    /// # Errors
    /// * [`ReferenceError::NameEmpty`] for `""`;
    /// * [`ReferenceError::NameContainsUppercase`] when the lowercased input would have parsed;
    /// * [`ReferenceError::InvalidFormat`] for anything else the grammar rejects;
    /// * [`ReferenceError::NameTooLong`] when the path exceeds 255 bytes;
    /// * go-digest's errors ([`ReferenceError::ChecksumInvalidFormat`],
    ///   [`ReferenceError::ChecksumInvalidLength`], [`ReferenceError::DigestUnsupported`]) for a
    ///   digest that matches the grammar but not go-digest;
    /// * [`ReferenceError::InputTooLong`] above [`MAX_INPUT_LEN`](super::MAX_INPUT_LEN) bytes.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        check_input_len(s)?;
        parse_unchecked(s)
    }

    /// `WithName`: a bare name (no tag, no digest), split into domain and path by the grammar.
    ///
    /// # Errors
    /// [`ReferenceError::InvalidFormat`] when `name` is not `[domain/]path` (a tag or digest
    /// included), [`ReferenceError::NameTooLong`] when the path exceeds 255 bytes,
    /// [`ReferenceError::InputTooLong`] for over-long input.
    pub fn with_name(name: &str) -> Result<Reference, ReferenceError> {
        check_input_len(name)?;
        let (domain, path) =
            grammar::match_anchored_name(name).ok_or(ReferenceError::InvalidFormat)?;
        if path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        Ok(Reference {
            domain: domain.to_owned(),
            path: path.to_owned(),
            tag: None,
            digest: None,
        })
    }

    /// `WithTag`: the same name with `tag` (a digest is kept).
    ///
    /// # Errors
    /// [`ReferenceError::TagInvalidFormat`] unless `tag` is `[\w][\w.-]{0,127}`.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !grammar::is_tag(tag) {
            return Err(ReferenceError::TagInvalidFormat);
        }
        Ok(Reference {
            tag: Some(tag.to_owned()),
            ..self.clone()
        })
    }

    /// `WithDigest`: the same name with `digest` (a tag is kept). Like upstream this checks only
    /// the reference grammar, so `sha256:` + 37 hex is accepted here although
    /// [`Reference::parse`] of the result fails; [`ImageRef::with_digest`](super::ImageRef::with_digest)
    /// also applies go-digest.
    ///
    /// # Errors
    /// [`ReferenceError::DigestInvalidFormat`] unless `digest` is `algorithm:hex{32,}`.
    pub fn with_digest(&self, digest: &str) -> Result<Reference, ReferenceError> {
        if !grammar::is_reference_digest(digest) {
            return Err(ReferenceError::DigestInvalidFormat);
        }
        Ok(Reference {
            digest: Some(digest.to_owned()),
            ..self.clone()
        })
    }

    /// The registry part, `""` when the grammar found none.
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// The repository path.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// `[domain/]path` (upstream `Name()`).
    pub fn name(&self) -> String {
        join_name(&self.domain, &self.path)
    }
    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// The digest, if any, as written.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Used by [`ImageRef`](super::ImageRef), whose values all come from here.
    pub(super) fn into_parts(self) -> (String, String, Option<String>, Option<String>) {
        (self.domain, self.path, self.tag, self.digest)
    }

    /// The inverse of [`Reference::into_parts`], for values [`ImageRef`](super::ImageRef) has
    /// already validated.
    pub(super) fn from_parts(
        domain: &str,
        path: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> Reference {
        Reference {
            domain: domain.to_owned(),
            path: path.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        }
    }
}

/// `Parse` without the input-length guard; `ParseNormalizedNamed` prepends up to
/// `docker.io/library/` to input that already passed the guard.
pub(super) fn parse_unchecked(s: &str) -> Result<Reference, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError::NameEmpty);
    }
    let Some(m) = grammar::match_reference(s) else {
        let lowered = normalize::go_to_lower(s);
        if lowered != s && grammar::match_reference(&lowered).is_some() {
            return Err(ReferenceError::NameContainsUppercase);
        }
        return Err(ReferenceError::InvalidFormat);
    };
    // Upstream re-splits the captured name with anchoredNameRegexp rather than reusing the
    // reference regex's groups; doing the same keeps the domain/path split identical.
    let (domain, path) = grammar::match_anchored_name(m.name).unwrap_or(("", m.name));
    if path.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong);
    }
    let digest = if m.digest.is_empty() {
        None
    } else {
        digest::validate(m.digest)?;
        Some(m.digest.to_owned())
    };
    Ok(Reference {
        domain: domain.to_owned(),
        path: path.to_owned(),
        tag: (!m.tag.is_empty()).then(|| m.tag.to_owned()),
        digest,
    })
}

impl fmt::Display for Reference {
    /// Upstream `String()`: `[domain/]path[:tag][@digest]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Parts {
            domain: &self.domain,
            path: &self.path,
            tag: self.tag(),
            digest: self.digest(),
        }
        .fmt(f)
    }
}
