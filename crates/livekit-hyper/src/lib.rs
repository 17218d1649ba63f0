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
//! A private CA, an HTTP proxy or a caller-supplied rustls configuration are set on
//! [`HyperTransport::builder`]; custom headers for a gateway are the core's
//! [`ClientOptions::headers`] and [`CallOptions::headers`].
//!
//! # Proxies
//!
//! By default the transport honours `HTTPS_PROXY` (for `https` servers), `HTTP_PROXY` (for
//! `http` ones), `ALL_PROXY` and `NO_PROXY`, read when it is built; requests go through the
//! proxy in a `CONNECT` tunnel, so TLS stays end to end. [`HyperTransportBuilder::proxy`]
//! sets one in code, [`HyperTransportBuilder::without_proxy`] ignores the environment.

// A std crate: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
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
type Connector = hyper_rustls::HttpsConnector<ProxyConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = ProxyConnector;

/// An async [`Transport`] on a pooled, keep-alive hyper client. Cheap to clone: clones share
/// the pool.
///
/// [`HyperTransport::new`] trusts the default roots and honours the proxy environment
/// variables; [`HyperTransport::builder`] sets a private CA, a proxy, the pool.
#[derive(Clone)]
pub struct HyperTransport {
    client: HyperClient<Connector, Full<Bytes>>,
    /// Kept to rebuild the pool when its settings change.
    connector: Connector,
    proxy: ProxyMode,
    pool_idle_timeout: Duration,
    max_response_bytes: usize,
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport")
            .field("proxy", &self.proxy)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport with its own connection pool, the default TLS roots (see the crate's
    /// features) and the proxy environment variables (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`).
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder for a transport with other roots, proxy or pool settings.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// A transport whose TLS is the given rustls configuration (roots, client certificates),
    /// with the proxy environment variables honoured. The transport sets its ALPN list
    /// (`h2` and `http/1.1` with the `http2` feature): leave `alpn_protocols` empty.
    #[cfg(feature = "rustls")]
    pub fn with_tls_config(config: rustls::ClientConfig) -> Self {
        let proxy = ProxyMode::FromEnvironment;
        let connector = https_connector(Tls::Config(Box::new(config)), proxy_connector(&proxy))
            .expect("a caller's rustls configuration needs no setting up");
        Self::from_connector(connector, proxy, DEFAULT_POOL_IDLE_TIMEOUT)
    }

    fn from_connector(connector: Connector, proxy: ProxyMode, idle_timeout: Duration) -> Self {
        Self {
            client: pooled_client(connector.clone(), idle_timeout),
            connector,
            proxy,
            pool_idle_timeout: idle_timeout,
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

/// Settings of a [`HyperTransport`], from [`HyperTransport::builder`].
///
/// ```no_run
/// use livekit_hyper::{HyperTransport, LiveKitApi};
///
/// # fn run() -> Result<(), livekit_hyper::Error> {
/// let ca = std::fs::read("/etc/livekit/ca.pem").expect("the CA file");
/// let transport = HyperTransport::builder()
///     .root_certificates_pem(&ca)?
///     .proxy("http://proxy.internal:3128")?
///     .no_proxy("localhost,.svc.cluster.local")
///     .build()?;
/// let client = livekit_hyper::Client::new(
///     "https://livekit.internal",
///     livekit_hyper::auth::Credentials::new("key", "secret").expect("credentials"),
/// )?;
/// let api = LiveKitApi::from_parts(client, transport)?;
/// # let _ = api;
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
pub struct HyperTransportBuilder {
    #[cfg(feature = "rustls")]
    tls: Option<Tls>,
    proxy: ProxyMode,
    no_proxy: Option<String>,
    pool_idle_timeout: Option<Duration>,
    max_response_bytes: Option<usize>,
}

impl std::fmt::Debug for HyperTransportBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransportBuilder")
            .field("proxy", &self.proxy)
            .field("no_proxy", &self.no_proxy)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

/// Where the TLS configuration comes from.
#[cfg(feature = "rustls")]
enum Tls {
    /// Exactly these roots, with the bundled crypto provider.
    Roots(rustls::RootCertStore),
    /// A caller's configuration.
    Config(Box<rustls::ClientConfig>),
}

impl HyperTransportBuilder {
    /// Trusts exactly the certificates of this PEM bundle (one or more `CERTIFICATE` blocks),
    /// instead of the default roots: for a server behind a private CA. To trust a public CA
    /// as well, put it in the bundle. A bundle with no certificate, or one that does not
    /// parse, is a [`ConfigError::Tls`].
    #[cfg(feature = "rustls")]
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;

        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate = certificate.map_err(|error| {
                ConfigError::Tls(format!("cannot read the root certificates' PEM: {error}"))
            })?;
            roots.add(certificate).map_err(|error| {
                ConfigError::Tls(format!("cannot use a root certificate: {error}"))
            })?;
        }
        if roots.is_empty() {
            return Err(ConfigError::Tls(
                "the root certificates' PEM holds no CERTIFICATE block".into(),
            )
            .into());
        }
        self.tls = Some(Tls::Roots(roots));
        Ok(self)
    }

    /// Uses this rustls configuration (roots, client certificates). The transport sets its
    /// ALPN list: leave `alpn_protocols` empty.
    #[cfg(feature = "rustls")]
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(Tls::Config(Box::new(config)));
        self
    }

    /// Sends every request through this HTTP proxy (`http://[user:password@]host:port`),
    /// in a `CONNECT` tunnel, whatever the proxy environment variables say. The credentials
    /// go in `Proxy-Authorization` and never in `Debug` output or errors. A URL that is not
    /// an `http` proxy URL is a [`ConfigError::Proxy`].
    pub fn proxy(mut self, url: &str) -> Result<Self, Error> {
        self.proxy = ProxyMode::Explicit(ExplicitProxy {
            url: livekit_core::ProxyUrl::parse(url)?,
            no_proxy: None,
        });
        Ok(self)
    }

    /// Hosts that bypass the explicit [`proxy`](Self::proxy): a comma-separated list in
    /// `NO_PROXY`'s syntax (`localhost,.internal,10.0.0.0/8`). With the environment's proxy,
    /// `NO_PROXY` itself applies.
    pub fn no_proxy(mut self, hosts: &str) -> Self {
        self.no_proxy = Some(hosts.to_owned());
        self
    }

    /// Connects directly, whatever the proxy environment variables say.
    pub fn without_proxy(mut self) -> Self {
        self.proxy = ProxyMode::Disabled;
        self
    }

    /// Closes pooled connections idle this long (default [`DEFAULT_POOL_IDLE_TIMEOUT`]).
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = Some(timeout);
        self
    }

