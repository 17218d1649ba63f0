//! The LiveKit server API, blocking, on [ureq]: for CLIs, jobs and scripts.
//!
//! This crate only moves bytes. Requests, responses, retries, timeouts and failover are
//! decided by `livekit-core`; [`UreqTransport`] carries them out with ureq, status codes
//! are never turned into errors (the body holds the Twirp error), and bodies are read with
//! a size cap.
//!
//! ```no_run
//! use livekit_ureq::LiveKitApi;
//! use livekit_ureq::proto::CreateRoomRequest;
//!
//! let api = LiveKitApi::new("http://127.0.0.1:7880", "devkey", "secret")?;
//! let room = api.room().create_room(CreateRoomRequest {
//!     name: "my-room".into(),
//!     ..Default::default()
//! })?;
//! println!("created {}", room.sid);
//!
//! match api.room().delete_room(livekit_ureq::proto::DeleteRoomRequest { room: "nope".into() }) {
//!     Err(error) if error.is_not_found() => println!("no such room"),
//!     other => { other?; }
//! }
//! # Ok::<(), livekit_ureq::Error>(())
//! ```
//!
//! # Logging and secrets
//!
//! This crate and `livekit-core` never log a secret or a token (the `tracing` spans of a
//! call carry the service, method, attempt, status and request id). ureq itself logs through
//! the `log` crate, and **at TRACE level its `ureq_proto` targets hex-dump every byte on the
//! wire, the `Authorization: Bearer` token included**. Keep `ureq_proto` below TRACE in
//! production logging (for example `RUST_LOG=info,ureq_proto=debug`); the async transport,
//! `livekit-hyper`, has no such dump.
//!
//! # TLS roots, proxies and headers
//!
//! [`UreqTransport::builder`] sets a private CA ([`UreqTransportBuilder::root_certificates_pem`])
//! or an HTTP proxy ([`UreqTransportBuilder::proxy`]). By default the transport honours the
//! first of `ALL_PROXY`, `HTTPS_PROXY` and `HTTP_PROXY` for every server, and `NO_PROXY`;
//! requests go through the proxy in a `CONNECT` tunnel, so TLS stays end to end. Custom
//! headers for a gateway are the core's [`ClientOptions::headers`] and
//! [`CallOptions::headers`].
//!
//! # Features
//!
//! - `rustls` (default): `https` with rustls and the webpki roots. Without a TLS feature, an
//!   `https` URL is a configuration error at construction, never an opaque failure later.
//! - `platform-verifier`: verify certificates with the operating system's verifier.

// A std crate: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use livekit_core::{BlockingApi, BlockingTransport, DefaultTransport, SystemEnvironment};

pub use livekit_core::facade::*;

// The README's example is compiled as a doctest, so that it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// A blocking [`BlockingTransport`] on a pooled, keep-alive ureq agent.
///
/// [`UreqTransport::new`] trusts the default roots and honours the proxy environment
/// variables; [`UreqTransport::builder`] sets a private CA or a proxy.
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    proxy: ProxyMode,
    max_response_bytes: usize,
}

