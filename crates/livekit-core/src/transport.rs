//! The seam between the core and an HTTP library: transport traits, the two drivers that
//! run a [`Call`](crate::Call) over them, and [`Execute`], which the typed service clients
//! are written against once for both.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;

use crate::call::{Call, Clock, ResponseBody, Step};
use crate::options::CallOptions;
use crate::rpc::Rpc;
use crate::{Client, Error, TransportError};

/// An async HTTP client: sends one request within a time budget, and sleeps.
///
/// Implement it to bring your own HTTP stack; `livekit-hyper` implements it for hyper.
/// Status codes other than 200 are responses, not errors: the body holds the Twirp error.
pub trait Transport: Send + Sync {
    /// Sends `request` and reads the whole response, failing with a
    /// [`TransportErrorKind::Timeout`](crate::TransportErrorKind::Timeout) after `timeout`.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send;

    /// Waits `duration` (between retries).
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// A blocking HTTP client: the twin of [`Transport`].
pub trait BlockingTransport: Send + Sync {
    /// Sends `request` and reads the whole response within `timeout`.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;

    /// Blocks for `duration` (between retries).
    fn sleep(&self, duration: Duration);
}

/// The outside readings a call needs: wall clock, monotonic clock and randomness. The core
/// takes them from here and nowhere else.
pub trait Environment: Send + Sync {
    /// Now, in Unix seconds.
    fn unix_now(&self) -> u64;
    /// Now on a monotonic clock, from any fixed origin.
    fn monotonic(&self) -> Duration;
    /// A random 64-bit number (for request ids and jitter; need not be cryptographic).
    fn random(&self) -> u64;

