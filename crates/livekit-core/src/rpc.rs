//! Every RPC of the server API, described once.
//!
//! The list of RPCs (service, method, request and response types) comes from the protocol
//! codegen ([`livekit_proto::for_each_rpc!`]); what the SDK adds per RPC (the least grant it
//! needs, whether it is safe to repeat, its default time budget) is the `policy!` table
//! below. An RPC that the codegen lists and the table does not is a compile error, so a new
//! protocol version cannot slip in an RPC without those decisions being made.

use std::time::Duration;

use livekit_auth::{ClaimGrants, SipGrants, VideoGrants};

use crate::CallOptions;

/// The time budget of one attempt unless the RPC or the caller says otherwise: 10 s, as the
/// reference SDK.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether an RPC may be sent again after a failure that may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Repeating it is harmless: reads, deletes, updates that set state.
    Safe,
    /// Repeating it may do the thing twice: creates, dials, egress starts, data and RPC
    /// sends. Retried only when the request surely did not reach the server, unless the
    /// caller opts in.
    Unsafe,
}

/// The static description of one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RpcDescriptor {
    /// The service, without the `livekit.` package: `RoomService`.
    pub service: &'static str,
    /// The method: `CreateRoom`.
    pub method: &'static str,
    /// `Service/Method`, for messages and logs.
    pub name: &'static str,
    /// The URL path below the base URL: `/twirp/livekit.RoomService/CreateRoom`.
    pub path: &'static str,
    /// Whether repeating the call is harmless.
    pub idempotency: Idempotency,
    /// The default time budget of one attempt.
    pub timeout: Duration,
}

/// The least permission an RPC needs, scoped to the request's room where the server allows
/// it. Service tokens are minted with exactly this.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RequiredGrant {
    /// `video.roomCreate`: creating and deleting rooms, and the Connector calls.
    RoomCreate,
    /// `video.roomList`.
    RoomList,
    /// `video.roomRecord`: egress.
    RoomRecord,
    /// `video.ingressAdmin`.
    IngressAdmin,
    /// `video.roomAdmin` for one room.
    RoomAdmin {
        /// The room.
        room: String,
    },
    /// `video.roomAdmin` for one room, and `video.destinationRoom` for another.
    RoomAdminWithDestination {
        /// The room the participant is in.
        room: String,
        /// The room it moves or is forwarded to.
        destination_room: String,
    },
    /// `sip.admin`: trunks and dispatch rules.
    SipAdmin,
    /// `sip.call`: outbound calls.
    SipCall,
    /// `sip.call` and `video.roomAdmin` for one room: transfers.
    SipCallInRoom {
        /// The room of the participant being transferred.
        room: String,
    },
}

/// How the grant reads in messages: `video.roomAdmin for room r1`.
impl core::fmt::Display for RequiredGrant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::RoomCreate => f.write_str("video.roomCreate"),
            Self::RoomList => f.write_str("video.roomList"),
            Self::RoomRecord => f.write_str("video.roomRecord"),
            Self::IngressAdmin => f.write_str("video.ingressAdmin"),
            Self::RoomAdmin { room } => write!(f, "video.roomAdmin for room {room:?}"),
            Self::RoomAdminWithDestination {
                room,
                destination_room,
            } => write!(
                f,
                "video.roomAdmin for room {room:?} and video.destinationRoom {destination_room:?}"
            ),
            Self::SipAdmin => f.write_str("sip.admin"),
            Self::SipCall => f.write_str("sip.call"),
            Self::SipCallInRoom { room } => {
                write!(f, "sip.call and video.roomAdmin for room {room:?}")
            }
        }
    }
}

