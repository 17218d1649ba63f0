//! The claims a LiveKit token carries, typed, with the JSON names the server expects.
//!
//! Every struct serializes to camelCase and omits unset fields; deserializing accepts
//! camelCase and snake_case, reads `null` as unset and ignores fields it does not know,
//! since newer servers and SDKs add them.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, MapAccess};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::wire::{FieldsVisitor, ReadFields, WriteJson, claim_struct};

claim_struct! {
    /// Room-level permissions: the `video` claim.
    ///
    /// Plain `bool` flags default to `false` and are omitted when false. The `Option<bool>`
    /// flags have a server-side default when absent (`can_publish`, `can_subscribe` and
    /// `can_publish_data` default to true, the others to false), so `Some(false)` is the way
    /// to withhold the first three.
    ///
    /// ```
    /// use livekit_auth::VideoGrants;
    /// let grants = VideoGrants::join("my-room");
    /// assert!(grants.room_join);
    /// assert_eq!(grants.room, "my-room");
    /// ```
    pub struct VideoGrants {
        /// Create and delete rooms.
        pub room_create: bool => "roomCreate" | "room_create",
        /// List rooms.
        pub room_list: bool => "roomList" | "room_list",
        /// Start and manage egress (recording and streaming).
        pub room_record: bool => "roomRecord" | "room_record",
        /// Administer the room named by `room`: participants, metadata, data, dispatches.
        pub room_admin: bool => "roomAdmin" | "room_admin",
        /// Join the room named by `room`; the token must also carry an identity.
        pub room_join: bool => "roomJoin" | "room_join",
        /// The room that `room_admin` and `room_join` apply to.
        pub room: String => "room",
        /// The room a participant may be forwarded or moved to.
        pub destination_room: String => "destinationRoom" | "destination_room",
        /// Publish tracks; the server's default when unset is true.
        pub can_publish: Option<bool> => "canPublish" | "can_publish",
        /// Subscribe to tracks; the server's default when unset is true.
        pub can_subscribe: Option<bool> => "canSubscribe" | "can_subscribe",
        /// Publish data messages; the server's default when unset is true.
        pub can_publish_data: Option<bool> => "canPublishData" | "can_publish_data",
        /// The only track sources that may be published; when non-empty it supersedes
        /// `can_publish`.
        pub can_publish_sources: Vec<TrackSource> => "canPublishSources" | "can_publish_sources",
        /// Update one's own name, metadata and attributes; false when unset.
        pub can_update_own_metadata: Option<bool> =>
            "canUpdateOwnMetadata" | "can_update_own_metadata",
        /// Create, update and delete ingresses (not scoped to a room).
        pub ingress_admin: bool => "ingressAdmin" | "ingress_admin",
        /// The participant is invisible to others (useful for bots).
        pub hidden: bool => "hidden",
        /// Deprecated: marks the participant as a recorder.
        pub recorder: bool => "recorder",
        /// Register as an Agents framework worker.
        pub agent: bool => "agent",
        /// Manage an agent session through RemoteSession; false when unset.
        pub can_manage_agent_session: Option<bool> =>
            "canManageAgentSession" | "can_manage_agent_session",
        /// Subscribe to metrics; false when unset.
        pub can_subscribe_metrics: Option<bool> =>
            "canSubscribeMetrics" | "can_subscribe_metrics",
    }
}

impl VideoGrants {
    /// The grant a client needs to join `room`.
    pub fn join(room: impl Into<String>) -> Self {
        Self {
            room_join: true,
            room: room.into(),
            ..Self::default()
        }
    }

    /// Administration of one room (participants, metadata, data, agent dispatch).
    pub fn room_admin(room: impl Into<String>) -> Self {
        Self {
            room_admin: true,
            room: room.into(),
            ..Self::default()
        }
    }
}

claim_struct! {
    /// SIP permissions: the `sip` claim.
    pub struct SipGrants {
        /// Manage SIP trunks and dispatch rules.
        pub admin: bool => "admin",
        /// Make outbound calls and transfer participants.
        pub call: bool => "call",
    }
}

claim_struct! {
    /// Inference permissions: the `inference` claim.
    pub struct InferenceGrants {
        /// Use LiveKit inference (LLM, STT, TTS).
        pub perform: bool => "perform",
    }
}

