// The participant-facing RPCs against real WebRTC participants (participant.rs): each test
// joins its own participants to a room of its own and checks both what the server says and
// what the participants observe.

/// Waits for the "participant" event (the local participant's state, as the SDK sees it)
/// whose field `field` is `value`.
fn wait_for_state(participant: &mut Participant, field: &str, value: serde_json::Value) -> serde_json::Value {
    participant.wait_for(&format!("its {field} to become {value}"), |event| {
        event["event"] == "participant" && event[field] == value
    })
}

/// Polls `GetParticipant` (with `call!`, so it reads the same in async and blocking suites)
/// until `$ready` holds of the participant's info, bound to `$info`; fails after 15 s. The
/// server lists a published track once its media arrives, a moment after the participant's
/// SDK has reported it published.
macro_rules! participant_once {
    ($api:expr, $room:expr, $identity:expr, |$info:ident| $ready:expr) => {{
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let $info = call!($api.room().get_participant(identity_in(&$room, $identity))).unwrap();
            if $ready {
                break $info;
            }
            assert!(Instant::now() < deadline, "not within 15 s: {}: {:?}", stringify!($ready), $info);
            std::thread::sleep(Duration::from_millis(50));
        }
    }};
}

/// Sends `SendData` probes to the participant until one arrives (see
/// `Participant::probe_arrived`), for at most 15 s.
macro_rules! wait_until_data_arrives {
    ($api:expr, $room:expr, $participant:expr) => {{
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut probes = 0;
        loop {
            probes += 1;
            call!($api.room().send_data(proto::SendDataRequest {
                room: $room.clone(),
                data: b"probe".to_vec(),
                kind: proto::data_packet::Kind::Reliable as i32,
                destination_identities: vec![$participant.identity.clone()],
                topic: Some(format!("probe-{probes}")),
                ..Default::default()
            }))
            .unwrap();
            if $participant.probe_arrived() {
                break;
            }
            assert!(Instant::now() < deadline, "no probe reached {} in 15 s", $participant.identity);
        }
    }};
}

fn identity_in(room: &str, identity: &str) -> proto::RoomParticipantIdentity {
    proto::RoomParticipantIdentity {
        room: room.to_owned(),
        identity: identity.to_owned(),
        ..Default::default()
    }
}

