//! The crate's one error type, by phase, and the server's error in full.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Everything that can go wrong with a server API call, by the phase it happened in.
///
/// The type is the same whatever transport carried the call: transport failures are boxed.
/// No variant ever carries a token or a secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The client is misconfigured: a URL without scheme or host, missing credentials, a
    /// `https` URL with no TLS compiled in. Fix the configuration; retrying will not help.
    Config(ConfigError),
    /// The request could not be built: a service token could not be minted, or a header
    /// value is not one HTTP can carry.
    Build(BuildError),
    /// The request did not get an HTTP response: connection refused, DNS, TLS, reset,
    /// timeout, an oversized body.
    Transport(TransportError),
    /// The server (or a proxy in front of it) answered with a status other than 200.
    Server(Box<ServerError>),
    /// The server answered 200 but the body is not the expected protobuf message.
    Decode(DecodeError),
    /// The call's overall deadline passed before it could finish.
    DeadlineExceeded {
        /// How many attempts were made.
        attempts: u32,
        /// The overall budget that ran out.
        budget: Duration,
    },
}

impl Error {
    /// The server's error, when the server answered.
    pub fn server(&self) -> Option<&ServerError> {
        match self {
            Self::Server(error) => Some(error),
            _ => None,
        }
    }

    /// True when the server said the thing does not exist (Twirp `not_found`).
    pub fn is_not_found(&self) -> bool {
        self.server()
            .is_some_and(|error| error.code == TwirpCode::NotFound)
    }

