//! Property tests of the call state machine ([`Call`], over its retry plan), driven with
//! arbitrary transport outcomes, attempt durations, jitter and retry policies: it never makes
//! more attempts than the policy allows, never lets a call outlive its deadline, never sleeps
//! zero, always finishes, and never re-sends an unsafe RPC once a request may have reached a
//! server.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::time::Duration;

use livekit_auth::Credentials;
use livekit_core::rpc::{self, Idempotency, Rpc};
use livekit_core::{
    Auth, BaseUrl, Call, CallOptions, Client, ClientOptions, Clock, Error, RetryPolicy, Step,
    TransportError, TransportErrorKind,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// What one exchange (an RPC attempt or a region lookup) comes to.
#[derive(Debug, Clone)]
enum Outcome {
    /// 200 with the expected body (a region list for a region lookup).
    Ok,
    /// Any other status, with a Twirp or plain body.
    Status(u16),
    /// No response: a transport failure that did or did not carry the request.
    Transport(TransportErrorKind, bool),
}

impl Outcome {
    fn may_have_reached_a_server(&self) -> bool {
        match self {
            Self::Ok | Self::Status(_) => true,
            Self::Transport(_, sent) => *sent,
        }
    }

    fn response(
        &self,
        url: &str,
        regions: bool,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (status, body) = match self {
            Self::Ok if regions => (
                200,
                r#"{"regions":[{"url":"https://a.livekit.cloud"},{"url":"https://b.livekit.cloud"}]}"#,
            ),
            Self::Ok => (200, ""),
            Self::Status(status) => (*status, r#"{"code":"unavailable","msg":"busy"}"#),
            Self::Transport(kind, sent) => {
                return Err(TransportError::new(*kind, url, "scripted").with_request_sent(*sent));
            }
        };
        Ok(http::Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .unwrap())
    }
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Ok),
        prop_oneof![
            Just(400u16),
            Just(404),
            Just(500),
            Just(502),
            Just(503),
            Just(504)
        ]
        .prop_map(Outcome::Status),
        (
            prop_oneof![
                Just(TransportErrorKind::Connect),
                Just(TransportErrorKind::Tls),
                Just(TransportErrorKind::Timeout),
                Just(TransportErrorKind::Io),
                Just(TransportErrorKind::BodyTooLarge),
                Just(TransportErrorKind::Other),
            ],
            any::<bool>(),
        )
            .prop_map(|(kind, sent)| Outcome::Transport(kind, sent)),
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    cloud: bool,
    safe: bool,
    max_attempts: u32,
    deadline: Option<Duration>,
    retry_unsafe: bool,
    base_delay: Duration,
    max_delay: Duration,
    /// Each exchange's outcome and how long it took (capped by its timeout).
    exchanges: Vec<(Outcome, Duration)>,
    jitters: Vec<f64>,
}

fn millis(range: std::ops::Range<u64>) -> impl Strategy<Value = Duration> {
    range.prop_map(Duration::from_millis)
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (any::<bool>(), any::<bool>(), 0..7u32, any::<bool>()),
        proptest::option::of(millis(0..30_000)),
        // Delays from nothing to absurd: every policy value is valid.
        prop_oneof![millis(0..2_000), Just(Duration::MAX)],
        prop_oneof![millis(0..10_000), Just(Duration::MAX)],
        vec((outcome(), millis(0..15_000)), 1..12),
        vec(
            prop_oneof![0.0..1.0f64, Just(1.0), Just(f64::NAN), Just(-3.0)],
            1..4,
        ),
    )
        .prop_map(
            |(
                (cloud, safe, max_attempts, retry_unsafe),
                deadline,
                base_delay,
                max_delay,
                exchanges,
                jitters,
            )| {
                Scenario {
                    cloud,
                    safe,
                    max_attempts,
                    deadline,
                    retry_unsafe,
                    base_delay,
                    max_delay,
                    exchanges,
                    jitters,
                }
            },
        )
}

