//! The `WebhookEvent` message from any bytes, as protojson and as protobuf: never a panic,
//! and whatever decodes encodes back stably in both encodings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livekit_proto::{Message as _, WebhookEvent};

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<WebhookEvent>(data) {
        json_is_stable(&event);
        protobuf_is_stable(&event);
    }
    if let Ok(event) = WebhookEvent::decode(data) {
        json_is_stable(&event);
        protobuf_is_stable(&event);
    }
});

/// JSON out, JSON in, JSON out: the two texts are equal (comparing texts, not messages, so
/// a NaN float cannot make equal things unequal).
fn json_is_stable(event: &WebhookEvent) {
    let first = serde_json::to_string(event).expect("an event serializes");
    let decoded: WebhookEvent =
        serde_json::from_str(&first).unwrap_or_else(|error| panic!("{error}: {first}"));
    let second = serde_json::to_string(&decoded).expect("an event serializes");
    assert_eq!(first, second, "protojson is not stable");
}

fn protobuf_is_stable(event: &WebhookEvent) {
    let first = event.encode_to_vec();
    let decoded = WebhookEvent::decode(first.as_slice()).expect("our own encoding decodes");
    assert_eq!(first, decoded.encode_to_vec(), "protobuf is not stable");
}
