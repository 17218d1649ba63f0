//! One call, from first attempt to final answer, as a state machine that never does IO.
//!
//! A transport drives a [`Call`] with three moves: ask it for the next [`Step`], carry out
//! that step (send an HTTP request, or sleep), and report the outcome. Everything else —
//! building requests, parsing answers, deciding to retry, where and after how long, region
//! discovery — happens in here, identically for every transport.

use std::time::Duration;

use crate::options::CallOptions;
use crate::retry::{CallPlan, Decision};
use crate::rpc::Rpc;
use crate::{CallContext, Client, Error, TransportError};

/// What the transport must do next.
#[derive(Debug)]
// A step lives for one loop turn; boxing the request would cost an allocation per attempt.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Send this request, giving up on it after `timeout`, and report the outcome with
    /// [`Call::on_response`].
    Send {
        /// The request.
        request: http::Request<Vec<u8>>,
        /// Its time budget.
        timeout: Duration,
    },
    /// Wait this long, then ask for the next step.
    Sleep(Duration),
    /// The call is over: take the result with [`Call::finish`].
    Done,
}

/// The readings a call needs from its surroundings at each step. The core never takes them
/// itself.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Clock {
    /// Now, in Unix seconds (for minting service tokens).
    pub unix_now: u64,
    /// Now on a monotonic clock, from any fixed origin (for the region cache).
    pub monotonic: Duration,
    /// Time since the call started, on the same monotonic clock.
    pub elapsed: Duration,
    /// A random number in `[0, 1)`, for backoff jitter.
    pub jitter: f64,
}

impl Clock {
    /// The readings at one step: Unix time (seconds), a monotonic time, the time since the
    /// call started on that clock, and a random number in `[0, 1)`.
    pub fn new(unix_now: u64, monotonic: Duration, elapsed: Duration, jitter: f64) -> Self {
        Self {
            unix_now,
            monotonic,
            elapsed,
            jitter,
        }
    }
}

enum State<T> {
    /// Ready to start the next attempt.
    Ready,
    /// Waiting for the response to an RPC attempt.
    AwaitingRpc,
    /// Waiting for the region list; the failure that prompted it waits for a decision.
    AwaitingRegions(Error),
    /// The region list arrived (or failed to: `None`); store it, then decide on the error.
    RegionsFetched(Option<crate::failover::Regions>, Error),
    /// The last attempt failed with this error; a decision is pending.
    Failed(Error),
    /// Finished.
    Done(Result<T, Error>),
}

/// One call of RPC `R`.
pub struct Call<'c, R: Rpc> {
    client: &'c Client,
    request: R::Request,
    request_id: String,
    plan: CallPlan,
    /// The call's own headers, added to every attempt.
    headers: http::HeaderMap,
    /// Keep a successful response's body as it came, for [`Call::finish_body`].
    keep_body: bool,
    state: State<Finished<R>>,
}

/// What a successful call ends with.
enum Finished<R: Rpc> {
    Message(R::Response),
    Body(ResponseBody<R>),
}

impl<'c, R: Rpc> Call<'c, R> {
    /// A call of `request` through `client`. `request_id` goes in `X-Livekit-Request-Id`
    /// on every attempt.
    pub fn new(
        client: &'c Client,
        mut request: R::Request,
        options: &CallOptions,
        request_id: String,
    ) -> Self {
        let mut options = options.clone();
        R::prepare(&mut request, &mut options);
        Self {
            client,
            plan: CallPlan::new(client, &R::DESCRIPTOR, &options),
            headers: std::mem::take(&mut options.headers),
            request,
            request_id,
            keep_body: false,
            state: State::Ready,
        }
    }

