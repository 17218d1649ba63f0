//! The proto3 JSON mapping as the server and its peers use it: webhook bodies (camelCase,
//! 64-bit integers as strings, defaults omitted), Twirp JSON responses (snake_case, every field
//! emitted), and what a newer server may send (unknown fields, unknown enum values, `null`).

use livekit_proto::*;
use serde_json::json;

fn decode<M: serde::de::DeserializeOwned>(body: &str) -> M {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}\n{body}"))
}

#[test]
fn room_started_webhook_as_the_server_posts_it() {
    let event: WebhookEvent = decode(
        r#"{
          "event": "room_started",
          "room": {
            "sid": "RM_hycBMAjmt6Ub",
            "name": "Demo Room",
            "emptyTimeout": 300,
            "departureTimeout": 20,
            "maxParticipants": 10,
            "creationTime": "1692985556",
            "creationTimeMs": "1692985556123",
            "turnPassword": "ICkSr2rEeslkN6e9bXL4Ji5zzMD5Z7zzr6ulOaxMj6N",
            "enabledCodecs": [{"mime": "audio/opus"}, {"mime": "video/VP8"}],
            "version": {"unixMicro": "1692985556123456", "ticks": 2}
          },
          "id": "EV_eugWmGhovZmm",
          "createdAt": "1692985556"
        }"#,
    );
    assert_eq!(event.event, "room_started");
    assert_eq!(event.id, "EV_eugWmGhovZmm");
    assert_eq!(event.created_at, 1_692_985_556);
    let room = event.room.expect("room");
    assert_eq!(room.sid, "RM_hycBMAjmt6Ub");
    assert_eq!(room.empty_timeout, 300);
    assert_eq!(room.departure_timeout, 20);
    assert_eq!(room.creation_time, 1_692_985_556);
    assert_eq!(room.creation_time_ms, 1_692_985_556_123);
    assert_eq!(room.enabled_codecs.len(), 2);
    assert_eq!(room.enabled_codecs[1].mime, "video/VP8");
    let version = room.version.expect("version");
    assert_eq!(version.unix_micro, 1_692_985_556_123_456);
    assert_eq!(version.ticks, 2);
}

#[test]
fn participant_and_track_webhooks_as_the_server_posts_them() {
    let event: WebhookEvent = decode(
        r#"{
          "event": "track_published",
          "room": {"sid": "RM_hycBMAjmt6Ub", "name": "Demo Room"},
          "participant": {
            "sid": "PA_SFd8Xu2pBbBE",
            "identity": "alice",
            "state": "ACTIVE",
            "joinedAt": "1692985560",
            "joinedAtMs": "1692985560502",
            "name": "Alice",
            "version": 5,
            "permission": {"canSubscribe": true, "canPublish": true, "canPublishData": true,
                           "canPublishSources": ["CAMERA", "MICROPHONE"]},
            "isPublisher": true,
            "kind": "AGENT",
            "kindDetails": ["CLOUD_AGENT"],
            "attributes": {"lk.agent.state": "listening"},
            "disconnectReason": "CLIENT_INITIATED"
          },
          "track": {
            "sid": "TR_AMkSaeZKTH4VJA",
            "type": "VIDEO",
            "source": "CAMERA",
            "width": 1280,
            "height": 720,
            "mimeType": "video/VP8",
            "mid": "1",
            "codecs": [{"mimeType": "video/VP8", "mid": "1", "layers": [
              {"quality": "HIGH", "width": 1280, "height": 720, "bitrate": 1700000, "ssrc": 4001}
            ]}],
            "encryption": "GCM",
            "audioFeatures": ["TF_NO_NOISE_SUPPRESSION"]
          },
          "id": "EV_3HfQgW6xcgfk",
          "createdAt": "1692985561"
        }"#,
    );
    let participant = event.participant.expect("participant");
    assert_eq!(
        participant.state,
        i32::from(participant_info::State::Active)
    );
    assert_eq!(participant.kind, i32::from(participant_info::Kind::Agent));
    assert_eq!(
        participant.kind_details,
        [i32::from(participant_info::KindDetail::CloudAgent)]
    );
    assert_eq!(participant.joined_at_ms, 1_692_985_560_502);
    assert_eq!(participant.attributes["lk.agent.state"], "listening");
    assert_eq!(
        participant.disconnect_reason,
        i32::from(DisconnectReason::ClientInitiated)
    );
    let permission = participant.permission.expect("permission");
    assert!(permission.can_publish && !permission.hidden);
    assert_eq!(
        permission.can_publish_sources,
        [
            i32::from(TrackSource::Camera),
            i32::from(TrackSource::Microphone)
        ]
    );
    let track = event.track.expect("track");
    assert_eq!(track.r#type, i32::from(TrackType::Video));
    assert_eq!(track.source, i32::from(TrackSource::Camera));
    assert_eq!(track.encryption, i32::from(encryption::Type::Gcm));
    assert_eq!(
        track.codecs[0].layers[0].quality,
        i32::from(VideoQuality::High)
    );
    assert_eq!(track.codecs[0].layers[0].ssrc, 4001);
}

