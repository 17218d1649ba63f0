//! The real world, for transports: the system clock, randomness, and configuration from the
//! environment. Only with the `system` feature; the rest of the crate never reads any of it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use livekit_auth::Credentials;

use crate::{
    Auth, BaseUrl, Client, ClientOptions, ConfigError, Environment, Error, PresignedToken,
    WebhookError, WebhookEvent, WebhookReceiver,
};

/// The process's clocks and a fast non-cryptographic random source.
#[derive(Debug, Clone)]
pub struct SystemEnvironment {
    origin: Instant,
    seed: u64,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Default for SystemEnvironment {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            // RandomState is seeded from the OS once per process.
            seed: RandomState::new().build_hasher().finish(),
        }
    }
}

/// The system clock in Unix seconds (0 before 1970).
fn system_unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl Environment for SystemEnvironment {
    fn unix_now(&self) -> u64 {
        system_unix_now()
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }

    fn random(&self) -> u64 {
        // SplitMix64 over a per-process seed and a global counter: unique per call, well
        // spread, no locking.
        let mut z = self.seed.wrapping_add(
            COUNTER
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Reads `LIVEKIT_URL` and either `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET` or
/// `LIVEKIT_TOKEN`, and builds a client; a missing or empty variable is a configuration
/// error that names it.
pub fn client_from_env(options: ClientOptions) -> Result<Client, Error> {
    client_from_lookup(options, |name| std::env::var(name).ok())
}

/// [`client_from_env`] over any source of variables.
fn client_from_lookup(
    options: ClientOptions,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Client, Error> {
    let read = |name: &str| {
        lookup(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let url = read("LIVEKIT_URL").ok_or(ConfigError::Environment("LIVEKIT_URL is not set"))?;
    let base = BaseUrl::parse(&url)?;
    let auth = match (
        read("LIVEKIT_API_KEY"),
        read("LIVEKIT_API_SECRET"),
        read("LIVEKIT_TOKEN"),
    ) {
        (Some(key), Some(secret), _) => {
            Auth::Credentials(Credentials::new(key, secret).map_err(ConfigError::Credentials)?)
        }
        (None, None, Some(token)) => Auth::Token(PresignedToken::new(&token)?),
        (Some(_), None, _) => {
            return Err(ConfigError::Environment(
                "LIVEKIT_API_KEY is set but LIVEKIT_API_SECRET is not",
            )
            .into());
        }
        (None, Some(_), _) => {
            return Err(ConfigError::Environment(
                "LIVEKIT_API_SECRET is set but LIVEKIT_API_KEY is not",
            )
            .into());
        }
        (None, None, None) => {
            return Err(ConfigError::Environment(
                "set LIVEKIT_API_KEY and LIVEKIT_API_SECRET, or LIVEKIT_TOKEN",
            )
            .into());
        }
    };
    Client::with_auth(base, auth, options)
}

impl<P: livekit_auth::KeyProvider> WebhookReceiver<P> {
    /// [`receive`](Self::receive) at the system clock's time.
    pub fn receive_now(
        &self,
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<WebhookEvent, WebhookError> {
        self.receive(body, authorization, system_unix_now())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{Auth, ClientOptions, Environment, SystemEnvironment, client_from_lookup};

    fn client(variables: &[(&str, &str)]) -> Result<crate::Client, crate::Error> {
        let variables: HashMap<String, String> = variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        client_from_lookup(ClientOptions::default(), |name| {
            variables.get(name).cloned()
        })
    }

    fn config_error(variables: &[(&str, &str)]) -> String {
        match client(variables) {
            Err(crate::Error::Config(error)) => error.to_string(),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn credentials_or_a_token_come_from_the_environment() {
        let keyed = client(&[
            ("LIVEKIT_URL", "wss://example.test/"),
            ("LIVEKIT_API_KEY", "APIkey"),
            ("LIVEKIT_API_SECRET", "secret"),
        ])
        .unwrap();
        assert_eq!(keyed.base_url().to_string(), "https://example.test");
        assert!(matches!(keyed.auth(), Auth::Credentials(c) if c.api_key() == "APIkey"));
        let token = client(&[("LIVEKIT_URL", "http://h"), ("LIVEKIT_TOKEN", "a.b.c")]).unwrap();
        assert!(matches!(token.auth(), Auth::Token(_)));
    }

    #[test]
    fn a_missing_variable_is_named() {
        assert_eq!(config_error(&[]), "LIVEKIT_URL is not set");
        assert_eq!(
            config_error(&[("LIVEKIT_URL", "http://h"), ("LIVEKIT_API_KEY", "k")]),
            "LIVEKIT_API_KEY is set but LIVEKIT_API_SECRET is not"
        );
        assert_eq!(
            config_error(&[("LIVEKIT_URL", "http://h"), ("LIVEKIT_API_SECRET", " ")]),
            "set LIVEKIT_API_KEY and LIVEKIT_API_SECRET, or LIVEKIT_TOKEN"
        );
        assert!(
            config_error(&[("LIVEKIT_URL", "localhost:7880"), ("LIVEKIT_TOKEN", "t")])
                .contains("it needs a scheme")
        );
    }

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let environment = SystemEnvironment::default();
        let (first, second) = (environment.request_id(), environment.request_id());
        assert_ne!(first, second);
        assert_eq!(first.len(), 36);
        assert_eq!(&first[14..15], "4", "version 4: {first}");
        assert!(
            matches!(&first[19..20], "8" | "9" | "a" | "b"),
            "variant: {first}"
        );
    }

    #[test]
    fn receive_now_reads_the_system_clock() {
        use livekit_auth::{AccessToken, Credentials, body_sha256};

        use super::system_unix_now;
        use crate::{WebhookEventKind, WebhookReceiver};

        let credentials = Credentials::new("APIclock", "clock-secret").unwrap();
        let body = br#"{"event":"room_started","room":{"name":"r"},"id":"EV_1","createdAt":"1"}"#;
        let sign = |now: u64| {
            AccessToken::new()
                .with_sha256(body_sha256(body))
                .with_ttl(core::time::Duration::from_secs(600))
                .sign(&credentials, now)
                .unwrap()
        };
        let receiver = WebhookReceiver::new(credentials.clone());
        let fresh = sign(system_unix_now());
        let event = receiver.receive_now(body, Some(&fresh)).unwrap();
        assert_eq!(event.kind, WebhookEventKind::RoomStarted);
        // Signed long ago, it expired long ago by the system clock (but not by its own).
        let old = sign(1_000_000_000);
        receiver.receive(body, Some(&old), 1_000_000_100).unwrap();
        assert!(receiver.receive_now(body, Some(&old)).is_err());
    }
}
