//! Golden request tests: every RPC's method, URL, headers, least-grant token and body, and
//! byte-for-byte agreement with what the Python reference SDK sent for the same messages.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use livekit_auth::{ClaimGrants, Credentials, SipGrants, TokenVerifier, VideoGrants};
use livekit_core::rpc::{self, Rpc};
use livekit_core::{CallContext, Client};
use livekit_proto::Message as _;
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;
const KEY: &str = "APIcaptureKey";
const SECRET: &str = "capture-secret-capture-secret-0123456789";

fn client(url: &str) -> Client {
    Client::new(url, Credentials::new(KEY, SECRET).unwrap()).unwrap()
}

fn call_context(request_id: &str) -> CallContext<'_> {
    CallContext::new(NOW, request_id)
}

/// The grants the token of `request` carries, verified.
fn token_grants(request: &http::Request<Vec<u8>>) -> ClaimGrants {
    let header = request.headers()["authorization"].to_str().unwrap();
    let token = header.strip_prefix("Bearer ").expect("bearer token");
    let verifier = TokenVerifier::new(Credentials::new(KEY, SECRET).unwrap());
    let claims = verifier.verify(token, NOW).expect("token verifies");
    assert_eq!(
        claims.not_before,
        Some(NOW),
        "service tokens are never backdated"
    );
    assert_eq!(claims.expires_at, Some(NOW + 600));
    claims.grants
}

fn video(value: Value) -> Option<VideoGrants> {
    Some(serde_json::from_value(value).unwrap())
}

/// The least grant of each RPC for a request naming room `R` and destination `D`, written
/// out from the server's permission checks (not derived from the SDK's own table).
fn expected_grants(method: &str) -> ClaimGrants {
    let mut grants = ClaimGrants::default();
    let room_admin = || video(json!({"roomAdmin": true, "room": "R"}));
    match method {
        "CreateRoom" | "DeleteRoom" => grants.video = video(json!({"roomCreate": true})),
        "ListRooms" => grants.video = video(json!({"roomList": true})),
        "ListParticipants"
        | "GetParticipant"
        | "RemoveParticipant"
        | "MutePublishedTrack"
        | "UpdateParticipant"
        | "UpdateSubscriptions"
        | "SendData"
        | "UpdateRoomMetadata"
        | "PerformRpc"
        | "CreateDispatch"
        | "DeleteDispatch"
        | "ListDispatch" => {
            grants.video = room_admin();
        }
        "ForwardParticipant" | "MoveParticipant" => {
            grants.video = video(json!({"roomAdmin": true, "room": "R", "destinationRoom": "D"}));
        }
        "StartEgress"
        | "UpdateLayout"
        | "UpdateStream"
        | "ListEgress"
        | "StopEgress"
        | "StartRoomCompositeEgress"
        | "StartWebEgress"
        | "StartParticipantEgress"
        | "StartTrackCompositeEgress"
        | "StartTrackEgress" => {
            grants.video = video(json!({"roomRecord": true}));
        }
        "CreateIngress" | "UpdateIngress" | "ListIngress" | "DeleteIngress" => {
            grants.video = video(json!({"ingressAdmin": true}));
        }
        "CreateSIPParticipant" => {
            grants.sip = Some(SipGrants {
                admin: false,
                call: true,
            });
        }
        "TransferSIPParticipant" => {
            grants.video = room_admin();
            grants.sip = Some(SipGrants {
                admin: false,
                call: true,
            });
        }
        method if method.contains("SIP") => {
            grants.sip = Some(SipGrants {
                admin: true,
                call: false,
            });
        }
        // LiveKit Cloud's Connector, as the reference SDK signs it.
        "DialWhatsAppCall"
        | "DisconnectWhatsAppCall"
        | "ConnectWhatsAppCall"
        | "AcceptWhatsAppCall"
        | "ConnectTwilioCall" => {
            grants.video = video(json!({"roomCreate": true}));
        }
        other => panic!("no expected grant written for {other}"),
    }
    grants
}

