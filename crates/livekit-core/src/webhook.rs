//! Receiving webhooks: verify the signature, then decode the event.

use std::fmt;

use livekit_auth::{KeyProvider, TokenVerifier};

/// The largest webhook body accepted by default: 1 MiB. The server's events are a few
/// kilobytes; anything far larger is refused before it is hashed or parsed.
pub const DEFAULT_MAX_WEBHOOK_BODY_LEN: usize = 1024 * 1024;

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request had no `Authorization` header.
    MissingAuthorization,
    /// The token names an API key this receiver does not know.
    UnknownKey(String),
    /// The token is malformed, expired, or its signature does not match.
    InvalidToken(livekit_auth::Error),
    /// The token carries no body hash.
    MissingBodyHash,
    /// The body is not the one the token vouches for.
    BodyHashMismatch,
    /// The body is larger than the receiver accepts; it was neither hashed nor parsed.
    BodyTooLarge {
        /// Length of the body, in bytes.
        len: usize,
        /// The receiver's limit, in bytes.
        max: usize,
    },
    /// The body verified but is not a webhook event.
    InvalidBody {
        /// The JSON decoder's message.
        message: String,
    },
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingAuthorization => f.write_str("webhook has no authorization header"),
            Self::UnknownKey(key) => write!(f, "webhook signed with unknown api key {key:?}"),
            Self::InvalidToken(error) => write!(f, "webhook token rejected: {error}"),
            Self::MissingBodyHash => f.write_str("webhook token has no body hash"),
            Self::BodyHashMismatch => f.write_str("webhook body does not match its signature"),
            Self::BodyTooLarge { len, max } => {
                write!(
                    f,
                    "webhook body is {len} bytes, more than the {max} accepted"
                )
            }
            Self::InvalidBody { message } => write!(f, "webhook body is not an event: {message}"),
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidToken(error) => Some(error),
            _ => None,
        }
    }
}

/// The kind of a webhook event; names this version does not know are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookEventKind {
    /// `room_started`
    RoomStarted,
    /// `room_finished`
    RoomFinished,
    /// `participant_joined`
    ParticipantJoined,
    /// `participant_left`
    ParticipantLeft,
    /// `participant_connection_aborted`
    ParticipantConnectionAborted,
    /// `track_published`
    TrackPublished,
    /// `track_unpublished`
    TrackUnpublished,
    /// `egress_started`
    EgressStarted,
    /// `egress_updated`
    EgressUpdated,
    /// `egress_ended`
    EgressEnded,
    /// `ingress_started`
    IngressStarted,
    /// `ingress_ended`
    IngressEnded,
    /// Any other event name, verbatim.
    Other(String),
}

impl WebhookEventKind {
    /// Reads an event name as the server writes it.
    pub fn parse(name: &str) -> Self {
        match name {
            "room_started" => Self::RoomStarted,
            "room_finished" => Self::RoomFinished,
            "participant_joined" => Self::ParticipantJoined,
            "participant_left" => Self::ParticipantLeft,
            "participant_connection_aborted" => Self::ParticipantConnectionAborted,
            "track_published" => Self::TrackPublished,
            "track_unpublished" => Self::TrackUnpublished,
            "egress_started" => Self::EgressStarted,
            "egress_updated" => Self::EgressUpdated,
            "egress_ended" => Self::EgressEnded,
            "ingress_started" => Self::IngressStarted,
            "ingress_ended" => Self::IngressEnded,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A verified, decoded webhook.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event's kind, typed.
    pub kind: WebhookEventKind,
    /// The event as the server sent it.
    pub event: livekit_proto::WebhookEvent,
}

/// Verifies and decodes the webhooks a LiveKit server POSTs.
///
/// Give it the raw body bytes exactly as received and the `Authorization` header value. A
/// framework that parses JSON before you see the body breaks verification, since the
/// signature covers the exact bytes: in axum take `body: axum::body::Bytes`, in hyper
/// collect the `Incoming` body to bytes, and never a `Json<...>` extractor.
///
/// ```
/// use livekit_auth::{AccessToken, Credentials, body_sha256};
/// use livekit_core::{WebhookEventKind, WebhookReceiver};
///
/// let credentials = Credentials::new("APIkey", "secret")?;
/// let body = br#"{"event":"room_started","room":{"name":"r"},"id":"EV_1","createdAt":"1700000000"}"#;
/// let token = AccessToken::new().with_sha256(body_sha256(body)).sign(&credentials, 1_700_000_000)?;
///
/// let receiver = WebhookReceiver::new(credentials);
/// let event = receiver.receive(body, Some(&token), 1_700_000_000)?;
/// assert_eq!(event.kind, WebhookEventKind::RoomStarted);
/// assert_eq!(event.event.created_at, 1_700_000_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookReceiver<P> {
    verifier: TokenVerifier<P>,
    max_body_len: usize,
}

impl<P: KeyProvider> WebhookReceiver<P> {
    /// A receiver that accepts webhooks signed with any key `keys` knows.
    pub fn new(keys: P) -> Self {
        Self::with_verifier(TokenVerifier::new(keys))
    }

    /// A receiver with a configured verifier (leeway, token size limit).
    pub fn with_verifier(verifier: TokenVerifier<P>) -> Self {
        Self {
            verifier,
            max_body_len: DEFAULT_MAX_WEBHOOK_BODY_LEN,
        }
    }

    /// Sets the largest body accepted, in bytes (default 1 MiB).
    pub fn with_max_body_len(mut self, bytes: usize) -> Self {
        self.max_body_len = bytes;
        self
    }

    /// Verifies `body` against the `authorization` header value at `now` (Unix seconds) and
    /// decodes the event.
    pub fn receive(
        &self,
        body: &[u8],
        authorization: Option<&str>,
        now: u64,
    ) -> Result<WebhookEvent, WebhookError> {
        let authorization = authorization
            .filter(|value| !value.trim().is_empty())
            .ok_or(WebhookError::MissingAuthorization)?;
        if body.len() > self.max_body_len {
            return Err(WebhookError::BodyTooLarge {
                len: body.len(),
                max: self.max_body_len,
            });
        }
        self.verifier
            .verify_webhook(body, authorization, now)
            .map_err(|error| match error {
                livekit_auth::Error::MissingAuthorization => WebhookError::MissingAuthorization,
                livekit_auth::Error::UnknownIssuer(key) => WebhookError::UnknownKey(key),
                livekit_auth::Error::MissingBodyHash => WebhookError::MissingBodyHash,
                livekit_auth::Error::BodyHashMismatch => WebhookError::BodyHashMismatch,
                other => WebhookError::InvalidToken(other),
            })?;
        let invalid = |message: String| WebhookError::InvalidBody { message };
        // One UTF-8 check of the whole body, then a parser that need not re-check each string.
        let text = std::str::from_utf8(body).map_err(|error| invalid(error.to_string()))?;
        let event: livekit_proto::WebhookEvent =
            serde_json::from_str(text).map_err(|error| invalid(error.to_string()))?;
        Ok(WebhookEvent {
            kind: WebhookEventKind::parse(&event.event),
            event,
        })
    }
}
