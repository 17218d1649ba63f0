//! Verifying tokens and webhook signatures.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::credentials::{self, KeyProvider};
use crate::{Claims, Error, jwt};

/// How far `exp` and `nbf` may be off, in seconds, as the LiveKit server allows.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

/// The longest token accepted by default, in bytes. Real tokens are a few hundred bytes;
/// a room configuration with many agents can reach a few kilobytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 64 * 1024;

/// Verifies LiveKit tokens: HS256 only, keys chosen by issuer, `exp` required.
///
/// ```
/// use livekit_auth::{AccessToken, Credentials, Error, TokenVerifier};
///
/// let credentials = Credentials::new("APIkey", "my-secret")?;
/// let jwt = AccessToken::new().with_identity("bot").sign(&credentials, 1_000)?;
/// let verifier = TokenVerifier::new(credentials);
///
/// assert_eq!(verifier.verify(&jwt, 1_000)?.grants.identity, "bot");
/// let six_hours_later = 1_000 + 6 * 3600 + 61;
/// assert!(matches!(verifier.verify(&jwt, six_hours_later), Err(Error::Expired { .. })));
/// # Ok::<(), livekit_auth::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TokenVerifier<P> {
    keys: P,
    leeway_secs: u64,
    max_token_len: usize,
}

impl<P: KeyProvider> TokenVerifier<P> {
    /// A verifier that looks keys up in `keys`: one [`Credentials`](crate::Credentials), a
    /// list or a map of them, or any [`KeyProvider`].
    pub fn new(keys: P) -> Self {
        Self {
            keys,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
        }
    }

    /// Sets the clock-skew leeway applied to `exp` and `nbf` (default 60 s).
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway_secs = seconds;
        self
    }

    /// Sets the longest token accepted, in bytes (default 64 KiB).
    pub fn with_max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// The key provider.
    pub fn keys(&self) -> &P {
        &self.keys
    }

    /// Verifies `token` at `now` (Unix seconds) and returns its claims.
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, Error> {
        let parsed = jwt::parse(token, self.max_token_len)?;
        let claims = parsed.claims;
        if claims.issuer.is_empty() {
            return Err(Error::MissingIssuer);
        }
        let credentials = self
            .keys
            .credentials(&claims.issuer)
            .ok_or_else(|| Error::UnknownIssuer(claims.issuer.clone()))?;
        if !credentials::verify(
            credentials,
            parsed.signing_input.as_bytes(),
            &parsed.signature,
        ) {
            return Err(Error::InvalidSignature);
        }
        let exp = claims.expires_at.ok_or(Error::MissingExpiry)?;
        if now > exp.saturating_add(self.leeway_secs) {
            return Err(Error::Expired { exp, now });
        }
        if let Some(nbf) = claims.not_before
            && now.saturating_add(self.leeway_secs) < nbf
        {
            return Err(Error::NotYetValid { nbf, now });
        }
        Ok(claims)
    }

    /// Verifies `token` at the current system time.
    #[cfg(feature = "std")]
    pub fn verify_now(&self, token: &str) -> Result<Claims, Error> {
        self.verify(token, crate::unix_now())
    }

    /// Verifies a webhook: `authorization` is the request's `Authorization` header value
    /// (with or without `Bearer `), `body` the raw request body, byte for byte as received.
    ///
    /// The token must verify and its `sha256` claim must equal the standard base64 of the
    /// body's SHA-256; both comparisons are constant time. Decoding the event itself is left
    /// to the caller (the protocol types live in `livekit-proto`).
    ///
    /// A JSON body parser in front of this call (one that re-serializes the body) breaks
    /// verification: the hash covers the exact bytes the server sent.
    pub fn verify_webhook(
        &self,
        body: &[u8],
        authorization: &str,
        now: u64,
    ) -> Result<Claims, Error> {
        let token = strip_bearer(authorization.trim());
        if token.is_empty() {
            return Err(Error::MissingAuthorization);
        }
        let claims = self.verify(token, now)?;
        let claimed = claims
            .grants
            .sha256
            .as_deref()
            .ok_or(Error::MissingBodyHash)?;
        let mut claimed_hash = [0u8; 32];
        let decoded = base64::engine::general_purpose::STANDARD
            .decode_slice(claimed, &mut claimed_hash)
            .map_err(|_| Error::BodyHashMismatch)?;
        let actual: [u8; 32] = Sha256::digest(body).into();
        if decoded != 32 || !bool::from(actual.ct_eq(&claimed_hash)) {
            return Err(Error::BodyHashMismatch);
        }
        Ok(claims)
    }

    /// Verifies a webhook at the current system time.
    #[cfg(feature = "std")]
    pub fn verify_webhook_now(&self, body: &[u8], authorization: &str) -> Result<Claims, Error> {
        self.verify_webhook(body, authorization, crate::unix_now())
    }
}

/// The standard base64 of the SHA-256 of `body`: the `sha256` claim of a webhook token.
pub fn body_sha256(body: &[u8]) -> alloc::string::String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body))
}

/// The token of an `Authorization` value: `Bearer <token>` (any case) or the bare token.
fn strip_bearer(value: &str) -> &str {
    match (value.get(..6), value.get(6..)) {
        (Some(scheme), Some(rest))
            if scheme.eq_ignore_ascii_case("bearer")
                && (rest.is_empty() || rest.starts_with(char::is_whitespace)) =>
        {
            rest.trim_start()
        }
        _ => value,
    }
}

/// Decodes a token's claims **without verifying anything**: not the signature, not the
/// times, not the issuer. Only for inspecting tokens whose origin is already trusted, or for
/// showing what a rejected token claimed.
pub fn decode_unverified(token: &str) -> Result<Claims, Error> {
    Ok(jwt::parse(token, DEFAULT_MAX_TOKEN_LEN)?.claims)
}