claim_struct! {
    /// Observability permissions: the `observability` claim.
    pub struct ObservabilityGrants {
        /// Publish observability data.
        pub write: bool => "write",
    }
}

claim_struct! {
    /// Cloud Agents permissions: the `agent` claim.
    pub struct AgentGrants {
        /// Create, update and delete Cloud Agents.
        pub admin: bool => "admin",
        /// Manage simulations and scenarios for evaluating agents.
        pub simulation_admin: bool => "simulationAdmin" | "simulation_admin",
        /// Access the project's agent databases.
        pub database_admin: bool => "databaseAdmin" | "database_admin",
        /// Manage the project's agent dispatch queue.
        pub dispatch_admin: bool => "dispatchAdmin" | "dispatch_admin",
    }
}

claim_struct! {
    /// Permission to call an agent's non-public HTTP endpoints: the `agentEndpoint` claim.
    pub struct AgentEndpointGrants {
        /// Invoke the endpoints.
        pub call: bool => "call",
        /// Restrict to one agent; empty means every agent of the project.
        pub agent_name: String => "agentName" | "agent_name",
        /// Restrict to one deployment; empty means every deployment.
        pub deployment: String => "deployment",
    }
}

claim_struct! {
    /// Permissions on agent threads: the `agentThread` claim.
    pub struct AgentThreadGrants {
        /// Every thread and scope of the project; the action flags still apply.
        pub all: bool => "all",
        /// The scope in which threads may be listed and created.
        pub scope: String => "scope",
        /// Threads that may be read, written and deleted.
        pub thread_ids: Vec<String> => "threadIds" | "thread_ids",
        /// List threads.
        pub list: bool => "list",
        /// Create threads.
        pub create: bool => "create",
        /// Write to threads.
        pub write: bool => "write",
        /// Read threads.
        pub read: bool => "read",
        /// Delete threads.
        pub delete: bool => "delete",
    }
}

claim_struct! {
    /// The LiveKit-specific claims of a token: identity, profile and grants.
    ///
    /// This is what an [`AccessToken`](crate::AccessToken) is built from and what
    /// verification returns inside [`Claims`]. `identity` travels as the standard `sub`
    /// claim.
    pub struct ClaimGrants {
        /// The participant identity (`sub`).
        pub identity: String => "sub",
        /// The participant's display name.
        pub name: String => "name",
        /// The kind of participant.
        pub kind: Option<ParticipantKind> => "kind",
        /// Details of the kind (for example `cloud_agent`, `forwarded`), lowercase as the
        /// server writes them.
        pub kind_details: Vec<String> => "kindDetails" | "kind_details",
        /// Participant metadata, opaque to LiveKit.
        pub metadata: String => "metadata",
        /// Participant attributes.
        pub attributes: BTreeMap<String, String> => "attributes",
        /// Standard base64 of the SHA-256 of a message body; set on webhook tokens.
        pub sha256: Option<String> => "sha256",
        /// A room preset configured in LiveKit Cloud.
        pub room_preset: Option<String> => "roomPreset" | "room_preset",
        /// The room configuration (the `RoomConfiguration` message in protojson form,
        /// agents included) used if this participant creates the room.
        pub room_config: Option<serde_json::Map<String, serde_json::Value>> =>
            "roomConfig" | "room_config",
        /// Room permissions.
        pub video: Option<VideoGrants> => "video",
        /// SIP permissions.
        pub sip: Option<SipGrants> => "sip",
        /// Inference permissions.
        pub inference: Option<InferenceGrants> => "inference",
        /// Observability permissions.
        pub observability: Option<ObservabilityGrants> => "observability",
        /// Cloud Agents permissions.
        pub agent: Option<AgentGrants> => "agent",
        /// Permission to call agent endpoints.
        pub agent_endpoint: Option<AgentEndpointGrants> => "agentEndpoint" | "agent_endpoint",
        /// Permissions on agent threads.
        pub agent_thread: Option<AgentThreadGrants> => "agentThread" | "agent_thread",
    }
}

/// The verified (or, from [`decode_unverified`](crate::decode_unverified), merely decoded)
/// contents of a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// The issuer (`iss`): the API key the token was signed with.
    pub issuer: String,
    /// Not before (`nbf`), Unix seconds.
    pub not_before: Option<u64>,
    /// Expiry (`exp`), Unix seconds; always present on a verified token.
    pub expires_at: Option<u64>,
    /// Identity, profile and grants.
    pub grants: ClaimGrants,
}

