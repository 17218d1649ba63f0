//! The sans-IO client: configuration, credentials, the service-token cache, and the one
//! generic build/parse pair every RPC goes through.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use livekit_auth::{AccessToken, Credentials};
use prost::Message as _;

use crate::options::RetryPolicy;
use crate::response;
use crate::rpc::{RequiredGrant, Rpc};
use crate::{BaseUrl, BuildError, ConfigError, Error};

/// The header carrying the caller's request id, the same on every retry of one call.
pub const REQUEST_ID_HEADER: &str = "x-livekit-request-id";

/// The header carrying the remaining time budget to the server, when enabled.
pub const TWIRP_TIMEOUT_HEADER: &str = "x-twirp-timeout-ms";

/// The `User-Agent` of every request: `livekit-rust/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("livekit-rust/", env!("CARGO_PKG_VERSION"));

/// How the client authenticates.
#[derive(Clone)]
pub enum Auth {
    /// Mint a short-lived service token per grant, signed with these credentials.
    Credentials(Credentials),
    /// Send this pre-signed token verbatim on every call; it must carry every grant needed.
    Token(PresignedToken),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Credentials(credentials) => {
                f.debug_tuple("Credentials").field(credentials).finish()
            }
            Self::Token(token) => f.debug_tuple("Token").field(token).finish(),
        }
    }
}

/// A pre-signed token; redacted in `Debug`.
#[derive(Clone)]
pub struct PresignedToken(HeaderValue);

impl PresignedToken {
    /// Wraps a token; it must be a valid header value (no control characters).
    pub fn new(token: &str) -> Result<Self, Error> {
        let token = token.trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        if token.is_empty() {
            return Err(ConfigError::Token("the pre-signed token is empty").into());
        }
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Error::Config(ConfigError::Token(
                "the pre-signed token has characters a header cannot carry",
            ))
        })?;
        value.set_sensitive(true);
        Ok(Self(value))
    }
}

impl fmt::Debug for PresignedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresignedToken(<redacted>)")
    }
}

/// Settings of a [`Client`]; the fields are public, and [`Client::with_auth`] checks the
/// few that can be wrong (the user agent, the token lifetime, the custom headers).
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The time budget of one attempt, overriding each RPC's default when set.
    pub attempt_timeout: Option<Duration>,
    /// Retries and failover.
    pub retry: RetryPolicy,
    /// Send the remaining budget to the server in `X-Twirp-Timeout-Ms`.
    pub send_timeout_header: bool,
    /// How long minted service tokens live (default 10 minutes).
    pub service_token_ttl: Duration,
    /// How many distinct service tokens to keep (one per grant set; room-scoped grants make
    /// one per room). When full, expired entries go first, then the whole cache.
    pub token_cache_capacity: usize,
    /// Headers sent on every request, for a gateway in front of the server (an API key, a
    /// routing tag). They cannot replace the ones the client sets itself (see
    /// [`is_reserved_header`]); a call's own [`CallOptions::headers`](crate::CallOptions)
    /// replace those of the same name. Their values never appear in `Debug` output.
    pub headers: HeaderMap,
}

impl ClientOptions {
    /// The same options with `name: value` added to [`headers`](Self::headers). The value is
    /// marked sensitive, so that HTTP libraries that honour the mark keep it out of logs.
    pub fn with_header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.headers.append(name, value);
        self
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("user_agent", &self.user_agent)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("retry", &self.retry)
            .field("send_timeout_header", &self.send_timeout_header)
            .field("service_token_ttl", &self.service_token_ttl)
            .field("token_cache_capacity", &self.token_cache_capacity)
            .field("headers", &HeaderNames(&self.headers))
            .finish()
    }
}

/// A header map in `Debug` output: the names only, since a gateway header's value is often
/// a secret.
pub(crate) struct HeaderNames<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|name| (name.as_str(), "<redacted>")))
            .finish()
    }
}

