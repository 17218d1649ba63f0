//! Secret hygiene of every type that holds a credential: its `Debug` output, and the errors
//! and requests made with it, never show the API secret or a token (nor any part of one).
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use livekit_auth::{AccessToken, Credentials, TokenVerifier, VideoGrants};
use livekit_core::{
    BlockingApi, Client, Environment, Error, FnTransport, Services, WebhookReceiver,
};

const KEY: &str = "APIhygiene";
const SECRET: &str = "hygiene-secret-that-must-never-be-shown-0123456789";
const NOW: u64 = 1_800_000_000;

#[derive(Debug)]
struct Fixed;

impl Environment for Fixed {
    fn unix_now(&self) -> u64 {
        NOW
    }
    fn monotonic(&self) -> Duration {
        Duration::ZERO
    }
    fn random(&self) -> u64 {
        7
    }
}

fn credentials() -> Credentials {
    Credentials::new(KEY, SECRET).unwrap()
}

/// Fails if `text` shows the secret, the token or any segment of the token.
fn assert_clean(what: &str, text: &str, token: Option<&str>) {
    assert!(
        !text.contains(SECRET),
        "{what} shows the API secret: {text}"
    );
    if let Some(token) = token {
        for part in std::iter::once(token).chain(token.split('.')) {
            assert!(
                !text.contains(part),
                "{what} shows (part of) a token: {text}"
            );
        }
    }
}

#[test]
fn credentials_verifiers_and_receivers_redact_the_secret() {
    let credentials = credentials();
    assert_clean(
        "Credentials",
        &format!("{credentials:?} {credentials:#?}"),
        None,
    );
    let verifier = TokenVerifier::new(credentials.clone());
    assert_clean("TokenVerifier", &format!("{verifier:?}"), None);
    let receiver = WebhookReceiver::new(credentials.clone());
    assert_clean("WebhookReceiver", &format!("{receiver:?}"), None);
    let keys = vec![
        credentials.clone(),
        Credentials::new("APIother", SECRET).unwrap(),
    ];
    assert_clean(
        "TokenVerifier<Vec<_>>",
        &format!("{:?}", TokenVerifier::new(keys)),
        None,
    );
    // The key is no secret: it is shown, so the output is useful.
    assert!(format!("{credentials:?}").contains(KEY));
}

#[test]
fn clients_requests_and_errors_never_show_the_secret_or_a_token() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&sent);
    let transport = FnTransport::new(move |request: http::Request<Vec<u8>>, _timeout| {
        let token =
            request.headers()["authorization"].to_str().unwrap()["Bearer ".len()..].to_owned();
        // What a transport or a user might log: the request as it goes out.
        seen.lock()
            .unwrap()
            .push((token.clone(), format!("{request:?}")));
        // The server's answer to a token it rejects echoes the token in plain text.
        Ok(http::Response::builder()
            .status(401)
            .header("content-type", "text/plain")
            .body(format!("invalid token: {token}, error: go-jose/go-jose: error in cryptographic primitive").into_bytes())
            .unwrap())
    });
    let client = Client::new("http://127.0.0.1:7880", credentials()).unwrap();
    let api = BlockingApi::new(client, transport, Fixed);
    let error = api.room().list_rooms(Default::default()).unwrap_err();
    assert!(matches!(error, Error::Server(_)), "{error:?}");

    let sent = sent.lock().unwrap();
    let (token, request) = &sent[0];
    assert!(token.starts_with("eyJ"), "a JWT was sent: {token}");
    assert_clean("the built request", request, Some(token));
    assert!(
        request.contains("authorization"),
        "the header is listed: {request}"
    );
    assert_clean(
        "the error (Display and Debug)",
        &format!("{error} {error:?} {error:#?}"),
        Some(token),
    );
    assert!(error.to_string().contains("<redacted token>"), "{error}");
    // The client caches that token now; its Debug still shows neither.
    assert_clean(
        "the API handle after a call",
        &format!("{api:?}"),
        Some(token),
    );
}

#[test]
fn a_presigned_token_is_never_shown() {
    let token = AccessToken::new()
        .with_video_grants(VideoGrants {
            room_list: true,
            ..VideoGrants::default()
        })
        .sign(&credentials(), NOW)
        .unwrap();
    let client = Client::with_token("http://127.0.0.1:7880", &token).unwrap();
    assert_clean(
        "Client::with_token",
        &format!("{client:?} {client:#?}"),
        Some(&token),
    );
    // A malformed token given as one is refused without being repeated.
    let error = Client::with_token("http://127.0.0.1:7880", "eyJ.bad\u{1}token").unwrap_err();
    assert_clean(
        "the refusal",
        &format!("{error} {error:?}"),
        Some("eyJ.bad\u{1}token"),
    );
}

#[test]
fn a_webhook_that_fails_verification_is_reported_without_its_token() {
    let receiver = WebhookReceiver::new(credentials());
    let other = Credentials::new(KEY, "another-secret-entirely").unwrap();
    let token = AccessToken::new()
        .with_sha256(livekit_auth::body_sha256(b"{}"))
        .sign(&other, NOW)
        .unwrap();
    let error = receiver.receive(b"{}", Some(&token), NOW).unwrap_err();
    assert_clean(
        "the webhook error",
        &format!("{error} {error:?}"),
        Some(&token),
    );
}
