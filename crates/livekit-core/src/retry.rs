//! Retries, timeouts and LiveKit Cloud region failover, as a pure state machine.
//!
//! A transport asks a [`CallPlan`] for the next attempt's target and budget, makes the
//! attempt, and hands the outcome back; the plan answers with a [`Decision`]. Time and
//! jitter are arguments, so every path is testable with plain values.

use std::time::Duration;

use http::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue, USER_AGENT};

use crate::rpc::{Idempotency, RpcDescriptor};
use crate::{BaseUrl, Client, Error, TransportErrorKind};

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Stop: the error is final.
    GiveUp,
    /// Try again after `delay`; [`CallPlan::next_attempt`] says where.
    Retry {
        /// How long to wait first; never zero.
        delay: Duration,
    },
    /// Fetch the region list (see [`Client::build_regions_request`]), give it to
    /// [`CallPlan::set_regions`], then ask again.
    DiscoverRegions,
}

/// One attempt to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// The server to send it to: `None` for the configured one.
    pub target: Option<BaseUrl>,
    /// Its time budget.
    pub timeout: Duration,
    /// What is left of the call's deadline, if it has one.
    pub remaining: Option<Duration>,
}

/// The state of one call across its attempts.
#[derive(Debug, Clone)]
pub struct CallPlan {
    idempotency: Idempotency,
    attempt_timeout: Duration,
    deadline: Option<Duration>,
    max_attempts: u32,
    retry_unsafe: bool,
    base_delay: Duration,
    max_delay: Duration,
    /// Region failover applies (a Cloud project host, failover on).
    failover: bool,
    regions: Option<Vec<BaseUrl>>,
    /// Hosts already tried, when failing over.
    tried: Vec<String>,
    attempts: u32,
    target: Option<BaseUrl>,
}

impl CallPlan {
    /// The plan for one call of the RPC `descriptor` describes.
    pub fn new(client: &Client, descriptor: &RpcDescriptor, options: &CallOptions) -> Self {
        let policy = &client.options().retry;
        let base = client.base_url();
        let failover = policy.failover && base.is_livekit_cloud();
        let attempt_timeout = options
            .timeout
            .or(client.options().attempt_timeout)
            .unwrap_or(descriptor.timeout);
        Self {
            idempotency: descriptor.idempotency,
            attempt_timeout,
            deadline: options.deadline.or(policy.deadline),
            max_attempts: options.max_attempts.unwrap_or(policy.max_attempts).max(1),
            retry_unsafe: options.retry_unsafe.unwrap_or(policy.retry_unsafe),
            base_delay: policy.base_delay.max(Duration::from_millis(1)),
            max_delay: policy.max_delay.max(Duration::from_millis(1)),
            failover,
            regions: None,
            // Only a failing-over call needs to remember hosts: no allocation otherwise.
            tried: if failover {
                vec![base.authority().to_owned()]
            } else {
                Vec::new()
            },
            attempts: 0,
            target: None,
        }
    }

    /// The next attempt, given the time `elapsed` since the call started; `None` when the
    /// deadline has passed or the attempts are used up.
    pub fn next_attempt(&mut self, elapsed: Duration) -> Option<Attempt> {
        if self.attempts >= self.max_attempts {
            return None;
        }
        let remaining = match self.deadline {
            Some(deadline) => Some(
                deadline
                    .checked_sub(elapsed)
                    .filter(|left| !left.is_zero())?,
            ),
            None => None,
        };
        self.attempts += 1;
        Some(Attempt {
            number: self.attempts,
            target: self.target.clone(),
            timeout: remaining.map_or(self.attempt_timeout, |left| left.min(self.attempt_timeout)),
            remaining,
        })
    }