impl std::fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the agent: its configuration holds the proxy URL.
        f.debug_struct("UreqTransport")
            .field("proxy", &self.proxy)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl UreqTransport {
    /// A transport with its own agent (connection pool), the default roots (see the crate's
    /// features) and the proxy environment variables (`ALL_PROXY`, `HTTPS_PROXY`,
    /// `HTTP_PROXY`, `NO_PROXY`).
    pub fn new() -> Self {
        let config = base_config().build();
        Self {
            agent: agent(config),
            proxy: ProxyMode::FromEnvironment,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// A builder for a transport with other roots or proxy.
    pub fn builder() -> UreqTransportBuilder {
        UreqTransportBuilder::default()
    }

    /// A transport on an agent you configured (proxy, TLS, pool sizes). Keep
    /// `http_status_as_error(false)` on it, or every server error loses its body.
    pub fn with_agent(agent: ureq::Agent) -> Self {
        Self {
            agent,
            proxy: ProxyMode::Agent,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Sets the response body cap, in bytes.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }
}

/// The agent settings every transport of this crate starts from.
fn base_config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        // Non-2xx answers carry the Twirp error in their body: keep them as responses.
        .http_status_as_error(false)
        // Twirp never redirects; a redirect would lose the POST body and the token.
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(livekit_core::DEFAULT_USER_AGENT)
}

fn agent(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        FastResolver::default(),
    )
}

/// Settings of a [`UreqTransport`], from [`UreqTransport::builder`].
///
/// ```no_run
/// use livekit_ureq::{LiveKitApi, UreqTransport};
///
/// let ca = std::fs::read("/etc/livekit/ca.pem").expect("the CA file");
/// let transport = UreqTransport::builder()
///     .root_certificates_pem(&ca)?
///     .proxy("http://proxy.internal:3128")?
///     .no_proxy("localhost,.svc.cluster.local")
///     .build();
/// let client = livekit_ureq::Client::new(
///     "https://livekit.internal",
///     livekit_ureq::auth::Credentials::new("key", "secret").expect("credentials"),
/// )?;
/// let api = LiveKitApi::from_parts(client, transport)?;
/// # let _ = api;
/// # Ok::<(), livekit_ureq::Error>(())
/// ```
#[derive(Default)]
pub struct UreqTransportBuilder {
    #[cfg(feature = "rustls")]
    roots: Option<Vec<ureq::tls::Certificate<'static>>>,
    proxy: ProxyMode,
    no_proxy: Option<String>,
    max_response_bytes: Option<usize>,
}

impl std::fmt::Debug for UreqTransportBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqTransportBuilder")
            .field("proxy", &self.proxy)
            .field("no_proxy", &self.no_proxy)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl UreqTransportBuilder {
    /// Trusts exactly the certificates of this PEM bundle (one or more `CERTIFICATE` blocks),
    /// instead of the default roots: for a server behind a private CA. To trust a public CA
    /// as well, put it in the bundle. A bundle with no certificate, or one that does not
    /// parse, is a [`ConfigError::Tls`].
    #[cfg(feature = "rustls")]
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let mut roots = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(certificate)) => {
                    // ureq would skip a certificate that does not parse: refuse it here.
                    let der = rustls::pki_types::CertificateDer::from(certificate.der());
                    rustls::RootCertStore::empty().add(der).map_err(|error| {
                        ConfigError::Tls(format!("cannot use a root certificate: {error}"))
                    })?;
                    roots.push(certificate);
                }
                Ok(_) => {}
                Err(error) => {
                    return Err(ConfigError::Tls(format!(
                        "cannot read the root certificates' PEM: {error}"
                    ))
                    .into());
                }
            }
        }
        if roots.is_empty() {
            return Err(ConfigError::Tls(
                "the root certificates' PEM holds no CERTIFICATE block".into(),
            )
            .into());
        }
        self.roots = Some(roots);
        Ok(self)
    }

    /// Sends every request through this HTTP proxy (`http://[user:password@]host:port`),
    /// in a `CONNECT` tunnel, whatever the proxy environment variables say. The credentials
    /// go in `Proxy-Authorization` and never in `Debug` output or errors. A URL that is not
    /// an `http` proxy URL is a [`ConfigError::Proxy`].
    pub fn proxy(mut self, url: &str) -> Result<Self, Error> {
        self.proxy = ProxyMode::Explicit(ProxyUrl::parse(url)?);
        Ok(self)
    }

    /// Hosts that bypass the explicit [`proxy`](Self::proxy): a comma-separated list in
    /// `NO_PROXY`'s syntax (`localhost,.internal`). With the environment's proxy, `NO_PROXY`
    /// itself applies.
    pub fn no_proxy(mut self, hosts: &str) -> Self {
        self.no_proxy = Some(hosts.to_owned());
        self
    }

    /// Connects directly, whatever the proxy environment variables say.
    pub fn without_proxy(mut self) -> Self {
        self.proxy = ProxyMode::Disabled;
        self
    }

    /// The response body cap, in bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// The transport. Reads the proxy environment variables, unless a proxy was set or
    /// turned off.
    pub fn build(self) -> UreqTransport {
        let mut config = base_config();
        match &self.proxy {
            ProxyMode::Explicit(url) => {
                config = config.proxy(Some(url.to_ureq(self.no_proxy.as_deref())));
            }
            ProxyMode::Disabled => config = config.proxy(None),
            ProxyMode::FromEnvironment | ProxyMode::Agent => {}
        }
        #[cfg(feature = "rustls")]
        if let Some(roots) = self.roots {
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(roots)))
                    .build(),
            );
        }
        UreqTransport {
            agent: agent(config.build()),
            proxy: self.proxy,
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        }
    }
}

