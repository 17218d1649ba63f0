//! Every LiveKit server API call, sans IO: this crate does no networking, reads no clock,
//! no environment and no randomness. Those are inputs (`now`, a request id, jitter, the
//! credentials), so every behaviour is testable with plain values.
//!
//! It turns request messages into [`http::Request`]s and [`http::Response`]s back into
//! messages or [`Error`]s, and decides retries, backoff and region failover as a state
//! machine ([`Call`]). Transports (`livekit-hyper` for async, `livekit-ureq` for blocking, or
//! your own through [`Transport`] / [`BlockingTransport`]) only move bytes.
//!
//! - [`rpc`] describes every RPC once: types, least grant, idempotency, time budget.
//! - [`Client`] holds the base URL, credentials, options and the service-token cache, and
//!   owns the one generic build/parse pair.
//! - [`RoomClient`], [`EgressClient`], [`IngressClient`], [`SipClient`],
//!   [`AgentDispatchClient`] and [`ConnectorClient`] are typed sugar over [`Execute`],
//!   shared by every transport.
//! - [`WebhookReceiver`] verifies and decodes webhooks.
//!
//! ```
//! use livekit_auth::Credentials;
//! use livekit_core::{BlockingApi, Client, Environment, FnTransport};
//! use livekit_proto::{Message as _, Room};
//! use std::time::Duration;
//!
//! // A canned transport and a fixed environment, as a unit test would use.
//! struct Fixed;
//! impl Environment for Fixed {
//!     fn unix_now(&self) -> u64 { 1_800_000_000 }
//!     fn monotonic(&self) -> Duration { Duration::ZERO }
//!     fn random(&self) -> u64 { 4 }
//! }
//! let transport = FnTransport::new(|request: http::Request<Vec<u8>>, _timeout| {
//!     assert_eq!(request.uri().path(), "/twirp/livekit.RoomService/CreateRoom");
//!     let room = Room { name: "my-room".into(), ..Default::default() };
//!     Ok(http::Response::builder().status(200).body(room.encode_to_vec()).unwrap())
//! });
//!
//! let client = Client::new("http://127.0.0.1:7880", Credentials::new("devkey", "secret")?)?;
//! let api = BlockingApi::new(client, transport, Fixed);
//! let room = livekit_core::RoomClient::new(&api).create_room(livekit_proto::CreateRoomRequest {
//!     name: "my-room".into(),
//!     ..Default::default()
//! })?;
//! assert_eq!(room.name, "my-room");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `system` (off): [`SystemEnvironment`] (the system clock and a random source) and
//!   [`client_from_env`] (`LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`,
//!   `LIVEKIT_TOKEN`), for transports to use. Without it nothing in the crate reads the
//!   clock, the environment or a random source.

// A std crate: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

#[cfg(feature = "system")]
mod api;
mod call;
mod client;
mod error;
mod failover;
mod options;
mod response;
mod retry;
pub mod rpc;
mod services;
#[cfg(feature = "system")]
mod system;
mod transport;
mod url;
mod webhook;

#[cfg(feature = "system")]
pub use api::{Assemble, DefaultTransport, LiveKitApi};
pub use call::{Call, Clock, ResponseBody, Step};
pub use client::{
    Auth, CallContext, Client, ClientOptions, DEFAULT_USER_AGENT, PresignedToken,
    REQUEST_ID_HEADER, TWIRP_TIMEOUT_HEADER, is_reserved_header,
};
pub use error::{
    BuildError, ConfigError, DecodeError, Error, RpcError, RpcErrorCode, ServerError,
    TransportError, TransportErrorKind, TwirpCode,
};
pub use failover::Regions;
pub use livekit_auth as auth;
pub use livekit_proto as proto;
pub use options::{CallOptions, RetryPolicy};
pub use rpc::{
    DEFAULT_RINGING_TIMEOUT, DEFAULT_RPC_RESPONSE_TIMEOUT, RINGING_TIMEOUT_MARGIN,
    RPC_RESPONSE_TIMEOUT_MARGIN,
};
pub use services::{
    AgentDispatchClient, ConnectorClient, EgressClient, IngressClient, RoomClient, Services,
    SipClient, list_add, list_remove, list_set,
};
#[cfg(feature = "system")]
pub use system::{SystemEnvironment, client_from_env};
pub use transport::{
    AsyncApi, BlockingApi, BlockingTransport, DEFAULT_MAX_RESPONSE_BYTES, Environment, Execute,
    FnTransport, Transport,
};
pub use url::{BaseUrl, ProxyUrl};
pub use webhook::{
    DEFAULT_MAX_WEBHOOK_BODY_LEN, WebhookError, WebhookEvent, WebhookEventKind, WebhookReceiver,
};

/// What a transport crate re-exports for its users, listed once: with it, an application
/// depends on `livekit-hyper` or `livekit-ureq` alone.
pub mod facade {
    pub use crate::{
        AgentDispatchClient, BuildError, CallOptions, Client, ClientOptions, ConfigError,
        ConnectorClient, DEFAULT_MAX_RESPONSE_BYTES, EgressClient, Error, IngressClient,
        ResponseBody, RetryPolicy, RoomClient, RpcError, RpcErrorCode, ServerError, SipClient,
        TransportError, TransportErrorKind, TwirpCode, WebhookError, WebhookEvent,
        WebhookEventKind, WebhookReceiver, auth, list_add, list_remove, list_set, proto, rpc,
    };
    /// The `http` crate, whose types the public API speaks: custom headers are
    /// [`HeaderName`](http::HeaderName)s and [`HeaderValue`](http::HeaderValue)s.
    pub use http;
}

// The README's example is compiled as a doctest, so that it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
