//! `WebhookReceiver::receive` on any header and body: never a panic, no error shows the
//! secret, and a body signed with the right key fails, if at all, only as a body error.
//!
//! Input: the `Authorization` value on the first line, the body after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livekit_auth::{AccessToken, Credentials, body_sha256};
use livekit_core::{WebhookError, WebhookReceiver};

const KEY: &str = "APIfuzz";
const SECRET: &str = "fuzz-secret-that-must-never-be-printed";
/// The dev keys the real server signed the seed webhooks with.
const DEV_KEY: &str = "devkey";
const DEV_SECRET: &str = "secret";
/// Inside the seed webhooks' five-minute validity window.
const NOW: u64 = 1_795_871_000;

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&byte| byte == b'\n') {
        Some(newline) => (&data[..newline], &data[newline + 1..]),
        None => (&[][..], data),
    };
    let credentials = Credentials::new(KEY, SECRET).expect("valid credentials");
    let dev = Credentials::new(DEV_KEY, DEV_SECRET).expect("valid credentials");
    let receiver = WebhookReceiver::new(vec![credentials.clone(), dev]);

    // As sent: whatever header the input carries.
    if let Ok(header) = std::str::from_utf8(header) {
        match receiver.receive(body, Some(header), NOW) {
            Ok(event) => reserializes(&event.event),
            Err(error) => {
                let text = format!("{error} {error:?}");
                for secret in [SECRET, DEV_SECRET] {
                    assert!(
                        contains(data, secret) || !text.contains(secret),
                        "an error shows a secret: {text}"
                    );
                }
            }
        }
    }

    // As the server signs it: the signature holds, so only the body can be refused.
    let token = AccessToken::new()
        .with_sha256(body_sha256(body))
        .with_ttl(std::time::Duration::from_secs(300))
        .sign(&credentials, NOW)
        .expect("a webhook token mints");
    match receiver.receive(body, Some(&token), NOW) {
        Ok(event) => reserializes(&event.event),
        Err(WebhookError::InvalidBody { .. } | WebhookError::BodyTooLarge { .. }) => {}
        Err(other) => panic!("a correctly signed body was refused for its signature: {other}"),
    }
});

fn contains(data: &[u8], text: &str) -> bool {
    data.windows(text.len())
        .any(|window| window == text.as_bytes())
}

/// A decoded event's protojson is stable: encoding it, decoding that and encoding again gives
/// the same text.
fn reserializes(event: &livekit_proto::WebhookEvent) {
    let first = serde_json::to_string(event).expect("an event serializes");
    let decoded: livekit_proto::WebhookEvent =
        serde_json::from_str(&first).unwrap_or_else(|error| panic!("{error}: {first}"));
    let second = serde_json::to_string(&decoded).expect("an event serializes");
    assert_eq!(first, second, "protojson is not stable");
}
