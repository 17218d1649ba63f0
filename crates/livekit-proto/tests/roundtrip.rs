//! Every top-level message of the protocol, with every field set, survives protobuf and
//! protojson round trips; and our protobuf encoding agrees byte for byte with the Python SDK's.

use core::fmt::Debug;

use livekit_proto::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

include!("generated/every_message.rs");

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn round_trip<M>(name: &str, sample_hex: &str)
where
    M: Message + Default + PartialEq + Debug + Serialize + DeserializeOwned,
{
    let sample = from_hex(sample_hex);
    let message = M::decode(sample.as_slice())
        .unwrap_or_else(|error| panic!("{name}: the sample does not decode: {error}"));
    if !sample.is_empty() {
        assert_ne!(message, M::default(), "{name}: the sample sets no field");
    }

    let encoded = message.encode_to_vec();
    assert_eq!(encoded.len(), message.encoded_len(), "{name}: encoded_len");
    let decoded = M::decode(encoded.as_slice())
        .unwrap_or_else(|error| panic!("{name}: our encoding does not decode: {error}"));
    assert_eq!(decoded, message, "{name}: protobuf round trip");

    let json = serde_json::to_string(&message)
        .unwrap_or_else(|error| panic!("{name}: JSON encoding fails: {error}"));
    let from_json: M = serde_json::from_str(&json)
        .unwrap_or_else(|error| panic!("{name}: our JSON does not decode: {error}\n{json}"));
    assert_eq!(
        from_json, message,
        "{name}: JSON round trip through\n{json}"
    );
}

macro_rules! round_trip_all {
    ($(($message:ident, $hex:literal)),* $(,)?) => {
        #[test]
        fn every_message_round_trips_through_protobuf_and_json() {
            let mut count = 0;
            $(
                round_trip::<$message>(stringify!($message), $hex);
                count += 1;
            )*
            assert!(count > 150, "only {count} messages");
        }
    };
}

for_each_message!(round_trip_all);

/// Decodes a captured Python request from its protojson form (snake_case, as the Python SDK
/// logged it) and checks our protobuf encoding of it against the bytes Python sent.
fn agrees_with_python<M>(call: &str, body_json: &serde_json::Value, body_hex: &str)
where
    M: Message + Default + DeserializeOwned,
{
    let message: M =
        serde_json::from_value(body_json.clone()).unwrap_or_else(|error| panic!("{call}: {error}"));
    assert_eq!(
        to_hex(&message.encode_to_vec()),
        body_hex,
        "{call}: protobuf bytes"
    );
    assert!(
        M::decode(from_hex(body_hex).as_slice()).is_ok(),
        "{call}: decode"
    );
}

#[test]
fn protobuf_encoding_matches_the_python_sdk_byte_for_byte() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/python_captures.json")).expect("fixture");
    let requests = fixture["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 17);
    for request in requests {
        let call = request["call"].as_str().expect("call");
        let json = &request["body_json"];
        let hex = request["body_hex"].as_str().expect("body_hex");
        match request["request_type"].as_str().expect("request_type") {
            "livekit.CreateRoomRequest" => agrees_with_python::<CreateRoomRequest>(call, json, hex),
            "livekit.ListRoomsRequest" => agrees_with_python::<ListRoomsRequest>(call, json, hex),
            "livekit.DeleteRoomRequest" => agrees_with_python::<DeleteRoomRequest>(call, json, hex),
            "livekit.RoomParticipantIdentity" => {
                agrees_with_python::<RoomParticipantIdentity>(call, json, hex);
            }
            "livekit.ListParticipantsRequest" => {
                agrees_with_python::<ListParticipantsRequest>(call, json, hex);
            }
            "livekit.UpdateParticipantRequest" => {
                agrees_with_python::<UpdateParticipantRequest>(call, json, hex);
            }
            "livekit.SendDataRequest" => agrees_with_python::<SendDataRequest>(call, json, hex),
            "livekit.RoomCompositeEgressRequest" => {
                agrees_with_python::<RoomCompositeEgressRequest>(call, json, hex);
            }
            "livekit.ListEgressRequest" => agrees_with_python::<ListEgressRequest>(call, json, hex),
            "livekit.CreateIngressRequest" => {
                agrees_with_python::<CreateIngressRequest>(call, json, hex);
            }
            "livekit.CreateSIPInboundTrunkRequest" => {
                agrees_with_python::<CreateSipInboundTrunkRequest>(call, json, hex);
            }
            "livekit.CreateSIPParticipantRequest" => {
                agrees_with_python::<CreateSipParticipantRequest>(call, json, hex);
            }
            "livekit.TransferSIPParticipantRequest" => {
                agrees_with_python::<TransferSipParticipantRequest>(call, json, hex);
            }
            "livekit.CreateAgentDispatchRequest" => {
                agrees_with_python::<CreateAgentDispatchRequest>(call, json, hex);
            }
            "livekit.ListAgentDispatchRequest" => {
                agrees_with_python::<ListAgentDispatchRequest>(call, json, hex);
            }
            other => panic!("{call}: no Rust type listed for {other}"),
        }
    }
}

/// The same agreement for a request built the way a user of the crate would build it.
#[test]
fn a_hand_built_create_room_request_matches_python() {
    let request = CreateRoomRequest {
        name: "my-room".into(),
        empty_timeout: 600,
        departure_timeout: 20,
        max_participants: 20,
        metadata: r#"{"k":"v"}"#.into(),
        ..Default::default()
    };
    assert_eq!(
        to_hex(&request.encode_to_vec()),
        "0a076d792d726f6f6d10d80418142a097b226b223a2276227d5014"
    );
}
