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
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_response_bytes: usize,
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl UreqTransport {
    /// A transport with its own agent (connection pool).
    pub fn new() -> Self {
        let config = ureq::Agent::config_builder()
            // Non-2xx answers carry the Twirp error in their body: keep them as responses.
            .http_status_as_error(false)
            // Twirp never redirects; a redirect would lose the POST body and the token.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(livekit_core::DEFAULT_USER_AGENT)
            .build();
        Self::with_agent(ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            FastResolver::default(),
        ))
    }

    /// A transport on an agent you configured (proxy, TLS, pool sizes). Keep
    /// `http_status_as_error(false)` on it, or every server error loses its body.
    pub fn with_agent(agent: ureq::Agent) -> Self {
        Self {
            agent,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Sets the response body cap, in bytes.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
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
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
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