/// Which proxy, if any, the transport's connections go through.
#[derive(Clone, Default)]
enum ProxyMode {
    /// `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, read once at construction.
    #[default]
    FromEnvironment,
    /// A proxy set in code.
    Explicit(ProxyUrl),
    /// Direct connections.
    Disabled,
    /// Whatever the caller's agent says.
    Agent,
}

impl std::fmt::Debug for ProxyMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FromEnvironment => f.write_str("FromEnvironment"),
            Self::Explicit(url) => f.debug_tuple("Explicit").field(url).finish(),
            Self::Disabled => f.write_str("Disabled"),
            Self::Agent => f.write_str("Agent"),
        }
    }
}

/// An explicit proxy, checked; its `Debug` shows the host and port, never credentials.
#[derive(Clone)]
struct ProxyUrl {
    proxy: ureq::Proxy,
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyUrl")
            .field(
                "host",
                &format!("{}:{}", self.proxy.host(), self.proxy.port()),
            )
            .finish_non_exhaustive()
    }
}

impl ProxyUrl {
    fn parse(url: &str) -> Result<Self, Error> {
        let checked = livekit_core::ProxyUrl::parse(url)?;
        let proxy = ureq::Proxy::new(checked.as_str())
            .map_err(|_| Error::from(ConfigError::Proxy("the proxy URL does not parse")))?;
        Ok(Self { proxy })
    }

    fn to_ureq(&self, no_proxy: Option<&str>) -> ureq::Proxy {
        let Some(hosts) = no_proxy else {
            return self.proxy.clone();
        };
        let mut builder = ureq::Proxy::builder(ureq::ProxyProtocol::Http)
            .host(self.proxy.host())
            .port(self.proxy.port())
            .no_proxy(hosts);
        if let Some(user) = self.proxy.username() {
            builder = builder.username(user);
        }
        if let Some(password) = self.proxy.password() {
            builder = builder.password(password);
        }
        builder.build().unwrap_or_else(|_| self.proxy.clone())
    }
}

impl BlockingTransport for UreqTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let url = request.uri().to_string();
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        let response = self
            .agent
            .run(request)
            .map_err(|error| transport_error(error, &url))?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(u64::try_from(self.max_response_bytes).unwrap_or(u64::MAX))
            .read_to_vec()
            .map_err(|error| transport_error(error, &url).with_request_sent(true))?;
        Ok(http::Response::from_parts(parts, bytes))
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// How long a resolved host name is reused.
const RESOLVE_TTL: Duration = Duration::from_secs(30);

/// A resolver that never spawns a thread for an IP literal and reuses a host name's
/// addresses for [`RESOLVE_TTL`]. ureq's default resolves every request anew, on a fresh
/// thread whenever a timeout is set, which cost ~100 µs of CPU per call on loopback.
#[derive(Debug, Default)]
struct FastResolver {
    fallback: ureq::unversioned::resolver::DefaultResolver,
    cache: std::sync::Mutex<HashMap<String, (Instant, Vec<SocketAddr>)>>,
}