    /// True for failures that may succeed if tried again: transport failures, timeouts and
    /// 502/503/504 answers (and Twirp `unavailable`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::DeadlineExceeded { .. } => true,
            Self::Server(error) => error.is_retryable(),
            Self::Config(_) | Self::Build(_) | Self::Decode(_) => false,
        }
    }

    /// The HTTP status of the server's answer, when it answered with an error status. A
    /// success whose body could not be decoded is a [`Decode`](Self::Decode) error, with no
    /// status to report.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Server(error) => Some(error.status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(message) => write!(f, "configuration error: {message}"),
            Self::Build(message) => write!(f, "cannot build request: {message}"),
            Self::Transport(error) => error.fmt(f),
            Self::Server(error) => error.fmt(f),
            Self::Decode(error) => error.fmt(f),
            Self::DeadlineExceeded { attempts, budget } => write!(
                f,
                "deadline of {budget:?} exceeded after {attempts} attempt{}",
                if *attempts == 1 { "" } else { "s" }
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(error) => error
                .source
                .as_deref()
                .map(|source| source as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

impl From<BuildError> for Error {
    fn from(error: BuildError) -> Self {
        Self::Build(error)
    }
}

/// What is wrong with a client's configuration. The message names what to fix, never a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The server URL cannot be used.
    Url {
        /// The URL as given (trimmed).
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The API key or secret cannot be used (empty).
    Credentials(livekit_auth::Error),
    /// The pre-signed token cannot be used.
    Token(&'static str),
    /// `LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET` or `LIVEKIT_TOKEN` is missing,
    /// or one comes without the other it needs.
    Environment(&'static str),
    /// A client option is out of range.
    Option(&'static str),
    /// TLS cannot be set up: an `https` URL on a build without TLS, no root certificates, or
    /// root certificates that do not parse.
    Tls(String),
    /// The proxy setting cannot be used; the reason never quotes the URL, which may carry a
    /// password.
    Proxy(&'static str),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url { url, reason } => write!(f, "invalid server url {url:?}: {reason}"),
            Self::Credentials(error) => error.fmt(f),
            Self::Token(message) | Self::Environment(message) | Self::Option(message) => {
                f.write_str(message)
            }
            Self::Tls(message) => f.write_str(message),
            Self::Proxy(reason) => write!(f, "invalid proxy: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why a request could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The service token for the call could not be minted.
    ServiceToken(livekit_auth::Error),
    /// A header value is not one HTTP can carry: the named one.
    Header(&'static str),
    /// The `http` crate refused the request for the RPC.
    Request {
        /// The RPC, as `Service/Method`.
        rpc: &'static str,
        /// The `http` crate's reason.
        reason: String,
    },
    /// The region-discovery request could not be built.
    RegionRequest(String),
    /// A [`Call`](crate::Call) was asked for its result before it finished.
    Unfinished,
    /// A call's custom header is one the client sets itself (see
    /// [`is_reserved_header`](crate::is_reserved_header)): the named one.
    ReservedHeader(http::HeaderName),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServiceToken(error) => write!(f, "cannot mint a service token: {error}"),
            Self::Header(header) => write!(f, "the {header} is not a valid header value"),
            Self::Request { rpc, reason } => write!(f, "invalid request for {rpc}: {reason}"),
            Self::RegionRequest(reason) => write!(f, "invalid region request: {reason}"),
            Self::Unfinished => f.write_str("the call was finished before it was done"),
            Self::ReservedHeader(name) => write!(
                f,
                "the {name} header is set by the client; a custom header cannot replace it"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<TransportError> for Error {
    fn from(error: TransportError) -> Self {
        Self::Transport(error)
    }
}

impl From<ServerError> for Error {
    fn from(error: ServerError) -> Self {
        Self::Server(Box::new(error))
    }
}

impl From<DecodeError> for Error {
    fn from(error: DecodeError) -> Self {
        Self::Decode(error)
    }
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, unreachable, DNS failure).
    Connect,
    /// TLS failed, or a `https` URL was used without a TLS backend.
    Tls,
    /// The attempt's time budget ran out.
    Timeout,
    /// The response body was larger than the configured cap.
    BodyTooLarge,
    /// The connection failed after the request may have been sent (reset, closed, I/O).
    Io,
    /// Anything else the transport reports.
    Other,
}

/// A failure to get an HTTP response, from whichever transport made the call.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// The URL of the attempt (never with credentials: the SDK puts none in URLs).
    pub url: String,
    /// Whether the request may have reached the server. `false` only when the transport is
    /// sure it did not (for example, the connection was refused), which is what makes a
    /// retry of an unsafe RPC safe.
    pub request_sent: bool,
    /// A human-readable description.
    pub message: String,
    /// The underlying error from the HTTP library, boxed so this type is the same for every
    /// backend.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A transport error of `kind` for an attempt at `url`.
    pub fn new(
        kind: TransportErrorKind,
        url: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let request_sent = !matches!(kind, TransportErrorKind::Connect | TransportErrorKind::Tls);
        Self {
            kind,
            url: url.into(),
            request_sent,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Overrides whether the request may have reached the server.
    pub fn with_request_sent(mut self, sent: bool) -> Self {
        self.request_sent = sent;
        self
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportErrorKind::Connect => "cannot connect to",
            TransportErrorKind::Tls => "tls failure with",
            TransportErrorKind::Timeout => "timed out waiting for",
            TransportErrorKind::BodyTooLarge => "response too large from",
            TransportErrorKind::Io => "connection failed with",
            TransportErrorKind::Other => "request failed to",
        };
        write!(f, "{what} {}", self.url)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// A Twirp error code, as the server writes it; unknown codes are kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TwirpCode {
    /// `canceled`
    Canceled,
    /// `unknown`
    Unknown,
    /// `invalid_argument`
    InvalidArgument,
    /// `malformed`
    Malformed,
    /// `deadline_exceeded`
    DeadlineExceeded,
    /// `not_found`
    NotFound,
    /// `bad_route`: the server does not know this RPC (it may be older than this SDK).
    BadRoute,
    /// `already_exists`
    AlreadyExists,
    /// `permission_denied`: the token lacks a grant.
    PermissionDenied,
    /// `unauthenticated`: no token, or one that does not verify.
    Unauthenticated,
    /// `resource_exhausted`
    ResourceExhausted,
    /// `failed_precondition`
    FailedPrecondition,
    /// `aborted`
    Aborted,
    /// `out_of_range`
    OutOfRange,
    /// `unimplemented`
    Unimplemented,
    /// `internal`
    Internal,
    /// `unavailable`
    Unavailable,
    /// `dataloss`
    DataLoss,
    /// A code this version does not know, verbatim.
    Other(String),
}

impl TwirpCode {
    /// Parses a code as the server writes it.
    pub fn parse(code: &str) -> Self {
        match code {
            "canceled" => Self::Canceled,
            "unknown" => Self::Unknown,
            "invalid_argument" => Self::InvalidArgument,
            "malformed" => Self::Malformed,
            "deadline_exceeded" => Self::DeadlineExceeded,
            "not_found" => Self::NotFound,
            "bad_route" => Self::BadRoute,
            "already_exists" => Self::AlreadyExists,
            "permission_denied" => Self::PermissionDenied,
            "unauthenticated" => Self::Unauthenticated,
            "resource_exhausted" => Self::ResourceExhausted,
            "failed_precondition" => Self::FailedPrecondition,
            "aborted" => Self::Aborted,
            "out_of_range" => Self::OutOfRange,
            "unimplemented" => Self::Unimplemented,
            "internal" => Self::Internal,
            "unavailable" => Self::Unavailable,
            "dataloss" => Self::DataLoss,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Canceled => "canceled",
            Self::Unknown => "unknown",
            Self::InvalidArgument => "invalid_argument",
            Self::Malformed => "malformed",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::NotFound => "not_found",
            Self::BadRoute => "bad_route",
            Self::AlreadyExists => "already_exists",
            Self::PermissionDenied => "permission_denied",
            Self::Unauthenticated => "unauthenticated",
            Self::ResourceExhausted => "resource_exhausted",
            Self::FailedPrecondition => "failed_precondition",
            Self::Aborted => "aborted",
            Self::OutOfRange => "out_of_range",
            Self::Unimplemented => "unimplemented",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::DataLoss => "dataloss",
            Self::Other(code) => code,
        }
    }

    /// The code Twirp clients infer from an HTTP status when the body is not a Twirp error
    /// (a proxy's page, plain text, nothing).
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => Self::Internal,
            401 => Self::Unauthenticated,
            403 => Self::PermissionDenied,
            404 => Self::BadRoute,
            429 | 502 | 503 | 504 => Self::Unavailable,
            _ => Self::Unknown,
        }
    }
}

impl fmt::Display for TwirpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The server's (or a proxy's) answer to a call that did not succeed. Nothing the response
/// said is lost: status, Twirp code, message, metadata, request id, `Retry-After`, and for
/// bodies that are not Twirp errors, the body text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerError {
    /// The RPC, as `Service/Method`.
    pub rpc: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The Twirp code, from the body, or inferred from the status when the body is not a
    /// Twirp error (see [`ServerError::is_twirp`]).
    pub code: TwirpCode,
    /// The error message: the Twirp `msg`, or the text of a non-Twirp body (trimmed, at most
    /// 1 KiB).
    pub message: String,
    /// The Twirp `meta` map.
    pub meta: BTreeMap<String, String>,
    /// Whether the body was a Twirp error object.
    pub is_twirp: bool,
    /// The request id the call was sent with (`X-Livekit-Request-Id`).
    pub request_id: Option<String>,
    /// The server's `Retry-After`, in seconds form.
    pub retry_after: Option<Duration>,
    /// The least grant this call needs (the one the SDK signs it with), set by the call;
    /// a "permissions denied" answer names it.
    pub needed_grant: Option<crate::rpc::RequiredGrant>,
}

impl ServerError {
    /// True when the server checked the token and found it lacks a grant: a Twirp 401
    /// `unauthenticated` (a token that does not verify is a plain-text 401 instead).
    pub fn is_permission_denied(&self) -> bool {
        self.status == 401 && self.is_twirp && self.code == TwirpCode::Unauthenticated
    }

    /// True when the server did not find the thing asked for.
    pub fn is_not_found(&self) -> bool {
        self.code == TwirpCode::NotFound
    }

    /// True for answers that may change if tried again: 502, 503, 504, and `unavailable`.
    pub fn is_retryable(&self) -> bool {
        matches!(self.status, 502..=504) || self.code == TwirpCode::Unavailable
    }

    /// True when the server does not know the RPC: `bad_route`, or a 404 without a Twirp
    /// body. The server is probably older than this SDK.
    pub fn is_unknown_rpc(&self) -> bool {
        self.code == TwirpCode::BadRoute || (self.status == 404 && !self.is_twirp)
    }

    /// The SIP response code of a failed dial or transfer (`sip_status_code` in `meta`),
    /// for example 486.
    pub fn sip_status_code(&self) -> Option<u16> {
        self.meta.get("sip_status_code")?.trim().parse().ok()
    }

    /// The SIP reason phrase of a failed dial or transfer (`sip_status`), e.g. "Busy Here".
    pub fn sip_status(&self) -> Option<&str> {
        self.meta.get("sip_status").map(String::as_str)
    }

    /// Why a SIP transfer failed (`sip_transfer_reason`).
    pub fn sip_transfer_reason(&self) -> Option<&str> {
        self.meta.get("sip_transfer_reason").map(String::as_str)
    }

    /// What the participant answered to a failed `PerformRpc` (or the server on its behalf):
    /// its RPC error code and message. The server puts them in the message as
    /// `RpcError <code>: <message>`; any other error, or another RPC's, gives `None`.
    pub fn rpc_error(&self) -> Option<RpcError> {
        if self.rpc != "RoomService/PerformRpc" {
            return None;
        }
        let (_, rest) = self.message.split_once("RpcError ")?;
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let code = rest[..digits].parse().ok()?;
        let message = rest[digits..].strip_prefix(':').unwrap_or(&rest[digits..]);
        Some(RpcError {
            code: RpcErrorCode::from_code(code),
            message: message.trim_start().to_owned(),
        })
    }
}

/// A participant's answer to `PerformRpc` that is an error: from its handler (any code the
/// application chose, or [`RpcErrorCode::ApplicationError`] for an unexpected failure), or
/// from the server or the participant's SDK on its behalf (no such method, no answer in
/// time). Read it from [`ServerError::rpc_error`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RpcError {
    /// The code.
    pub code: RpcErrorCode,
    /// The message, followed by the error's data after `": "` when it has any.
    pub message: String,
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rpc error {}", self.code.code())?;
        if let Some(name) = self.code.name() {
            write!(f, " ({name})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The code of an [`RpcError`]: the built-in codes of LiveKit's RPC protocol by name, any
/// other as the application's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RpcErrorCode {
    /// 1500: the handler failed with an error that is not an RPC error.
    ApplicationError,
    /// 1501: the participant did not acknowledge the request in time.
    ConnectionTimeout,
    /// 1502: the participant did not answer within the response window.
    ResponseTimeout,
    /// 1503: the participant left before answering.
    RecipientDisconnected,
    /// 1504: the answer was too large.
    ResponsePayloadTooLarge,
    /// 1505: the request could not be sent.
    SendFailed,
    /// 1400: the participant has no handler for the method.
    UnsupportedMethod,
    /// 1401: no such participant.
    RecipientNotFound,
    /// 1402: the request's payload was too large (15 KiB at most).
    RequestPayloadTooLarge,
    /// 1403: the server does not support RPC.
    UnsupportedServer,
    /// 1404: the participant does not support this version of RPC.
    UnsupportedVersion,
    /// A code the application chose.
    Custom(u32),
}

impl RpcErrorCode {
    const BUILT_IN: [(Self, u32, &'static str); 11] = [
        (Self::ApplicationError, 1500, "application error"),
        (Self::ConnectionTimeout, 1501, "connection timeout"),
        (Self::ResponseTimeout, 1502, "response timeout"),
        (Self::RecipientDisconnected, 1503, "recipient disconnected"),
        (
            Self::ResponsePayloadTooLarge,
            1504,
            "response payload too large",
        ),
        (Self::SendFailed, 1505, "send failed"),
        (Self::UnsupportedMethod, 1400, "unsupported method"),
        (Self::RecipientNotFound, 1401, "recipient not found"),
        (
            Self::RequestPayloadTooLarge,
            1402,
            "request payload too large",
        ),
        (Self::UnsupportedServer, 1403, "unsupported server"),
        (Self::UnsupportedVersion, 1404, "unsupported version"),
    ];

    /// The code for a number: a built-in one by name, any other as [`Self::Custom`].
    pub fn from_code(code: u32) -> Self {
        Self::BUILT_IN
            .iter()
            .find(|(_, number, _)| *number == code)
            .map_or(Self::Custom(code), |(kind, _, _)| *kind)
    }

    /// The number on the wire.
    pub fn code(self) -> u32 {
        match self {
            Self::Custom(code) => code,
            // Every other variant is in the table.
            built_in => Self::BUILT_IN
                .iter()
                .find(|(kind, _, _)| *kind == built_in)
                .map_or(0, |(_, number, _)| *number),
        }
    }

    /// The built-in code's name, lowercase: `unsupported method`.
    pub fn name(self) -> Option<&'static str> {
        Self::BUILT_IN
            .iter()
            .find(|(kind, _, _)| *kind == self)
            .map(|(_, _, name)| *name)
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {} {}", self.rpc, self.status, self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(code) = self.meta.get("sip_status_code") {
            write!(f, " (sip {code}")?;
            if let Some(status) = self.sip_status() {
                write!(f, " {status}")?;
            }
            f.write_str(")")?;
        }
        if self.is_unknown_rpc() {
            f.write_str(" (the server does not know this rpc; it may be older than this sdk)")?;
        } else if let Some(grant) = self
            .needed_grant
            .as_ref()
            .filter(|_| self.is_permission_denied())
        {
            write!(f, " (the token lacks the grant this call needs: {grant})")?;
        } else if self.status == 401 {
            f.write_str(" (check the api key and secret)")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServerError {}

/// A 200 answer whose body is not the expected message. The body is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeError {
    /// The RPC, as `Service/Method`.
    pub rpc: &'static str,
    /// The decoder's message.
    pub message: String,
    /// The body exactly as received.
    pub body: Vec<u8>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: cannot decode the {}-byte response: {}",
            self.rpc,
            self.body.len(),
            self.message
        )
    }
}

impl std::error::Error for DecodeError {}