/// Whether `name` is a header the client sets itself, or one that belongs to the connection
/// rather than to the request: custom headers cannot carry it.
pub fn is_reserved_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "authorization"
            | "content-type"
            | "content-length"
            | "host"
            | "user-agent"
            | "connection"
            | "transfer-encoding"
            | "te"
            | "upgrade"
            | "proxy-authorization"
            | REQUEST_ID_HEADER
            | TWIRP_TIMEOUT_HEADER
    )
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            attempt_timeout: None,
            retry: RetryPolicy::default(),
            send_timeout_header: false,
            service_token_ttl: Duration::from_secs(600),
            token_cache_capacity: 1024,
            headers: HeaderMap::new(),
        }
    }
}

/// What a single call adds to a request: the time and the request id, which the core never
/// makes up itself, and the call's own headers.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct CallContext<'a> {
    /// Now, in Unix seconds: service tokens are minted (or reused) at this time.
    pub now: u64,
    /// The request id for `X-Livekit-Request-Id`, the same on every attempt of one call.
    pub request_id: &'a str,
    /// The server to send this attempt to, when it is not the configured one (failover).
    pub target: Option<&'a BaseUrl>,
    /// The remaining budget, sent in `X-Twirp-Timeout-Ms` when the option is on.
    pub remaining: Option<Duration>,
    /// The call's own headers ([`CallOptions::headers`](crate::CallOptions)): they replace
    /// the client's headers of the same name.
    pub headers: Option<&'a HeaderMap>,
}

impl fmt::Debug for CallContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("now", &self.now)
            .field("request_id", &self.request_id)
            .field("target", &self.target)
            .field("remaining", &self.remaining)
            .field("headers", &self.headers.map(HeaderNames))
            .finish()
    }
}

impl<'a> CallContext<'a> {
    /// The context of an attempt at `now` (Unix seconds) with `request_id`, to the
    /// configured server, without a remaining budget.
    pub fn new(now: u64, request_id: &'a str) -> Self {
        Self {
            now,
            request_id,
            target: None,
            remaining: None,
            headers: None,
        }
    }

    /// The same, sent to `target` instead of the configured server (failover).
    pub fn with_target(mut self, target: &'a BaseUrl) -> Self {
        self.target = Some(target);
        self
    }

    /// The same, with what is left of the call's budget (sent when the option is on).
    pub fn with_remaining(mut self, remaining: Duration) -> Self {
        self.remaining = Some(remaining);
        self
    }

    /// The same, with the call's own headers.
    pub fn with_headers(mut self, headers: &'a HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }
}

/// The sans-IO LiveKit API client.
///
/// It never opens a socket, reads the clock or the environment, or draws random numbers:
/// it turns a request message into an [`http::Request`] and an [`http::Response`] back into
/// a message or an [`Error`]. Transports (`livekit-hyper`, `livekit-ureq`, or your own)
/// move the bytes. It is `Send + Sync`; share one per server.
///
/// ```
/// use livekit_auth::Credentials;
/// use livekit_core::{CallContext, Client, rpc};
///
/// let client = Client::new("http://127.0.0.1:7880", Credentials::new("devkey", "secret")?)?;
/// let request = livekit_proto::CreateRoomRequest { name: "my-room".into(), ..Default::default() };
/// let call = CallContext::new(1_800_000_000, "req-1");
/// let http_request = client.build_request::<rpc::CreateRoom>(&request, &call)?;
/// assert_eq!(http_request.uri(), "http://127.0.0.1:7880/twirp/livekit.RoomService/CreateRoom");
///
/// let response = http::Response::builder().status(200).body(Vec::new())?;
/// let room = client.parse_response::<rpc::CreateRoom, _>(&response, "req-1")?;
/// assert_eq!(room, livekit_proto::Room::default());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client {
    base: BaseUrl,
    auth: Auth,
    options: ClientOptions,
    user_agent: HeaderValue,
    tokens: Mutex<HashMap<RequiredGrant, CachedToken>>,
    /// The Cloud region list and when it expires, on the transport's monotonic clock.
    pub(crate) regions: Mutex<Option<(Vec<BaseUrl>, Duration)>>,
}

