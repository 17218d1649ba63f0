//! LiveKit access tokens and webhook signatures: HS256 JWTs, minted and verified, `no_std`.
//!
//! This crate does no networking and reads no environment; it never reads the clock
//! either, except in the `*_now` conveniences of the `std` feature. Every time-dependent
//! call takes `now`, in Unix seconds, so behaviour is deterministic and testable.
//!
//! - [`AccessToken`] builds a token's claims and signs them with [`Credentials`]: identity,
//!   name, kind, metadata, attributes, room preset and configuration, and every grant the
//!   server knows ([`VideoGrants`], [`SipGrants`], [`InferenceGrants`],
//!   [`ObservabilityGrants`], [`AgentGrants`], [`AgentEndpointGrants`],
//!   [`AgentThreadGrants`]).
//! - [`TokenVerifier`] checks a token (HS256 only, key chosen by issuer, `exp` required,
//!   60 s leeway) and returns its [`Claims`]; [`TokenVerifier::verify_webhook`] also checks a
//!   webhook body against the token's `sha256` claim.
//! - [`decode_unverified`] reads claims without checking anything, under a name that says so.
//!
//! ```
//! use livekit_auth::{AccessToken, Credentials, TokenVerifier, VideoGrants, body_sha256};
//!
//! let credentials = Credentials::new("APIkey", "a-long-api-secret")?;
//! let now = 1_800_000_000; // Unix seconds, from your clock
//!
//! // A join token for a client.
//! let jwt = AccessToken::new()
//!     .with_identity("alice")
//!     .with_video_grants(VideoGrants::join("my-room"))
//!     .sign(&credentials, now)?;
//!
//! // Verifying a webhook: the raw body and the Authorization header, as received.
//! let body = br#"{"event":"room_started"}"#;
//! let signature = AccessToken::new()
//!     .with_sha256(body_sha256(body))
//!     .sign(&credentials, now)?;
//! let verifier = TokenVerifier::new(credentials);
//! verifier.verify(&jwt, now)?;
//! verifier.verify_webhook(body, &format!("Bearer {signature}"), now)?;
//! # Ok::<(), livekit_auth::Error>(())
//! ```
//!
//! # Features
//!
//! - `std` (default): [`AccessToken::sign_now`], [`TokenVerifier::verify_now`] and
//!   [`TokenVerifier::verify_webhook_now`], which read `SystemTime`. Without it the crate is
//!   `no_std` + `alloc`.
//!
//! # Security
//!
//! API secrets are absorbed into a keyed HMAC state that is wiped on drop and never
//! printed by `Debug`. Signatures and body hashes are compared in constant time. Tokens are
//! minted with `nbf` equal to `now`, never backdated.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod credentials;
mod error;
mod grants;
mod jwt;
mod token;
mod verify;
mod wire;

// The README's example is compiled as a doctest, so that it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use credentials::{Credentials, KeyProvider};
pub use error::{Error, Segment};
pub use grants::{
    AgentEndpointGrants, AgentGrants, AgentThreadGrants, ClaimGrants, Claims, InferenceGrants,
    ObservabilityGrants, ParticipantKind, SipGrants, TrackSource, VideoGrants,
};
pub use token::{AccessToken, DEFAULT_TTL};
pub use verify::{
    DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, TokenVerifier, body_sha256, decode_unverified,
};

/// The system clock in Unix seconds; a clock before 1970 reads as 0.
#[cfg(feature = "std")]
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