e2e_test!(live_participants_are_listed_with_their_published_tracks {
    let api = api();
    let room = unique("live-list");
    let mut alice = Participant::join(&room, "alice", true);
    let bob = Participant::join(&room, "bob", false);

    let listed = call!(api.room().list_participants(proto::ListParticipantsRequest {
        room: room.clone(),
    }))
    .unwrap();
    let mut identities: Vec<&str> =
        listed.participants.iter().map(|participant| participant.identity.as_str()).collect();
    identities.sort_unstable();
    assert_eq!(identities, ["alice", "bob"]);

    let track_sid = alice.track_sid();
    let fetched = participant_once!(api, room, "alice", |info| {
        info.tracks.iter().any(|track| track.sid == track_sid)
    });
    assert_eq!(fetched.sid, alice.sid);
    assert_eq!(fetched.kind, proto::participant_info::Kind::Standard as i32);
    assert_eq!(fetched.state, proto::participant_info::State::Active as i32);
    let track = &fetched.tracks[0];
    assert_eq!(track.name, "mic");
    assert_eq!(track.r#type, proto::TrackType::Audio as i32);
    assert_eq!(track.source, proto::TrackSource::Microphone as i32);
    assert!(track.mime_type.eq_ignore_ascii_case("audio/opus"), "{}", track.mime_type);
    assert!(!track.muted);
    let bob_info = call!(api.room().get_participant(identity_in(&room, "bob"))).unwrap();
    assert_eq!(bob_info.sid, bob.sid);
    assert!(bob_info.tracks.is_empty(), "{bob_info:?}");
    // The listing now holds the track too.
    let listed = call!(api.room().list_participants(proto::ListParticipantsRequest {
        room: room.clone(),
    }))
    .unwrap();
    let listed_alice = listed.participants.iter().find(|p| p.identity == "alice").unwrap();
    assert_eq!(listed_alice.tracks.len(), 1, "{listed_alice:?}");
    assert_eq!(listed_alice.tracks[0].sid, track_sid);

    // Deleting the room disconnects everyone in it, with that reason.
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
    let disconnected = alice.wait_for("its disconnection", |event| event["event"] == "disconnected");
    assert_eq!(disconnected["reason"], "ROOM_DELETED", "{disconnected}");
});

e2e_test!(update_participant_reaches_the_participant {
    let api = api();
    let room = unique("live-update");
    let mut alice = Participant::join(&room, "alice", false);
    let update = |change: proto::UpdateParticipantRequest| proto::UpdateParticipantRequest {
        room: room.clone(),
        identity: "alice".into(),
        ..change
    };

    let metadata = r#"{"seat":3,"note":"ünïcode ✓"}"#;
    let info = call!(api.room().update_participant(update(proto::UpdateParticipantRequest {
        metadata: metadata.into(),
        ..Default::default()
    })))
    .unwrap();
    assert_eq!(info.metadata, metadata);
    wait_for_state(&mut alice, "metadata", metadata.into());

    let info = call!(api.room().update_participant(update(proto::UpdateParticipantRequest {
        attributes: [("team", "blue"), ("role", "host")]
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .into(),
        ..Default::default()
    })))
    .unwrap();
    assert_eq!(info.attributes.get("team").map(String::as_str), Some("blue"));
    wait_for_state(&mut alice, "attributes", serde_json::json!({"team": "blue", "role": "host"}));

    let info = call!(api.room().update_participant(update(proto::UpdateParticipantRequest {
        name: "Alice Liddell".into(),
        ..Default::default()
    })))
    .unwrap();
    assert_eq!(info.name, "Alice Liddell");
    wait_for_state(&mut alice, "name", "Alice Liddell".into());

    let info = call!(api.room().update_participant(update(proto::UpdateParticipantRequest {
        permission: Some(proto::ParticipantPermission {
            can_subscribe: true,
            can_publish: false,
            can_publish_data: true,
            can_update_metadata: true,
            ..Default::default()
        }),
        ..Default::default()
    })))
    .unwrap();
    let permission = info.permission.expect("the answer holds the permission");
    assert!(!permission.can_publish && permission.can_update_metadata, "{permission:?}");
    let seen = alice.wait_for("its permission to change", |event| {
        event["event"] == "participant"
            && event["permission"]["can_publish"] == false
            && event["permission"]["can_update_metadata"] == true
    });
    assert_eq!(seen["permission"]["can_subscribe"], true, "{seen}");
    assert_eq!(seen["permission"]["can_publish_data"], true, "{seen}");

    // The server's own state agrees with what the participant saw, every change kept.
    let fetched = call!(api.room().get_participant(identity_in(&room, "alice"))).unwrap();
    assert_eq!(fetched.metadata, metadata);
    assert_eq!(fetched.name, "Alice Liddell");
    assert_eq!(fetched.attributes.get("role").map(String::as_str), Some("host"));
    assert!(!fetched.permission.expect("a permission").can_publish);
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});

e2e_test!(mute_published_track_mutes_it_for_everyone {
    let api = api();
    let room = unique("live-mute");
    let mut alice = Participant::join(&room, "alice", true);
    let mut bob = Participant::join(&room, "bob", false);
    let track = alice.track_sid();
    // Bob hears alice (her silence, through the server), so the track is live.
    bob.wait_for("alice's media", |event| {
        event["event"] == "track_receiving" && event["track"] == track.as_str()
    });

    let answer = call!(api.room().mute_published_track(proto::MuteRoomTrackRequest {
        room: room.clone(),
        identity: "alice".into(),
        track_sid: track.clone(),
        muted: true,
    }))
    .unwrap();
    let muted = answer.track.expect("the answer holds the track");
    assert_eq!(muted.sid, track);
    assert!(muted.muted);
    // The publisher is told to mute, and the subscriber sees it muted.
    for participant in [&mut alice, &mut bob] {
        let seen = participant.wait_for("the mute", |event| {
            event["event"] == "track_muted" && event["track"] == track.as_str()
        });
        assert_eq!(seen["muted"], true, "{seen}");
        assert_eq!(seen["participant"], "alice", "{seen}");
    }
    let fetched = call!(api.room().get_participant(identity_in(&room, "alice"))).unwrap();
    assert!(fetched.tracks.iter().any(|info| info.sid == track && info.muted), "{fetched:?}");

    // An unknown track of a present participant is no error (v1.13.5, v1.13.11): the answer has
    // no track.
    let answer = call!(api.room().mute_published_track(proto::MuteRoomTrackRequest {
        room: room.clone(),
        identity: "alice".into(),
        track_sid: "TR_no_such_track".into(),
        muted: true,
    }))
    .unwrap();
    assert_eq!(answer.track, None);
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});

e2e_test!(update_subscriptions_unsubscribes_and_resubscribes {
    let api = api();
    let room = unique("live-subscriptions");
    let alice = Participant::join(&room, "alice", true);
    let mut bob = Participant::join(&room, "bob", false);
    let track = alice.track_sid();
    let about_the_track = |kind: &str, event: &serde_json::Value| {
        event["event"] == kind && event["track"] == track.as_str()
    };
    bob.wait_for("its subscription to alice's track", |event| about_the_track("track_subscribed", event));
    bob.wait_for("alice's media", |event| about_the_track("track_receiving", event));

    let change = |subscribe| proto::UpdateSubscriptionsRequest {
        room: room.clone(),
        identity: "bob".into(),
        track_sids: vec![alice.track_sid()],
        subscribe,
        ..Default::default()
    };
    // Unsubscribed by the server, bob's media of the track ends.
    call!(api.room().update_subscriptions(change(false))).unwrap();
    let seen = bob.wait_for("the end of alice's media", |event| about_the_track("track_ended", event));
    assert_eq!(seen["participant"], "alice", "{seen}");
    // Subscribed again, it is a new subscription, and the media flows again.
    call!(api.room().update_subscriptions(change(true))).unwrap();
    bob.wait_for("the new subscription", |event| about_the_track("track_subscribed", event));
    bob.wait_for("alice's media again", |event| about_the_track("track_receiving", event));
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});

e2e_test!(send_data_reaches_exactly_the_addressed_participants {
    let api = api();
    let room = unique("live-data");
    let mut alice = Participant::join(&room, "alice", false);
    let mut bob = Participant::join(&room, "bob", false);
    wait_until_data_arrives!(api, room, alice);
    wait_until_data_arrives!(api, room, bob);
    let send = |data: Vec<u8>, to: &[&str], topic: &str| proto::SendDataRequest {
        room: room.clone(),
        data,
        kind: proto::data_packet::Kind::Reliable as i32,
        destination_identities: to.iter().map(|identity| (*identity).to_owned()).collect(),
        topic: Some(topic.to_owned()),
        ..Default::default()
    };

    // To everyone: every byte value, byte for byte.
    let every_byte: Vec<u8> = (0..=255).collect();
    call!(api.room().send_data(send(every_byte.clone(), &[], "all"))).unwrap();
    for participant in [&mut alice, &mut bob] {
        let seen = participant.wait_for("the data for all", |event| {
            event["event"] == "data" && event["topic"] == "all"
        });
        assert_eq!(data_payload(&seen), every_byte);
        // The server sent it, not a participant.
        assert_eq!(seen["sender"], "", "{seen}");
    }

    // To bob alone, with a topic.
    let private = b"for bob only \x00\xff\xfe".to_vec();
    call!(api.room().send_data(send(private.clone(), &["bob"], "private"))).unwrap();
    let seen = bob.wait_for("the private data", |event| {
        event["event"] == "data" && event["topic"] == "private"
    });
    assert_eq!(data_payload(&seen), private);
    // Alice's data channel is reliable and ordered: once she has a later message for
    // everyone, she would have had the private one before it.
    call!(api.room().send_data(send(b"after".to_vec(), &[], "marker"))).unwrap();
    alice.wait_for("the marker", |event| event["event"] == "data" && event["topic"] == "marker");
    alice.assert_never("alice received bob's data", |event| {
        event["event"] == "data" && event["topic"] == "private"
    });
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});

e2e_test!(perform_rpc_calls_the_participants_method {
    let api = api();
    let room = unique("live-rpc");
    let mut alice = Participant::join(&room, "alice", false);
    // RPC requests travel on the same data channel.
    wait_until_data_arrives!(api, room, alice);
    let rpc = |method: &str, payload: &str, response_timeout_ms: u32| proto::PerformRpcRequest {
        room: room.clone(),
        destination_identity: "alice".into(),
        method: method.into(),
        payload: payload.into(),
        response_timeout_ms,
    };

    let payload = r#"{"question":"ünïcode ✓ and \"quotes\""}"#;
    let answer = call!(api.room().perform_rpc(rpc("echo", payload, 0))).unwrap();
    assert_eq!(answer.payload, payload);
    let seen = alice.wait_for("the echo call", |event| event["event"] == "rpc" && event["method"] == "echo");
    assert_eq!(seen["payload"], payload);

    // No such method: the participant's SDK says so, with the RPC error code.
    let error = call!(api.room().perform_rpc(rpc("no-such-method", "x", 0))).unwrap_err();
    let server = error.server().unwrap_or_else(|| panic!("the server answers: {error}"));
    assert_eq!(server.status, 400, "{error}");
    let rpc_error = server.rpc_error().unwrap_or_else(|| panic!("an rpc error: {error}"));
    assert_eq!(rpc_error.code, livekit_core::RpcErrorCode::UnsupportedMethod, "{error}");
    assert_eq!(rpc_error.code.code(), 1400);

    // The handler's own error: its code, message and data.
    let error = call!(api.room().perform_rpc(rpc("fail", "the data", 0))).unwrap_err();
    let rpc_error = error.server().and_then(livekit_core::ServerError::rpc_error)
        .unwrap_or_else(|| panic!("an rpc error: {error}"));
    assert_eq!(rpc_error.code, livekit_core::RpcErrorCode::Custom(42), "{error}");
    assert_eq!(rpc_error.message, "the method failed on purpose: the data");

    // A handler slower than the response window: the server's timeout, once, in about 1 s.
    let started = Instant::now();
    let error = call!(api.room().perform_rpc(rpc("slow", "x", 1000))).unwrap_err();
    let elapsed = started.elapsed();
    let rpc_error = error.server().and_then(livekit_core::ServerError::rpc_error)
        .unwrap_or_else(|| panic!("an rpc error: {error}"));
    assert_eq!(rpc_error.code, livekit_core::RpcErrorCode::ResponseTimeout, "{error}");
    assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4), "{elapsed:?}");
    alice.wait_for("the slow call", |event| event["event"] == "rpc" && event["method"] == "slow");

    // Nobody of that identity: the server gives up after its own wait (about 3 s) with a 503,
    // and a call that reached the server is not sent again.
    let started = Instant::now();
    let error = call!(api.room().perform_rpc(proto::PerformRpcRequest {
        destination_identity: "nobody".into(),
        ..rpc("echo", "x", 0)
    }))
    .unwrap_err();
    let server = error.server().unwrap_or_else(|| panic!("the server answers: {error}"));
    assert_eq!((server.status, &server.code), (503, &TwirpCode::Unavailable), "{error}");
    assert_eq!(server.rpc_error(), None);
    assert!(started.elapsed() < Duration::from_secs(6), "sent again? {:?}", started.elapsed());
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});