impl ureq::unversioned::resolver::Resolver for FastResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let mut addresses = self.empty();
            addresses.push(SocketAddr::new(ip, port));
            return Ok(addresses);
        }
        let key = format!("{host}:{port}");
        if let Some((at, cached)) = self.lock().get(&key)
            && at.elapsed() < RESOLVE_TTL
        {
            let mut addresses = self.empty();
            for address in cached {
                addresses.push(*address);
            }
            return Ok(addresses);
        }
        let addresses = self.fallback.resolve(uri, config, timeout)?;
        let list = addresses.iter().copied().collect();
        self.lock().insert(key, (Instant::now(), list));
        Ok(addresses)
    }
}

impl FastResolver {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Vec<SocketAddr>)>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Maps a ureq failure to the core's transport error; `request_sent` is false only when
/// the connection surely never carried the request.
fn transport_error(error: ureq::Error, url: &str) -> TransportError {
    let kind = match &error {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_) => TransportErrorKind::Connect,
        // rustls' verdict on the server's certificate reaches ureq as an I/O error.
        ureq::Error::Io(io) if is_tls_failure(io) => TransportErrorKind::Tls,
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
            TransportErrorKind::Connect
        }
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => TransportErrorKind::Timeout,
        ureq::Error::Io(_) => TransportErrorKind::Io,
        ureq::Error::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
        ureq::Error::Tls(_) => TransportErrorKind::Tls,
        #[cfg(feature = "rustls")]
        ureq::Error::Rustls(_) | ureq::Error::Pem(_) => TransportErrorKind::Tls,
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, url, error.to_string()).with_source(error)
}

/// Whether an I/O error carries a TLS failure (a certificate refused, a handshake failed).
fn is_tls_failure(error: &std::io::Error) -> bool {
    #[cfg(feature = "rustls")]
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
    {
        return true;
    }
    let _ = error;
    false
}

/// The executor behind [`LiveKitApi`], as the service clients name it:
/// `RoomClient<'_, Api>`.
pub type Api = BlockingApi<UreqTransport, SystemEnvironment>;

/// The LiveKit server API over ureq: one entry point, cheap to clone (clones share the
/// connection pool and the service-token cache). Its
/// constructors and service accessors are [`livekit_core::LiveKitApi`]'s.
pub type LiveKitApi = livekit_core::LiveKitApi<Api>;

impl DefaultTransport for UreqTransport {
    const CRATE: &'static str = "livekit-ureq";

    fn default_transport() -> Result<Self, Error> {
        Ok(Self::new())
    }

    fn supports_https() -> bool {
        cfg!(feature = "rustls")
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use ureq::unversioned::resolver::Resolver as _;
    use ureq::unversioned::transport::NextTimeout;

    use super::FastResolver;

    fn resolve(resolver: &FastResolver, uri: &str) -> Vec<SocketAddr> {
        let uri: http::Uri = uri.parse().unwrap();
        let config = ureq::config::Config::default();
        resolver
            .resolve(&uri, &config, NextTimeout::default())
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn ip_literals_resolve_to_themselves_with_the_scheme_port() {
        let resolver = FastResolver::default();
        assert_eq!(
            resolve(&resolver, "http://127.0.0.1:7880/twirp"),
            ["127.0.0.1:7880".parse().unwrap()]
        );
        assert_eq!(
            resolve(&resolver, "https://[::1]/"),
            ["[::1]:443".parse().unwrap()]
        );
        assert_eq!(
            resolve(&resolver, "http://10.1.2.3/"),
            ["10.1.2.3:80".parse().unwrap()]
        );
        assert!(resolver.lock().is_empty(), "literals are never cached");
    }

    #[test]
    fn host_names_are_resolved_once_then_served_from_the_cache() {
        let resolver = FastResolver::default();
        let first = resolve(&resolver, "http://localhost:7880/");
        assert!(!first.is_empty());
        assert!(first.iter().all(|address| address.port() == 7880));
        assert!(resolver.lock().contains_key("localhost:7880"));
        assert_eq!(resolve(&resolver, "http://localhost:7880/other"), first);
    }
}