    /// A fresh request id, UUID-shaped.
    fn request_id(&self) -> String {
        let (high, low) = (self.random(), self.random());
        // Version 4, variant 1 bits, as a UUID v4 would have.
        let high = (high & 0xffff_ffff_ffff_0fff) | 0x4000;
        let low = (low & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0xffff,
            low >> 48,
            low & 0xffff_ffff_ffff
        )
    }
}

fn clock<E: Environment + ?Sized>(environment: &E, started: Duration) -> Clock {
    let monotonic = environment.monotonic();
    // 53 random bits make a uniform float in [0, 1).
    let jitter = (environment.random() >> 11) as f64 / (1u64 << 53) as f64;
    Clock {
        unix_now: environment.unix_now(),
        monotonic,
        elapsed: monotonic.saturating_sub(started),
        jitter,
    }
}

/// Runs one call of `R` over an async transport: retries, backoff and failover included.
pub(crate) async fn call_async<R, T, E>(
    client: &Client,
    transport: &T,
    environment: &E,
    request: R::Request,
    options: &CallOptions,
) -> Result<R::Response, Error>
where
    R: Rpc,
    T: Transport + ?Sized,
    E: Environment + ?Sized,
{
    let call = Call::<R>::new(client, request, options, environment.request_id());
    run_async(call, transport, environment, Call::finish).await
}

/// [`call_async`], keeping the successful response's body undecoded: read it as a view with
/// [`ResponseBody::view`].
pub(crate) async fn call_async_body<R, T, E>(
    client: &Client,
    transport: &T,
    environment: &E,
    request: R::Request,
    options: &CallOptions,
) -> Result<ResponseBody<R>, Error>
where
    R: Rpc,
    T: Transport + ?Sized,
    E: Environment + ?Sized,
{
    let call = Call::<R>::new(client, request, options, environment.request_id()).keeping_body();
    run_async(call, transport, environment, Call::finish_body).await
}

async fn run_async<'c, R, T, E, O>(
    mut call: Call<'c, R>,
    transport: &T,
    environment: &E,
    finish: impl FnOnce(Call<'c, R>) -> Result<O, Error>,
) -> Result<O, Error>
where
    R: Rpc,
    T: Transport + ?Sized,
    E: Environment + ?Sized,
{
    let started = environment.monotonic();
    let span = call_span::<R>(call.request_id());
    let result = async {
        loop {
            match call.step(clock(environment, started)) {
                Step::Send { request, timeout } => {
                    let sent = environment.monotonic();
                    let outcome = transport.send(request, timeout).await;
                    trace_attempt(call.attempts(), &outcome, environment.monotonic() - sent);
                    call.on_response(outcome);
                }
                Step::Sleep(delay) => transport.sleep(delay).await,
                Step::Done => break finish(call),
            }
        }
    }
    .instrument(span.clone())
    .await;
    trace_result(&span, &result, environment.monotonic() - started);
    result
}

/// Runs one call of `R` over a blocking transport: the twin of [`call_async`].
pub(crate) fn call_blocking<R, T, E>(
    client: &Client,
    transport: &T,
    environment: &E,
    request: R::Request,
    options: &CallOptions,
) -> Result<R::Response, Error>
where
    R: Rpc,
    T: BlockingTransport + ?Sized,
    E: Environment + ?Sized,
{
    let call = Call::<R>::new(client, request, options, environment.request_id());
    run_blocking(call, transport, environment, Call::finish)
}

/// [`call_blocking`], keeping the successful response's body undecoded: the twin of
/// [`call_async_body`].
pub(crate) fn call_blocking_body<R, T, E>(
    client: &Client,
    transport: &T,
    environment: &E,
    request: R::Request,
    options: &CallOptions,
) -> Result<ResponseBody<R>, Error>
where
    R: Rpc,
    T: BlockingTransport + ?Sized,
    E: Environment + ?Sized,
{
    let call = Call::<R>::new(client, request, options, environment.request_id()).keeping_body();
    run_blocking(call, transport, environment, Call::finish_body)
}

fn run_blocking<'c, R, T, E, O>(
    mut call: Call<'c, R>,
    transport: &T,
    environment: &E,
    finish: impl FnOnce(Call<'c, R>) -> Result<O, Error>,
) -> Result<O, Error>
where
    R: Rpc,
    T: BlockingTransport + ?Sized,
    E: Environment + ?Sized,
{
    let started = environment.monotonic();
    let span = call_span::<R>(call.request_id());
    let result = span.in_scope(|| {
        loop {
            match call.step(clock(environment, started)) {
                Step::Send { request, timeout } => {
                    let sent = environment.monotonic();
                    let outcome = transport.send(request, timeout);
                    trace_attempt(call.attempts(), &outcome, environment.monotonic() - sent);
                    call.on_response(outcome);
                }
                Step::Sleep(delay) => transport.sleep(delay),
                Step::Done => break finish(call),
            }
        }
    });
    trace_result(&span, &result, environment.monotonic() - started);
    result
}

/// The span of one call: service, method and request id; never a token or a secret.
fn call_span<R: Rpc>(request_id: &str) -> tracing::Span {
    tracing::debug_span!(
        target: "livekit",
        "livekit_call",
        service = R::DESCRIPTOR.service,
        method = R::DESCRIPTOR.method,
        request_id = request_id,
    )
}

/// One event per attempt: its number, the status or transport failure, and its latency.
fn trace_attempt(
    attempt: u32,
    outcome: &Result<http::Response<Vec<u8>>, TransportError>,
    latency: Duration,
) {
    let latency_ms = latency.as_secs_f64() * 1e3;
    match outcome {
        Ok(response) => tracing::debug!(
            target: "livekit",
            attempt,
            status = response.status().as_u16(),
            latency_ms,
            "attempt answered"
        ),
        Err(error) => tracing::debug!(
            target: "livekit",
            attempt,
            error = ?error.kind,
            latency_ms,
            "attempt failed"
        ),
    }
}

/// The call's outcome: success, or the error's status and Twirp code.
fn trace_result<T>(span: &tracing::Span, result: &Result<T, Error>, elapsed: Duration) {
    let _entered = span.enter();
    let elapsed_ms = elapsed.as_secs_f64() * 1e3;
    match result {
        Ok(_) => tracing::debug!(target: "livekit", elapsed_ms, "call succeeded"),
        Err(Error::Server(server)) => tracing::debug!(
            target: "livekit",
            status = server.status,
            code = server.code.as_str(),
            elapsed_ms,
            "call failed"
        ),
        Err(error) => tracing::debug!(target: "livekit", %error, elapsed_ms, "call failed"),
    }
}

/// Something that executes RPCs: the one abstraction the typed service clients
/// ([`RoomClient`](crate::RoomClient), ...) are written against, so they serve async and
/// blocking transports alike. Its output is a boxed future for [`AsyncApi`] and the plain
/// result for [`BlockingApi`].
pub trait Execute: Send + Sync {
    /// What a call returns: `T` itself, or a future of it.
    type Output<'a, T: Send + 'a>
    where
        Self: 'a;

    /// Executes one call of `R`.
    fn execute<'a, R: Rpc>(
        &'a self,
        request: R::Request,
        options: CallOptions,
    ) -> Self::Output<'a, Result<R::Response, Error>>;

    /// Transforms what a call returns, once it is there.
    fn map<'a, T: Send + 'a, U: Send + 'a>(
        output: Self::Output<'a, T>,
        f: impl FnOnce(T) -> U + Send + 'a,
    ) -> Self::Output<'a, U>
    where
        Self: 'a;
}

/// The largest response body a transport reads by default: 16 MiB. A hostile or broken
/// server cannot make the client buffer more.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A boxed, sendable future: what async calls return.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Defines an API handle type: a shared [`Client`], a transport and an [`Environment`].
macro_rules! api_handle {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name<T, E> {
            client: Arc<Client>,
            transport: T,
            environment: E,
        }

        impl<T: Clone, E: Clone> Clone for $name<T, E> {
            fn clone(&self) -> Self {
                Self {
                    client: Arc::clone(&self.client),
                    transport: self.transport.clone(),
                    environment: self.environment.clone(),
                }
            }
        }

        impl<T, E> $name<T, E> {
            /// An API handle from its parts.
            pub fn new(client: Client, transport: T, environment: E) -> Self {
                Self {
                    client: Arc::new(client),
                    transport,
                    environment,
                }
            }

            /// The sans-IO client.
            pub fn client(&self) -> &Client {
                &self.client
            }

            /// The transport.
            pub fn transport(&self) -> &T {
                &self.transport
            }
        }
    };
}