fn client(scenario: &Scenario) -> Client {
    let url = if scenario.cloud {
        "https://project.livekit.cloud"
    } else {
        "http://127.0.0.1:7880"
    };
    let mut retry = RetryPolicy::default();
    retry.max_attempts = scenario.max_attempts;
    retry.deadline = scenario.deadline;
    retry.retry_unsafe = scenario.retry_unsafe;
    retry.base_delay = scenario.base_delay;
    retry.max_delay = scenario.max_delay;
    let mut options = ClientOptions::default();
    options.retry = retry;
    Client::with_auth(
        BaseUrl::parse(url).unwrap(),
        Auth::Credentials(Credentials::new("APIprop", "secret").unwrap()),
        options,
    )
    .unwrap()
}

/// Drives one call to its end, checking every step.
fn drive<R: Rpc>(scenario: &Scenario) -> Result<(), TestCaseError>
where
    R::Request: Default,
{
    let client = client(scenario);
    let mut call = Call::<R>::new(
        &client,
        R::Request::default(),
        &CallOptions::default(),
        "req-1".into(),
    );
    let unsafe_rpc = R::DESCRIPTOR.idempotency == Idempotency::Unsafe;
    let max_attempts = scenario.max_attempts.max(1);
    let mut elapsed = Duration::ZERO;
    let mut attempts = 0u32;
    let mut reached = false;
    let mut exchanges = scenario.exchanges.iter().cycle();
    for turn in 0.. {
        prop_assert!(turn < 1_000, "the call never finished");
        // The wall clock only dates service tokens; it stays put here.
        let jitter = scenario.jitters[turn % scenario.jitters.len()];
        let clock = Clock::new(1_800_000_000, elapsed, elapsed, jitter);
        match call.step(clock) {
            Step::Send { request, timeout } => {
                let url = request.uri().to_string();
                let is_rpc = request.uri().path().contains("/twirp/");
                if let Some(deadline) = scenario.deadline {
                    prop_assert!(
                        elapsed.saturating_add(timeout) <= deadline,
                        "{url}: a {timeout:?} budget at {elapsed:?} outlives the {deadline:?} deadline"
                    );
                }
                if is_rpc {
                    attempts += 1;
                    prop_assert!(
                        attempts <= max_attempts,
                        "attempt {attempts} of {max_attempts}"
                    );
                    if unsafe_rpc && !scenario.retry_unsafe {
                        prop_assert!(
                            !reached,
                            "an unsafe rpc was sent again after it may have reached a server"
                        );
                    }
                }
                let (outcome, took) = exchanges.next().unwrap();
                elapsed = elapsed.saturating_add((*took).min(timeout));
                if is_rpc {
                    reached |= outcome.may_have_reached_a_server();
                }
                call.on_response(outcome.response(&url, !is_rpc));
            }
            Step::Sleep(delay) => {
                prop_assert!(!delay.is_zero(), "a zero backoff");
                elapsed = elapsed.saturating_add(delay);
                if let Some(deadline) = scenario.deadline {
                    prop_assert!(elapsed < deadline, "slept past the deadline: {elapsed:?}");
                }
            }
            Step::Done => break,
        }
    }
    prop_assert_eq!(call.attempts(), attempts);
    let result = call.finish();
    if let Some(deadline) = scenario.deadline {
        prop_assert!(
            elapsed <= deadline,
            "the call took {elapsed:?}, past {deadline:?}"
        );
    }
    if let Err(Error::DeadlineExceeded {
        attempts: counted, ..
    }) = &result
    {
        prop_assert_eq!(*counted, attempts);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_call_machine_keeps_its_bounds(scenario in scenario()) {
        if scenario.safe {
            prop_assert_eq!(rpc::ListRooms::DESCRIPTOR.idempotency, Idempotency::Safe);
            drive::<rpc::ListRooms>(&scenario)?;
        } else {
            prop_assert_eq!(rpc::SendData::DESCRIPTOR.idempotency, Idempotency::Unsafe);
            drive::<rpc::SendData>(&scenario)?;
        }
    }
}