    /// How many attempts have been made.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The overall budget, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Decides what follows a failed attempt. `elapsed` is the time since the call
    /// started; `jitter` is a random number in `[0, 1)` from the caller (it scales the
    /// backoff between 50% and 100%).
    pub fn after_failure(&mut self, error: &Error, elapsed: Duration, jitter: f64) -> Decision {
        if self.attempts >= self.max_attempts || !self.may_repeat(error) {
            return Decision::GiveUp;
        }
        if self.failover && self.regions.is_none() {
            return Decision::DiscoverRegions;
        }
        let exponent = self.attempts.saturating_sub(1).min(16);
        let backoff = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            1.0
        };
        // Not `mul_f64`: it panics when the product rounds past `Duration::MAX`, which a
        // policy with a huge `max_delay` and a jitter of 1 reaches.
        let mut delay = Duration::try_from_secs_f64(backoff.as_secs_f64() * (0.5 + jitter / 2.0))
            .map_or(backoff, |scaled| scaled.min(backoff))
            .max(Duration::from_millis(1));
        if let Error::Server(server) = error
            && let Some(retry_after) = server.retry_after
        {
            delay = delay.max(retry_after.min(self.max_delay));
        }
        if let Some(deadline) = self.deadline
            && elapsed.saturating_add(delay) >= deadline
        {
            return Decision::GiveUp;
        }
        if self.failover {
            self.target = self.next_region().or_else(|| self.target.clone());
            if let Some(target) = &self.target {
                self.tried.push(target.authority().to_owned());
            }
        }
        Decision::Retry { delay }
    }

    /// Hands over the region list after [`Decision::DiscoverRegions`] (empty if discovery
    /// failed: the call then retries the same host).
    pub fn set_regions(&mut self, regions: Vec<BaseUrl>) {
        self.regions = Some(regions);
    }

    /// Whether `error` allows another attempt of this RPC.
    fn may_repeat(&self, error: &Error) -> bool {
        let retryable = match error {
            Error::Transport(transport) => transport.kind != TransportErrorKind::BodyTooLarge,
            Error::Server(server) => matches!(server.status, 502..=504),
            _ => false,
        };
        if !retryable {
            return false;
        }
        if self.idempotency == Idempotency::Safe || self.retry_unsafe {
            return true;
        }
        // An unsafe RPC is repeated only when the request surely never reached a server:
        // a refused connection. A 502/503/504 came from something that received it.
        matches!(error, Error::Transport(transport) if !transport.request_sent)
    }

    fn next_region(&self) -> Option<BaseUrl> {
        self.regions
            .as_ref()?
            .iter()
            .find(|region| !self.tried.iter().any(|tried| tried == region.authority()))
            .map(BaseUrl::origin_only)
    }
}

/// The LiveKit Cloud region list, as `GET /settings/regions` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Regions {
    /// Region origins, nearest first, as HTTP(S) URLs.
    pub urls: Vec<BaseUrl>,
    /// How long the list may be cached (`Cache-Control: max-age`; zero means not at all).
    pub max_age: Duration,
}

impl Client {
    /// `GET {origin}/settings/regions`, authorized like the call that needs failover.
    pub fn build_regions_request(
        &self,
        authorization: HeaderValue,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        http::Request::builder()
            .method(http::Method::GET)
            .uri(format!("{}/settings/regions", self.base_url().origin()))
            .header(AUTHORIZATION, authorization)
            .header(
                USER_AGENT,
                HeaderValue::from_static(crate::client::DEFAULT_USER_AGENT),
            )
            .body(Vec::new())
            .map_err(|error| Error::Build(crate::BuildError::RegionRequest(error.to_string())))
    }

    /// Parses the region list; anything but a 200 with the expected JSON is an error.
    pub fn parse_regions<B: AsRef<[u8]>>(
        &self,
        response: &http::Response<B>,
    ) -> Result<Regions, Error> {
        let body = response.body().as_ref();
        if response.status() != http::StatusCode::OK {
            return Err(Error::from(crate::response::server_error(
                "settings/regions",
                response.status().as_u16(),
                response.headers(),
                body,
                "",
            )));
        }
        let decode_error = |message: String| {
            Error::Decode(crate::DecodeError {
                rpc: "settings/regions",
                message,
                body: body.to_vec(),
            })
        };
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|error| decode_error(error.to_string()))?;
        let list = value
            .get("regions")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| decode_error("no regions array".into()))?;
        let urls = list
            .iter()
            .filter_map(|region| region.get("url")?.as_str())
            .filter_map(|url| BaseUrl::parse(url).ok())
            .collect();
        let max_age = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value.split(',').find_map(|directive| {
                    let directive = directive.trim();
                    let (name, seconds) = directive.split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("max-age")
                        .then(|| seconds.trim().parse::<u64>().ok())?
                })
            })
            .map_or(Duration::ZERO, Duration::from_secs);
        Ok(Regions { urls, max_age })
    }
}