impl RequiredGrant {
    /// The token claims that carry this grant and nothing more.
    pub fn to_claims(&self) -> ClaimGrants {
        let video = |grants: VideoGrants| Some(grants);
        let mut claims = ClaimGrants::default();
        match self {
            Self::RoomCreate => {
                claims.video = video(VideoGrants {
                    room_create: true,
                    ..VideoGrants::default()
                });
            }
            Self::RoomList => {
                claims.video = video(VideoGrants {
                    room_list: true,
                    ..VideoGrants::default()
                });
            }
            Self::RoomRecord => {
                claims.video = video(VideoGrants {
                    room_record: true,
                    ..VideoGrants::default()
                });
            }
            Self::IngressAdmin => {
                claims.video = video(VideoGrants {
                    ingress_admin: true,
                    ..VideoGrants::default()
                });
            }
            Self::RoomAdmin { room } => claims.video = video(VideoGrants::room_admin(room.clone())),
            Self::RoomAdminWithDestination {
                room,
                destination_room,
            } => {
                claims.video = video(VideoGrants {
                    destination_room: destination_room.clone(),
                    ..VideoGrants::room_admin(room.clone())
                });
            }
            Self::SipAdmin => {
                claims.sip = Some(SipGrants {
                    admin: true,
                    call: false,
                });
            }
            Self::SipCall => {
                claims.sip = Some(SipGrants {
                    admin: false,
                    call: true,
                });
            }
            Self::SipCallInRoom { room } => {
                claims.video = video(VideoGrants::room_admin(room.clone()));
                claims.sip = Some(SipGrants {
                    admin: false,
                    call: true,
                });
            }
        }
        claims
    }
}

/// One RPC of the server API: its types and its policy. Implemented by the marker types in
/// this module, one per RPC; sealed.
pub trait Rpc: sealed::Sealed + Send + Sync + 'static {
    /// The request message.
    type Request: prost::Message
        + std::fmt::Debug
        + Default
        + Clone
        + PartialEq
        + Send
        + Sync
        + 'static;
    /// The response message.
    type Response: prost::Message
        + std::fmt::Debug
        + Default
        + Clone
        + PartialEq
        + Send
        + Sync
        + 'static;
    /// The static description.
    const DESCRIPTOR: RpcDescriptor;
    /// The least grant `request` needs.
    fn required_grant(request: &Self::Request) -> RequiredGrant;

    /// Adjusts a request and its options before the call. Only calls that wait for a phone
    /// to ring change anything: their budget becomes the ring window plus a margin, with the
    /// ring window pinned on the request, as the reference SDK does.
    fn prepare(request: &mut Self::Request, options: &mut CallOptions);
}

mod sealed {
    pub trait Sealed {}
}

