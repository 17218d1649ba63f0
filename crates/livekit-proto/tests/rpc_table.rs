//! The generated RPC table: complete for the server API, and the macro agrees with the data.

use livekit_proto::{Name, RPCS, RpcInfo, for_each_rpc};

fn rpc(service_name: &str, method: &str) -> Option<&'static RpcInfo> {
    RPCS.iter()
        .find(|rpc| rpc.service_name == service_name && rpc.method == method)
}

#[test]
fn covers_the_server_api() {
    for (service, method, request, response) in [
        (
            "RoomService",
            "CreateRoom",
            "livekit.CreateRoomRequest",
            "livekit.Room",
        ),
        (
            "RoomService",
            "PerformRpc",
            "livekit.PerformRpcRequest",
            "livekit.PerformRpcResponse",
        ),
        (
            "Egress",
            "StartEgress",
            "livekit.StartEgressRequest",
            "livekit.EgressInfo",
        ),
        (
            "Ingress",
            "CreateIngress",
            "livekit.CreateIngressRequest",
            "livekit.IngressInfo",
        ),
        (
            "SIP",
            "GetSIPInboundTrunk",
            "livekit.GetSIPInboundTrunkRequest",
            "livekit.GetSIPInboundTrunkResponse",
        ),
        (
            "SIP",
            "GetSIPOutboundTrunk",
            "livekit.GetSIPOutboundTrunkRequest",
            "livekit.GetSIPOutboundTrunkResponse",
        ),
        (
            "SIP",
            "ListSIPTrunk",
            "livekit.ListSIPTrunkRequest",
            "livekit.ListSIPTrunkResponse",
        ),
        (
            "SIP",
            "TransferSIPParticipant",
            "livekit.TransferSIPParticipantRequest",
            // google.protobuf.Empty until protocol v1.53.
            "livekit.TransferSIPParticipantResponse",
        ),
        (
            "AgentDispatchService",
            "CreateDispatch",
            "livekit.CreateAgentDispatchRequest",
            "livekit.AgentDispatch",
        ),
        (
            "Connector",
            "DialWhatsAppCall",
            "livekit.DialWhatsAppCallRequest",
            "livekit.DialWhatsAppCallResponse",
        ),
        (
            "Connector",
            "ConnectTwilioCall",
            "livekit.ConnectTwilioCallRequest",
            "livekit.ConnectTwilioCallResponse",
        ),
    ] {
        let found = rpc(service, method).unwrap_or_else(|| panic!("{service}.{method} missing"));
        assert_eq!(found.service, format!("livekit.{service}"));
        assert_eq!((found.request, found.response), (request, response));
    }
    let services: Vec<&str> = RPCS.iter().map(|rpc| rpc.service_name).collect();
    for service in [
        "RoomService",
        "Egress",
        "Ingress",
        "SIP",
        "AgentDispatchService",
        "Connector",
    ] {
        assert!(services.contains(&service), "{service}");
    }
    // RoomService 14, Egress 10, Ingress 4, SIP 16, AgentDispatchService 3, Connector 5.
    assert_eq!(RPCS.len(), 52);
}

fn full_name<T: Name>() -> String {
    T::full_name()
}

/// Whether the Rust type is the one prost generates for the proto message `qualified`:
/// the same name but for the case of acronyms (`SIPTrunkInfo` is `SipTrunkInfo`).
fn is_rust_type_of<T>(qualified: &str) -> bool {
    let rust = core::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or_default();
    let proto = qualified.rsplit('.').next().unwrap_or_default();
    rust.eq_ignore_ascii_case(proto)
}

macro_rules! check_against_table {
    ($(($service:ident, $method:ident, $function:ident, $request:path, $response:path)),* $(,)?) => {{
        let mut index = 0;
        $(
            let rpc = &RPCS[index];
            assert_eq!(rpc.service_name, stringify!($service));
            assert_eq!(rpc.method, stringify!($method));
            assert_eq!(rpc.request, full_name::<$request>(), "{}", rpc.method);
            // Not `Name`: the well-known `Empty` does not implement it.
            assert!(is_rust_type_of::<$response>(rpc.response), "{}", rpc.method);
            let _: fn() = || {
                let $function = ();
                let () = $function;
            };
            index += 1;
        )*
        index
    }};
}

#[test]
fn the_macro_lists_the_table_with_real_types() {
    assert_eq!(for_each_rpc!(check_against_table), RPCS.len());
}

macro_rules! snake_case_names {
    ($(($service:ident, $method:ident, $function:ident, $request:path, $response:path)),* $(,)?) => {
        [$(stringify!($function)),*]
    };
}

#[test]
fn snake_case_method_names() {
    let names = for_each_rpc!(snake_case_names);
    for expected in [
        "create_room",
        "perform_rpc",
        "start_egress",
        "get_sip_inbound_trunk",
        "list_sip_trunk",
        "transfer_sip_participant",
        "create_dispatch",
        "dial_whatsapp_call",
        "connect_twilio_call",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
}