#[derive(Clone)]
struct CachedToken {
    header: HeaderValue,
    expires_at: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("auth", &self.auth)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `url` (`http`, `https`, `ws` or `wss`) that signs its own
    /// service tokens.
    pub fn new(url: &str, credentials: Credentials) -> Result<Self, Error> {
        Self::with_auth(
            BaseUrl::parse(url)?,
            Auth::Credentials(credentials),
            ClientOptions::default(),
        )
    }

    /// A client that sends a pre-signed `token` verbatim on every call.
    pub fn with_token(url: &str, token: &str) -> Result<Self, Error> {
        Self::with_auth(
            BaseUrl::parse(url)?,
            Auth::Token(PresignedToken::new(token)?),
            ClientOptions::default(),
        )
    }

    /// A client from its parts.
    pub fn with_auth(base: BaseUrl, auth: Auth, options: ClientOptions) -> Result<Self, Error> {
        let user_agent = HeaderValue::from_str(&options.user_agent)
            .map_err(|_| ConfigError::Option("the user agent is not a valid header value"))?;
        if options.headers.keys().any(is_reserved_header) {
            return Err(ConfigError::Option(
                "a custom header cannot replace one the client sets (authorization, \
                 content-type, user-agent, x-livekit-request-id, ...) or a connection header",
            )
            .into());
        }
        if options.service_token_ttl < Duration::from_secs(120) {
            return Err(ConfigError::Option(
                "service tokens must live at least 120 s, so a cached one outlives its call",
            )
            .into());
        }
        Ok(Self {
            base,
            auth,
            options,
            user_agent,
            tokens: Mutex::new(HashMap::new()),
            regions: Mutex::new(None),
        })
    }

    /// The same client with other options (the token cache starts empty).
    pub fn with_options(self, options: ClientOptions) -> Result<Self, Error> {
        Self::with_auth(self.base, self.auth, options)
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The authentication in use.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The `Authorization` header value for a call needing `grant` at `now`: a cached
    /// service token when one has at least a quarter of its life left, else a fresh one.
    pub fn authorization(&self, grant: &RequiredGrant, now: u64) -> Result<HeaderValue, Error> {
        let credentials = match &self.auth {
            Auth::Token(token) => return Ok(token.0.clone()),
            Auth::Credentials(credentials) => credentials,
        };
        let ttl = self.options.service_token_ttl.as_secs();
        let refresh_margin = ttl / 4;
        {
            let cache = self
                .tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(cached) = cache.get(grant)
                && cached.expires_at.saturating_sub(now) > refresh_margin
            {
                return Ok(cached.header.clone());
            }
        }
        let jwt = AccessToken::from_grants(grant.to_claims())
            .with_ttl(self.options.service_token_ttl)
            .sign(credentials, now)
            .map_err(BuildError::ServiceToken)?;
        let mut header = HeaderValue::try_from(format!("Bearer {jwt}"))
            .map_err(|_| BuildError::Header("service token"))?;
        header.set_sensitive(true);
        let mut cache = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= self.options.token_cache_capacity && !cache.contains_key(grant) {
            cache.retain(|_, cached| cached.expires_at.saturating_sub(now) > refresh_margin);
            if cache.len() >= self.options.token_cache_capacity {
                cache.clear();
            }
        }
        cache.insert(
            grant.clone(),
            CachedToken {
                header: header.clone(),
                expires_at: now.saturating_add(ttl),
            },
        );
        Ok(header)
    }

    /// Builds the HTTP request of one attempt of RPC `R`:
    /// `POST {base}/twirp/livekit.{Service}/{Method}` with the protobuf body, the least-grant
    /// token, `Content-Type: application/protobuf`, `User-Agent` and `X-Livekit-Request-Id`,
    /// then the client's custom headers and the call's (which replace the client's of the
    /// same name). A call header the client sets itself is a [`BuildError::ReservedHeader`].
    pub fn build_request<R: Rpc>(
        &self,
        request: &R::Request,
        call: &CallContext<'_>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let descriptor = &R::DESCRIPTOR;
        let base = call.target.unwrap_or(&self.base);
        let authorization = self.authorization(&R::required_grant(request), call.now)?;
        let request_id =
            HeaderValue::from_str(call.request_id).map_err(|_| BuildError::Header("request id"))?;
        let mut builder = http::Request::builder()
            .method(http::Method::POST)
            .uri(base.rpc_url(descriptor.service, descriptor.method))
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/protobuf"),
            )
            .header(AUTHORIZATION, authorization)
            .header(USER_AGENT, self.user_agent.clone())
            .header(REQUEST_ID_HEADER, request_id);
        if self.options.send_timeout_header
            && let Some(remaining) = call.remaining
        {
            let millis = remaining.as_millis().max(1);
            builder = builder.header(TWIRP_TIMEOUT_HEADER, millis.to_string());
        }
        if let Some(headers) = builder.headers_mut() {
            self.add_custom_headers(headers, call.headers)?;
        }
        builder.body(request.encode_to_vec()).map_err(|error| {
            Error::Build(BuildError::Request {
                rpc: descriptor.name,
                reason: error.to_string(),
            })
        })
    }

