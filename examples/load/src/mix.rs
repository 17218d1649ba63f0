// The mixed workload, written once for both transports. The including module defines
// `type Api`, `call!(expr)` (`expr` or `expr.await`) and `iteration_fn!` (a plain or an
// async function), as the end-to-end suite does.

/// Times one call and records it; evaluates to its result.
macro_rules! timed {
    ($context:expr, $stats:expr, $rpc:literal, $call:expr) => {
        timed!($context, $stats, $rpc, $call, |_| false)
    };
    ($context:expr, $stats:expr, $rpc:literal, $call:expr, $expected:expr) => {{
        let started = std::time::Instant::now();
        let result = call!($call);
        $stats.record(
            $rpc,
            $context.run_started,
            started,
            $context.limit,
            &result,
            $expected,
        );
        result
    }};
}

iteration_fn! {
    /// One round of the mix around a new room: up to 13 calls, `SendData` and
    /// `CreateDispatch` among them unsafe to repeat. Every call runs even when an earlier
    /// one failed, so a fault shows on every RPC.
    fn iteration(api: &Api, context: &crate::Context, room: String, stats: &mut crate::stats::Stats) {
        use livekit_core::Services as _;
        use livekit_proto as proto;

        let options = context.options.clone();
        let created = timed!(context, stats, "CreateRoom", api.room().with_options(options.clone()).create_room(
            proto::CreateRoomRequest {
                name: room.clone(),
                empty_timeout: 60,
                ..Default::default()
            }
        ));
        let _ = timed!(context, stats, "ListRooms", api.room().with_options(options.clone()).list_rooms(
            proto::ListRoomsRequest { names: vec![room.clone()] }
        ));
        let _ = timed!(context, stats, "ListParticipants", api.room().with_options(options.clone()).list_participants(
            proto::ListParticipantsRequest { room: room.clone() }
        ));
        // Nobody joins: `not_found` is the right answer.
        let _ = timed!(context, stats, "GetParticipant", api.room().with_options(options.clone()).get_participant(
            proto::RoomParticipantIdentity { room: room.clone(), identity: "nobody".into(), ..Default::default() }
        ), |error: &livekit_core::Error| error.is_not_found());
        let _ = timed!(context, stats, "UpdateRoomMetadata", api.room().with_options(options.clone()).update_room_metadata(
            proto::UpdateRoomMetadataRequest { room: room.clone(), metadata: "load".into() }
        ));
        let _ = timed!(context, stats, "SendData", api.room().with_options(options.clone()).send_data(
            proto::SendDataRequest {
                room: room.clone(),
                data: b"load".to_vec(),
                topic: Some("load".into()),
                ..Default::default()
            }
        ));
        // The metadata marks this dispatch, so a repeated create would show as two.
        let marker = format!("{room}/dispatch");
        let dispatch = timed!(context, stats, "CreateDispatch", api.agent_dispatch().with_options(options.clone()).create_dispatch(
            proto::CreateAgentDispatchRequest {
                agent_name: "load-agent".into(),
                room: room.clone(),
                metadata: marker.clone(),
                ..Default::default()
            }
        ));
        let listed = timed!(context, stats, "ListDispatch", api.agent_dispatch().with_options(options.clone()).list_dispatch(
            proto::ListAgentDispatchRequest { room: room.clone(), ..Default::default() }
        ));
        if let Ok(listed) = listed {
            let copies = listed
                .agent_dispatches
                .iter()
                .filter(|dispatch| dispatch.metadata == marker)
                .count();
            if copies > 1 {
                stats.duplicate_effects += 1;
            }
        }
        if let Ok(dispatch) = dispatch {
            let _ = timed!(context, stats, "DeleteDispatch", api.agent_dispatch().with_options(options.clone()).delete_dispatch(
                proto::DeleteAgentDispatchRequest { dispatch_id: dispatch.id, room: room.clone() }
            ));
        }
        let _ = timed!(context, stats, "ListSIPInboundTrunk", api.sip().with_options(options.clone()).list_sip_inbound_trunk(
            proto::ListSipInboundTrunkRequest::default()
        ));
        let _ = timed!(context, stats, "ListIngress", api.ingress().with_options(options.clone()).list_ingress(
            proto::ListIngressRequest { room_name: room.clone(), ..Default::default() }
        ));
        let _ = timed!(context, stats, "ListEgress", api.egress().with_options(options.clone()).list_egress(
            proto::ListEgressRequest { room_name: room.clone(), ..Default::default() }
        ));
        let deleted = timed!(context, stats, "DeleteRoom", api.room().with_options(options).delete_room(
            proto::DeleteRoomRequest { room: room.clone() }
        ));
        if created.is_err() || deleted.is_err() {
            stats.leftover_rooms.push(room);
        }
    }
}