    /// The response body cap, in bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// The transport. Reads the proxy environment variables, unless a proxy was set or
    /// turned off.
    pub fn build(self) -> Result<HyperTransport, Error> {
        let proxy = match (self.proxy, self.no_proxy) {
            (ProxyMode::Explicit(proxy), Some(hosts)) => ProxyMode::Explicit(ExplicitProxy {
                no_proxy: Some(hosts),
                ..proxy
            }),
            (proxy, _) => proxy,
        };
        let inner = proxy_connector(&proxy);
        #[cfg(feature = "rustls")]
        let connector = match self.tls {
            Some(tls) => https_connector(tls, inner)?,
            None => default_connector(inner)?,
        };
        #[cfg(not(feature = "rustls"))]
        let connector = inner;
        let mut transport = HyperTransport::from_connector(
            connector,
            proxy,
            self.pool_idle_timeout.unwrap_or(DEFAULT_POOL_IDLE_TIMEOUT),
        );
        if let Some(bytes) = self.max_response_bytes {
            transport.max_response_bytes = bytes;
        }
        Ok(transport)
    }
}

/// Which proxy, if any, the transport's connections go through.
#[derive(Clone, Default)]
enum ProxyMode {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, read once at construction.
    #[default]
    FromEnvironment,
    /// A proxy set in code.
    Explicit(ExplicitProxy),
    /// Direct connections.
    Disabled,
}

impl std::fmt::Debug for ProxyMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FromEnvironment => f.write_str("FromEnvironment"),
            Self::Explicit(url) => f.debug_tuple("Explicit").field(url).finish(),
            Self::Disabled => f.write_str("Disabled"),
        }
    }
}

/// An explicit proxy (checked by the core; its `Debug` never shows the credentials) and the
/// hosts that bypass it.
#[derive(Clone, Debug)]
struct ExplicitProxy {
    url: livekit_core::ProxyUrl,
    no_proxy: Option<String>,
}

/// Opens TCP connections, directly or through an HTTP proxy's `CONNECT` tunnel, as the
/// proxy settings say for each destination.
#[derive(Clone)]
struct ProxyConnector {
    http: HttpConnector,
    matcher: Option<std::sync::Arc<Matcher>>,
}

impl std::fmt::Debug for ProxyConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyConnector")
            .field("proxied", &self.matcher.is_some())
            .finish_non_exhaustive()
    }
}