#[test]
fn egress_and_ingress_webhooks_as_the_server_posts_them() {
    let event: WebhookEvent = decode(
        r#"{
          "event": "egress_ended",
          "egressInfo": {
            "egressId": "EG_SBsKK8Gm6f6f",
            "roomId": "RM_hycBMAjmt6Ub",
            "roomName": "Demo Room",
            "status": "EGRESS_COMPLETE",
            "startedAt": "1692985562069420911",
            "endedAt": "1692985622101213000",
            "updatedAt": "1692985622101213000",
            "roomComposite": {"roomName": "Demo Room", "layout": "speaker",
                              "fileOutputs": [{"fileType": "MP4", "filepath": "out.mp4"}]},
            "fileResults": [{"filename": "out.mp4", "startedAt": "1692985562069420911",
                             "endedAt": "1692985622101213000", "duration": "60031792089",
                             "size": "6341820", "location": "s3://bucket/out.mp4"}]
          },
          "id": "EV_9vYkqbwSCbJr",
          "createdAt": "1692985622"
        }"#,
    );
    let egress = event.egress_info.expect("egress info");
    assert_eq!(egress.status, i32::from(EgressStatus::EgressComplete));
    assert_eq!(egress.started_at, 1_692_985_562_069_420_911);
    assert_eq!(egress.file_results[0].size, 6_341_820);
    let Some(egress_info::Request::RoomComposite(request)) = egress.request else {
        panic!("room composite request expected, got {:?}", egress.request);
    };
    assert_eq!(request.layout, "speaker");
    assert_eq!(
        request.file_outputs[0].file_type,
        i32::from(EncodedFileType::Mp4)
    );

    let event: WebhookEvent = decode(
        r#"{"event": "ingress_started",
            "ingressInfo": {"ingressId": "IN_3hHqZ7oo9ha5", "name": "stream", "streamKey": "k",
                            "url": "rtmp://localhost/x", "inputType": "RTMP_INPUT",
                            "state": {"status": "ENDPOINT_PUBLISHING", "startedAt": "1692985600"}},
            "id": "EV_x", "createdAt": "1692985600"}"#,
    );
    let ingress = event.ingress_info.expect("ingress info");
    assert_eq!(ingress.input_type, i32::from(IngressInput::RtmpInput));
    let state = ingress.state.expect("state");
    assert_eq!(
        state.status,
        i32::from(ingress_state::Status::EndpointPublishing)
    );
    assert_eq!(state.started_at, 1_692_985_600);
}

