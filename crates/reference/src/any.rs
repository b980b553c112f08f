//! `ParseAnyReference` (a name, or a bare image ID / digest) and `FamiliarMatch` over its result.
//!
//! Docker accepts `docker run <id>` as well as names, so upstream has one parser for both: a
//! 64-hex string is the ID `sha256:<hex>`, anything go-digest accepts is a digest, and the rest
//! goes through `ParseNormalizedNamed`.

use std::fmt;

use super::{check_input_len, digest, grammar, pattern, ImageRef, ReferenceError};

/// What `ParseAnyReference` returns.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AnyReference {
    /// A normalized name, possibly with tag and digest.
    Named(ImageRef),
    /// A bare digest (`sha256:<64 hex>`), validated by go-digest; a 64-hex input gets `sha256:`.
    Digest(String),
}

impl AnyReference {
    /// `ParseAnyReference`.
    ///
    /// # Errors
    /// Those of [`ImageRef::parse_normalized`] when `s` is neither an identifier nor a digest
    /// (a digest that go-digest rejects is tried as a name, like upstream).
    pub fn parse(s: &str) -> Result<AnyReference, ReferenceError> {
        check_input_len(s)?;
        if grammar::is_identifier(s) {
            return Ok(AnyReference::Digest(format!("sha256:{s}")));
        }
        if digest::validate(s).is_ok() {
            return Ok(AnyReference::Digest(s.to_owned()));
        }
        ImageRef::parse_normalized(s).map(AnyReference::Named)
    }

    /// `FamiliarString`: the familiar form of a name, a digest unchanged.
    pub fn familiar(&self) -> String {
        match self {
            AnyReference::Named(r) => r.familiar(),
            AnyReference::Digest(d) => d.clone(),
        }
    }

    /// `FamiliarMatch(pattern, ref)`: Go `path.Match` against [`AnyReference::familiar`], and for
    /// a name also against its familiar name without tag and digest.
    ///
    /// # Errors
    /// [`ReferenceError::BadPattern`] for a malformed pattern.
    pub fn familiar_match(&self, pattern: &str) -> Result<bool, ReferenceError> {
        match self {
            AnyReference::Named(r) => r.familiar_match(pattern),
            AnyReference::Digest(d) => pattern::path_match(pattern, d),
        }
    }
}

impl fmt::Display for AnyReference {
    /// Upstream `String()`: the normalized name, or the digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyReference::Named(r) => r.fmt(f),
            AnyReference::Digest(d) => f.write_str(d),
        }
    }
}
