//! Content digests as `github.com/opencontainers/go-digest` v1.0.0 validates them (`Digest.Validate`).
//!
//! The reference grammar accepts any `algorithm:hex{32,}`; `Parse` then hands the digest to
//! go-digest, which is stricter: the algorithm must be one the program has linked, the hex part
//! must have the algorithm's exact length and be lowercase. Only `sha256` counts as available here,
//! matching the upstream test binary (which imports only `crypto/sha256`), so `sha512:…` is
//! "unsupported" exactly as in the conformance vectors. Registries and Kubernetes use sha256.

use super::ReferenceError;

/// The digest algorithms this build treats as available, with their hex length.
const AVAILABLE: &[(&str, usize)] = &[("sha256", 64)];

/// go-digest's `DigestRegexpAnchored`: `^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`.
/// Only used to choose between "unsupported algorithm" and "invalid format".
fn is_well_formed(s: &str) -> bool {
    let Some((algorithm, encoded)) = s.split_once(':') else {
        return false;
    };
    let lower_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let algorithm_ok = algorithm
        .split(['.', '+', '_', '-'])
        .all(|part| !part.is_empty() && part.bytes().all(lower_alnum));
    let encoded_ok = !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'));
    algorithm_ok && encoded_ok
}

/// `digest.Parse`: checks `s` (`algorithm:encoded`) the way go-digest v1.0.0 does.
///
/// # Errors
/// * [`ReferenceError::ChecksumInvalidFormat`] when there is no algorithm or no encoded part, when
///   an unknown algorithm is not even well-formed, or when the hex is not lowercase `[a-f0-9]`;
/// * [`ReferenceError::DigestUnsupported`] for a well-formed digest whose algorithm is not
///   available (anything but `sha256`);
/// * [`ReferenceError::ChecksumInvalidLength`] when the hex part is not 64 characters for sha256.
pub fn validate(s: &str) -> Result<(), ReferenceError> {
    let i = s.find(':').unwrap_or(0);
    if i == 0 || i + 1 == s.len() {
        return Err(ReferenceError::ChecksumInvalidFormat);
    }
    let (algorithm, encoded) = (&s[..i], &s[i + 1..]);
    let Some(&(_, hex_len)) = AVAILABLE.iter().find(|(name, _)| *name == algorithm) else {
        return Err(if is_well_formed(s) {
            ReferenceError::DigestUnsupported
        } else {
            ReferenceError::ChecksumInvalidFormat
        });
    };
    // go-digest checks the length before the alphabet, so `sha256:` + 34 hex is "length".
    if encoded.len() != hex_len {
        return Err(ReferenceError::ChecksumInvalidLength);
    }
    if !encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ReferenceError::ChecksumInvalidFormat);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_digest_rules() {
        let hex = "e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";
        assert_eq!(validate(&format!("sha256:{hex}")), Ok(()));
        assert_eq!(
            validate(&format!("sha256:{}", hex.to_uppercase())),
            Err(ReferenceError::ChecksumInvalidFormat)
        );
        assert_eq!(
            validate(&format!("sha256:{}", &hex[..34])),
            Err(ReferenceError::ChecksumInvalidLength)
        );
        assert_eq!(
            validate(&format!("sha512:{hex}{hex}")),
            Err(ReferenceError::DigestUnsupported)
        );
        assert_eq!(
            validate(&format!("invaliddigest:{hex}")),
            Err(ReferenceError::DigestUnsupported)
        );
        assert_eq!(
            validate(&format!("Sha256:{hex}")),
            Err(ReferenceError::ChecksumInvalidFormat)
        );
        assert_eq!(
            validate("sha256:"),
            Err(ReferenceError::ChecksumInvalidFormat)
        );
        assert_eq!(validate(":abc"), Err(ReferenceError::ChecksumInvalidFormat));
        assert_eq!(validate("foo"), Err(ReferenceError::ChecksumInvalidFormat));
    }
}