/// Twirp's JSON responses use the proto field names and emit every field: `null` for unset
/// messages, `[]` and `{}` for empty repeated fields and maps, 0, `false` and `""`.
#[test]
fn twirp_json_response_in_snake_case_with_every_field_emitted() {
    let response: ListParticipantsResponse = decode(
        r#"{"participants": [{
          "sid": "PA_1", "identity": "alice", "state": "JOINED",
          "tracks": [{
            "sid": "TR_1", "type": "AUDIO", "name": "mic", "muted": false, "width": 0,
            "height": 0, "simulcast": false, "disable_dtx": false, "source": "MICROPHONE",
            "layers": [], "mime_type": "audio/opus", "mid": "0", "codecs": [], "stereo": false,
            "disable_red": false, "encryption": "NONE", "stream": "", "version": null,
            "audio_features": [], "backup_codec_policy": "PREFER_REGRESSION",
            "packet_trailer_features": []
          }],
          "metadata": "", "joined_at": "1700000000", "joined_at_ms": "1700000000123",
          "name": "", "version": 3,
          "permission": null, "region": "", "is_publisher": true, "kind": "STANDARD",
          "attributes": {}, "disconnect_reason": "UNKNOWN_REASON", "kind_details": [],
          "data_tracks": [], "client_protocol": 0, "capabilities": []
        }]}"#,
    );
    let participant = &response.participants[0];
    assert_eq!(
        participant.state,
        i32::from(participant_info::State::Joined)
    );
    assert_eq!(participant.joined_at_ms, 1_700_000_000_123);
    assert!(participant.permission.is_none());
    assert_eq!(participant.tracks[0].r#type, i32::from(TrackType::Audio));
    assert_eq!(participant.tracks[0].mime_type, "audio/opus");

    let rooms: ListRoomsResponse = decode(
        r#"{"rooms": [{
          "sid": "RM_1", "name": "r", "empty_timeout": 300, "departure_timeout": 20,
          "max_participants": 0, "creation_time": "1700000000",
          "creation_time_ms": "1700000000123", "turn_password": "", "enabled_codecs": [],
          "metadata": "", "num_participants": 2, "num_publishers": 1,
          "active_recording": false, "version": null
        }]}"#,
    );
    assert_eq!(rooms.rooms[0].creation_time_ms, 1_700_000_000_123);
    assert_eq!(rooms.rooms[0].num_participants, 2);
}

/// The Node SDK's probe of the same: snake_case names, an int64 as a number, an unknown field.
#[test]
fn int64_as_number_and_unknown_fields() {
    let response: ListRoomsResponse = decode(
        r#"{"rooms":[{"sid":"RM_1","name":"r","creation_time":1700000000,
            "creationTimeMs":"1700000000123","num_participants":2,"someFutureField":true,
            "anotherOne":{"nested":[1,2,{"x":null}]}}],"topLevelFuture":"x"}"#,
    );
    let room = &response.rooms[0];
    assert_eq!(room.creation_time, 1_700_000_000);
    assert_eq!(room.creation_time_ms, 1_700_000_000_123);
    assert_eq!(room.num_participants, 2);
}

/// Enums as names and as numbers, including numbers and names this version does not know.
#[test]
fn unknown_enum_values_decode() {
    let response: ListParticipantsResponse = decode(
        r#"{"participants":[
            {"sid":"PA_1","state":"ACTIVE","kind":2,"tracks":[{"type":"VIDEO","source":99}]},
            {"sid":"PA_2","state":"SOME_FUTURE_STATE","kind":42,"kindDetails":[2,77,"FORWARDED"]},
            {"sid":"PA_3","state":-5}
        ]}"#,
    );
    let [first, second, third] = response.participants.as_slice() else {
        panic!("three participants");
    };
    assert_eq!(first.state, i32::from(participant_info::State::Active));
    assert_eq!(first.kind, i32::from(participant_info::Kind::Egress));
    assert_eq!(first.tracks[0].source, 99, "an unknown number is kept");
    // An unknown name has no number to keep: the field stays at its default.
    assert_eq!(second.state, 0);
    assert_eq!(second.kind, 42);
    assert_eq!(second.kind_details, [2, 77, 1]);
    assert_eq!(third.state, -5);

    // Encoding writes known values as names and unknown ones as numbers.
    let encoded = serde_json::to_value(second).expect("encodes");
    assert_eq!(encoded["kind"], json!(42));
    assert_eq!(
        encoded["kindDetails"],
        json!(["CONNECTOR_WHATSAPP", 77, "FORWARDED"])
    );
    assert!(encoded.get("state").is_none(), "the default is omitted");
    let encoded = serde_json::to_value(first).expect("encodes");
    assert_eq!(encoded["tracks"][0]["source"], json!(99));
    assert_eq!(encoded["tracks"][0]["type"], json!("VIDEO"));

    // Unknown enum numbers in oneofs and optional fields too.
    let request: StartEgressRequest = decode(r#"{"roomName":"r","preset":1234}"#);
    assert_eq!(
        request.encoding,
        Some(start_egress_request::Encoding::Preset(1234))
    );
    assert_eq!(
        serde_json::to_value(&request).expect("encodes")["preset"],
        json!(1234)
    );
    let media: SipMediaConfig = decode(r#"{"encryption":555}"#);
    assert_eq!(media.encryption, Some(555));
    assert_eq!(
        serde_json::to_value(&media).expect("encodes")["encryption"],
        json!(555)
    );

    // The protobuf encoding keeps unknown numbers as well, natively.
    let bytes = second.encode_to_vec();
    let decoded = ParticipantInfo::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(decoded.kind, 42);
}

/// `null` means unset for every kind of field.
#[test]
fn null_means_unset() {
    let participant: ParticipantInfo = decode(
        r#"{"sid": null, "state": null, "tracks": null, "joinedAt": null, "version": null,
            "permission": null, "isPublisher": null, "attributes": null, "kindDetails": null,
            "identity": "alice"}"#,
    );
    assert_eq!(
        participant,
        ParticipantInfo {
            identity: "alice".into(),
            ..Default::default()
        }
    );
    let request: SendDataRequest = decode(r#"{"room":"r","data":null,"nonce":null,"kind":null}"#);
    assert_eq!(request.room, "r");
    assert!(request.data.is_empty());
    let request: StartEgressRequest = decode(r#"{"roomName":"r","preset":null,"file":null}"#);
    assert_eq!(request.encoding, None);
}

#[test]
fn encoding_writes_camel_case_omits_defaults_and_writes_int64_as_strings() {
    let room = Room {
        sid: "RM_1".into(),
        name: "r".into(),
        empty_timeout: 300,
        creation_time: 1_700_000_000,
        creation_time_ms: 9_007_199_254_740_993,
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&room).expect("encodes"),
        json!({
            "sid": "RM_1",
            "name": "r",
            "emptyTimeout": 300,
            "creationTime": "1700000000",
            "creationTimeMs": "9007199254740993"
        })
    );
    let track = TrackInfo {
        r#type: TrackType::Video.into(),
        source: TrackSource::ScreenShare.into(),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&track).expect("encodes"),
        json!({"type": "VIDEO", "source": "SCREEN_SHARE"})
    );
    assert_eq!(
        serde_json::to_string(&DeleteRoomResponse::default()).expect("encodes"),
        "{}"
    );
}