/// Builds RPC `R` for a request naming room `R` and destination `D` in every field that
/// holds one, and checks everything about the HTTP request.
fn check_rpc<R: Rpc>() -> usize
where
    R::Request: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let descriptor = R::DESCRIPTOR;
    let request: R::Request = serde_json::from_value(json!({
        "room": "R", "roomName": "R", "destinationRoom": "D",
    }))
    .unwrap();
    let client = client("wss://example.test/base/");
    let http_request = client
        .build_request::<R>(&request, &call_context("req-42"))
        .unwrap();

    assert_eq!(http_request.method(), http::Method::POST);
    assert_eq!(
        http_request.uri().to_string(),
        format!(
            "https://example.test/base/twirp/livekit.{}/{}",
            descriptor.service, descriptor.method
        )
    );
    assert_eq!(
        http_request.uri().path(),
        format!("/base{}", descriptor.path)
    );
    let headers = http_request.headers();
    assert_eq!(headers["content-type"], "application/protobuf");
    assert_eq!(
        headers["user-agent"],
        concat!("livekit-rust/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(headers["x-livekit-request-id"], "req-42");
    assert!(headers["authorization"].is_sensitive());
    assert_eq!(
        token_grants(&http_request),
        expected_grants(descriptor.method),
        "{}",
        descriptor.name
    );
    let decoded = R::Request::decode(http_request.body().as_slice()).unwrap();
    assert_eq!(decoded, request, "{}", descriptor.name);
    1
}

macro_rules! check_every_rpc {
    ($(($service:ident, $method:ident, $function:ident, $request:path, $response:path)),* $(,)?) => {
        0 $(+ check_rpc::<rpc::$method>())*
    };
}

#[test]
fn every_rpc_builds_the_right_request_with_its_least_grant() {
    let checked = livekit_proto::for_each_rpc!(check_every_rpc);
    assert_eq!(checked, livekit_proto::RPCS.len());
    assert_eq!(checked, rpc::ALL.len());
}

#[test]
fn every_descriptor_matches_the_protocol_table() {
    for (descriptor, info) in rpc::ALL.iter().zip(livekit_proto::RPCS) {
        assert_eq!(descriptor.service, info.service_name);
        assert_eq!(descriptor.method, info.method);
        assert_eq!(
            descriptor.path,
            format!("/twirp/{}/{}", info.service, info.method)
        );
    }
    let unsafe_methods: Vec<&str> = rpc::ALL
        .iter()
        .filter(|d| d.idempotency == rpc::Idempotency::Unsafe)
        .map(|d| d.method)
        .collect();
    for method in [
        "CreateSIPParticipant",
        "TransferSIPParticipant",
        "SendData",
        "PerformRpc",
        "StartEgress",
        "StartRoomCompositeEgress",
        "StartWebEgress",
        "StartParticipantEgress",
        "StartTrackCompositeEgress",
        "StartTrackEgress",
        "CreateIngress",
        "CreateDispatch",
        "DialWhatsAppCall",
    ] {
        assert!(
            unsafe_methods.contains(&method),
            "{method} must not be retried"
        );
    }
    for method in [
        "ListRooms",
        "CreateRoom",
        "DeleteRoom",
        "ListEgress",
        "ListDispatch",
    ] {
        assert!(
            !unsafe_methods.contains(&method),
            "{method} is safe to retry"
        );
    }
}

/// The Python reference's recorded calls: same path, same body bytes for the same message,
/// and grants at least as narrow.
#[test]
fn bodies_and_paths_match_the_python_reference_byte_for_byte() {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/python_calls.json")).unwrap();
    let client = client("http://127.0.0.1:7880");
    let mut compared = 0;
    for call in fixture["calls"].as_array().unwrap() {
        let body = hex(call["body_hex"].as_str().unwrap());
        let path = call["path"].as_str().unwrap();
        let method = path.rsplit('/').next().unwrap();
        let built = build_from_reference(&client, method, &body);
        assert_eq!(built.uri().path(), path, "{}", call["call"]);
        assert_eq!(
            built.body(),
            &body,
            "{}: our encoding differs from the reference's",
            call["call"]
        );
        let ours = serde_json::to_value(token_grants(&built)).unwrap();
        let theirs = &call["python_grants"];
        for section in ["video", "sip"] {
            if let Some(our_section) = ours.get(section).and_then(Value::as_object) {
                for (field, value) in our_section {
                    assert_eq!(
                        theirs[section].get(field),
                        Some(value),
                        "{}: we grant {section}.{field} which the reference does not",
                        call["call"]
                    );
                }
            }
        }
        compared += 1;
    }
    assert!(compared >= 15, "only {compared} reference calls compared");
}

fn build_from_reference(client: &Client, method: &str, body: &[u8]) -> http::Request<Vec<u8>> {
    fn build<R: Rpc>(client: &Client, body: &[u8]) -> http::Request<Vec<u8>> {
        let request = R::Request::decode(body).unwrap();
        client
            .build_request::<R>(&request, &call_context("req"))
            .unwrap()
    }
    macro_rules! dispatch {
        ($(($service:ident, $rpc:ident, $function:ident, $request:path, $response:path)),* $(,)?) => {
            match method {
                $(stringify!($rpc) => build::<rpc::$rpc>(client, body),)*
                other => panic!("unknown method {other}"),
            }
        };
    }
    livekit_proto::for_each_rpc!(dispatch)
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn service_tokens_are_cached_per_grant_and_renewed_before_expiry() {
    let client = client("http://127.0.0.1:7880");
    let grant = rpc::RequiredGrant::RoomList;
    let first = client.authorization(&grant, NOW).unwrap();
    assert_eq!(client.authorization(&grant, NOW + 400).unwrap(), first);
    // Less than a quarter of the 600 s life left: a new token.
    let renewed = client.authorization(&grant, NOW + 451).unwrap();
    assert_ne!(renewed, first);
    let other_room = client
        .authorization(&rpc::RequiredGrant::RoomAdmin { room: "x".into() }, NOW)
        .unwrap();
    assert_ne!(other_room, first);
}

#[test]
fn a_presigned_token_is_sent_verbatim() {
    let client = Client::with_token("http://127.0.0.1:7880", "PRE.SIGNED.TOKEN").unwrap();
    let request = client
        .build_request::<rpc::ListRooms>(&Default::default(), &call_context("r"))
        .unwrap();
    assert_eq!(
        request.headers()["authorization"],
        "Bearer PRE.SIGNED.TOKEN"
    );
    assert!(!format!("{client:?}").contains("PRE.SIGNED"));
    assert!(Client::with_token("http://h", "  ").is_err());
    assert!(Client::with_token("http://h", "bad\ntoken").is_err());
}

#[test]
fn the_remaining_budget_goes_to_the_server_when_asked() {
    let base = client("http://127.0.0.1:7880");
    let mut options = livekit_core::ClientOptions::default();
    options.send_timeout_header = true;
    let client = base.with_options(options).unwrap();
    let context = call_context("r").with_remaining(std::time::Duration::from_millis(2500));
    let request = client
        .build_request::<rpc::ListRooms>(&Default::default(), &context)
        .unwrap();
    assert_eq!(request.headers()["x-twirp-timeout-ms"], "2500");
    let plain = client
        .build_request::<rpc::ListRooms>(&Default::default(), &call_context("r"))
        .unwrap();
    assert!(!plain.headers().contains_key("x-twirp-timeout-ms"));
}

#[test]
fn an_attempt_can_be_sent_to_another_server() {
    let client = client("https://project.livekit.cloud");
    let region = livekit_core::BaseUrl::parse("https://project-eu.livekit.cloud").unwrap();
    let request = client
        .build_request::<rpc::ListRooms>(
            &Default::default(),
            &call_context("r").with_target(&region),
        )
        .unwrap();
    assert_eq!(
        request.uri(),
        "https://project-eu.livekit.cloud/twirp/livekit.RoomService/ListRooms"
    );
}
