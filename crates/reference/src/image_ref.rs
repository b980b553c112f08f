//! [`ImageRef`]: a reference normalized by `ParseNormalizedNamed`, the form the rewriter works on.
//!
//! Every constructor ends in a value that `ParseNormalizedNamed` would return for its own
//! `Display` text, so `s.parse::<ImageRef>()?.to_string().parse()` always gives the same value:
//! names are validated and must be canonical, tags match the tag grammar, digests pass go-digest.

use std::fmt;
use std::str::FromStr;

use super::normalize::{self, DEFAULT_TAG};
use super::raw::{self, Reference};
use super::{check_input_len, digest, grammar, join_name, pattern, Parts, ReferenceError};

/// A normalized image reference: `domain/path[:tag][@digest]`.
///
/// `domain` is `docker.io` for Docker Hub names (`nginx` → `docker.io/library/nginx`), the registry
/// otherwise. It is empty only in upstream's odd case of a first component that normalization
/// takes for a registry but the grammar cannot read as one (`foo_bar.com/x`); `Display` then
/// prints just the path, as upstream does. Tag and digest are both kept when both are given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// `ParseNormalizedNamed`: applies Docker's familiar-name rules (`docker.io`, `library/`,
    /// `index.docker.io` → `docker.io`), then parses. `registry-1.docker.io` is *not* aliased.
    ///
    /// # Errors
    /// * [`ReferenceError::Identifier64Hex`] for exactly 64 lowercase hex characters;
    /// * [`ReferenceError::RemoteNameUppercase`] when the repository part has uppercase letters;
    /// * every error of [`Reference::parse`] (invalid format, path over 255 bytes, bad digest);
    /// * [`ReferenceError::InputTooLong`] above [`MAX_INPUT_LEN`](super::MAX_INPUT_LEN) bytes.
    pub fn parse_normalized(s: &str) -> Result<ImageRef, ReferenceError> {
        check_input_len(s)?;
        if grammar::is_identifier(s) {
            return Err(ReferenceError::Identifier64Hex(s.to_owned()));
        }
        let (domain, remainder) = normalize::split_docker_domain(s);
        let remote = remainder
            .split_once(':')
            .map_or(remainder.as_str(), |(r, _)| r);
        if normalize::changes_when_lowered(remote) {
            return Err(ReferenceError::RemoteNameUppercase(remote.to_owned()));
        }
        let parsed = raw::parse_unchecked(&format!("{domain}/{remainder}"))?;
        Ok(ImageRef::from_reference(parsed))
    }

    /// `ParseNamed`: [`ImageRef::parse_normalized`], but `s` must already be in canonical form
    /// (`docker.io/library/foo` passes; `foo`, `library/foo`, `docker.io/foo` do not).
    ///
    /// # Errors
    /// Those of [`ImageRef::parse_normalized`], and [`ReferenceError::NameNotCanonical`] when the
    /// normalized text differs from `s`.
    pub fn parse_named(s: &str) -> Result<ImageRef, ReferenceError> {
        let r = ImageRef::parse_normalized(s)?;
        if r.to_string() != s {
            return Err(ReferenceError::NameNotCanonical);
        }
        Ok(r)
    }

    /// `ParseDockerRef`: [`ImageRef::parse_normalized`], then [`ImageRef::docker_ref`] (what
    /// containerd and the kubelet actually pull: digest only, or `:latest` added).
    ///
    /// # Errors
    /// Those of [`ImageRef::parse_normalized`].
    pub fn parse_docker_ref(s: &str) -> Result<ImageRef, ReferenceError> {
        Ok(ImageRef::parse_normalized(s)?.docker_ref())
    }

    /// Registry, e.g. `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// Repository path, e.g. `library/nginx`.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The tag, if one was given (no default is added).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// The digest (`sha256:<64 hex>`), if one was given.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
    /// `domain/path` (upstream `Name()`).
    pub fn name(&self) -> String {
        join_name(&self.domain, &self.path)
    }
    /// Whether a tag was given.
    pub fn has_tag(&self) -> bool {
        self.tag.is_some()
    }
    /// Whether a digest was given.
    pub fn has_digest(&self) -> bool {
        self.digest.is_some()
    }

    /// `FamiliarString`: the short form Docker prints (`docker.io/library/nginx:1` → `nginx:1`,
    /// `docker.io/library/foo/bar` → `library/foo/bar`); other registries are unchanged.
    pub fn familiar(&self) -> String {
        let (domain, path) = normalize::familiarize_name(&self.domain, &self.path);
        Parts {
            domain,
            path,
            tag: self.tag(),
            digest: self.digest(),
        }
        .to_string()
    }

    /// `FamiliarName`: [`ImageRef::familiar`] without tag and digest.
    pub fn familiar_name(&self) -> String {
        let (domain, path) = normalize::familiarize_name(&self.domain, &self.path);
        join_name(domain, path)
    }

    /// `FamiliarMatch`: Go `path.Match` of `pattern` against [`ImageRef::familiar`], then against
    /// [`ImageRef::familiar_name`].
    ///
    /// # Errors
    /// [`ReferenceError::BadPattern`] for a malformed pattern.
    pub fn familiar_match(&self, pattern: &str) -> Result<bool, ReferenceError> {
        if pattern::path_match(pattern, &self.familiar())? {
            return Ok(true);
        }
        Ok(pattern::path_match(pattern, &self.familiar_name()).unwrap_or(false))
    }

    /// The same tag and digest under another name, e.g. the mirror's
    /// `111111111111.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx`.
    ///
    /// The name must be canonical (what [`ImageRef::name`] of a parsed reference would print), so
    /// the result still round-trips: `nginx` or `docker.io/nginx` are refused, not silently
    /// rewritten to `docker.io/library/nginx`.
    ///
    /// # Errors
    /// * [`ReferenceError::InvalidFormat`] unless `domain_and_path` is a bare `[domain/]path`;
    /// * [`ReferenceError::NameTooLong`] when the path exceeds 255 bytes;
    /// * [`ReferenceError::RemoteNameUppercase`] / [`ReferenceError::Identifier64Hex`] as for
    ///   [`ImageRef::parse_normalized`];
    /// * [`ReferenceError::NameNotCanonical`] when normalization would change the name;
    /// * [`ReferenceError::InputTooLong`] for over-long input.
    pub fn with_name(&self, domain_and_path: &str) -> Result<ImageRef, ReferenceError> {
        Reference::with_name(domain_and_path)?;
        let named = ImageRef::parse_normalized(domain_and_path)?;
        if named.name() != domain_and_path {
            return Err(ReferenceError::NameNotCanonical);
        }
        Ok(ImageRef {
            tag: self.tag.clone(),
            digest: self.digest.clone(),
            ..named
        })
    }

    /// `WithTag`: the same reference with `tag` (a digest is kept).
    ///
    /// # Errors
    /// [`ReferenceError::TagInvalidFormat`] unless `tag` is `[\w][\w.-]{0,127}`.
    pub fn with_tag(&self, tag: &str) -> Result<ImageRef, ReferenceError> {
        if !grammar::is_tag(tag) {
            return Err(ReferenceError::TagInvalidFormat);
        }
        Ok(ImageRef {
            tag: Some(tag.to_owned()),
            ..self.clone()
        })
    }

    /// `WithDigest`, plus go-digest's check so the result parses again (upstream's `WithDigest`
    /// alone accepts digests `Parse` rejects). A tag is kept.
    ///
    /// # Errors
    /// [`ReferenceError::DigestInvalidFormat`] unless `digest` is `algorithm:hex{32,}`; then
    /// [`ReferenceError::DigestUnsupported`], [`ReferenceError::ChecksumInvalidLength`] or
    /// [`ReferenceError::ChecksumInvalidFormat`] from go-digest (only sha256, lowercase, 64 hex).
    pub fn with_digest(&self, digest: &str) -> Result<ImageRef, ReferenceError> {
        if !grammar::is_reference_digest(digest) {
            return Err(ReferenceError::DigestInvalidFormat);
        }
        digest::validate(digest)?;
        Ok(ImageRef {
            digest: Some(digest.to_owned()),
            ..self.clone()
        })
    }

    /// The same name and digest without the tag.
    pub fn without_tag(&self) -> ImageRef {
        ImageRef {
            tag: None,
            ..self.clone()
        }
    }

    /// The same name and tag without the digest.
    pub fn without_digest(&self) -> ImageRef {
        ImageRef {
            digest: None,
            ..self.clone()
        }
    }

    /// What `ParseDockerRef` returns for this reference: the digest alone when both tag and
    /// digest are present, `:latest` added when neither is, otherwise unchanged.
    pub fn docker_ref(&self) -> ImageRef {
        match (&self.tag, &self.digest) {
            (Some(_), Some(_)) => self.without_tag(),
            (None, None) => ImageRef {
                tag: Some(DEFAULT_TAG.to_owned()),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// Upstream's syntactic view of the same value.
    pub fn to_reference(&self) -> Reference {
        Reference::from_parts(&self.domain, &self.path, self.tag(), self.digest())
    }

    fn from_reference(r: Reference) -> ImageRef {
        let (domain, path, tag, digest) = r.into_parts();
        ImageRef {
            domain,
            path,
            tag,
            digest,
        }
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;
    /// [`ImageRef::parse_normalized`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse_normalized(s)
    }
}

impl fmt::Display for ImageRef {
    /// `domain/path[:tag][@digest]`, the normalized text (upstream `String()`).
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

impl From<&ImageRef> for Reference {
    fn from(r: &ImageRef) -> Reference {
        r.to_reference()
    }
}