e2e_test!(remove_participant_disconnects_it_once {
    let api = api();
    let room = unique("live-remove");
    let _alice = Participant::join(&room, "alice", false);
    let mut bob = Participant::join(&room, "bob", false);

    call!(api.room().remove_participant(identity_in(&room, "bob"))).unwrap();
    let disconnected = bob.wait_for("its removal", |event| event["event"] == "disconnected");
    assert_eq!(disconnected["reason"], "PARTICIPANT_REMOVED", "{disconnected}");
    assert!(bob.wait_for_exit().success());

    let error = call!(api.room().remove_participant(identity_in(&room, "bob"))).unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let listed = call!(api.room().list_participants(proto::ListParticipantsRequest {
        room: room.clone(),
    }))
    .unwrap();
    let identities: Vec<&str> =
        listed.participants.iter().map(|participant| participant.identity.as_str()).collect();
    assert_eq!(identities, ["alice"]);
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});

e2e_test!(webhooks_follow_a_participant_in_and_out {
    let webhooks = webhooks();
    let api = api();
    let room = unique("live-webhooks");
    let alice = Participant::join(&room, "alice", true);
    let (sid, track) = (alice.sid.clone(), alice.track_sid());
    participant_once!(api, room, "alice", |info| info.tracks.iter().any(|t| t.sid == track));
    alice.leave();

    let receiver = livekit_core::WebhookReceiver::new(Credentials::new(key(), secret()).unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut joined, mut published, mut left) = (false, false, false);
    while !(joined && published && left) {
        let wait = deadline.saturating_duration_since(Instant::now());
        let (authorization, body) = webhooks.recv_timeout(wait).unwrap_or_else(|_| {
            panic!("within 30 s: participant_joined {joined}, track_published {published}, participant_left {left}")
        });
        let event = receiver
            .receive(&body, authorization.as_deref(), unix_now())
            .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&body)));
        if event.event.room.as_ref().is_none_or(|r| r.name != room) {
            continue;
        }
        let participant = event.event.participant.as_ref();
        match event.kind {
            livekit_core::WebhookEventKind::ParticipantJoined => {
                let participant = participant.expect("the event names the participant");
                assert_eq!((participant.identity.as_str(), participant.sid.as_str()), ("alice", sid.as_str()));
                joined = true;
            }
            livekit_core::WebhookEventKind::TrackPublished => {
                let info = event.event.track.as_ref().expect("the event names the track");
                assert_eq!(info.sid, track);
                assert_eq!(info.r#type, proto::TrackType::Audio as i32);
                assert_eq!(participant.map(|p| p.identity.as_str()), Some("alice"));
                published = true;
            }
            livekit_core::WebhookEventKind::ParticipantLeft => {
                assert_eq!(participant.map(|p| p.sid.as_str()), Some(sid.as_str()));
                assert!(joined, "participant_left came before participant_joined");
                left = true;
            }
            _ => {}
        }
    }
});

