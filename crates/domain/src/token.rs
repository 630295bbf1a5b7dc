//! Random bearer tokens: invitation links, session ids and CSRF tokens.
//!
//! 256 bits from the caller's cryptographic generator (the OS source in production), sent as
//! unpadded base64url (RFC 4648 §5) and stored only as a SHA-256 digest, so a copy of the
//! database does not hold a single usable link or session.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

const TOKEN_BYTES: usize = 32;
/// Length of the base64url text of [`TOKEN_BYTES`] bytes.
const TOKEN_CHARS: usize = 43;

/// A token as the user holds it. Not `Debug`/`Display`, so it cannot end up in a log line
/// by accident; `expose` is the one way to its text.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// What the database keeps of a token.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TokenHash(pub [u8; 32]);

impl Token {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Token {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill_bytes(&mut bytes);
        Token(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts only text that could be a token we issued: anything else (a link cut short by a
    /// mail program, an altered character that is not base64url) is refused without a lookup.
    pub fn parse(text: &str) -> Option<Token> {
        let decoded = URL_SAFE_NO_PAD.decode(text).ok()?;
        (text.len() == TOKEN_CHARS && decoded.len() == TOKEN_BYTES).then(|| Token(text.to_owned()))
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with text from a request (ASVS V3.5: CSRF tokens).
    pub fn matches(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0.len() == candidate.len() && bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn tokens_carry_256_bits_and_round_trip() {
        let mut rng = StdRng::seed_from_u64(7);
        let token = Token::generate(&mut rng);
        assert_eq!(token.expose().len(), TOKEN_CHARS);
        assert!(Token::parse(token.expose()) == Some(token.clone()));
        assert_ne!(token.expose(), Token::generate(&mut rng).expose());
    }

    #[test]
    fn malformed_text_is_not_a_token() {
        let mut rng = StdRng::seed_from_u64(7);
        let text = Token::generate(&mut rng).expose().to_owned();
        assert!(Token::parse(&text[..42]).is_none(), "cut short");
        assert!(Token::parse(&format!("{text}A")).is_none(), "too long");
        assert!(
            Token::parse(&text.replacen(&text[..1], "+", 1)).is_none(),
            "not base64url"
        );
        assert!(Token::parse("").is_none());
    }

    #[test]
    fn hash_is_sha256_of_the_text() {
        let token = Token::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        let expected: [u8; 32] = Sha256::digest(token.expose().as_bytes()).into();
        assert_eq!(token.hash(), TokenHash(expected));
    }

    #[test]
    fn matches_compares_whole_tokens() {
        let mut rng = StdRng::seed_from_u64(1);
        let token = Token::generate(&mut rng);
        assert!(token.matches(token.expose()));
        assert!(!token.matches(&token.expose()[..42]));
        assert!(!token.matches(""));
    }
}
