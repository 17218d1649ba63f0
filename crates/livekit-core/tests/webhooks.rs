//! Webhooks as the server sends them: a bare JWT in `Authorization`, a protojson body.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::time::Duration;

use livekit_auth::{AccessToken, Credentials, body_sha256};
use livekit_core::{DEFAULT_MAX_WEBHOOK_BODY_LEN, WebhookError, WebhookEventKind, WebhookReceiver};

const NOW: u64 = 1_692_985_556;

/// A `room_started` event in the server's exact encoding: camelCase, int64 as strings,
/// enums as names, defaults omitted.
const ROOM_STARTED: &str = r#"{"event":"room_started","room":{"sid":"RM_hycBMAjmt6Ub","name":"Demo Room","emptyTimeout":300,"creationTime":"1692985556","turnPassword":"ignored-field","enabledCodecs":[{"mime":"audio/opus"},{"mime":"video/VP8"}]},"id":"EV_eugWmGhovZmm","createdAt":"1692985556"}"#;

fn credentials() -> Credentials {
    Credentials::new("devkey", "secret").unwrap()
}

/// Signs `body` as the server does: 5-minute token, `sha256` claim, no `Bearer ` prefix.
fn sign(body: &str, credentials: &Credentials) -> String {
    AccessToken::new()
        .with_sha256(body_sha256(body.as_bytes()))
        .with_ttl(Duration::from_secs(300))
        .sign(credentials, NOW)
        .unwrap()
}

#[test]
fn a_server_webhook_verifies_and_decodes() {
    let receiver = WebhookReceiver::new(credentials());
    let header = sign(ROOM_STARTED, &credentials());
    let event = receiver
        .receive(ROOM_STARTED.as_bytes(), Some(&header), NOW + 1)
        .unwrap();
    assert_eq!(event.kind, WebhookEventKind::RoomStarted);
    let room = event.event.room.unwrap();
    assert_eq!(room.name, "Demo Room");
    assert_eq!(room.creation_time, 1_692_985_556);
    assert_eq!(room.empty_timeout, 300);
    assert_eq!(event.event.id, "EV_eugWmGhovZmm");
    // With the prefix a proxy or another SDK may add, too.
    assert!(
        receiver
            .receive(
                ROOM_STARTED.as_bytes(),
                Some(&format!("Bearer {header}")),
                NOW
            )
            .is_ok()
    );
}

#[test]
fn unknown_events_fields_and_enum_values_are_tolerated() {
    let body = r#"{"event":"room_hibernated","room":{"name":"r"},"participant":{"identity":"p","state":"FUTURE_STATE","kind":42,"newField":{"x":1}},"someNewTopLevel":true,"createdAt":7}"#;
    let receiver = WebhookReceiver::new(credentials());
    let event = receiver
        .receive(body.as_bytes(), Some(&sign(body, &credentials())), NOW)
        .unwrap();
    assert_eq!(
        event.kind,
        WebhookEventKind::Other("room_hibernated".into())
    );
    let participant = event.event.participant.unwrap();
    assert_eq!(participant.identity, "p");
    assert_eq!(participant.kind, 42, "an unknown enum number is kept");
    assert_eq!(event.event.created_at, 7);
}

#[test]
fn every_refusal_has_its_own_error() {
    let receiver = WebhookReceiver::new(credentials());
    let body = ROOM_STARTED.as_bytes();
    let webhook_error = |result: Result<_, WebhookError>| match result {
        Err(error) => error,
        other => panic!("expected a webhook error, got {other:?}"),
    };

    assert_eq!(
        webhook_error(receiver.receive(body, None, NOW)),
        WebhookError::MissingAuthorization
    );
    assert_eq!(
        webhook_error(receiver.receive(body, Some("  "), NOW)),
        WebhookError::MissingAuthorization
    );
    let stranger = Credentials::new("APIstranger", "secret").unwrap();
    assert_eq!(
        webhook_error(receiver.receive(body, Some(&sign(ROOM_STARTED, &stranger)), NOW)),
        WebhookError::UnknownKey("APIstranger".into())
    );
    let forged = Credentials::new("devkey", "guessed").unwrap();
    assert!(matches!(
        webhook_error(receiver.receive(body, Some(&sign(ROOM_STARTED, &forged)), NOW)),
        WebhookError::InvalidToken(livekit_auth::Error::InvalidSignature)
    ));
    let header = sign(ROOM_STARTED, &credentials());
    assert!(matches!(
        webhook_error(receiver.receive(body, Some(&header), NOW + 3600)),
        WebhookError::InvalidToken(livekit_auth::Error::Expired { .. })
    ));
    // Re-serialized JSON (what a JSON body parser would hand over) no longer matches.
    let reparsed: serde_json::Value = serde_json::from_str(ROOM_STARTED).unwrap();
    let reserialized = serde_json::to_vec_pretty(&reparsed).unwrap();
    assert_eq!(
        webhook_error(receiver.receive(&reserialized, Some(&header), NOW)),
        WebhookError::BodyHashMismatch
    );
    let unhashed = AccessToken::new().sign(&credentials(), NOW).unwrap();
    assert_eq!(
        webhook_error(receiver.receive(body, Some(&unhashed), NOW)),
        WebhookError::MissingBodyHash
    );
    let not_json = "not an event";
    assert!(matches!(
        webhook_error(receiver.receive(
            not_json.as_bytes(),
            Some(&sign(not_json, &credentials())),
            NOW
        )),
        WebhookError::InvalidBody { .. }
    ));
}