    /// Makes the call keep a successful response's body as it came instead of decoding it,
    /// for [`finish_body`](Self::finish_body): to read it as a view, or to pass it on.
    #[must_use]
    pub fn keeping_body(mut self) -> Self {
        self.keep_body = true;
        self
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// How many attempts have been made so far.
    pub fn attempts(&self) -> u32 {
        self.plan.attempts()
    }

    /// The next thing to do.
    pub fn step(&mut self, clock: Clock) -> Step {
        loop {
            match std::mem::replace(&mut self.state, State::Ready) {
                State::Ready => return self.start_attempt(clock),
                State::Failed(error) => {
                    match self.plan.after_failure(&error, clock.elapsed, clock.jitter) {
                        Decision::GiveUp => self.state = State::Done(Err(error)),
                        Decision::Retry { delay } => {
                            self.state = State::Ready;
                            return Step::Sleep(delay);
                        }
                        Decision::DiscoverRegions => {
                            if let Some(step) = self.discover_regions(error, clock) {
                                return step;
                            }
                        }
                    }
                }
                State::RegionsFetched(regions, error) => {
                    match regions {
                        Some(regions) => {
                            self.client.store_regions(&regions, clock.monotonic);
                            self.plan.set_regions(regions.urls);
                        }
                        None => self.plan.set_regions(Vec::new()),
                    }
                    self.state = State::Failed(error);
                }
                state @ State::Done(_) => {
                    self.state = state;
                    return Step::Done;
                }
                state @ (State::AwaitingRpc | State::AwaitingRegions(_)) => {
                    // The transport asked again without reporting; keep waiting.
                    self.state = state;
                    return Step::Done;
                }
            }
        }
    }

    /// Answers region discovery from the client's cache, or asks the transport to fetch the
    /// list. `None` means the plan has its regions (possibly none) and the failure awaits a
    /// new decision.
    fn discover_regions(&mut self, error: Error, clock: Clock) -> Option<Step> {
        if let Some(regions) = self.client.cached_regions(clock.monotonic) {
            self.plan.set_regions(regions);
            self.state = State::Failed(error);
            return None;
        }
        // The lookup spends the call's time too: never more than its deadline leaves.
        let timeout = match self.plan.deadline() {
            Some(deadline) => deadline
                .saturating_sub(clock.elapsed)
                .min(REGION_DISCOVERY_TIMEOUT),
            None => REGION_DISCOVERY_TIMEOUT,
        };
        let request = self
            .client
            .authorization(&R::required_grant(&self.request), clock.unix_now)
            .and_then(|authorization| self.client.build_regions_request(authorization));
        match request {
            Ok(request) if !timeout.is_zero() => {
                self.state = State::AwaitingRegions(error);
                Some(Step::Send { request, timeout })
            }
            Ok(_) | Err(_) => {
                // Discovery is best effort: without it, the call retries the same host.
                self.plan.set_regions(Vec::new());
                self.state = State::Failed(error);
                None
            }
        }
    }

    fn start_attempt(&mut self, clock: Clock) -> Step {
        let Some(attempt) = self.plan.next_attempt(clock.elapsed) else {
            let budget = self.plan.deadline().unwrap_or_default();
            self.state = State::Done(Err(Error::DeadlineExceeded {
                attempts: self.plan.attempts(),
                budget,
            }));
            return Step::Done;
        };
        let context = CallContext {
            now: clock.unix_now,
            request_id: &self.request_id,
            target: attempt.target.as_ref(),
            remaining: attempt.remaining,
            headers: Some(&self.headers),
        };
        match self.client.build_request::<R>(&self.request, &context) {
            Ok(request) => {
                self.state = State::AwaitingRpc;
                Step::Send {
                    request,
                    timeout: attempt.timeout,
                }
            }
            Err(error) => {
                self.state = State::Done(Err(error));
                Step::Done
            }
        }
    }

    /// Reports the outcome of the last [`Step::Send`].
    pub fn on_response(&mut self, outcome: Result<http::Response<Vec<u8>>, TransportError>) {
        match std::mem::replace(&mut self.state, State::Ready) {
            State::AwaitingRpc => {
                self.state = match outcome {
                    Ok(response) if self.keep_body && response.status() == http::StatusCode::OK => {
                        State::Done(Ok(Finished::Body(ResponseBody::new(response.into_body()))))
                    }
                    Ok(response) => {
                        match self
                            .client
                            .parse_response::<R, _>(&response, &self.request_id)
                        {
                            Ok(message) => State::Done(Ok(Finished::Message(message))),
                            Err(Error::Server(mut server)) => {
                                server.needed_grant = Some(R::required_grant(&self.request));
                                State::Failed(Error::Server(server))
                            }
                            Err(error) => State::Failed(error),
                        }
                    }
                    Err(error) => State::Failed(Error::Transport(error)),
                };
            }
            State::AwaitingRegions(error) => {
                // Discovery is best effort: any failure means "no other regions".
                let regions = outcome
                    .ok()
                    .and_then(|response| self.client.parse_regions(&response).ok());
                self.state = State::RegionsFetched(regions, error);
            }
            other => self.state = other,
        }
    }

    /// The result, once [`Step::Done`] was returned.
    pub fn finish(self) -> Result<R::Response, Error> {
        match self.state {
            State::Done(Ok(Finished::Message(message))) => Ok(message),
            State::Done(Ok(Finished::Body(body))) => body.message(),
            State::Done(Err(error)) => Err(error),
            _ => Err(Self::unfinished()),
        }
    }

    /// The result of a call made [`keeping_body`](Self::keeping_body), once [`Step::Done`]
    /// was returned: the body of the successful response, undecoded.
    pub fn finish_body(self) -> Result<ResponseBody<R>, Error> {
        match self.state {
            State::Done(Ok(Finished::Body(body))) => Ok(body),
            State::Done(Ok(Finished::Message(message))) => {
                Ok(ResponseBody::new(prost::Message::encode_to_vec(&message)))
            }
            State::Done(Err(error)) => Err(error),
            _ => Err(Self::unfinished()),
        }
    }

    fn unfinished() -> Error {
        Error::Build(crate::BuildError::Unfinished)
    }
}

/// The protobuf body of a successful call of `R`, as the server sent it: read it as a view
/// (`livekit_proto::view`, feature `view`: strings borrowed from the body, nothing copied),
/// decode it into the owned message, or keep the bytes.
///
/// A body that is not valid protobuf is reported when it is read, as the same
/// [`Error::Decode`] a decoding call returns (decode errors are never retried, so keeping the
/// body changes nothing else).
pub struct ResponseBody<R: Rpc> {
    body: Vec<u8>,
    rpc: core::marker::PhantomData<fn() -> R>,
}

impl<R: Rpc> ResponseBody<R> {
    fn new(body: Vec<u8>) -> Self {
        Self {
            body,
            rpc: core::marker::PhantomData,
        }
    }

