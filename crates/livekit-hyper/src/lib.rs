//! The LiveKit server API, async, on [hyper] 1: for servers and services on tokio.
//!
//! This crate only moves bytes. Requests, responses, retries, timeouts and failover are
//! decided by `livekit-core`; [`HyperTransport`] carries them out on a pooled, keep-alive
//! hyper client inside your tokio runtime (it starts no runtime of its own), with a
//! response size cap.
//!
//! ```no_run
//! use livekit_hyper::LiveKitApi;
//! use livekit_hyper::proto::CreateRoomRequest;
//!
//! # async fn run() -> Result<(), livekit_hyper::Error> {
//! let api = LiveKitApi::new("http://127.0.0.1:7880", "devkey", "secret")?;
//! let room = api
//!     .room()
//!     .create_room(CreateRoomRequest { name: "my-room".into(), ..Default::default() })
//!     .await?;
//! println!("created {}", room.sid);
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! - `rustls` (default): `https` with rustls (ring). Without it, an `https` URL is a
//!   configuration error at construction.
//! - `webpki-roots` (default): trust the bundled webpki roots.
//! - `platform-verifier`: verify certificates with the operating system's verifier.
//! - `http2` (default): HTTP/2 where the server offers it over TLS (ALPN).
//!
//! A caller-supplied rustls configuration is accepted by [`HyperTransport::with_tls_config`].

// A std crate: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use livekit_core::{AsyncApi, DefaultTransport, SystemEnvironment, Transport};

pub use livekit_core::facade::*;

// The README's example is compiled as a doctest, so that it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// How long a pooled connection may sit idle before it is closed, by default: 90 s.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = HttpConnector;

/// An async [`Transport`] on a pooled, keep-alive hyper client. Cheap to clone: clones share
/// the pool.
#[derive(Clone)]
pub struct HyperTransport {
    client: HyperClient<Connector, Full<Bytes>>,
    /// Kept to rebuild the pool when its settings change.
    connector: Connector,
    pool_idle_timeout: Duration,
    max_response_bytes: usize,
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport")
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport with its own connection pool and the default TLS setup.
    pub fn new() -> Result<Self, Error> {
        Ok(Self::from_connector(default_connector()?))
    }

    /// A transport whose TLS is the given rustls configuration (roots, client certificates,
    /// ALPN: set `alpn_protocols` to `[b"h2", b"http/1.1"]` for HTTP/2).
    #[cfg(feature = "rustls")]
    pub fn with_tls_config(config: rustls::ClientConfig) -> Self {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1();
        #[cfg(feature = "http2")]
        let connector = connector.enable_http2();
        Self::from_connector(connector.build())
    }

    fn from_connector(connector: Connector) -> Self {
        Self {
            client: pooled_client(connector.clone(), DEFAULT_POOL_IDLE_TIMEOUT),
            connector,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Closes pooled connections that sat idle for `timeout` (default
    /// [`DEFAULT_POOL_IDLE_TIMEOUT`]). Call it before the first request: it starts a new,
    /// empty pool.
    pub fn with_pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.client = pooled_client(self.connector.clone(), timeout);
        self.pool_idle_timeout = timeout;
        self
    }

    /// Sets the response body cap, in bytes.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
        url: &str,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let request = request.map(|body| Full::new(Bytes::from(body)));
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| request_error(error, url))?;
        let (parts, body) = response.into_parts();
        let collected = Limited::new(body, self.max_response_bytes)
            .collect()
            .await
            .map_err(|error| {
                let kind = if error.is::<http_body_util::LengthLimitError>() {
                    TransportErrorKind::BodyTooLarge
                } else {
                    TransportErrorKind::Io
                };
                TransportError::new(kind, url, error.to_string()).with_request_sent(true)
            })?;
        Ok(http::Response::from_parts(
            parts,
            collected.to_bytes().to_vec(),
        ))
    }
}

fn pooled_client(
    connector: Connector,
    idle_timeout: Duration,
) -> HyperClient<Connector, Full<Bytes>> {
    let mut builder = HyperClient::builder(TokioExecutor::new());
    // Without a timer hyper-util never evicts idle connections in the background: they
    // would stay open until the next request to the same host, however long that takes.
    builder
        .pool_idle_timeout(idle_timeout)
        .pool_timer(TokioTimer::new());
    builder.build(connector)
}

#[cfg(feature = "rustls")]
fn default_connector() -> Result<Connector, Error> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    #[cfg(feature = "platform-verifier")]
    let builder = builder
        .with_provider_and_platform_verifier(provider)
        .map_err(|error| ConfigError::Tls(format!("cannot set up tls: {error}")))?;
    #[cfg(all(not(feature = "platform-verifier"), feature = "webpki-roots"))]
    let builder = builder
        .with_provider_and_webpki_roots(provider)
        .map_err(|error| ConfigError::Tls(format!("cannot set up tls: {error}")))?;
    #[cfg(all(not(feature = "platform-verifier"), not(feature = "webpki-roots")))]
    let builder = {
        let _ = provider;
        return Err(ConfigError::Tls(
            "the rustls feature needs root certificates: enable `webpki-roots` or \
             `platform-verifier`, or pass a config to HyperTransport::with_tls_config"
                .into(),
        )
        .into());
    };
    let builder = builder.https_or_http().enable_http1();
    #[cfg(feature = "http2")]
    let builder = builder.enable_http2();
    Ok(builder.build())
}

#[cfg(not(feature = "rustls"))]
fn default_connector() -> Result<Connector, Error> {
    Ok(HttpConnector::new())
}

/// Maps a hyper client failure; a connect failure means the request was never sent.
fn request_error(error: hyper_util::client::legacy::Error, url: &str) -> TransportError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    let kind = if error.is_connect() {
        if message.contains("tls") || message.contains("certificate") {
            TransportErrorKind::Tls
        } else {
            TransportErrorKind::Connect
        }
    } else {
        TransportErrorKind::Io
    };
    TransportError::new(kind, url, message)
        .with_request_sent(!error.is_connect())
        .with_source(error)
}

impl Transport for HyperTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let url = request.uri().to_string();
        let outcome = tokio::time::timeout(timeout, self.exchange(request, &url)).await;
        let response = outcome.unwrap_or_else(|_| {
            Err(TransportError::new(
                TransportErrorKind::Timeout,
                &url,
                format!("no complete response within {timeout:?}"),
            ))
        })?;
        Ok(response)
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The executor behind [`LiveKitApi`], as the service clients name it:
/// `RoomClient<'_, Api>`.
pub type Api = AsyncApi<HyperTransport, SystemEnvironment>;

/// The LiveKit server API over hyper: one entry point, cheap to clone (clones share the
/// connection pool and the service-token cache). Use it inside a tokio runtime. Its
/// constructors and service accessors are [`livekit_core::LiveKitApi`]'s.
pub type LiveKitApi = livekit_core::LiveKitApi<Api>;

impl DefaultTransport for HyperTransport {
    const CRATE: &'static str = "livekit-hyper";

    fn default_transport() -> Result<Self, Error> {
        Self::new()
    }

    fn supports_https() -> bool {
        cfg!(feature = "rustls")
    }
}
