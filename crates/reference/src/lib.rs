//! Image references, parsed and normalized exactly like Go's `github.com/distribution/reference`
//! (commit 0965666a6ade, behaviour of v0.6.0) with go-digest v1.0.0 digest checks.
//!
//! Container runtimes decide where an image comes from with that library, so the rewriter must
//! read `nginx`, `docker.io/nginx`, `index.docker.io/library/nginx:1.25@sha256:…` the same way:
//!
//! * [`ImageRef`] is the normalized reference the rest of the crate uses (`ParseNormalizedNamed`);
//!   its `FromStr`/`Display` round-trip;
//! * [`Reference`] is upstream's purely syntactic layer (`Parse`, `WithName`, `WithTag`,
//!   `WithDigest`), kept separate because it can hold names that normalization would change and
//!   digests go-digest would reject (upstream's `WithDigest` only checks the grammar);
//! * [`AnyReference`] is `ParseAnyReference` (a name or a bare digest) and `FamiliarMatch`.
//!
//! The grammar is hand-written ([`grammar`]), digests are checked in [`digest`], Docker Hub's
//! naming heuristics live in `normalize`, and Go's `path.Match` in [`pattern`]. [`Location`]
//! (`host[:port][/path]`, a mirror or destination) is read with the same parser. Every entry point
//! refuses input longer than [`MAX_INPUT_LEN`] bytes before looking at it.

pub mod digest;
pub mod grammar;
pub mod pattern;

mod any;
mod image_ref;
pub mod location;
mod normalize;
mod raw;

#[cfg(test)]
mod tests;

pub use any::AnyReference;
pub use grammar::MAX_INPUT_LEN;
pub use image_ref::ImageRef;
pub use location::{Location, LocationError};
pub use normalize::{DEFAULT_DOMAIN, DEFAULT_TAG, LEGACY_DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX};
pub use raw::Reference;

/// Longest repository path (`RepositoryNameTotalLengthMax`). Since v0.6.0 it counts the path only,
/// not the domain: `example.com/` + 255 × `a` is valid.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not an image reference. The texts are the ones distribution/reference and
/// go-digest print, so error messages read the same as Docker's and containerd's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// `ErrReferenceInvalidFormat`: the string does not match the reference grammar.
    #[error("invalid reference format")]
    InvalidFormat,
    /// `ErrTagInvalidFormat`: `WithTag` got something that is not `[\w][\w.-]{0,127}`.
    #[error("invalid tag format")]
    TagInvalidFormat,
    /// `ErrDigestInvalidFormat` (the reference package's own): `WithDigest` got something that is
    /// not `algorithm:hex{32,}`.
    #[error("invalid digest format")]
    DigestInvalidFormat,
    /// `ErrNameContainsUppercase`: `Parse` input that would parse if it were lowercase.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// `ErrNameEmpty`: `Parse("")`.
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// `ErrNameTooLong`: the path (not the domain) is longer than [`NAME_TOTAL_LENGTH_MAX`].
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// `ErrNameNotCanonical`: `ParseNamed` input that normalization would change.
    #[error("repository name must be canonical")]
    NameNotCanonical,
    /// `ParseNormalizedNamed`'s check on the repository part (domain stripped, tag left off).
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    RemoteNameUppercase(String),
    /// `ParseNormalizedNamed` of exactly 64 lowercase hex characters, which is an image ID.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    Identifier64Hex(String),
    /// go-digest `ErrDigestInvalidFormat`: malformed digest, or hex that is not lowercase.
    #[error("invalid checksum digest format")]
    ChecksumInvalidFormat,
    /// go-digest `ErrDigestInvalidLength`: hex part of the wrong length for its algorithm.
    #[error("invalid checksum digest length")]
    ChecksumInvalidLength,
    /// go-digest `ErrDigestUnsupported`: an algorithm other than sha256.
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
    /// Go's `path.ErrBadPattern`, from [`AnyReference::familiar_match`].
    #[error("syntax error in pattern")]
    BadPattern,
    /// Not upstream: the input is longer than [`MAX_INPUT_LEN`] bytes and was not parsed.
    #[error("invalid reference format: {0} bytes is longer than the {max} accepted", max = MAX_INPUT_LEN)]
    InputTooLong(usize),
}

/// Refuses over-long input before any parsing.
fn check_input_len(s: &str) -> Result<(), ReferenceError> {
    if s.len() > MAX_INPUT_LEN {
        return Err(ReferenceError::InputTooLong(s.len()));
    }
    Ok(())
}

/// Upstream's `String()` of a reference's parts: `[domain/]path[:tag][@digest]` (no `/` when the
/// domain is empty).
struct Parts<'a> {
    domain: &'a str,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

impl std::fmt::Display for Parts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.domain.is_empty() {
            write!(f, "{}/", self.domain)?;
        }
        f.write_str(self.path)?;
        if let Some(t) = self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// `domain/path`, or just `path` without a domain (upstream's `Name()`).
fn join_name(domain: &str, path: &str) -> String {
    if domain.is_empty() {
        path.to_owned()
    } else {
        format!("{domain}/{path}")
    }
}