    /// The response as a view borrowing from this body (feature `view`).
    #[cfg(feature = "view")]
    pub fn view(&self) -> Result<<R::Response as livekit_proto::HasView>::View<'_>, Error>
    where
        R::Response: livekit_proto::HasView,
    {
        <<R::Response as livekit_proto::HasView>::View<'_> as livekit_proto::view::View<'_>>::from_protobuf(&self.body)
            .map_err(|error| self.decode_error(error.to_string()))
    }

    /// The response decoded into the owned message (prost), every string copied.
    pub fn message(&self) -> Result<R::Response, Error> {
        <R::Response as prost::Message>::decode(self.body.as_slice())
            .map_err(|error| self.decode_error(error.to_string()))
    }

    /// The body's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body's bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.body
    }

    fn decode_error(&self, message: String) -> Error {
        Error::Decode(crate::DecodeError {
            rpc: R::DESCRIPTOR.name,
            message,
            body: self.body.clone(),
        })
    }
}

impl<R: Rpc> Clone for ResponseBody<R> {
    fn clone(&self) -> Self {
        Self::new(self.body.clone())
    }
}

impl<R: Rpc> core::fmt::Debug for ResponseBody<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("rpc", &R::DESCRIPTOR.name)
            .field("bytes", &self.body.len())
            .finish()
    }
}

/// Region discovery must not stall a failing call for long.
const REGION_DISCOVERY_TIMEOUT: Duration = Duration::from_secs(2);
