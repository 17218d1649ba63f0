//! End to end against a real LiveKit server, over ureq.
//!
//! These tests need a running server: `cargo xtask ci` starts one (with Redis) on loopback
//! and runs them with `--ignored`, passing `LIVEKIT_E2E_URL`. Run by hand with
//! `cargo xtask server start` and
//! `LIVEKIT_E2E_URL=http://127.0.0.1:7880 cargo test -p livekit-ureq --test e2e -- --ignored`.
//! Without the variable they fail: they never pass without a server.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::time::{Duration, Instant};

use livekit_auth::{AccessToken, Credentials, VideoGrants};
use livekit_ureq::proto;
use livekit_ureq::{CallOptions, Error, LiveKitApi, TwirpCode};

const KEY: &str = "devkey";
const SECRET: &str = "secret";

fn url() -> String {
    std::env::var("LIVEKIT_E2E_URL")
        .expect("LIVEKIT_E2E_URL must name a running LiveKit server (cargo xtask server start)")
}

fn api() -> LiveKitApi {
    LiveKitApi::new(&url(), KEY, SECRET).unwrap()
}

/// A room name unique to this run, so reruns and the other transport's tests don't collide.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-ureq-{}-{nanos}", std::process::id())
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn rooms_create_list_update_delete() {
    let api = api();
    let name = unique("room");
    let created = api
        .room()
        .create_room(proto::CreateRoomRequest {
            name: name.clone(),
            empty_timeout: 120,
            metadata: "first".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(created.name, name);
    assert!(created.sid.starts_with("RM_"), "{}", created.sid);

    // Creating an existing room returns it unchanged: same sid, the first metadata.
    let again = api
        .room()
        .create_room(proto::CreateRoomRequest {
            name: name.clone(),
            metadata: "second".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(again.sid, created.sid);
    assert_eq!(again.metadata, "first");

    let all = api.room().list_rooms(Default::default()).unwrap();
    assert!(all.rooms.iter().any(|room| room.name == name));
    let by_name = api
        .room()
        .list_rooms(proto::ListRoomsRequest {
            names: vec![name.clone(), "no-such-room-at-all".into()],
        })
        .unwrap();
    assert_eq!(by_name.rooms.len(), 1);

    let updated = api
        .room()
        .update_room_metadata(proto::UpdateRoomMetadataRequest {
            room: name.clone(),
            metadata: r#"{"topic":"e2e"}"#.into(),
        })
        .unwrap();
    assert_eq!(updated.metadata, r#"{"topic":"e2e"}"#);

    let participants = api
        .room()
        .list_participants(proto::ListParticipantsRequest { room: name.clone() })
        .unwrap();
    assert!(participants.participants.is_empty());

    api.room()
        .delete_room(proto::DeleteRoomRequest { room: name.clone() })
        .unwrap();
    let after = api
        .room()
        .list_rooms(proto::ListRoomsRequest { names: vec![name] })
        .unwrap();
    assert!(after.rooms.is_empty());
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn missing_things_are_not_found() {
    let api = api();
    let error = api
        .room()
        .get_participant(proto::RoomParticipantIdentity {
            room: unique("absent"),
            identity: "nobody".into(),
            ..Default::default()
        })
        .unwrap_err();
    let server = error.server().expect("a server error");
    assert!(
        server.code == TwirpCode::NotFound || server.status == 404,
        "{error}"
    );
    let error = api
        .room()
        .delete_room(proto::DeleteRoomRequest {
            room: unique("never-created"),
        })
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn agent_dispatch_create_list_get_delete() {
    let api = api();
    let room = unique("dispatch");
    api.room()
        .create_room(proto::CreateRoomRequest {
            name: room.clone(),
            ..Default::default()
        })
        .unwrap();
    let dispatch = api
        .agent_dispatch()
        .create_dispatch(proto::CreateAgentDispatchRequest {
            agent_name: "e2e-agent".into(),
            room: room.clone(),
            metadata: r#"{"job":1}"#.into(),
            ..Default::default()
        })
        .unwrap();
    assert!(dispatch.id.starts_with("AD_"), "{}", dispatch.id);
    let listed = api
        .agent_dispatch()
        .list_dispatch(proto::ListAgentDispatchRequest {
            room: room.clone(),
            ..Default::default()
        })
        .unwrap();
    assert!(listed.agent_dispatches.iter().any(|d| d.id == dispatch.id));
    let fetched = api
        .agent_dispatch()
        .get_dispatch(&dispatch.id, &room)
        .unwrap()
        .expect("the dispatch exists");
    assert_eq!(fetched.agent_name, "e2e-agent");
    assert_eq!(fetched.metadata, r#"{"job":1}"#);
    api.agent_dispatch()
        .delete_dispatch(proto::DeleteAgentDispatchRequest {
            dispatch_id: dispatch.id.clone(),
            room: room.clone(),
        })
        .unwrap();
    assert!(
        api.agent_dispatch()
            .get_dispatch(&dispatch.id, &room)
            .unwrap()
            .is_none()
    );
    api.room()
        .delete_room(proto::DeleteRoomRequest { room })
        .unwrap();
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn a_wrong_secret_is_a_401_that_says_so() {
    let api = LiveKitApi::new(&url(), KEY, "not-the-secret").unwrap();
    let error = api.room().list_rooms(Default::default()).unwrap_err();
    let server = error.server().expect("the server answered");
    assert_eq!(server.status, 401);
    assert!(
        !server.is_twirp,
        "the server answers a bad token in plain text"
    );
    assert!(
        server.message.contains("invalid token"),
        "{}",
        server.message
    );
    assert!(error.to_string().contains("check the api key and secret"));
    assert!(!error.to_string().contains("not-the-secret"));
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn a_token_without_the_grant_is_refused_and_a_presigned_one_works() {
    let credentials = Credentials::new(KEY, SECRET).unwrap();
    let now = livekit_core_now();
    let list_only = AccessToken::new()
        .with_video_grants(VideoGrants {
            room_list: true,
            ..VideoGrants::default()
        })
        .sign(&credentials, now)
        .unwrap();
    let api = LiveKitApi::with_token(&url(), &list_only).unwrap();
    api.room().list_rooms(Default::default()).unwrap();
    let error = api
        .room()
        .create_room(proto::CreateRoomRequest {
            name: unique("denied"),
            ..Default::default()
        })
        .unwrap_err();
    let server = error.server().expect("the server answered");
    assert_eq!(server.status, 401);
    assert_eq!(server.code, TwirpCode::Unauthenticated);
    assert_eq!(server.message, "permissions denied");
}

fn livekit_core_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn egress_list_works_and_a_start_fails_cleanly() {
    let api = api();
    api.egress().list_egress(Default::default()).unwrap();
    let started = Instant::now();
    let error = api
        .egress()
        .with_options(CallOptions::default().with_timeout(Duration::from_secs(20)))
        .start_room_composite_egress(proto::RoomCompositeEgressRequest {
            room_name: unique("egress"),
            layout: "grid".into(),
            ..Default::default()
        })
        .unwrap_err();
    let server = error.server().expect("the server answered");
    assert!(server.status >= 500, "{error}");
    assert!(!server.message.is_empty(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn a_server_that_is_not_running_is_a_connect_error_naming_the_url() {
    // A port nothing listens on (the server's own port plus 3).
    let base = url();
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    let dead = format!("http://127.0.0.1:{}", port + 3);
    let api = LiveKitApi::new(&dead, KEY, SECRET).unwrap();
    let started = Instant::now();
    let error = api.room().list_rooms(Default::default()).unwrap_err();
    match &error {
        Error::Transport(transport) => {
            assert_eq!(
                transport.kind,
                livekit_core::TransportErrorKind::Connect,
                "{error}"
            );
            assert!(!transport.request_sent);
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(error.to_string().contains(&dead), "{error}");
    // Three attempts with short backoff, not a hang.
    assert!(started.elapsed() < Duration::from_secs(5));
}
