//! A transport wrapper that watches every attempt, to prove from the outside that the core
//! never repeats an unsafe RPC once it may have reached the server.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use livekit_core::rpc::{ALL, Idempotency};
use livekit_core::{BlockingTransport, REQUEST_ID_HEADER, Transport, TransportError};

type Outcome = Result<http::Response<Vec<u8>>, TransportError>;

/// What the wrapper saw, shared by every caller of one transport.
#[derive(Debug, Default)]
pub(crate) struct Attempts {
    /// Every attempt sent, retries included.
    pub(crate) total: AtomicU64,
    /// Attempts of unsafe RPCs whose call had an earlier attempt that may have reached
    /// the server: each one is a violation.
    pub(crate) unsafe_repeats: AtomicU64,
    /// Retries of unsafe RPCs after an attempt that surely never reached the server (a
    /// refused connection): allowed.
    pub(crate) unsafe_retries_unsent: AtomicU64,
    /// Request ids of unsafe calls whose last attempt may have reached the server and did
    /// not end the call for sure (a transport failure after sending, or a 502/503/504).
    /// Only such attempts are remembered, so the set stays empty while all goes well.
    reached: Mutex<HashSet<String>>,
    /// Request ids of unsafe calls whose last attempt surely never reached the server.
    unsent: Mutex<HashSet<String>>,
}

impl Attempts {
    fn before(&self, request: &http::Request<Vec<u8>>) -> Option<String> {
        self.total.fetch_add(1, Ordering::Relaxed);
        let path = request.uri().path();
        let unsafe_rpc = ALL
            .iter()
            .any(|rpc| rpc.idempotency == Idempotency::Unsafe && path.ends_with(rpc.path));
        if !unsafe_rpc {
            return None;
        }
        let id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if lock(&self.reached).remove(&id) {
            self.unsafe_repeats.fetch_add(1, Ordering::Relaxed);
        }
        if lock(&self.unsent).remove(&id) {
            self.unsafe_retries_unsent.fetch_add(1, Ordering::Relaxed);
        }
        Some(id)
    }

    fn after(&self, unsafe_id: Option<String>, outcome: &Outcome) {
        let Some(id) = unsafe_id else { return };
        match outcome {
            Err(error) if !error.request_sent => {
                lock(&self.unsent).insert(id);
            }
            Err(_) => {
                lock(&self.reached).insert(id);
            }
            Ok(response) if matches!(response.status().as_u16(), 502..=504) => {
                lock(&self.reached).insert(id);
            }
            Ok(_) => {}
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A transport that reports each attempt to an [`Attempts`] and otherwise only delegates.
#[derive(Debug)]
pub(crate) struct Observed<T> {
    pub(crate) inner: T,
    pub(crate) attempts: std::sync::Arc<Attempts>,
}

impl<T: Transport> Transport for Observed<T> {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let unsafe_id = self.attempts.before(&request);
        let outcome = self.inner.send(request, timeout).await;
        self.attempts.after(unsafe_id, &outcome);
        outcome
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await;
    }
}

impl<T: BlockingTransport> BlockingTransport for Observed<T> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let unsafe_id = self.attempts.before(&request);
        let outcome = self.inner.send(request, timeout);
        self.attempts.after(unsafe_id, &outcome);
        outcome
    }

    fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration);
    }
}
