// The cluster suite, written once and run over every transport against two livekit-server
// nodes sharing one redis (the cluster phase of `cargo xtask e2e`): calls through node B
// about a room and a live participant that node A holds.
//
// Each node places the rooms it creates on itself (each has a region of its own and the
// region-aware node selector; see xtask/src/server.rs), so a call through node B about a room
// created through node A is always served by node A, relayed through redis. The failover test
// of livekit-hyper (tests/cluster_failover.rs) proves that placement: once node A is killed,
// node B can no longer update such a room.
//
// A transport's `tests/cluster.rs` defines, before including this file: `type Api` (its
// `LiveKitApi`), `const TRANSPORT: &str`, `call!(expr)` and `cluster_test!(name { body })`,
// as for the end-to-end suite. The environment: LIVEKIT_E2E_NODE_A_URL and
// LIVEKIT_E2E_NODE_B_URL, the nodes; LIVEKIT_E2E_API_KEY and LIVEKIT_E2E_API_SECRET, their
// key; LIVEKIT_E2E_PARTICIPANT_BIN, the live participant (see e2e_suite/participant.rs),
// which joins through node A.

use std::time::{Duration, Instant};

use livekit_proto as proto;

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

fn node_url(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} must name a node of a two-node cluster (cargo xtask e2e starts one)")
    })
}

/// Node A: where the rooms are created and the participants join.
fn url() -> String {
    node_url("LIVEKIT_E2E_NODE_A_URL")
}

fn node_a() -> Api {
    Api::new(&url(), key(), secret()).unwrap()
}

fn node_b() -> Api {
    Api::new(&node_url("LIVEKIT_E2E_NODE_B_URL"), key(), secret()).unwrap()
}

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

fn identity_in(room: &str, identity: &str) -> proto::RoomParticipantIdentity {
    proto::RoomParticipantIdentity {
        room: room.to_owned(),
        identity: identity.to_owned(),
        ..Default::default()
    }
}

fn names(participants: &[proto::ParticipantInfo]) -> Vec<&str> {
    let mut identities: Vec<&str> =
        participants.iter().map(|participant| participant.identity.as_str()).collect();
    identities.sort_unstable();
    identities
}

cluster_test!(a_room_created_through_node_a_is_listed_updated_and_deleted_through_node_b {
    let (a, b) = (node_a(), node_b());
    assert_ne!(url(), node_url("LIVEKIT_E2E_NODE_B_URL"), "two nodes, not one twice");
    let name = unique("cluster-room");
    let created = call!(a.room().create_room(proto::CreateRoomRequest {
        name: name.clone(),
        empty_timeout: 120,
        metadata: "from node a".into(),
        ..Default::default()
    }))
    .unwrap();
    assert!(created.sid.starts_with("RM_"), "{}", created.sid);

    // Node B lists it, by name and among all rooms, as node A created it.
    let by_name = call!(b.room().list_rooms(proto::ListRoomsRequest { names: vec![name.clone()] }))
        .unwrap();
    assert_eq!(by_name.rooms.len(), 1, "{by_name:?}");
    assert_eq!(by_name.rooms[0].sid, created.sid);
    assert_eq!(by_name.rooms[0].metadata, "from node a");
    let all = call!(b.room().list_rooms(Default::default())).unwrap();
    assert!(all.rooms.iter().any(|room| room.sid == created.sid));
    // Creating it again through node B returns node A's room unchanged.
    let again = call!(b.room().create_room(proto::CreateRoomRequest {
        name: name.clone(),
        metadata: "from node b".into(),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!((again.sid.as_str(), again.metadata.as_str()), (created.sid.as_str(), "from node a"));

    // Node B updates it (node A, which holds the room, applies it); node A sees the change.
    let updated = call!(b.room().update_room_metadata(proto::UpdateRoomMetadataRequest {
        room: name.clone(),
        metadata: r#"{"updated_through":"node b"}"#.into(),
    }))
    .unwrap();
    assert_eq!(updated.sid, created.sid);
    assert_eq!(updated.metadata, r#"{"updated_through":"node b"}"#);
    let seen_by_a = call!(a.room().list_rooms(proto::ListRoomsRequest { names: vec![name.clone()] }))
        .unwrap();
    assert_eq!(seen_by_a.rooms[0].metadata, r#"{"updated_through":"node b"}"#);
    let participants = call!(b
        .room()
        .list_participants(proto::ListParticipantsRequest { room: name.clone() }))
    .unwrap();
    assert!(participants.participants.is_empty(), "{participants:?}");

    // Node B deletes it: gone for both nodes.
    call!(b.room().delete_room(proto::DeleteRoomRequest { room: name.clone() })).unwrap();
    for node in [&a, &b] {
        let after = call!(node.room().list_rooms(proto::ListRoomsRequest { names: vec![name.clone()] }))
            .unwrap();
        assert!(after.rooms.is_empty(), "{after:?}");
    }
    let error = call!(a.room().delete_room(proto::DeleteRoomRequest { room: name })).unwrap_err();
    assert!(error.is_not_found(), "{error}");
});

cluster_test!(a_participant_connected_to_node_a_is_removed_through_node_b {
    let (a, b) = (node_a(), node_b());
    let room = unique("cluster-live");
    // Both join through node A, which creates the room and so holds it.
    let mut alice = Participant::join(&room, "alice", false);
    let mut bob = Participant::join(&room, "bob", false);

    let listed = call!(b.room().list_participants(proto::ListParticipantsRequest { room: room.clone() }))
        .unwrap();
    assert_eq!(names(&listed.participants), ["alice", "bob"]);
    let bob_info = call!(b.room().get_participant(identity_in(&room, "bob"))).unwrap();
    assert_eq!(bob_info.sid, bob.sid);
    assert_eq!(bob_info.state, proto::participant_info::State::Active as i32);

    // Removed through node B: node A disconnects the live participant, with that reason.
    call!(b.room().remove_participant(identity_in(&room, "bob"))).unwrap();
    let disconnected = bob.wait_for("its removal", |event| event["event"] == "disconnected");
    assert_eq!(disconnected["reason"], "PARTICIPANT_REMOVED", "{disconnected}");
    assert!(bob.wait_for_exit().success());
    let error = call!(b.room().remove_participant(identity_in(&room, "bob"))).unwrap_err();
    assert!(error.is_not_found(), "{error}");

    // Both nodes now list alice alone, who was not touched.
    let deadline = Instant::now() + Duration::from_secs(15);
    for node in [&a, &b] {
        loop {
            let listed = call!(node.room().list_participants(proto::ListParticipantsRequest {
                room: room.clone(),
            }))
            .unwrap();
            if names(&listed.participants) == ["alice"] {
                break;
            }
            assert!(Instant::now() < deadline, "still listed: {listed:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    alice.assert_never("a disconnection", |event| event["event"] == "disconnected");

    // Deleting the room through node B disconnects alice on node A.
    call!(b.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
    let disconnected = alice.wait_for("its disconnection", |event| event["event"] == "disconnected");
    assert_eq!(disconnected["reason"], "ROOM_DELETED", "{disconnected}");
});

include!("../e2e_suite/participant.rs");