/// The SDK's decisions per RPC: least grant (from the request), idempotency, time budget.
macro_rules! policy {
    (@grant $grant:ident) => { |_| RequiredGrant::$grant };
    (@grant admin $($field:ident).+) => {
        |request| RequiredGrant::RoomAdmin { room: request.$($field).+.clone() }
    };

    // RoomService
    (RoomService, CreateRoom) => { (policy!(@grant RoomCreate), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, ListRooms) => { (policy!(@grant RoomList), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, DeleteRoom) => { (policy!(@grant RoomCreate), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, ListParticipants) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, GetParticipant) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, RemoveParticipant) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, MutePublishedTrack) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, UpdateParticipant) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, UpdateSubscriptions) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, SendData) => { (policy!(@grant admin room), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (RoomService, UpdateRoomMetadata) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (RoomService, ForwardParticipant) => {
        (
            |request: &livekit_proto::ForwardParticipantRequest| RequiredGrant::RoomAdminWithDestination {
                room: request.room.clone(),
                destination_room: request.destination_room.clone(),
            },
            Idempotency::Unsafe,
            DEFAULT_TIMEOUT,
        )
    };
    (RoomService, MoveParticipant) => {
        (
            |request: &livekit_proto::MoveParticipantRequest| RequiredGrant::RoomAdminWithDestination {
                room: request.room.clone(),
                destination_room: request.destination_room.clone(),
            },
            Idempotency::Unsafe,
            DEFAULT_TIMEOUT,
        )
    };
    (RoomService, PerformRpc) => { (policy!(@grant admin room), Idempotency::Unsafe, RPC_TIMEOUT) };

    // Egress: every call needs roomRecord; starts are not repeated.
    (Egress, StartEgress) => { (policy!(@grant RoomRecord), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Egress, UpdateLayout) => { (policy!(@grant RoomRecord), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (Egress, UpdateStream) => { (policy!(@grant RoomRecord), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Egress, ListEgress) => { (policy!(@grant RoomRecord), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (Egress, StopEgress) => { (policy!(@grant RoomRecord), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (Egress, StartRoomCompositeEgress) => { (policy!(@grant RoomRecord), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Egress, StartWebEgress) => { (policy!(@grant RoomRecord), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Egress, StartParticipantEgress) => { (policy!(@grant RoomRecord), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Egress, StartTrackCompositeEgress) => { (policy!(@grant RoomRecord), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Egress, StartTrackEgress) => { (policy!(@grant RoomRecord), Idempotency::Unsafe, DEFAULT_TIMEOUT) };

    // Ingress
    (Ingress, CreateIngress) => { (policy!(@grant IngressAdmin), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Ingress, UpdateIngress) => { (policy!(@grant IngressAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (Ingress, ListIngress) => { (policy!(@grant IngressAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (Ingress, DeleteIngress) => { (policy!(@grant IngressAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };

    // SIP: trunks and rules need sip.admin; dialing needs sip.call.
    (SIP, ListSIPTrunk) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, CreateSIPInboundTrunk) => { (policy!(@grant SipAdmin), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (SIP, CreateSIPOutboundTrunk) => { (policy!(@grant SipAdmin), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (SIP, UpdateSIPInboundTrunk) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, UpdateSIPOutboundTrunk) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, GetSIPInboundTrunk) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, GetSIPOutboundTrunk) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, ListSIPInboundTrunk) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, ListSIPOutboundTrunk) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, DeleteSIPTrunk) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, CreateSIPDispatchRule) => { (policy!(@grant SipAdmin), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (SIP, UpdateSIPDispatchRule) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, ListSIPDispatchRule) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, DeleteSIPDispatchRule) => { (policy!(@grant SipAdmin), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (SIP, CreateSIPParticipant) => { (policy!(@grant SipCall), Idempotency::Unsafe, DIAL_TIMEOUT) };
    (SIP, TransferSIPParticipant) => {
        (
            |request: &livekit_proto::TransferSipParticipantRequest| RequiredGrant::SipCallInRoom {
                room: request.room_name.clone(),
            },
            Idempotency::Unsafe,
            DIAL_TIMEOUT,
        )
    };

    // AgentDispatchService: room admin of the dispatch's room.
    (AgentDispatchService, CreateDispatch) => { (policy!(@grant admin room), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (AgentDispatchService, DeleteDispatch) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (AgentDispatchService, ListDispatch) => { (policy!(@grant admin room), Idempotency::Safe, DEFAULT_TIMEOUT) };

    // Connector
    (Connector, DialWhatsAppCall) => { (policy!(@grant RoomCreate), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Connector, DisconnectWhatsAppCall) => { (policy!(@grant RoomCreate), Idempotency::Safe, DEFAULT_TIMEOUT) };
    (Connector, ConnectWhatsAppCall) => { (policy!(@grant RoomCreate), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
    (Connector, AcceptWhatsAppCall) => { (policy!(@grant RoomCreate), Idempotency::Unsafe, DIAL_TIMEOUT) };
    (Connector, ConnectTwilioCall) => { (policy!(@grant RoomCreate), Idempotency::Unsafe, DEFAULT_TIMEOUT) };
}

/// The default budget of calls that wait for a phone to ring: the reference's default ring
/// window (30 s) plus its 2 s margin. Every call raises it from the request's
/// `ringing_timeout` when that is longer.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(32);

/// The default budget of `PerformRpc`: the server's default response window for the
/// participant's answer (10 s) plus a 2 s margin. Every call raises it from the request's
/// `response_timeout_ms` when that is longer.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(12);

/// The adjustment an RPC makes before a call; nothing for all but the calls that wait on
/// someone else (a phone to ring, a participant to answer).
macro_rules! prepare {
    (RoomService, PerformRpc) => {
        |request, options| rpc_budget(&mut request.response_timeout_ms, options)
    };
    (SIP, CreateSIPParticipant) => {
        |request, options| {
            if request.wait_until_answered {
                ring_budget(&mut request.ringing_timeout, options);
            }
        }
    };
    (SIP, TransferSIPParticipant) => {
        |request, options| ring_budget(&mut request.ringing_timeout, options)
    };
    (Connector, AcceptWhatsAppCall) => {
        |request, options| {
            if request.wait_until_answered {
                ring_budget(&mut request.ringing_timeout, options);
            }
        }
    };
    ($service:ident, $method:ident) => {
        |_, _| {}
    };
}

/// How long a phone may ring when the request leaves it unset, as the reference SDK.
pub const DEFAULT_RINGING_TIMEOUT: Duration = Duration::from_secs(30);

/// The margin added to the ring window for calls that wait for an answer.
pub const RINGING_TIMEOUT_MARGIN: Duration = Duration::from_secs(2);

/// Pins the ring window on the request (the default when unset, so the budget cannot drift
/// from the server's default) and makes the call's budget the window plus the margin; a
/// longer budget from the caller wins.
fn ring_budget(
    ringing: &mut Option<livekit_proto::well_known::Duration>,
    options: &mut CallOptions,
) {
    let ring = ringing.get_or_insert(livekit_proto::well_known::Duration {
        seconds: DEFAULT_RINGING_TIMEOUT.as_secs() as i64,
        nanos: 0,
    });
    let seconds = u64::try_from(ring.seconds).unwrap_or(0);
    let nanos = u32::try_from(ring.nanos).unwrap_or(0).min(999_999_999);
    let floor = Duration::new(seconds, nanos).saturating_add(RINGING_TIMEOUT_MARGIN);
    options.timeout = Some(options.timeout.map_or(floor, |caller| caller.max(floor)));
}

/// How long the server waits for a participant to answer `PerformRpc` when the request leaves
/// `response_timeout_ms` unset: its default, 10 s.
pub const DEFAULT_RPC_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The margin added to the response window of `PerformRpc`.
pub const RPC_RESPONSE_TIMEOUT_MARGIN: Duration = Duration::from_secs(2);

/// As [`ring_budget`], for the window in which a participant must answer an RPC: the default
/// is pinned on the request when unset, and the budget is the window plus the margin, unless
/// the caller's is longer. Without it a slow answer would be cut off by the client's default
/// budget before the server could report the participant's timeout.
fn rpc_budget(response_timeout_ms: &mut u32, options: &mut CallOptions) {
    if *response_timeout_ms == 0 {
        *response_timeout_ms = DEFAULT_RPC_RESPONSE_TIMEOUT.as_millis() as u32;
    }
    let floor = Duration::from_millis(u64::from(*response_timeout_ms))
        .saturating_add(RPC_RESPONSE_TIMEOUT_MARGIN);
    options.timeout = Some(options.timeout.map_or(floor, |caller| caller.max(floor)));
}

/// An RPC's policy with the grant closure typed by its request.
macro_rules! policy_of {
    ($service:ident, $method:ident, $request:path) => {{
        let policy: (fn(&$request) -> RequiredGrant, Idempotency, Duration) =
            policy!($service, $method);
        policy
    }};
}

/// Defines one marker type per RPC from the codegen's table.
macro_rules! define_rpcs {
    ($(($service:ident, $method:ident, $function:ident, $request:path, $response:path)),* $(,)?) => {
        $(
            #[doc = concat!(
                "`", stringify!($service), "/", stringify!($method), "`: [`",
                stringify!($request), "`] → [`", stringify!($response), "`]."
            )]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub struct $method;

            impl sealed::Sealed for $method {}

            impl Rpc for $method {
                type Request = $request;
                type Response = $response;
                const DESCRIPTOR: RpcDescriptor = RpcDescriptor {
                    service: stringify!($service),
                    method: stringify!($method),
                    name: concat!(stringify!($service), "/", stringify!($method)),
                    path: concat!("/twirp/livekit.", stringify!($service), "/", stringify!($method)),
                    idempotency: policy_of!($service, $method, $request).1,
                    timeout: policy_of!($service, $method, $request).2,
                };

                fn required_grant(request: &Self::Request) -> RequiredGrant {
                    (policy_of!($service, $method, $request).0)(request)
                }

                fn prepare(request: &mut Self::Request, options: &mut CallOptions) {
                    let prepare: fn(&mut $request, &mut CallOptions) = prepare!($service, $method);
                    prepare(request, options);
                }
            }
        )*

        /// Every RPC's descriptor, in the protocol's order.
        pub const ALL: &[RpcDescriptor] = &[$(<$method as Rpc>::DESCRIPTOR),*];
    };
}

livekit_proto::for_each_rpc!(define_rpcs);
