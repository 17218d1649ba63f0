// The end-to-end suite, written once and run over every transport against a real LiveKit
// server with Redis (`cargo xtask ci` starts one on loopback and passes LIVEKIT_E2E_URL).
//
// A transport's `tests/e2e.rs` defines, before including this file:
// - `type Api`: its `LiveKitApi`, with `new(url, key, secret)` and `with_token(url, token)`;
// - `const TRANSPORT: &str`: a short name, used in resource names;
// - `const WEBHOOK_PORT: u16`: where its webhook receiver listens (the server is started
//   with a webhook URL for each transport's port);
// - `call!(expr)`: `expr` for blocking transports, `expr.await` for async ones;
// - `e2e_test!(name { body })`: a test function of the right kind, ignored by default;
// - what edge.rs asks for: `type Transport`, `build_transport` and `PROTOCOL`.
//
// Without LIVEKIT_E2E_URL the tests fail: they never pass without a server. The restart
// test also needs LIVEKIT_E2E_SERVER_BIN, the livekit-server binary, to run one of its own.
// The tests of participants.rs need real WebRTC participants (participant.rs): the binary in
// LIVEKIT_E2E_PARTICIPANT_BIN, and the network namespace that `cargo xtask e2e` makes.
// LIVEKIT_E2E_API_KEY and LIVEKIT_E2E_API_SECRET name the server's key (default: the dev
// key, devkey/secret); CI gives the server a long, distinctive secret, so that the secret
// hygiene check below can tell the secret from the word "secret".
// LIVEKIT_E2E_SERVER_VERSION names the server's release (vX.Y.Z); the tests whose assertions
// differ by release read it and fail without it.
//
// Every test runs under a global `tracing` subscriber at TRACE level that records what the
// SDK and the HTTP stacks below it emit, and ends by checking that the record so far holds no
// API secret, no token (nor any part of one) and no SIP password.

use std::time::{Duration, Instant};

use livekit_auth::{AccessToken, Credentials, VideoGrants};
use livekit_core::{CallOptions, Error, TransportErrorKind, TwirpCode, list_add};
use livekit_proto as proto;

/// The server's API key and secret, from the environment (see the top of the file).
fn key_and_secret() -> &'static (String, String) {
    static PAIR: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    PAIR.get_or_init(|| {
        let key = std::env::var("LIVEKIT_E2E_API_KEY").unwrap_or_else(|_| "devkey".to_owned());
        let secret =
            std::env::var("LIVEKIT_E2E_API_SECRET").unwrap_or_else(|_| "secret".to_owned());
        (key, secret)
    })
}

fn key() -> &'static str {
    &key_and_secret().0
}

fn secret() -> &'static str {
    &key_and_secret().1
}

/// The SIP trunk passwords the SIP test sets; they must never be traced.
const SIP_PASSWORD: &str = "sip-password-must-never-be-traced";

/// Everything traced by this test binary so far.
static TRACED: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct TraceWriter;

impl std::io::Write for TraceWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        TRACED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the recording subscriber, once per test binary.
fn record_tracing() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| TraceWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        // The `log` records of the HTTP stacks (ureq logs through `log`) are recorded too,
        // but for one crate. At TRACE, ureq-proto (under ureq) hex-dumps every byte it writes
        // and reads, the `Authorization: Bearer` line included, 16 bytes per record. Nothing in
        // our code can stop that, so `livekit-ureq` documents it; recording it here would only
        // show that again (and slow a 64 MiB response down to a timeout).
        tracing_log::LogTracer::builder()
            .ignore_crate("ureq_proto")
            .init()
            .expect("no other logger");
    });
}

