//! The views of `livekit-proto` against prost, on any bytes: a view accepts exactly what
//! prost's `decode` accepts, to the same values.
//!
//! Input: the first byte picks the message type (modulo the number of types, in the order of
//! [`MESSAGES`]), the rest is the protobuf buffer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livekit_proto::view::View as _;
use livekit_proto::{self as proto, HasView, Message};

/// The types, by selector byte. `cargo xtask fuzz seeds` prefixes its seeds with these
/// indices (`VIEW_DECODE_MESSAGES` in `xtask/src/fuzz.rs`): keep the two lists in step.
const MESSAGES: &[&str] = &[
    "ListParticipantsResponse",
    "ParticipantInfo",
    "Room",
    "WebhookEvent",
    "EgressInfo",
    "SipOutboundTrunkInfo",
    "IngressInfo",
    "ListRoomsResponse",
    "AgentDispatch",
    "CreateSipParticipantRequest",
    "MetricsBatch",
    "SipCallInfo",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, buf)) = data.split_first() else {
        return;
    };
    match usize::from(selector) % MESSAGES.len() {
        0 => agree::<proto::ListParticipantsResponse>(buf),
        1 => agree::<proto::ParticipantInfo>(buf),
        2 => agree::<proto::Room>(buf),
        3 => agree::<proto::WebhookEvent>(buf),
        4 => agree::<proto::EgressInfo>(buf),
        5 => agree::<proto::SipOutboundTrunkInfo>(buf),
        6 => agree::<proto::IngressInfo>(buf),
        7 => agree::<proto::ListRoomsResponse>(buf),
        8 => agree::<proto::AgentDispatch>(buf),
        9 => agree::<proto::CreateSipParticipantRequest>(buf),
        10 => agree::<proto::MetricsBatch>(buf),
        _ => agree::<proto::SipCallInfo>(buf),
    }
});

/// Decodes `buf` with prost and as a view of `M`: both succeed or both fail; when both
/// succeed, they hold the same values.
fn agree<M>(buf: &[u8])
where
    M: Message + Default + HasView,
{
    let name = core::any::type_name::<M>();
    match (M::decode(buf), M::View::from_protobuf(buf)) {
        (Ok(message), Ok(viewed)) => {
            let encoded = message.encode_to_vec();
            // Compared by encoding: a NaN float is not equal to itself, its bytes are.
            assert_eq!(
                viewed.to_message().encode_to_vec(),
                encoded,
                "{name}: the view decodes other values than prost"
            );
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(error)) => panic!("{name}: prost decodes the input, the view refuses: {error}"),
        (Err(error), Ok(_)) => {
            panic!("{name}: prost refuses the input ({error}), the view accepts")
        }
    }
}