e2e_test!(forward_and_move_reach_the_server_which_does_not_implement_them {
    let api = api();
    let room = unique("live-relocate");
    let mut alice = Participant::join(&room, "alice", false);
    let destination = format!("{room}-elsewhere");
    // Signed with the destination grant the server checks first (a missing one is a 401),
    // the calls reach the participant's node, where the open-source server (v1.13.5 and
    // v1.13.11) has no implementation: LiveKit Cloud relocates participants, a self-hosted
    // server cannot.
    let forwarded = call!(api.room().forward_participant(proto::ForwardParticipantRequest {
        room: room.clone(),
        identity: "alice".into(),
        destination_room: destination.clone(),
    }))
    .unwrap_err();
    let moved = call!(api.room().move_participant(proto::MoveParticipantRequest {
        room: room.clone(),
        identity: "alice".into(),
        destination_room: destination,
    }))
    .unwrap_err();
    for error in [forwarded, moved] {
        let server = error.server().unwrap_or_else(|| panic!("the server answers: {error}"));
        assert!(!server.is_permission_denied(), "{error}");
        assert!(server.message.contains("not implemented"), "{error}");
    }
    // Alice is where she was.
    let fetched = call!(api.room().get_participant(identity_in(&room, "alice"))).unwrap();
    assert_eq!(fetched.sid, alice.sid);
    alice.assert_never("alice was disconnected", |event| event["event"] == "disconnected");
    call!(api.room().delete_room(proto::DeleteRoomRequest { room })).unwrap();
});
