//! Client-side cost of a call and of a webhook, on one core; prints one JSON object.
//!
//! Run through `cargo xtask bench`. Figures from the fastest batch, means beside them (see
//! `livekit-auth/benches/support/timing.rs`).
#![allow(
    missing_docs,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::hint::black_box;
use std::time::Duration;

use livekit_auth::{AccessToken, Credentials, body_sha256};
use livekit_core::{CallContext, Client, WebhookReceiver, rpc};
use livekit_proto::{CreateRoomRequest, Message as _, Room};

#[path = "../../livekit-auth/benches/support/timing.rs"]
mod timing;

fn main() {
    let now = 1_800_000_000;
    let credentials = Credentials::new("APIbenchKey", "bench-secret-bench-secret-0123456789")
        .expect("valid credentials");
    let client = Client::new("https://example.livekit.cloud", credentials.clone()).expect("url");
    let request = CreateRoomRequest {
        name: "a-typical-room-name".into(),
        empty_timeout: 600,
        max_participants: 20,
        metadata: r#"{"k":"v"}"#.into(),
        ..Default::default()
    };
    let room = Room {
        sid: "RM_hycBMAjmt6Ub".into(),
        name: "a-typical-room-name".into(),
        empty_timeout: 600,
        max_participants: 20,
        creation_time: 1_692_985_556,
        metadata: r#"{"k":"v"}"#.into(),
        ..Default::default()
    };
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "application/protobuf")
        .body(room.encode_to_vec())
        .expect("response");
    let call = CallContext::new(now, "0b6f7c1e-8d1a-4c7e-9f3b-2a5d6e7f8a9b");
    let mut call_once = || {
        let http_request = client
            .build_request::<rpc::CreateRoom>(black_box(&request), &call)
            .expect("builds");
        black_box(&http_request);
        let parsed = client
            .parse_response::<rpc::CreateRoom, _>(black_box(&response), call.request_id)
            .expect("parses");
        black_box(parsed);
    };

    let padding = "x".repeat(1024 - 236);
    let body = format!(
        r#"{{"event":"room_started","room":{{"sid":"RM_hycBMAjmt6Ub","name":"Demo Room","emptyTimeout":300,"creationTime":"1692985556","metadata":"{padding}","enabledCodecs":[{{"mime":"audio/opus"}},{{"mime":"video/VP8"}}]}},"id":"EV_eugWmGhovZmm","createdAt":"1692985556"}}"#
    );
    let token = AccessToken::new()
        .with_sha256(body_sha256(body.as_bytes()))
        .with_ttl(Duration::from_secs(300))
        .sign(&credentials, now)
        .expect("mints");
    let receiver = WebhookReceiver::new(credentials);
    receiver
        .receive(body.as_bytes(), Some(&token), now)
        .expect("a valid webhook");
    let rates = timing::measure(
        timing::budget(),
        &mut [&mut call_once, &mut || {
            black_box(
                receiver
                    .receive(black_box(body.as_bytes()), Some(&token), now)
                    .ok(),
            );
        }],
    );
    let (calls, webhooks) = (&rates[0], &rates[1]);

    println!(
        "{{\"core_create_room_build_parse_per_s\":{:.0},\"core_create_room_build_parse_mean_per_s\":{:.0},\
         \"core_webhook_1kb_receive_per_s\":{:.0},\"core_webhook_1kb_receive_mean_per_s\":{:.0},\
         \"core_webhook_body_bytes\":{}}}",
        calls.best,
        calls.mean,
        webhooks.best,
        webhooks.mean,
        body.len()
    );
}
