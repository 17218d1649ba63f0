//! How calls are retried and bounded: the client's [`RetryPolicy`] and a call's
//! [`CallOptions`]. Plain values, with no behaviour of their own; the plan in `retry` reads
//! them.

use std::fmt;
use std::time::Duration;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

/// How a client retries. Every value is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per call, the first included (default 3; 1 disables retries).
    pub max_attempts: u32,
    /// The delay before the first retry; it doubles each time (default 200 ms).
    pub base_delay: Duration,
    /// The longest delay between attempts, `Retry-After` included (default 5 s).
    pub max_delay: Duration,
    /// The budget of a whole call across attempts and delays; `None` means the attempts'
    /// own budgets are the only limit.
    pub deadline: Option<Duration>,
    /// Retry RPCs that are not safe to repeat even after the request may have reached the
    /// server (default false: a SIP dial is never sent twice behind your back).
    pub retry_unsafe: bool,
    /// Fail over to other LiveKit Cloud regions (`*.livekit.cloud` hosts only; default true).
    pub failover: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            deadline: None,
            retry_unsafe: false,
            failover: true,
        }
    }
}

/// Per-call overrides of the client's settings.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The budget of each attempt, instead of the RPC's default.
    pub timeout: Option<Duration>,
    /// The budget of the whole call, across retries.
    pub deadline: Option<Duration>,
    /// Attempts for this call.
    pub max_attempts: Option<u32>,
    /// Retry this call even if it is not safe to repeat.
    pub retry_unsafe: Option<bool>,
    /// Headers for this call only, for a gateway in front of the server; they replace the
    /// client's [custom headers](crate::ClientOptions::headers) of the same name. A header
    /// the client sets itself fails the call with
    /// [`BuildError::ReservedHeader`](crate::BuildError). Values never appear in `Debug`.
    pub headers: HeaderMap,
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("max_attempts", &self.max_attempts)
            .field("retry_unsafe", &self.retry_unsafe)
            .field("headers", &crate::client::HeaderNames(&self.headers))
            .finish()
    }
}

impl CallOptions {
    /// Options with a per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Options with an overall deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Options with a number of attempts.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Options that allow retrying an unsafe RPC.
    pub fn with_retry_unsafe(mut self, retry: bool) -> Self {
        self.retry_unsafe = Some(retry);
        self
    }

    /// Options with `name: value` added to [`headers`](Self::headers), the value marked
    /// sensitive.
    pub fn with_header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.headers.append(name, value);
        self
    }
}