    /// Adds the client's custom headers, then the call's, which replace the client's of the
    /// same name. Every value is marked sensitive.
    pub(crate) fn add_custom_headers(
        &self,
        headers: &mut HeaderMap,
        call_headers: Option<&HeaderMap>,
    ) -> Result<(), Error> {
        let call_headers = call_headers.filter(|headers| !headers.is_empty());
        if let Some(name) =
            call_headers.and_then(|headers| headers.keys().find(|name| is_reserved_header(name)))
        {
            return Err(BuildError::ReservedHeader(name.clone()).into());
        }
        for (name, value) in &self.options.headers {
            if call_headers.is_some_and(|call| call.contains_key(name)) {
                continue;
            }
            let mut value = value.clone();
            value.set_sensitive(true);
            headers.append(name, value);
        }
        for (name, value) in call_headers.into_iter().flatten() {
            let mut value = value.clone();
            value.set_sensitive(true);
            headers.append(name, value);
        }
        Ok(())
    }

    /// Parses the response to one attempt of RPC `R`: the message on 200, otherwise the
    /// server's error with nothing lost. `request_id` is the one the attempt was sent with.
    pub fn parse_response<R: Rpc, B: AsRef<[u8]>>(
        &self,
        response: &http::Response<B>,
        request_id: &str,
    ) -> Result<R::Response, Error> {
        response::parse::<R, B>(response, request_id)
    }

    /// Like [`parse_response`](Self::parse_response), but the message is a view
    /// (`livekit_proto::view`) borrowing its strings from the response body instead of
    /// copying them: the cheaper way to read a large listing once (feature `view`).
    ///
    /// ```
    /// use livekit_auth::Credentials;
    /// use livekit_core::{Client, rpc::ListParticipants};
    /// use livekit_proto::{ListParticipantsResponse, Message as _, ParticipantInfo};
    ///
    /// let client = Client::new("http://127.0.0.1:7880", Credentials::new("key", "secret")?)?;
    /// let listing = ListParticipantsResponse {
    ///     participants: vec![ParticipantInfo { identity: "alice".into(), ..Default::default() }],
    /// };
    /// let response = http::Response::new(listing.encode_to_vec());
    /// let view = client.parse_response_view::<ListParticipants, _>(&response, "")?;
    /// assert_eq!(view.participants[0].identity, "alice");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "view")]
    pub fn parse_response_view<'b, R: Rpc, B: AsRef<[u8]>>(
        &self,
        response: &'b http::Response<B>,
        request_id: &str,
    ) -> Result<<R::Response as livekit_proto::HasView>::View<'b>, Error>
    where
        R::Response: livekit_proto::HasView,
    {
        response::parse_view::<R, B>(response, request_id)
    }
}
