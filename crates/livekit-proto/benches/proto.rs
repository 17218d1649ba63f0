//! Throughput of the protocol types, printed as one line of JSON for `cargo xtask bench`:
//!
//! - `proto_list_participants_roundtrip_per_s`: protobuf encode + decode of a
//!   `ListParticipantsResponse` with 100 participants of 2 tracks each, the fast way: prost's
//!   `encode_to_vec` and a [`view`] (strings borrowed from the buffer).
//! - `proto_list_participants_roundtrip_prost_per_s`: the same with prost alone
//!   (`encode_to_vec` and `decode`, every string copied).
//! - `proto_list_participants_encode_per_s`, `..._view_decode_per_s` and
//!   `..._prost_decode_per_s`: the halves.
//! - `proto_webhook_json_decode_per_s`: protojson decode of a 1 KB `room_started` webhook event.
//!
//! Each figure runs batches of a fixed number of iterations until a fixed time has passed.

use core::hint::black_box;
use core::time::Duration;
use std::time::Instant;

use livekit_proto::{
    ListParticipantsResponse, Message as _, ParticipantInfo, TrackInfo, TrackSource, TrackType,
    WebhookEvent, participant_info, view,
};

const MEASURE_FOR: Duration = Duration::from_secs(2);

fn main() {
    let response = list_participants_response();
    let encoded = response.encode_to_vec();
    assert_eq!(
        view::ListParticipantsResponse::from_protobuf(&encoded)
            .expect("the view decodes")
            .to_message(),
        response,
        "the view reads the response back"
    );

    let roundtrips = per_second(100, || {
        let bytes = black_box(&response).encode_to_vec();
        let decoded = view::ListParticipantsResponse::from_protobuf(black_box(bytes.as_slice()))
            .expect("encoded response decodes");
        black_box(&decoded);
    });
    let prost = per_second(100, || {
        let bytes = black_box(&response).encode_to_vec();
        let decoded = ListParticipantsResponse::decode(black_box(bytes.as_slice()))
            .expect("encoded response decodes");
        black_box(decoded);
    });
    let encodes = per_second(100, || {
        black_box(black_box(&response).encode_to_vec());
    });
    let view_decodes = per_second(100, || {
        let decoded = view::ListParticipantsResponse::from_protobuf(black_box(encoded.as_slice()))
            .expect("encoded response decodes");
        black_box(&decoded);
    });
    let prost_decodes = per_second(100, || {
        let decoded = ListParticipantsResponse::decode(black_box(encoded.as_slice()))
            .expect("encoded response decodes");
        black_box(decoded);
    });

    let body = room_started_webhook();
    assert!(
        (900..=1100).contains(&body.len()),
        "webhook body is {} bytes, meant to be about 1 KB",
        body.len()
    );
    let decodes = per_second(1000, || {
        let event: WebhookEvent =
            serde_json::from_str(black_box(&body)).expect("webhook body decodes");
        black_box(event);
    });

    println!(
        "{{\"proto_list_participants_roundtrip_per_s\": {roundtrips:.0}, \
         \"proto_list_participants_roundtrip_prost_per_s\": {prost:.0}, \
         \"proto_list_participants_encode_per_s\": {encodes:.0}, \
         \"proto_list_participants_view_decode_per_s\": {view_decodes:.0}, \
         \"proto_list_participants_prost_decode_per_s\": {prost_decodes:.0}, \
         \"proto_webhook_json_decode_per_s\": {decodes:.0}}}"
    );
}

/// Runs `batch` iterations of `work` at a time, after one warm-up batch, until
/// [`MEASURE_FOR`] has passed; returns iterations per second.
fn per_second(batch: u32, mut work: impl FnMut()) -> f64 {
    for _ in 0..batch {
        work();
    }
    let started = Instant::now();
    let mut iterations = 0_u64;
    while started.elapsed() < MEASURE_FOR {
        for _ in 0..batch {
            work();
        }
        iterations += u64::from(batch);
    }
    iterations as f64 / started.elapsed().as_secs_f64()
}

fn list_participants_response() -> ListParticipantsResponse {
    let participants = (0..100)
        .map(|index| ParticipantInfo {
            sid: format!("PA_{index:012}"),
            identity: format!("participant-{index}"),
            name: format!("Participant {index}"),
            state: participant_info::State::Active.into(),
            metadata: r#"{"role":"speaker"}"#.to_owned(),
            joined_at: 1_700_000_000 + index,
            joined_at_ms: (1_700_000_000 + index) * 1000,
            version: 3,
            is_publisher: true,
            kind: participant_info::Kind::Standard.into(),
            attributes: [("team".to_owned(), "blue".to_owned())].into(),
            tracks: vec![
                TrackInfo {
                    sid: format!("TR_a{index:011}"),
                    r#type: TrackType::Audio.into(),
                    name: "microphone".to_owned(),
                    source: TrackSource::Microphone.into(),
                    mime_type: "audio/opus".to_owned(),
                    stream: "camera".to_owned(),
                    ..Default::default()
                },
                TrackInfo {
                    sid: format!("TR_v{index:011}"),
                    r#type: TrackType::Video.into(),
                    name: "camera".to_owned(),
                    source: TrackSource::Camera.into(),
                    width: 1280,
                    height: 720,
                    mime_type: "video/VP8".to_owned(),
                    stream: "camera".to_owned(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        })
        .collect();
    ListParticipantsResponse { participants }
}

/// A `room_started` event as the server posts it (camelCase, int64 as strings), about 1 KB.
fn room_started_webhook() -> String {
    let metadata = "x".repeat(430);
    format!(
        r#"{{"event":"room_started","room":{{"sid":"RM_hycBMAjmt6Ub","name":"stand-up-meeting","emptyTimeout":300,"departureTimeout":20,"maxParticipants":50,"creationTime":"1692985556","creationTimeMs":"1692985556123","turnPassword":"","enabledCodecs":[{{"mime":"audio/opus"}},{{"mime":"audio/red"}},{{"mime":"video/VP8"}},{{"mime":"video/H264"}},{{"mime":"video/VP9"}},{{"mime":"video/AV1"}}],"metadata":"{metadata}","numParticipants":0,"numPublishers":0,"activeRecording":false,"version":{{"unixMicro":"1692985556123456","ticks":1}}}},"id":"EV_eugWmGhovZmm","createdAt":"1692985556"}}"#
    )
}