/// The record holds the SDK's call spans (so the check below has something to look at), and
/// no secret, token or SIP password.
fn assert_nothing_secret_traced() {
    let traced = String::from_utf8_lossy(&TRACED.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned();
    assert!(traced.contains("livekit_call"), "nothing was traced");
    if secret() != "secret" {
        assert!(!traced.contains(secret()), "the API secret was traced");
    }
    assert!(!traced.contains(SIP_PASSWORD), "a SIP password was traced");
    if let Ok(password) = std::env::var("LIVEKIT_E2E_PROXY_PASSWORD") {
        assert!(!traced.contains(&password), "the proxy password was traced");
    }
    // A JWT's header and payload are base64url JSON objects: they start with `eyJ`.
    for line in traced.lines() {
        assert!(!line.contains("eyJ"), "a token was traced: {line}");
    }
}

fn url() -> String {
    std::env::var("LIVEKIT_E2E_URL")
        .expect("LIVEKIT_E2E_URL must name a running LiveKit server (cargo xtask server start)")
}

fn api() -> Api {
    Api::new(&url(), key(), secret()).unwrap()
}

/// The livekit-server release under test, from LIVEKIT_E2E_SERVER_VERSION (`vX.Y.Z`), as
/// numbers that compare in release order.
fn server_release() -> [u32; 3] {
    let text = std::env::var("LIVEKIT_E2E_SERVER_VERSION").expect(
        "LIVEKIT_E2E_SERVER_VERSION must name the server's release, vX.Y.Z (cargo xtask e2e sets it)",
    );
    let numbers: Vec<u32> = text
        .strip_prefix('v')
        .unwrap_or(&text)
        .split('.')
        .map(|part| part.parse().expect("LIVEKIT_E2E_SERVER_VERSION reads vX.Y.Z"))
        .collect();
    numbers
        .try_into()
        .expect("LIVEKIT_E2E_SERVER_VERSION reads vX.Y.Z")
}

/// Whether the server under test is `release` or newer.
fn server_is_at_least(release: [u32; 3]) -> bool {
    server_release() >= release
}

/// A name unique to this run and transport, so reruns and parallel tests never collide.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{TRANSPORT}-{}-{nanos}", std::process::id())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

e2e_test!(rooms_create_list_update_delete {
    let api = api();
    let name = unique("room");
    let created = call!(api.room().create_room(proto::CreateRoomRequest {
        name: name.clone(),
        empty_timeout: 120,
        metadata: "first".into(),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(created.name, name);
    assert!(created.sid.starts_with("RM_"), "{}", created.sid);

    // Creating an existing room returns it unchanged: same sid, the first metadata.
    let again = call!(api.room().create_room(proto::CreateRoomRequest {
        name: name.clone(),
        metadata: "second".into(),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(again.sid, created.sid);
    assert_eq!(again.metadata, "first");

    let all = call!(api.room().list_rooms(Default::default())).unwrap();
    assert!(all.rooms.iter().any(|room| room.name == name));
    let by_name = call!(api.room().list_rooms(proto::ListRoomsRequest {
        names: vec![name.clone(), "no-such-room-at-all".into()],
    }))
    .unwrap();
    assert_eq!(by_name.rooms.len(), 1);

    // The same listing with its body kept and read as a view: the room the owned call
    // returned, its strings borrowed from the body; and the body's message is the view's.
    let body = call!(api.call_body::<livekit_core::rpc::ListRooms>(
        proto::ListRoomsRequest { names: vec![name.clone()] },
        &CallOptions::default(),
    ))
    .unwrap();
    let view = body.view().unwrap();
    assert_eq!(view.rooms.len(), 1);
    assert_eq!((view.rooms[0].name, view.rooms[0].sid), (name.as_str(), created.sid.as_str()));
    assert!(body.as_bytes().as_ptr_range().contains(&view.rooms[0].name.as_ptr()));
    assert_eq!(body.message().unwrap(), view.to_message());

    let updated = call!(api.room().update_room_metadata(proto::UpdateRoomMetadataRequest {
        room: name.clone(),
        metadata: r#"{"topic":"e2e"}"#.into(),
    }))
    .unwrap();
    assert_eq!(updated.metadata, r#"{"topic":"e2e"}"#);

    let participants = call!(api
        .room()
        .list_participants(proto::ListParticipantsRequest { room: name.clone() }))
    .unwrap();
    assert!(participants.participants.is_empty());

    call!(api.room().delete_room(proto::DeleteRoomRequest { room: name.clone() })).unwrap();
    let after = call!(api.room().list_rooms(proto::ListRoomsRequest { names: vec![name] })).unwrap();
    assert!(after.rooms.is_empty());
});

e2e_test!(missing_things_are_not_found {
    let api = api();
    // A kept body changes nothing about errors: the server's not-found, as any call sees it.
    let error = call!(api.call_body::<livekit_core::rpc::DeleteRoom>(
        proto::DeleteRoomRequest { room: unique("absent") },
        &CallOptions::default(),
    ))
    .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let error = call!(api.room().get_participant(proto::RoomParticipantIdentity {
        room: unique("absent"),
        identity: "nobody".into(),
        ..Default::default()
    }))
    .unwrap_err();
    let server = error.server().expect("a server error");
    assert!(server.code == TwirpCode::NotFound || server.status == 404, "{error}");
    let error = call!(api.room().delete_room(proto::DeleteRoomRequest {
        room: unique("never-created"),
    }))
    .unwrap_err();
    assert!(error.is_not_found(), "{error}");
});

e2e_test!(agent_dispatch_create_list_get_delete {
    let api = api();
    let room = unique("dispatch");
    call!(api.room().create_room(proto::CreateRoomRequest {
        name: room.clone(),
        ..Default::default()
    }))
    .unwrap();
    let dispatch = call!(api.agent_dispatch().create_dispatch(proto::CreateAgentDispatchRequest {
        agent_name: "e2e-agent".into(),
        room: room.clone(),
        metadata: r#"{"job":1}"#.into(),
        ..Default::default()
    }))
    .unwrap();
    assert!(dispatch.id.starts_with("AD_"), "{}", dispatch.id);
    let listed = call!(api.agent_dispatch().list_dispatch(proto::ListAgentDispatchRequest {
        room: room.clone(),
        ..Default::default()
    }))
    .unwrap();
    assert!(listed.agent_dispatches.iter().any(|d| d.id == dispatch.id));
    let fetched = call!(api.agent_dispatch().get_dispatch(&dispatch.id, &room))
        .unwrap()
        .expect("the dispatch exists");
    assert_eq!(fetched.agent_name, "e2e-agent");
    assert_eq!(fetched.metadata, r#"{"job":1}"#);
    call!(api.agent_dispatch().delete_dispatch(proto::DeleteAgentDispatchRequest {
        dispatch_id: dispatch.id.clone(),
        room: room.clone(),
    }))
    .unwrap();
    let gone = call!(api.agent_dispatch().get_dispatch(&dispatch.id, &room)).unwrap();
    assert!(gone.is_none());
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});

e2e_test!(a_wrong_secret_is_a_401_that_says_so {
    let api = Api::new(&url(), key(), "not-the-secret").unwrap();
    let error = call!(api.room().list_rooms(Default::default())).unwrap_err();
    let server = error.server().expect("the server answered");
    assert_eq!(server.status, 401);
    assert!(!server.is_twirp, "the server answers a bad token in plain text");
    if server_is_at_least([1, 13, 6]) {
        // pkg/service/auth.go from v1.13.6 on: the reason, without the token.
        assert_eq!(
            server.message,
            "invalid authorization token: token signature is invalid: signature is invalid"
        );
    } else {
        // Up to v1.13.5: "invalid token: <the token>, error: <reason>", the token redacted by
        // the SDK.
        assert!(
            server
                .message
                .starts_with("invalid token: <redacted token>, error: "),
            "{}",
            server.message
        );
    }
    assert!(error.to_string().contains("check the api key and secret"));
    assert!(!format!("{error} {error:?}").contains("not-the-secret"));
});

e2e_test!(a_token_without_the_grant_is_refused_and_a_presigned_one_works {
    let credentials = Credentials::new(key(), secret()).unwrap();
    let list_only = AccessToken::new()
        .with_video_grants(VideoGrants {
            room_list: true,
            ..VideoGrants::default()
        })
        .sign(&credentials, unix_now())
        .unwrap();
    let api = Api::with_token(&url(), &list_only).unwrap();
    call!(api.room().list_rooms(Default::default())).unwrap();
    let error = call!(api.room().create_room(proto::CreateRoomRequest {
        name: unique("denied"),
        ..Default::default()
    }))
    .unwrap_err();
    let server = error.server().expect("the server answered");
    assert_eq!(server.status, 401);
    assert_eq!(server.code, TwirpCode::Unauthenticated);
    assert_eq!(server.message, "permissions denied");
    assert!(
        error.to_string().contains("the token lacks the grant this call needs: video.roomCreate"),
        "{error}"
    );
});

e2e_test!(sip_trunks_and_dispatch_rules {
    let api = api();
    let name = unique("trunk");
    let inbound = call!(api.sip().create_sip_inbound_trunk(proto::CreateSipInboundTrunkRequest {
        trunk: Some(proto::SipInboundTrunkInfo {
            name: name.clone(),
            numbers: vec!["+15550100".into()],
            auth_username: "e2e".into(),
            auth_password: SIP_PASSWORD.into(),
            ..Default::default()
        }),
    }))
    .unwrap();
    assert!(inbound.sip_trunk_id.starts_with("ST_"), "{}", inbound.sip_trunk_id);
    let fetched = call!(api.sip().get_sip_inbound_trunk(proto::GetSipInboundTrunkRequest {
        sip_trunk_id: inbound.sip_trunk_id.clone(),
    }))
    .unwrap();
    assert_eq!(fetched.trunk.unwrap().name, name);
    let listed = call!(api.sip().list_sip_inbound_trunk(Default::default())).unwrap();
    assert!(listed.items.iter().any(|t| t.sip_trunk_id == inbound.sip_trunk_id));
    let updated = call!(api.sip().update_sip_inbound_trunk_fields(
        &inbound.sip_trunk_id,
        proto::SipInboundTrunkUpdate {
            numbers: Some(list_add(["+15550101"])),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(updated.numbers, ["+15550100", "+15550101"]);

    let outbound = call!(api.sip().create_sip_outbound_trunk(proto::CreateSipOutboundTrunkRequest {
        trunk: Some(proto::SipOutboundTrunkInfo {
            name: name.clone(),
            address: "sip.example.test".into(),
            numbers: vec!["+15550199".into()],
            auth_username: "e2e".into(),
            auth_password: SIP_PASSWORD.into(),
            ..Default::default()
        }),
    }))
    .unwrap();
    let renamed = call!(api.sip().update_sip_outbound_trunk_fields(
        &outbound.sip_trunk_id,
        proto::SipOutboundTrunkUpdate {
            name: Some(format!("{name}-renamed")),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(renamed.name, format!("{name}-renamed"));
    assert_eq!(renamed.address, "sip.example.test");
    let outbound_list = call!(api.sip().list_sip_outbound_trunk(Default::default())).unwrap();
    assert!(outbound_list.items.iter().any(|t| t.sip_trunk_id == outbound.sip_trunk_id));

    let rule = call!(api.sip().create_sip_dispatch_rule(proto::CreateSipDispatchRuleRequest {
        dispatch_rule: Some(proto::SipDispatchRuleInfo {
            name: name.clone(),
            trunk_ids: vec![inbound.sip_trunk_id.clone()],
            rule: Some(proto::SipDispatchRule {
                rule: Some(proto::sip_dispatch_rule::Rule::DispatchRuleIndividual(
                    proto::SipDispatchRuleIndividual {
                        room_prefix: "call-".into(),
                        ..Default::default()
                    },
                )),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }))
    .unwrap();
    assert!(rule.sip_dispatch_rule_id.starts_with("SDR_"), "{}", rule.sip_dispatch_rule_id);
    let rules = call!(api.sip().list_sip_dispatch_rule(Default::default())).unwrap();
    assert!(rules.items.iter().any(|r| r.sip_dispatch_rule_id == rule.sip_dispatch_rule_id));
    let rule_renamed = call!(api.sip().update_sip_dispatch_rule_fields(
        &rule.sip_dispatch_rule_id,
        proto::SipDispatchRuleUpdate {
            name: Some(format!("{name}-rule")),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(rule_renamed.name, format!("{name}-rule"));

    call!(api.sip().delete_sip_dispatch_rule(proto::DeleteSipDispatchRuleRequest {
        sip_dispatch_rule_id: rule.sip_dispatch_rule_id.clone(),
    }))
    .unwrap();
    for trunk in [&inbound.sip_trunk_id, &outbound.sip_trunk_id] {
        call!(api.sip().delete_sip_trunk(proto::DeleteSipTrunkRequest {
            sip_trunk_id: trunk.clone(),
        }))
        .unwrap();
    }
    let after = call!(api.sip().list_sip_inbound_trunk(Default::default())).unwrap();
    assert!(!after.items.iter().any(|t| t.sip_trunk_id == inbound.sip_trunk_id));
});

e2e_test!(a_sip_dial_with_no_sip_service_fails_cleanly_once {
    let api = api();
    let started = Instant::now();
    let error = call!(api.sip().create_sip_participant(proto::CreateSipParticipantRequest {
        sip_trunk_id: "ST_does_not_exist".into(),
        sip_call_to: "+15550111".into(),
        room_name: unique("dial"),
        participant_identity: "callee".into(),
        ..Default::default()
    }))
    .unwrap_err();
    let elapsed = started.elapsed();
    match &error {
        Error::Server(server) => assert!(server.status >= 400, "{error}"),
        Error::Transport(transport) => assert_eq!(transport.kind, TransportErrorKind::Timeout),
        other => panic!("unexpected error {other:?}"),
    }
    // One attempt within the dial budget (32 s), no retry behind the caller's back.
    assert!(elapsed < Duration::from_secs(33), "{elapsed:?}");
});

e2e_test!(ingress_create_list_update_delete {
    let api = api();
    let room = unique("ingress");
    let mut created = Vec::new();
    for input_type in [proto::IngressInput::RtmpInput, proto::IngressInput::WhipInput] {
        let ingress = call!(api.ingress().create_ingress(proto::CreateIngressRequest {
            input_type: input_type as i32,
            name: format!("{room}-{}", input_type.as_str_name()),
            room_name: room.clone(),
            participant_identity: format!("streamer-{}", input_type as i32),
            ..Default::default()
        }))
        .unwrap();
        assert!(ingress.ingress_id.starts_with("IN_"), "{}", ingress.ingress_id);
        assert_eq!(ingress.input_type, input_type as i32);
        created.push(ingress);
    }
    let listed = call!(api.ingress().list_ingress(proto::ListIngressRequest {
        room_name: room.clone(),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(listed.items.len(), 2);
    let updated = call!(api.ingress().update_ingress(proto::UpdateIngressRequest {
        ingress_id: created[0].ingress_id.clone(),
        name: format!("{room}-renamed"),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(updated.name, format!("{room}-renamed"));
    for ingress in &created {
        call!(api.ingress().delete_ingress(proto::DeleteIngressRequest {
            ingress_id: ingress.ingress_id.clone(),
        }))
        .unwrap();
    }
    let after = call!(api.ingress().list_ingress(proto::ListIngressRequest {
        room_name: room,
        ..Default::default()
    }))
    .unwrap();
    assert!(after.items.is_empty());
});

e2e_test!(egress_list_works_and_a_start_fails_cleanly {
    let api = api();
    call!(api.egress().list_egress(Default::default())).unwrap();
    let room = unique("egress");
    call!(api.room().create_room(proto::CreateRoomRequest {
        name: room.clone(),
        ..Default::default()
    }))
    .unwrap();
    // No egress service runs beside the test server: the start is refused as unavailable,
    // after the server's own retries (tens of seconds on a busy machine).
    let started = Instant::now();
    let error = call!(api
        .egress()
        .with_options(CallOptions::default().with_timeout(Duration::from_secs(60)))
        .start_room_composite_egress(proto::RoomCompositeEgressRequest {
            room_name: room.clone(),
            layout: "grid".into(),
            ..Default::default()
        }))
    .unwrap_err();
    let server = error.server().unwrap_or_else(|| panic!("the server answers: {error}"));
    assert_eq!(server.status, 503, "{error}");
    assert_eq!(server.code, TwirpCode::Unavailable, "{error}");
    assert!(!server.message.is_empty(), "{error}");
    // Starting an egress is not safe to repeat: one attempt only.
    assert!(started.elapsed() < Duration::from_secs(60));
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});

e2e_test!(a_server_that_is_not_running_is_a_connect_error_naming_the_url {
    // A port nothing listens on: the server's own port plus 3.
    let base = url();
    let port: u16 = base.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    let dead = format!("http://127.0.0.1:{}", port + 3);
    let api = Api::new(&dead, key(), secret()).unwrap();
    let started = Instant::now();
    let error = call!(api.room().list_rooms(Default::default())).unwrap_err();
    match &error {
        Error::Transport(transport) => {
            assert_eq!(transport.kind, TransportErrorKind::Connect, "{error}");
            assert!(!transport.request_sent);
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(error.to_string().contains(&dead), "{error}");
    // Three attempts with short backoff, not a hang.
    assert!(started.elapsed() < Duration::from_secs(5));
});

e2e_test!(a_tiny_budget_hits_the_timeout {
    let api = api();
    let error = call!(api
        .room()
        .with_options(
            CallOptions::default()
                .with_timeout(Duration::from_micros(1))
                .with_max_attempts(1),
        )
        .list_rooms(Default::default()))
    .unwrap_err();
    match &error {
        Error::Transport(transport) => assert_eq!(transport.kind, TransportErrorKind::Timeout, "{error}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
});

/// A webhook as the server posted it: the `Authorization` header and the body.
type Webhook = (Option<String>, Vec<u8>);

/// Subscribes to the webhooks the server posts to `WEBHOOK_PORT`. One listener serves the
/// whole test binary (tests run in parallel); every subscriber gets every webhook from the
/// moment it subscribes.
fn webhooks() -> std::sync::mpsc::Receiver<Webhook> {
    static SUBSCRIBERS: std::sync::Mutex<Vec<std::sync::mpsc::Sender<Webhook>>> =
        std::sync::Mutex::new(Vec::new());
    static LISTENING: std::sync::Once = std::sync::Once::new();
    LISTENING.call_once(|| {
        let listener = std::net::TcpListener::bind(("127.0.0.1", WEBHOOK_PORT))
            .unwrap_or_else(|error| panic!("cannot listen for webhooks on {WEBHOOK_PORT}: {error}"));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Some(webhook) = stream.ok().and_then(read_webhook) else { continue };
                SUBSCRIBERS
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .retain(|subscriber| subscriber.send(webhook.clone()).is_ok());
            }
        });
    });
    let (sender, receiver) = std::sync::mpsc::channel();
    SUBSCRIBERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(sender);
    receiver
}

/// Reads one webhook POST and answers 200.
fn read_webhook(mut stream: std::net::TcpStream) -> Option<Webhook> {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let (mut length, mut authorization) = (0usize, None);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().to_owned();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "authorization" => authorization = Some(value),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    Some((authorization, body))
}

e2e_test!(webhooks_arrive_signed_and_decode {
    let webhooks = webhooks();
    let api = api();
    let room = unique("webhook");
    call!(api.room().create_room(proto::CreateRoomRequest {
        name: room.clone(),
        ..Default::default()
    }))
    .unwrap();
    call!(api.room().delete_room(proto::DeleteRoomRequest { room: room.clone() })).unwrap();

    let receiver = livekit_core::WebhookReceiver::new(Credentials::new(key(), secret()).unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut started, mut finished) = (false, false);
    while !(started && finished) {
        let left = deadline.saturating_duration_since(Instant::now());
        let (authorization, body) = webhooks
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no room_started and room_finished for {room} within 30 s"));
        // Every webhook the server sends verifies, whatever room it is about.
        let event = receiver
            .receive(&body, authorization.as_deref(), unix_now())
            .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&body)));
        if event.event.room.as_ref().is_some_and(|r| r.name == room) {
            match event.kind {
                livekit_core::WebhookEventKind::RoomStarted => started = true,
                livekit_core::WebhookEventKind::RoomFinished => finished = true,
                _ => {}
            }
            assert!(event.event.id.starts_with("EV_"), "{}", event.event.id);
            assert!(event.event.created_at > 0);
        }
    }
});

/// A port the OS says is free right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A dev-mode server of this test's own, on `port`, without Redis (room calls need none).
fn spawn_server(port: u16) -> std::process::Child {
    let binary = std::env::var("LIVEKIT_E2E_SERVER_BIN")
        .expect("LIVEKIT_E2E_SERVER_BIN must name the livekit-server binary (cargo xtask ci sets it)");
    let child = std::process::Command::new(binary)
        .args(["--dev", "--bind", "127.0.0.1", "--node-ip", "127.0.0.1"])
        .args(["--keys", &format!("{}: {}", key(), secret())])
        .args(["--port", &port.to_string()])
        // Its WebRTC UDP port: the same number, so it clashes with no other server.
        .args(["--udp-port", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("livekit-server starts");
    wait_until_ready(port);
    child
}

fn wait_until_ready(port: u16) {
    use std::io::{Read as _, Write as _};
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET / HTTP/1.0\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("livekit-server on {port} did not become ready in 30 s");
}

e2e_test!(a_killed_and_restarted_server_fails_cleanly_then_recovers {
    let port = free_port();
    let mut server = spawn_server(port);
    let api = Api::new(&format!("http://127.0.0.1:{port}"), key(), secret()).unwrap();
    let bounded = CallOptions::default().with_deadline(Duration::from_secs(3));
    call!(api.room().with_options(bounded.clone()).list_rooms(Default::default())).unwrap();

    server.kill().unwrap();
    server.wait().unwrap();
    // Calls fail with a clean transport error, within the deadline: no hang, no panic.
    for _ in 0..3 {
        let started = Instant::now();
        let error = call!(api.room().with_options(bounded.clone()).list_rooms(Default::default()))
            .unwrap_err();
        assert!(matches!(error, Error::Transport(_) | Error::DeadlineExceeded { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    }

    // The same client, kept across the restart, succeeds again (its pool reconnects).
    let mut server = spawn_server(port);
    let created = call!(api.room().create_room(proto::CreateRoomRequest {
        name: unique("after-restart"),
        ..Default::default()
    }))
    .unwrap();
    assert!(created.sid.starts_with("RM_"));
    server.kill().unwrap();
    server.wait().unwrap();
});

e2e_test!(a_stalled_endpoint_hits_the_attempt_timeout {
    // A server that accepts and then never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let api = Api::new(&format!("http://127.0.0.1:{port}"), key(), secret()).unwrap();
    let started = Instant::now();
    let error = call!(api
        .room()
        .with_options(
            CallOptions::default()
                .with_timeout(Duration::from_millis(300))
                .with_max_attempts(2),
        )
        .list_rooms(Default::default()))
    .unwrap_err();
    match &error {
        Error::Transport(transport) => {
            assert_eq!(transport.kind, TransportErrorKind::Timeout, "{error}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // Two attempts of 300 ms and one short backoff.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
});

e2e_test!(an_oversized_response_is_refused_not_buffered {
    use std::io::{Read as _, Write as _};
    // A server that answers 200 with a 64 MiB body, more than the 16 MiB cap.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let size = 64 * 1024 * 1024;
            let _ = stream.write_all(
                format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n").as_bytes(),
            );
            let chunk = vec![0u8; 1024 * 1024];
            for _ in 0..64 {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
    });
    let api = Api::new(&format!("http://127.0.0.1:{port}"), key(), secret()).unwrap();
    let error = call!(api
        .room()
        .with_options(CallOptions::default().with_max_attempts(1))
        .list_rooms(Default::default()))
    .unwrap_err();
    match &error {
        Error::Transport(transport) => {
            assert_eq!(transport.kind, TransportErrorKind::BodyTooLarge, "{error}");
        }
        other => panic!("expected a body-too-large error, got {other:?}"),
    }
});

include!("participant.rs");
include!("participants.rs");
include!("edge.rs");
