//! Property tests: rich messages built from arbitrary values (unicode text, extreme
//! integers, unknown enum numbers, maps, nested messages) survive protobuf and protojson
//! round trips unchanged, and the views agree with
//! prost on them.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use livekit_proto::view::View as _;
use livekit_proto::{
    Codec, HasView, Message, ParticipantInfo, ParticipantPermission, Room, TimedVersion, TrackInfo,
    WebhookEvent,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    // Any unicode, with the characters JSON must escape well represented.
    prop_oneof![
        any::<String>(),
        "[\"\\\\\n\t\u{0}-\u{1f}\u{7f}\u{2028}\u{fffd}a-z🎥]{0,12}",
    ]
}

fn version() -> impl Strategy<Value = Option<TimedVersion>> {
    proptest::option::of(
        (any::<i64>(), any::<i32>())
            .prop_map(|(unix_micro, ticks)| TimedVersion { unix_micro, ticks }),
    )
}

fn room() -> impl Strategy<Value = Room> {
    (
        (text(), text(), any::<u32>(), any::<u32>(), any::<u32>()),
        (any::<i64>(), any::<i64>(), text(), text()),
        (any::<u32>(), any::<u32>(), any::<bool>(), version()),
        vec((text(), text()), 0..3),
    )
        .prop_map(
            |(
                (sid, name, empty_timeout, departure_timeout, max_participants),
                (creation_time, creation_time_ms, turn_password, metadata),
                (num_participants, num_publishers, active_recording, version),
                codecs,
            )| Room {
                sid,
                name,
                empty_timeout,
                departure_timeout,
                max_participants,
                creation_time,
                creation_time_ms,
                turn_password,
                enabled_codecs: codecs
                    .into_iter()
                    .map(|(mime, fmtp_line)| Codec { mime, fmtp_line })
                    .collect(),
                metadata,
                num_participants,
                num_publishers,
                active_recording,
                version,
            },
        )
}

fn track() -> impl Strategy<Value = TrackInfo> {
    (
        (text(), text(), any::<bool>(), any::<u32>(), any::<u32>()),
        // Known and unknown enum numbers alike.
        (any::<i32>(), -2..8i32, text(), any::<bool>(), version()),
    )
        .prop_map(
            |(
                (sid, name, muted, width, height),
                (r#type, source, mime_type, disable_red, version),
            )| {
                TrackInfo {
                    sid,
                    name,
                    muted,
                    width,
                    height,
                    r#type,
                    source,
                    mime_type,
                    disable_red,
                    version,
                    ..TrackInfo::default()
                }
            },
        )
}

fn participant() -> impl Strategy<Value = ParticipantInfo> {
    (
        (text(), text(), -1..6i32, vec(track(), 0..3), text()),
        (any::<i64>(), any::<i64>(), text(), any::<u32>(), text()),
        (any::<bool>(), -1..9i32, btree_map(text(), text(), 0..4)),
        (
            vec(-1..6i32, 0..3),
            any::<i32>(),
            proptest::option::of(permission()),
        ),
    )
        .prop_map(
            |(
                (sid, identity, state, tracks, metadata),
                (joined_at, joined_at_ms, name, version, region),
                (is_publisher, kind, attributes),
                (kind_details, disconnect_reason, permission),
            )| ParticipantInfo {
                sid,
                identity,
                state,
                tracks,
                metadata,
                joined_at,
                joined_at_ms,
                name,
                version,
                region,
                is_publisher,
                kind,
                attributes,
                kind_details,
                disconnect_reason,
                permission,
                ..ParticipantInfo::default()
            },
        )
}

fn permission() -> impl Strategy<Value = ParticipantPermission> {
    (any::<[bool; 6]>(), vec(-1..8i32, 0..4)).prop_map(|(flags, can_publish_sources)| {
        ParticipantPermission {
            can_subscribe: flags[0],
            can_publish: flags[1],
            can_publish_data: flags[2],
            hidden: flags[3],
            can_update_metadata: flags[4],
            can_subscribe_metrics: flags[5],
            can_publish_sources,
            ..ParticipantPermission::default()
        }
    })
}

fn event() -> impl Strategy<Value = WebhookEvent> {
    (
        prop_oneof![
            Just("room_started".to_owned()),
            Just("participant_joined".to_owned()),
            Just("track_published".to_owned()),
            text(),
        ],
        proptest::option::of(room()),
        proptest::option::of(participant()),
        proptest::option::of(track()),
        (text(), any::<i64>()),
    )
        .prop_map(
            |(event, room, participant, track, (id, created_at))| WebhookEvent {
                event,
                room,
                participant,
                track,
                id,
                created_at,
                ..WebhookEvent::default()
            },
        )
}

fn protobuf_round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(message: &M) {
    let bytes = message.encode_to_vec();
    assert_eq!(bytes.len(), message.encoded_len());
    assert_eq!(&M::decode(bytes.as_slice()).unwrap(), message);
}

fn protojson_round_trip<M>(message: &M)
where
    M: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(message).unwrap();
    let decoded: M = serde_json::from_str(&json).unwrap_or_else(|error| panic!("{error}: {json}"));
    assert_eq!(&decoded, message, "{json}");
}

/// The view of prost's bytes converts back to the message. The strategies make no floats, so messages compare directly
/// (no NaN to make a message unequal to itself).
fn fast_paths_agree<M>(message: &M)
where
    M: Message + HasView + PartialEq + std::fmt::Debug,
{
    let bytes = message.encode_to_vec();
    let viewed = M::View::from_protobuf(&bytes).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(&viewed.to_message(), message, "the view");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn rooms_encode_and_view_as_prost_does(room in room()) {
        fast_paths_agree(&room);
    }

    #[test]
    fn participants_encode_and_view_as_prost_does(participant in participant()) {
        fast_paths_agree(&participant);
    }

    #[test]
    fn webhook_events_encode_and_view_as_prost_does(event in event()) {
        fast_paths_agree(&event);
    }

    #[test]
    fn rooms_round_trip(room in room()) {
        protobuf_round_trip(&room);
        protojson_round_trip(&room);
    }

    #[test]
    fn participants_round_trip(participant in participant()) {
        protobuf_round_trip(&participant);
        protojson_round_trip(&participant);
    }

    #[test]
    fn webhook_events_round_trip(event in event()) {
        protobuf_round_trip(&event);
        protojson_round_trip(&event);
    }

    /// int64 fields travel as JSON strings (proto3 mapping), so no value loses precision
    /// in a JavaScript reader.
    #[test]
    fn int64_fields_are_json_strings(created_at in any::<i64>()) {
        let event = WebhookEvent { created_at, ..WebhookEvent::default() };
        let json: serde_json::Value = serde_json::to_value(&event).unwrap();
        if created_at != 0 {
            prop_assert_eq!(&json["createdAt"], &serde_json::Value::String(created_at.to_string()));
        }
    }
}