api_handle!(
    /// An async API handle: a [`Client`], a [`Transport`] and an [`Environment`]. Cheap to
    /// clone when `T` and `E` are (the client is shared).
    AsyncApi
);

impl<T: Transport, E: Environment> AsyncApi<T, E> {
    /// One call of `R` that keeps the successful response's body undecoded, to read as a
    /// view (`livekit_proto::view`, feature `view`): retries, timeouts and errors as for any call.
    pub async fn call_body<R: Rpc>(
        &self,
        request: R::Request,
        options: &CallOptions,
    ) -> Result<ResponseBody<R>, Error> {
        call_async_body::<R, _, _>(
            &self.client,
            &self.transport,
            &self.environment,
            request,
            options,
        )
        .await
    }
}

api_handle!(
    /// A blocking API handle: the twin of [`AsyncApi`], over a [`BlockingTransport`].
    BlockingApi
);

impl<T: BlockingTransport, E: Environment> BlockingApi<T, E> {
    /// One call of `R` that keeps the successful response's body undecoded: the twin of
    /// [`AsyncApi::call_body`].
    pub fn call_body<R: Rpc>(
        &self,
        request: R::Request,
        options: &CallOptions,
    ) -> Result<ResponseBody<R>, Error> {
        call_blocking_body::<R, _, _>(
            &self.client,
            &self.transport,
            &self.environment,
            request,
            options,
        )
    }
}

impl<T: Transport, E: Environment> Execute for AsyncApi<T, E> {
    type Output<'a, X: Send + 'a>
        = BoxFuture<'a, X>
    where
        Self: 'a;

    fn execute<'a, R: Rpc>(
        &'a self,
        request: R::Request,
        options: CallOptions,
    ) -> BoxFuture<'a, Result<R::Response, Error>> {
        Box::pin(async move {
            call_async::<R, _, _>(
                &self.client,
                &self.transport,
                &self.environment,
                request,
                &options,
            )
            .await
        })
    }

    fn map<'a, X: Send + 'a, U: Send + 'a>(
        output: BoxFuture<'a, X>,
        f: impl FnOnce(X) -> U + Send + 'a,
    ) -> BoxFuture<'a, U>
    where
        Self: 'a,
    {
        Box::pin(async move { f(output.await) })
    }
}

impl<T: BlockingTransport, E: Environment> Execute for BlockingApi<T, E> {
    type Output<'a, X: Send + 'a>
        = X
    where
        Self: 'a;

    fn execute<R: Rpc>(
        &self,
        request: R::Request,
        options: CallOptions,
    ) -> Result<R::Response, Error> {
        call_blocking::<R, _, _>(
            &self.client,
            &self.transport,
            &self.environment,
            request,
            &options,
        )
    }

    fn map<'a, X: Send + 'a, U: Send + 'a>(output: X, f: impl FnOnce(X) -> U + Send + 'a) -> U
    where
        Self: 'a,
    {
        f(output)
    }
}

/// A blocking transport made of closures: for tests, canned responses and adapters.
///
/// ```
/// use livekit_core::{BlockingTransport, FnTransport};
/// let transport = FnTransport::new(|_request, _timeout| {
///     Ok(http::Response::builder().status(200).body(Vec::new()).unwrap())
/// });
/// # let request = http::Request::new(Vec::new());
/// assert_eq!(transport.send(request, std::time::Duration::from_secs(1)).unwrap().status(), 200);
/// ```
pub struct FnTransport<F> {
    send: F,
}

impl<F> FnTransport<F>
where
    F: Fn(http::Request<Vec<u8>>, Duration) -> Result<http::Response<Vec<u8>>, TransportError>
        + Send
        + Sync,
{
    /// A transport that answers every request with `send`; sleeps return at once.
    pub fn new(send: F) -> Self {
        Self { send }
    }
}

impl<F> std::fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnTransport")
    }
}

impl<F> BlockingTransport for FnTransport<F>
where
    F: Fn(http::Request<Vec<u8>>, Duration) -> Result<http::Response<Vec<u8>>, TransportError>
        + Send
        + Sync,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        (self.send)(request, timeout)
    }

    fn sleep(&self, _duration: Duration) {}
}

impl<F> Transport for FnTransport<F>
where
    F: Fn(http::Request<Vec<u8>>, Duration) -> Result<http::Response<Vec<u8>>, TransportError>
        + Send
        + Sync,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send {
        std::future::ready((self.send)(request, timeout))
    }

    fn sleep(&self, _duration: Duration) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
}