#[test]
fn oversized_bodies_are_refused_before_they_are_hashed() {
    let receiver = WebhookReceiver::new(credentials());
    let mut body = ROOM_STARTED.as_bytes().to_vec();
    // Valid JSON all the way: padding inside the event, past the 1 MiB default.
    body.truncate(body.len() - 1);
    body.extend_from_slice(br#","pad":""#);
    body.resize(DEFAULT_MAX_WEBHOOK_BODY_LEN + 1 - 2, b'x');
    body.extend_from_slice(br#""}"#);
    assert_eq!(body.len(), DEFAULT_MAX_WEBHOOK_BODY_LEN + 1);
    let text = std::str::from_utf8(&body).unwrap();
    let header = sign(text, &credentials());
    match receiver.receive(&body, Some(&header), NOW) {
        Err(WebhookError::BodyTooLarge { len, max }) => {
            assert_eq!(
                (len, max),
                (
                    DEFAULT_MAX_WEBHOOK_BODY_LEN + 1,
                    DEFAULT_MAX_WEBHOOK_BODY_LEN
                )
            );
        }
        other => panic!("expected a body-too-large error, got {other:?}"),
    }
    // A lower limit is honoured, and a body at the limit passes.
    let small = WebhookReceiver::new(credentials()).with_max_body_len(ROOM_STARTED.len());
    assert!(
        small
            .receive(
                ROOM_STARTED.as_bytes(),
                Some(&sign(ROOM_STARTED, &credentials())),
                NOW
            )
            .is_ok()
    );
    let longer = format!("{ROOM_STARTED} ");
    assert!(matches!(
        small.receive(longer.as_bytes(), Some(&sign(&longer, &credentials())), NOW),
        Err(WebhookError::BodyTooLarge { .. })
    ));
    // The size is checked first: even an unsigned oversized body gets this error.
    assert!(matches!(
        receiver.receive(&body, Some("garbage"), NOW),
        Err(WebhookError::BodyTooLarge { .. })
    ));
    assert_eq!(
        WebhookError::BodyTooLarge { len: 10, max: 5 }.to_string(),
        "webhook body is 10 bytes, more than the 5 accepted"
    );
}

#[test]
fn deeply_nested_bodies_neither_overflow_nor_confuse_the_decoder() {
    // The event's own messages nest only as deep as the schema; anything deeper is either
    // in a field this version does not know (skipped without recursing) or the wrong type.
    let receiver = WebhookReceiver::new(credentials());
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let receive =
        |body: &str| receiver.receive(body.as_bytes(), Some(&sign(body, &credentials())), NOW);
    for nested in [&arrays, &objects] {
        let unknown = format!(r#"{{"event":"room_started","unknownField":{nested},"id":"EV_1"}}"#);
        let event = receive(&unknown).unwrap();
        assert_eq!(event.kind, WebhookEventKind::RoomStarted);
        assert_eq!(event.event.id, "EV_1");
        let inside_room =
            format!(r#"{{"event":"room_started","room":{{"name":"r","extra":{nested}}}}}"#);
        assert_eq!(receive(&inside_room).unwrap().event.room.unwrap().name, "r");
    }
    let wrong_type = format!(r#"{{"event":"room_started","room":{arrays}}}"#);
    match receive(&wrong_type) {
        Err(WebhookError::InvalidBody { message }) => {
            assert!(message.contains("invalid type"), "{message}");
        }
        other => panic!("expected an invalid body, got {other:?}"),
    }
}