fn proxy_connector(mode: &ProxyMode) -> ProxyConnector {
    let mut http = HttpConnector::new();
    // TLS is layered on top; this connector sees https destinations too.
    http.enforce_http(false);
    let matcher = match mode {
        ProxyMode::FromEnvironment => Some(Matcher::from_env()),
        ProxyMode::Explicit(proxy) => {
            let mut builder = Matcher::builder().all(proxy.url.as_str().to_owned());
            if let Some(hosts) = &proxy.no_proxy {
                builder = builder.no(hosts.clone());
            }
            Some(builder.build())
        }
        ProxyMode::Disabled => None,
    };
    ProxyConnector {
        http,
        matcher: matcher.map(std::sync::Arc::new),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A TCP connection, direct or tunnelled through a proxy.
type ProxyStream = <HttpConnector as tower_service::Service<http::Uri>>::Response;

impl tower_service::Service<http::Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.http.poll_ready(context).map_err(Into::into)
    }

    fn call(&mut self, destination: http::Uri) -> Self::Future {
        let intercept = self
            .matcher
            .as_ref()
            .and_then(|matcher| matcher.intercept(&destination));
        let Some(intercept) = intercept else {
            let connecting = self.http.call(destination);
            return Box::pin(async move { connecting.await.map_err(Into::into) });
        };
        if intercept.uri().scheme_str() != Some("http") {
            // A SOCKS or TLS proxy from ALL_PROXY / HTTPS_PROXY: never send it plain CONNECT.
            return Box::pin(async {
                Err(
                    "the proxy environment names a proxy that is not http://; this transport \
                     tunnels through HTTP proxies only"
                        .into(),
                )
            });
        }
        let connecting = self.http.call(intercept.uri().clone());
        let authorization = intercept.basic_auth().cloned();
        Box::pin(async move {
            let stream = connecting
                .await
                .map_err(|error| format!("cannot connect to the proxy: {error}"))?;
            tunnel(stream, &destination, authorization).await
        })
    }
}

/// The longest answer to `CONNECT` read before giving up on it.
const MAX_CONNECT_RESPONSE: usize = 8 * 1024;

/// Asks the proxy on `stream` for a tunnel to `destination` (`CONNECT host:port`); any answer
/// but 200 is an error that quotes the proxy's status line. (hyper-util's own tunnel keeps
/// only 407 apart and drops every other status.)
async fn tunnel(
    mut stream: ProxyStream,
    destination: &http::Uri,
    authorization: Option<http::HeaderValue>,
) -> Result<ProxyStream, BoxError> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let host = destination
        .host()
        .ok_or("the destination has no host to tunnel to")?;
    let port = destination
        .port_u16()
        .unwrap_or(if destination.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let mut request =
        format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n").into_bytes();
    if let Some(authorization) = authorization {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(authorization.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let tcp = stream.inner_mut();
    tcp.write_all(&request).await?;
    let mut response = Vec::new();
    let mut chunk = [0_u8; 1024];
    let head_length = loop {
        let read = tcp.read(&mut chunk).await?;
        if read == 0 {
            return Err("the proxy closed the connection instead of answering CONNECT".into());
        }
        response.extend_from_slice(&chunk[..read]);
        if let Some(end) = response.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        if response.len() > MAX_CONNECT_RESPONSE {
            return Err("the proxy's answer to CONNECT is too long".into());
        }
    };
    let head = String::from_utf8_lossy(&response[..head_length]);
    let status_line = head.lines().next().unwrap_or_default().trim();
    if status_line.split_whitespace().nth(1) != Some("200") {
        return Err(format!("the proxy refused the tunnel: {status_line}").into());
    }
    if response.len() > head_length {
        return Err("the proxy sent data before the tunnel was open".into());
    }
    Ok(stream)
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
fn https_connector(tls: Tls, inner: ProxyConnector) -> Result<Connector, Error> {
    let mut config = match tls {
        Tls::Config(config) => *config,
        Tls::Roots(roots) => {
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| ConfigError::Tls(format!("cannot set up tls: {error}")))?
                .with_root_certificates(roots)
                .with_no_client_auth()
        }
    };
    // hyper-rustls sets the ALPN list itself and refuses a config that has one.
    config.alpn_protocols.clear();
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1();
    #[cfg(feature = "http2")]
    let builder = builder.enable_http2();
    Ok(builder.wrap_connector(inner))
}

#[cfg(feature = "rustls")]
fn default_connector(inner: ProxyConnector) -> Result<Connector, Error> {
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
        let _ = (provider, inner);
        return Err(ConfigError::Tls(
            "the rustls feature needs root certificates: enable `webpki-roots` or \
             `platform-verifier`, or pass them to HyperTransportBuilder::root_certificates_pem"
                .into(),
        )
        .into());
    };
    let builder = builder.https_or_http().enable_http1();
    #[cfg(feature = "http2")]
    let builder = builder.enable_http2();
    Ok(builder.wrap_connector(inner))
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
