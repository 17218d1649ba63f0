//! The crate's one error type.

use alloc::string::String;
use core::fmt;

/// The part of a token a decoding error was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Segment {
    /// The JOSE header, the first segment.
    Header,
    /// The claims, the second segment.
    Payload,
    /// The signature, the third segment.
    Signature,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
        })
    }
}

/// Everything that can go wrong when minting or verifying a token or a webhook signature.
///
/// Variants are grouped by phase: configuring credentials, minting, decoding a token's
/// bytes, verifying its signature and times, and checking a webhook body. No variant ever
/// carries a secret or a whole token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // --- configuration ---
    /// The API key is empty.
    EmptyApiKey,
    /// The API secret is empty.
    EmptyApiSecret,

    // --- minting ---
    /// The token's time to live is zero.
    ZeroTtl,
    /// `now + ttl` does not fit in a Unix timestamp.
    TimeOverflow,
    /// A `roomJoin` grant was given without an identity.
    JoinWithoutIdentity,
    /// A `roomJoin` grant was given without a room.
    JoinWithoutRoom,
    /// The room configuration given for the `roomConfig` claim is not a JSON object.
    RoomConfigNotObject,

    // --- decoding ---
    /// The token is longer than the verifier accepts.
    TokenTooLarge {
        /// Length of the token, in bytes.
        len: usize,
        /// The verifier's limit, in bytes.
        max: usize,
    },
    /// The token does not have exactly three dot-separated segments.
    MalformedToken {
        /// How many segments were found.
        segments: usize,
    },
    /// A segment is not valid unpadded base64url.
    InvalidBase64(Segment),
    /// The header or payload is not the JSON a LiveKit token holds.
    InvalidJson {
        /// Which segment failed to parse.
        segment: Segment,
        /// The JSON parser's message.
        detail: String,
    },

    // --- verification ---
    /// The header names an algorithm other than HS256 (`none`, HS384, RS256, ...).
    UnsupportedAlgorithm(String),
    /// The token has no `iss` claim, so no key can be chosen.
    MissingIssuer,
    /// No key is known for the token's issuer (the API key it names).
    UnknownIssuer(String),
    /// The signature does not match the token under the issuer's secret.
    InvalidSignature,
    /// The token has no `exp` claim; LiveKit tokens always expire.
    MissingExpiry,
    /// The token expired (beyond the leeway).
    Expired {
        /// The token's `exp`, Unix seconds.
        exp: u64,
        /// The time it was checked at, Unix seconds.
        now: u64,
    },
    /// The token is not valid yet (its `nbf` is beyond the leeway in the future).
    NotYetValid {
        /// The token's `nbf`, Unix seconds.
        nbf: u64,
        /// The time it was checked at, Unix seconds.
        now: u64,
    },

    // --- webhooks ---
    /// The webhook request had no `Authorization` header value.
    MissingAuthorization,
    /// The webhook token carries no `sha256` claim.
    MissingBodyHash,
    /// The body's SHA-256 does not match the token's `sha256` claim.
    BodyHashMismatch,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyApiKey => f.write_str("api key is empty"),
            Self::EmptyApiSecret => f.write_str("api secret is empty"),
            Self::ZeroTtl => f.write_str("token ttl is zero"),
            Self::TimeOverflow => f.write_str("token expiry overflows a unix timestamp"),
            Self::JoinWithoutIdentity => {
                f.write_str("identity must be set when the token grants roomJoin")
            }
            Self::JoinWithoutRoom => f.write_str("room must be set when the token grants roomJoin"),
            Self::RoomConfigNotObject => f.write_str("room configuration must be a json object"),
            Self::TokenTooLarge { len, max } => {
                write!(f, "token is {len} bytes, more than the {max} accepted")
            }
            Self::MalformedToken { segments } => {
                write!(f, "token has {segments} segments, a jwt has 3")
            }
            Self::InvalidBase64(segment) => write!(f, "token {segment} is not valid base64url"),
            Self::InvalidJson { segment, detail } => {
                write!(f, "token {segment} is not valid json: {detail}")
            }
            Self::UnsupportedAlgorithm(alg) => {
                write!(f, "token algorithm {alg:?} is not accepted, only HS256")
            }
            Self::MissingIssuer => f.write_str("token has no issuer (iss)"),
            Self::UnknownIssuer(issuer) => write!(f, "no key is known for issuer {issuer:?}"),
            Self::InvalidSignature => f.write_str("token signature does not match"),
            Self::MissingExpiry => f.write_str("token has no expiry (exp)"),
            Self::Expired { exp, now } => write!(f, "token expired at {exp} (now {now})"),
            Self::NotYetValid { nbf, now } => write!(f, "token not valid before {nbf} (now {now})"),
            Self::MissingAuthorization => f.write_str("webhook has no authorization header"),
            Self::MissingBodyHash => f.write_str("webhook token has no sha256 claim"),
            Self::BodyHashMismatch => f.write_str("webhook body does not match the token's sha256"),
        }
    }
}

impl core::error::Error for Error {}
