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
pub(crate) enum Decision {
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
pub(crate) struct Attempt {
    /// 1 for the first attempt.
    pub(crate) number: u32,
    /// The server to send it to: `None` for the configured one.
    pub(crate) target: Option<BaseUrl>,
    /// Its time budget.
    pub(crate) timeout: Duration,
    /// What is left of the call's deadline, if it has one.
    pub(crate) remaining: Option<Duration>,
}

/// The state of one call across its attempts.
#[derive(Debug, Clone)]
pub(crate) struct CallPlan {
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
    pub(crate) fn new(client: &Client, descriptor: &RpcDescriptor, options: &CallOptions) -> Self {
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
    pub(crate) fn next_attempt(&mut self, elapsed: Duration) -> Option<Attempt> {
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
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The overall budget, if any.
    pub(crate) fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Decides what follows a failed attempt. `elapsed` is the time since the call
    /// started; `jitter` is a random number in `[0, 1)` from the caller (it scales the
    /// backoff between 50% and 100%).
    pub(crate) fn after_failure(
        &mut self,
        error: &Error,
        elapsed: Duration,
        jitter: f64,
    ) -> Decision {
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
    pub(crate) fn set_regions(&mut self, regions: Vec<BaseUrl>) {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use livekit_auth::Credentials;

    use super::{CallPlan, Decision};
    use crate::rpc::{self, Rpc as _};
    use crate::{
        CallOptions, Client, ClientOptions, Error, RetryPolicy, TransportError, TransportErrorKind,
    };

    fn client(url: &str) -> Client {
        Client::new(url, Credentials::new("devkey", "secret").unwrap()).unwrap()
    }

    #[test]
    fn the_plan_answers_from_plain_values() {
        let client = client("http://127.0.0.1:7880");
        let mut plan = CallPlan::new(
            &client,
            &rpc::ListRooms::DESCRIPTOR,
            &CallOptions::default(),
        );
        let unavailable = Error::from(TransportError::new(
            TransportErrorKind::Timeout,
            "u",
            "slow",
        ));
        let first = plan.next_attempt(Duration::ZERO).unwrap();
        assert_eq!((first.number, first.timeout), (1, Duration::from_secs(10)));
        // Jitter 0 gives half the backoff, jitter just under 1 nearly all of it; never zero.
        assert_eq!(
            plan.after_failure(&unavailable, Duration::ZERO, 0.0),
            Decision::Retry {
                delay: Duration::from_millis(100)
            }
        );
        plan.next_attempt(Duration::from_millis(100)).unwrap();
        assert_eq!(
            plan.after_failure(&unavailable, Duration::from_millis(100), f64::NAN),
            Decision::Retry {
                delay: Duration::from_millis(400)
            }
        );
        plan.next_attempt(Duration::from_millis(500)).unwrap();
        assert_eq!(
            plan.after_failure(&unavailable, Duration::from_millis(500), 0.5),
            Decision::GiveUp
        );
        assert!(plan.next_attempt(Duration::from_secs(1)).is_none());

        let options = ClientOptions {
            retry: RetryPolicy {
                base_delay: Duration::ZERO,
                ..RetryPolicy::default()
            },
            ..client.options().clone()
        };
        let tiny = client.with_options(options).unwrap();
        let mut plan = CallPlan::new(&tiny, &rpc::ListRooms::DESCRIPTOR, &CallOptions::default());
        plan.next_attempt(Duration::ZERO).unwrap();
        match plan.after_failure(&unavailable, Duration::ZERO, 0.0) {
            Decision::Retry { delay } => assert!(!delay.is_zero()),
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn the_machine_never_exceeds_its_attempts_or_repeats_unsafe_calls() {
        let client = client("http://127.0.0.1:7880");
        let failures = [
            Error::from(TransportError::new(TransportErrorKind::Io, "u", "reset")),
            Error::from(TransportError::new(
                TransportErrorKind::Connect,
                "u",
                "refused",
            )),
            Error::from(TransportError::new(
                TransportErrorKind::Timeout,
                "u",
                "slow",
            )),
        ];
        for attempts in 1..=5u32 {
            for descriptor in rpc::ALL {
                let options = CallOptions::default().with_max_attempts(attempts);
                let mut plan = CallPlan::new(&client, descriptor, &options);
                let mut made = 0;
                let mut elapsed = Duration::ZERO;
                while let Some(attempt) = plan.next_attempt(elapsed) {
                    made += 1;
                    let failure = &failures[made as usize % failures.len()];
                    if descriptor.idempotency == rpc::Idempotency::Unsafe
                        && made > 1
                        && attempt.number > 1
                    {
                        // Only refused connections may lead here for unsafe calls.
                        assert!(matches!(
                            &failures[(made as usize - 1) % failures.len()],
                            Error::Transport(t) if !t.request_sent
                        ));
                    }
                    match plan.after_failure(failure, elapsed, 0.3) {
                        Decision::Retry { delay } => {
                            assert!(!delay.is_zero());
                            elapsed += delay;
                        }
                        Decision::GiveUp => break,
                        Decision::DiscoverRegions => panic!("not a cloud host"),
                    }
                }
                assert!(
                    made <= attempts,
                    "{} made {made} of {attempts}",
                    descriptor.name
                );
            }
        }
    }

    /// Found by the call-machine property test: a policy whose delays are as long as a
    /// `Duration` goes, with a jitter of 1 (or a NaN, read as 1), made the backoff arithmetic
    /// panic. Every policy value is valid, so it must give a delay instead.
    #[test]
    fn extreme_delays_and_jitter_never_panic() {
        let options = ClientOptions {
            retry: RetryPolicy {
                base_delay: Duration::MAX,
                max_delay: Duration::MAX,
                ..RetryPolicy::default()
            },
            ..ClientOptions::default()
        };
        let client = client("http://127.0.0.1:7880")
            .with_options(options)
            .unwrap();
        let failure = Error::from(TransportError::new(
            TransportErrorKind::Timeout,
            "u",
            "slow",
        ));
        for jitter in [1.0, f64::NAN, f64::INFINITY, 0.999_999_999, 0.0] {
            let mut plan = CallPlan::new(
                &client,
                &rpc::ListRooms::DESCRIPTOR,
                &CallOptions::default(),
            );
            plan.next_attempt(Duration::ZERO).unwrap();
            match plan.after_failure(&failure, Duration::ZERO, jitter) {
                Decision::Retry { delay } => {
                    assert!(delay >= Duration::MAX / 2, "{jitter}: {delay:?}");
                }
                other => panic!("{jitter}: expected a retry, got {other:?}"),
            }
        }
    }
}
