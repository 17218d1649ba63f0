//! Minting access tokens.

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::time::Duration;

use crate::grants::OutgoingPayload;
use crate::{
    AgentEndpointGrants, AgentGrants, AgentThreadGrants, ClaimGrants, Credentials, Error,
    InferenceGrants, ObservabilityGrants, ParticipantKind, SipGrants, VideoGrants, jwt,
};

/// How long a token lives unless told otherwise: 6 hours, as the reference SDKs.
pub const DEFAULT_TTL: Duration = Duration::from_secs(6 * 60 * 60);

/// A builder for LiveKit access tokens (HS256 JWTs).
///
/// Signing takes the time as an argument (`now`, Unix seconds), so it is deterministic and
/// works without a clock; with the `std` feature, [`AccessToken::sign_now`] reads the system
/// clock. The token's `nbf` is exactly `now`, never backdated: LiveKit Cloud compares `nbf`
/// with key revocations, so a backdated token could outlive a revocation. Its `exp` is
/// `now + ttl`.
///
/// ```
/// use livekit_auth::{AccessToken, Credentials, TokenVerifier, VideoGrants};
///
/// let credentials = Credentials::new("APIkey", "my-secret")?;
/// let now = 1_800_000_000;
/// let jwt = AccessToken::new()
///     .with_identity("alice")
///     .with_name("Alice")
///     .with_video_grants(VideoGrants::join("my-room"))
///     .sign(&credentials, now)?;
///
/// let claims = TokenVerifier::new(credentials).verify(&jwt, now)?;
/// assert_eq!(claims.grants.identity, "alice");
/// assert_eq!(claims.expires_at, Some(now + 6 * 3600));
/// # Ok::<(), livekit_auth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    grants: ClaimGrants,
    ttl: Duration,
}

impl Default for AccessToken {
    fn default() -> Self {
        Self::new()
    }
}

impl AccessToken {
    /// An empty token with the default TTL of 6 hours.
    pub fn new() -> Self {
        Self {
            grants: ClaimGrants::default(),
            ttl: DEFAULT_TTL,
        }
    }

    /// A token carrying `grants` as they are.
    pub fn from_grants(grants: ClaimGrants) -> Self {
        Self {
            grants,
            ttl: DEFAULT_TTL,
        }
    }

    /// How long the token is valid after `now`; whole seconds, at least one.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The participant identity (`sub`).
    pub fn with_identity(mut self, identity: impl Into<String>) -> Self {
        self.grants.identity = identity.into();
        self
    }

    /// The participant's display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.grants.name = name.into();
        self
    }

    /// The kind of participant.
    pub fn with_kind(mut self, kind: ParticipantKind) -> Self {
        self.grants.kind = Some(kind);
        self
    }

    /// Participant metadata.
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.grants.metadata = metadata.into();
        self
    }

    /// Participant attributes, replacing any set before.
    pub fn with_attributes(mut self, attributes: BTreeMap<String, String>) -> Self {
        self.grants.attributes = attributes;
        self
    }

    /// Adds one participant attribute.
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.grants.attributes.insert(key.into(), value.into());
        self
    }

    /// The `sha256` claim: standard base64 of the SHA-256 of a body the token vouches for.
    pub fn with_sha256(mut self, sha256: impl Into<String>) -> Self {
        self.grants.sha256 = Some(sha256.into());
        self
    }

    /// A LiveKit Cloud room preset.
    pub fn with_room_preset(mut self, preset: impl Into<String>) -> Self {
        self.grants.room_preset = Some(preset.into());
        self
    }

    /// The room configuration in protojson form (camelCase `RoomConfiguration`, agents
    /// included), used when this participant creates the room.
    pub fn with_room_config(mut self, config: serde_json::Map<String, serde_json::Value>) -> Self {
        self.grants.room_config = Some(config);
        self
    }

    /// Room permissions (the `video` claim).
    pub fn with_video_grants(mut self, grants: VideoGrants) -> Self {
        self.grants.video = Some(grants);
        self
    }

    /// SIP permissions.
    pub fn with_sip_grants(mut self, grants: SipGrants) -> Self {
        self.grants.sip = Some(grants);
        self
    }

    /// Inference permissions.
    pub fn with_inference_grants(mut self, grants: InferenceGrants) -> Self {
        self.grants.inference = Some(grants);
        self
    }

    /// Observability permissions.
    pub fn with_observability_grants(mut self, grants: ObservabilityGrants) -> Self {
        self.grants.observability = Some(grants);
        self
    }

    /// Cloud Agents permissions.
    pub fn with_agent_grants(mut self, grants: AgentGrants) -> Self {
        self.grants.agent = Some(grants);
        self
    }

    /// Permission to call agent endpoints.
    pub fn with_agent_endpoint_grants(mut self, grants: AgentEndpointGrants) -> Self {
        self.grants.agent_endpoint = Some(grants);
        self
    }

    /// Permissions on agent threads.
    pub fn with_agent_thread_grants(mut self, grants: AgentThreadGrants) -> Self {
        self.grants.agent_thread = Some(grants);
        self
    }

    /// The claims gathered so far.
    pub fn grants(&self) -> &ClaimGrants {
        &self.grants
    }

    /// The time to live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs the token at `now` (Unix seconds) with `credentials`.
    ///
    /// Fails on a zero TTL, an expiry past `u64::MAX`, or a `roomJoin` grant without both
    /// an identity and a room.
    pub fn sign(&self, credentials: &Credentials, now: u64) -> Result<String, Error> {
        let ttl = self.ttl.as_secs();
        if ttl == 0 {
            return Err(Error::ZeroTtl);
        }
        let exp = now.checked_add(ttl).ok_or(Error::TimeOverflow)?;
        if let Some(video) = &self.grants.video
            && video.room_join
        {
            if self.grants.identity.is_empty() {
                return Err(Error::JoinWithoutIdentity);
            }
            if video.room.is_empty() {
                return Err(Error::JoinWithoutRoom);
            }
        }
        let payload = OutgoingPayload {
            iss: credentials.api_key(),
            nbf: now,
            exp,
            grants: &self.grants,
        };
        Ok(jwt::encode(credentials, &payload))
    }

    /// Signs the token at the current system time.
    #[cfg(feature = "std")]
    pub fn sign_now(&self, credentials: &Credentials) -> Result<String, Error> {
        self.sign(credentials, crate::unix_now())
    }
}