/// Durations as proto3 JSON strings, as the SIP requests carry them.
#[test]
fn well_known_durations_use_their_json_form() {
    let request: TransferSipParticipantRequest = decode(
        r#"{"participant_identity":"caller","room_name":"r","transfer_to":"tel:+15550111",
            "ringing_timeout":"30s"}"#,
    );
    let timeout = request.ringing_timeout.expect("ringing timeout");
    assert_eq!((timeout.seconds, timeout.nanos), (30, 0));
    assert_eq!(
        serde_json::to_value(&request).expect("encodes")["ringingTimeout"],
        json!("30s")
    );
}

/// Bytes are written as standard base64 with padding and read in any form the mapping
/// allows: standard or URL-safe alphabet, padded or not.
#[test]
fn bytes_are_base64_in_every_form_the_mapping_allows() {
    let request = SendDataRequest {
        room: "r".into(),
        data: vec![0xfb, 0xff, 0x00, 0x3e],
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&request).expect("encodes")["data"],
        json!("+/8APg==")
    );
    for text in ["+/8APg==", "+/8APg", "-_8APg==", "-_8APg"] {
        let decoded: SendDataRequest = decode(&format!(r#"{{"room":"r","data":"{text}"}}"#));
        assert_eq!(decoded.data, request.data, "{text}");
    }
    let error =
        serde_json::from_str::<SendDataRequest>(r#"{"data":"not base64!"}"#).expect_err("refused");
    assert!(error.to_string().contains("invalid base64"), "{error}");
}

/// Non-finite floats travel as the mapping's strings, which JSON numbers cannot hold.
#[test]
fn non_finite_floats_are_strings() {
    for (value, text) in [
        (f32::NAN, "NaN"),
        (f32::INFINITY, "Infinity"),
        (f32::NEG_INFINITY, "-Infinity"),
    ] {
        let sample = MetricSample {
            value,
            ..Default::default()
        };
        let encoded = serde_json::to_value(sample).expect("encodes");
        assert_eq!(encoded["value"], json!(text));
        let decoded: MetricSample = serde_json::from_value(encoded).expect("decodes");
        assert_eq!(decoded.value.to_bits(), value.to_bits(), "{text}");
    }
    let sample: MetricSample = decode(r#"{"value": 1.5}"#);
    assert_eq!(sample.value, 1.5);
}
