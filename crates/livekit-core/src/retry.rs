//! Retries and timeouts of one call, as a pure state machine (region failover, which it
//! drives, is in `failover`).
//!
//! A transport asks a [`CallPlan`] for the next attempt's target and budget, makes the
//! attempt, and hands the outcome back; the plan answers with a [`Decision`]. Time and
//! jitter are arguments, so every path is testable with plain values.

use std::time::Duration;

use crate::failover::Failover;
use crate::options::CallOptions;
use crate::rpc::{Idempotency, RpcDescriptor};
use crate::{BaseUrl, Client, Error, TransportErrorKind};

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
    /// Region failover, when it applies (a Cloud project host, failover on).
    failover: Option<Failover>,
    attempts: u32,
    target: Option<BaseUrl>,
}

impl CallPlan {
    /// The plan for one call of the RPC `descriptor` describes.
    pub fn new(client: &Client, descriptor: &RpcDescriptor, options: &CallOptions) -> Self {
        let policy = &client.options().retry;
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
            // Only a failing-over call remembers hosts: no allocation otherwise.
            failover: Failover::for_base(client.base_url(), policy.failover),
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
        if self.failover.as_ref().is_some_and(Failover::needs_regions) {
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
        if let Some(failover) = &mut self.failover {
            self.target = failover.next_target(self.target.take());
        }
        Decision::Retry { delay }
    }

    /// Hands over the region list after [`Decision::DiscoverRegions`] (empty if discovery
    /// failed: the call then retries the same host).
    pub fn set_regions(&mut self, regions: Vec<BaseUrl>) {
        if let Some(failover) = &mut self.failover {
            failover.set_regions(regions);
        }
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
}
