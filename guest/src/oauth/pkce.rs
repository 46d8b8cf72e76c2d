//! PKCE S256 (RFC 7636) and the OAuth `state`.
//!
//! Entropy is an argument, never drawn here, so every result is reproducible.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;

/// Bytes of entropy accepted for a verifier: base64url of 32..=96 bytes is
/// 43..=128 characters, exactly the lengths RFC 7636 allows.
pub const ENTROPY_RANGE: std::ops::RangeInclusive<usize> = 32..=96;
/// Verifier lengths allowed by RFC 7636 section 4.1.
pub const VERIFIER_RANGE: std::ops::RangeInclusive<usize> = 43..=128;
/// The least entropy accepted for `state` (the Codex CLI uses 32 bytes).
pub const MIN_STATE_ENTROPY: usize = 32;

/// A verifier and its S256 challenge. The verifier is secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PkcePair {
    pub verifier: String,
    pub challenge: String,
}

impl fmt::Debug for PkcePair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PkcePair")
            .field("verifier", &"<redacted>")
            .field("challenge", &self.challenge)
            .finish()
    }
}

/// Why a PKCE value cannot be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PkceError {
    /// Entropy outside [`ENTROPY_RANGE`]; this many bytes were given.
    EntropyLength(u32),
    /// A verifier outside [`VERIFIER_RANGE`]; it has this many characters.
    VerifierLength(u32),
    /// A character outside `[A-Za-z0-9-._~]` at this byte index.
    VerifierCharacter(u32),
}

impl fmt::Display for PkceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EntropyLength(n) => write!(f, "PKCE entropy must be 32 to 96 bytes, got {n}"),
            Self::VerifierLength(n) => {
                write!(f, "a PKCE verifier must be 43 to 128 characters, got {n}")
            }
            Self::VerifierCharacter(i) => {
                write!(f, "a PKCE verifier may hold only [A-Za-z0-9-._~]; index {i} does not")
            }
        }
    }
}

/// A pair whose verifier is base64url-no-pad of `entropy`.
pub fn from_entropy(entropy: &[u8]) -> Result<PkcePair, PkceError> {
    if !ENTROPY_RANGE.contains(&entropy.len()) {
        return Err(PkceError::EntropyLength(count(entropy.len())));
    }
    let verifier = URL_SAFE_NO_PAD.encode(entropy);
    let challenge = challenge(&verifier)?;
    Ok(PkcePair { verifier, challenge })
}

/// The S256 challenge of `verifier`, after checking its length and alphabet.
pub fn challenge(verifier: &str) -> Result<String, PkceError> {
    check_verifier(verifier)?;
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
}

/// Checks a verifier against RFC 7636 section 4.1.
pub fn check_verifier(verifier: &str) -> Result<(), PkceError> {
    if let Some(i) = verifier.bytes().position(|b| !is_unreserved(b)) {
        return Err(PkceError::VerifierCharacter(count(i)));
    }
    if !VERIFIER_RANGE.contains(&verifier.len()) {
        return Err(PkceError::VerifierLength(count(verifier.len())));
    }
    Ok(())
}

/// An OAuth `state` from at least [`MIN_STATE_ENTROPY`] bytes.
pub fn state_from_entropy(entropy: &[u8]) -> Result<String, u32> {
    if entropy.len() < MIN_STATE_ENTROPY {
        return Err(count(entropy.len()));
    }
    Ok(URL_SAFE_NO_PAD.encode(entropy))
}

/// A length or position as the contract's `u32`, saturating.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// RFC 3986 unreserved characters, the PKCE verifier alphabet.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn rfc7636_vector_from_its_entropy() {
        // Appendix B's 32 octets give its verifier.
        let octets = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105,
            214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let pair = from_entropy(&octets).unwrap();
        assert_eq!(pair.verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(pair.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifier_lengths_follow_entropy() {
        assert_eq!(from_entropy(&[7; 32]).unwrap().verifier.len(), 43);
        assert_eq!(from_entropy(&[7; 64]).unwrap().verifier.len(), 86);
        assert_eq!(from_entropy(&[7; 96]).unwrap().verifier.len(), 128);
        assert_eq!(from_entropy(&[7; 31]), Err(PkceError::EntropyLength(31)));
        assert_eq!(from_entropy(&[7; 97]), Err(PkceError::EntropyLength(97)));
    }

    #[test]
    fn verifier_is_checked() {
        assert_eq!(challenge(&"a".repeat(42)), Err(PkceError::VerifierLength(42)));
        assert_eq!(challenge(&"a".repeat(129)), Err(PkceError::VerifierLength(129)));
        let mut bad = "a".repeat(50);
        bad.replace_range(10..11, "+");
        assert_eq!(challenge(&bad), Err(PkceError::VerifierCharacter(10)));
        assert!(challenge(&"-._~".repeat(11)).is_ok());
    }

    #[test]
    fn state_needs_32_bytes() {
        assert_eq!(state_from_entropy(&[1; 31]), Err(31));
        assert_eq!(state_from_entropy(&[1; 32]).unwrap().len(), 43);
    }

    #[test]
    fn debug_hides_the_verifier() {
        let pair = from_entropy(&[9; 32]).unwrap();
        assert!(!format!("{pair:?}").contains(&pair.verifier));
    }
}
