//! The tracing a call emits: what it says, and that it never carries a token or a secret.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livekit_auth::Credentials;
use livekit_core::{BlockingApi, Client, Environment, FnTransport, Services};
use livekit_proto::Message as _;

const SECRET: &str = "a-secret-that-must-never-be-logged";

struct Fixed;

impl Environment for Fixed {
    fn unix_now(&self) -> u64 {
        1_800_000_000
    }
    fn monotonic(&self) -> Duration {
        Duration::ZERO
    }
    fn random(&self) -> u64 {
        7
    }
}

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_call_is_traced_with_its_outcome_and_without_credentials() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();

    let tokens = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&tokens);
    let answers = Mutex::new(vec![
        Ok(http::Response::builder()
            .status(200)
            .body(livekit_proto::Room::default().encode_to_vec())
            .unwrap()),
        Ok(http::Response::builder()
            .status(503)
            .body(br#"{"code":"unavailable","msg":"draining"}"#.to_vec())
            .unwrap()),
    ]);
    let transport = FnTransport::new(move |request: http::Request<Vec<u8>>, _timeout| {
        let header = request.headers()["authorization"]
            .to_str()
            .unwrap()
            .to_owned();
        seen.lock().unwrap().push(header);
        answers.lock().unwrap().pop().unwrap()
    });
    let client = Client::new(
        "http://127.0.0.1:7880",
        Credentials::new("APItrace", SECRET).unwrap(),
    )
    .unwrap();
    let api = BlockingApi::new(client, transport, Fixed);

    tracing::subscriber::with_default(subscriber, || {
        api.room()
            .create_room(livekit_proto::CreateRoomRequest {
                name: "traced".into(),
                ..Default::default()
            })
            .unwrap();
    });

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("livekit_call"), "{output}");
    assert!(output.contains("service=\"RoomService\""), "{output}");
    assert!(output.contains("method=\"CreateRoom\""), "{output}");
    assert!(output.contains("request_id="), "{output}");
    assert!(
        output.contains("attempt=1") && output.contains("attempt=2"),
        "{output}"
    );
    assert!(
        output.contains("status=503") && output.contains("status=200"),
        "{output}"
    );
    assert!(output.contains("call succeeded"), "{output}");
    assert!(!output.contains(SECRET));
    let tokens = tokens.lock().unwrap();
    assert_eq!(tokens.len(), 2);
    for header in tokens.iter() {
        let token = header.trim_start_matches("Bearer ");
        assert!(!output.contains(token), "a token leaked into the trace");
        // No part of the token either (its signature or payload segment).
        for segment in token.split('.').skip(1) {
            assert!(!output.contains(segment));
        }
    }
}
