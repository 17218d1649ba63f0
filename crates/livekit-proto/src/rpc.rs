//! The description of one RPC, as the generated table lists them.

/// One RPC of the server API, as the `.proto` `service` blocks define it.
///
/// The generated [`RPCS`](crate::RPCS) table holds one per RPC. The Twirp path of an RPC is
/// `/twirp/{service}/{method}`, for instance `/twirp/livekit.RoomService/CreateRoom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RpcInfo {
    /// The fully qualified service name, as in the Twirp path: `livekit.RoomService`.
    pub service: &'static str,
    /// The service name without its package: `RoomService`.
    pub service_name: &'static str,
    /// The method name, as in the Twirp path: `CreateRoom`.
    pub method: &'static str,
    /// The fully qualified request message: `livekit.CreateRoomRequest`.
    pub request: &'static str,
    /// The fully qualified response message: `livekit.Room`, or `google.protobuf.Empty`.
    pub response: &'static str,
}