impl Serialize for Claims {
    /// The token's payload as JSON: registered claims first, then the grants.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.issuer.is_empty() {
            map.serialize_entry("iss", &self.issuer)?;
        }
        if let Some(nbf) = self.not_before {
            map.serialize_entry("nbf", &nbf)?;
        }
        if let Some(exp) = self.expires_at {
            map.serialize_entry("exp", &exp)?;
        }
        self.grants.write_fields(&mut map)?;
        map.end()
    }
}

impl ReadFields for Claims {
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match key {
            "iss" => self.issuer = map.next_value::<crate::wire::Nullable<String>>()?.0,
            "nbf" => self.not_before = map.next_value::<Option<NumericDate>>()?.map(|d| d.0),
            "exp" => self.expires_at = map.next_value::<Option<NumericDate>>()?.map(|d| d.0),
            _ => return self.grants.read_field(key, map),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for Claims {
    /// Reads a token's payload JSON; unknown claims are ignored.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FieldsVisitor(core::marker::PhantomData, "claims"))
    }
}

/// A JWT NumericDate: an integer, though some minters write a float.
#[derive(Debug, Clone, Copy)]
struct NumericDate(u64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Number::deserialize(deserializer)?;
        if let Some(seconds) = value.as_u64() {
            return Ok(Self(seconds));
        }
        match value.as_f64() {
            // Truncation toward zero is the JWT reading of fractional seconds.
            Some(seconds) if (0.0..18_446_744_073_709_549_568.0).contains(&seconds) => {
                Ok(Self(seconds as u64))
            }
            _ => Err(de::Error::custom(
                "a numeric date must be a non-negative number of seconds",
            )),
        }
    }
}

/// The payload of a token being minted, borrowing its grants.
pub(crate) struct OutgoingPayload<'a> {
    pub(crate) iss: &'a str,
    pub(crate) nbf: u64,
    pub(crate) exp: u64,
    pub(crate) grants: &'a ClaimGrants,
}

impl WriteJson for OutgoingPayload<'_> {
    /// The same bytes `Claims` serializes to through serde: `iss`, `nbf`, `exp`, then the
    /// grants in declaration order.
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"iss\":");
        self.iss.write_json(out);
        out.extend_from_slice(b",\"nbf\":");
        self.nbf.write_json(out);
        out.extend_from_slice(b",\"exp\":");
        self.exp.write_json(out);
        self.grants.write_json_fields(out, &mut false);
        out.push(b'}');
    }
}

/// Defines a string-valued enum with known names and an `Other` variant that keeps
/// anything else verbatim; names compare case-insensitively, as the server does.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know, kept as it was written.
            Other(String),
        }

        impl $name {
            /// The name as written in tokens (lowercase for known values).
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(text) => text,
                }
            }

            /// Parses a name, ignoring ASCII case; unknown names become `Other`.
            pub fn parse(text: &str) -> Self {
                $( if text.eq_ignore_ascii_case($text) { return Self::$variant; } )*
                Self::Other(String::from(text))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl WriteJson for $name {
            fn write_json(&self, out: &mut Vec<u8>) {
                self.as_str().write_json(out);
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::parse(&text))
            }
        }
    };
}

string_enum! {
    /// A kind of track a participant may publish, for `can_publish_sources`.
    pub enum TrackSource {
        /// A camera video track.
        Camera => "camera",
        /// A microphone audio track.
        Microphone => "microphone",
        /// A screen share video track.
        ScreenShare => "screen_share",
        /// The audio of a screen share.
        ScreenShareAudio => "screen_share_audio",
    }
}

string_enum! {
    /// The kind of participant a token is for: the `kind` claim.
    pub enum ParticipantKind {
        /// A regular client.
        Standard => "standard",
        /// An ingress, which only publishes.
        Ingress => "ingress",
        /// An egress, which only subscribes.
        Egress => "egress",
        /// A SIP participant.
        Sip => "sip",
        /// An agent.
        Agent => "agent",
        /// A connector (WhatsApp, Twilio, ...).
        Connector => "connector",
    }
}
