//! API key and secret, held as a pre-keyed HMAC so signing never re-derives the key.

use alloc::string::String;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::Error;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A LiveKit API key and its secret.
///
/// The secret is absorbed into a keyed HMAC-SHA256 state at construction and the text itself
/// is not kept; the state is wiped when the value is dropped and never shown by `Debug`.
/// Cloning is cheap (a few hundred bytes, no allocation besides the key).
///
/// ```
/// let credentials = livekit_auth::Credentials::new("APIkey", "my-secret")?;
/// assert_eq!(credentials.api_key(), "APIkey");
/// assert!(!format!("{credentials:?}").contains("my-secret"));
/// # Ok::<(), livekit_auth::Error>(())
/// ```
#[derive(Clone)]
pub struct Credentials {
    api_key: String,
    mac: HmacSha256,
}

impl Credentials {
    /// Credentials from an API key and secret; both must be non-empty.
    pub fn new(api_key: impl Into<String>, api_secret: impl AsRef<[u8]>) -> Result<Self, Error> {
        let api_key = api_key.into();
        let secret = api_secret.as_ref();
        if api_key.is_empty() {
            return Err(Error::EmptyApiKey);
        }
        if secret.is_empty() {
            return Err(Error::EmptyApiSecret);
        }
        // HMAC accepts keys of any length, so this cannot fail.
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| Error::EmptyApiSecret)?;
        Ok(Self { api_key, mac })
    }

    /// The API key, which tokens carry as their issuer (`iss`).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// A fresh copy of the keyed HMAC state, ready for one message.
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

/// A source of credentials by API key, for verifying tokens from several issuers.
///
/// Implemented for one [`Credentials`] (matches only its own key), for slices and vectors
/// of them, and for `BTreeMap<String, Credentials>`.
pub trait KeyProvider {
    /// The credentials for `api_key`, if it is known.
    fn credentials(&self, api_key: &str) -> Option<&Credentials>;
}

impl KeyProvider for Credentials {
    fn credentials(&self, api_key: &str) -> Option<&Credentials> {
        (self.api_key == api_key).then_some(self)
    }
}

impl KeyProvider for [Credentials] {
    fn credentials(&self, api_key: &str) -> Option<&Credentials> {
        self.iter()
            .find(|credentials| credentials.api_key == api_key)
    }
}

impl KeyProvider for alloc::vec::Vec<Credentials> {
    fn credentials(&self, api_key: &str) -> Option<&Credentials> {
        self.as_slice().credentials(api_key)
    }
}

impl KeyProvider for alloc::collections::BTreeMap<String, Credentials> {
    fn credentials(&self, api_key: &str) -> Option<&Credentials> {
        self.get(api_key)
    }
}

impl<P: KeyProvider + ?Sized> KeyProvider for &P {
    fn credentials(&self, api_key: &str) -> Option<&Credentials> {
        (**self).credentials(api_key)
    }
}

/// Computes the HS256 signature of `signing_input`.
pub(crate) fn sign(credentials: &Credentials, signing_input: &[u8]) -> [u8; 32] {
    let mut mac = credentials.mac();
    mac.update(signing_input);
    mac.finalize().into_bytes().into()
}

/// Checks an HS256 signature in constant time.
pub(crate) fn verify(credentials: &Credentials, signing_input: &[u8], signature: &[u8]) -> bool {
    let mut mac = credentials.mac();
    mac.update(signing_input);
    mac.verify_slice(signature).is_ok()
}
