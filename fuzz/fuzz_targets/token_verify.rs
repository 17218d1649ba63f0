//! `TokenVerifier::verify` on any text: it never panics, no error shows a secret, and a token
//! that verifies re-encodes to the same claims.
#![no_main]

use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use livekit_auth::{AccessToken, Claims, Credentials, TokenVerifier, decode_unverified};

/// The keys the seed tokens were minted with (the peer fixtures), and one of our own.
const KEYS: [(&str, &str); 3] = [
    ("APIpythonFixture", "python-livekit-api-fixture-secret-0001"),
    ("APInodeFixture", "node-livekit-server-sdk-fixture-secret-1"),
    ("APIfuzz", "fuzz-secret-that-must-never-be-printed"),
];

/// Inside the seed tokens' validity window.
const NOW: u64 = 1_795_860_600;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let keys: Vec<Credentials> = KEYS
        .iter()
        .map(|(key, secret)| Credentials::new(*key, *secret).expect("valid credentials"))
        .collect();
    let verifier = TokenVerifier::new(keys.as_slice());
    check(&verifier, &keys, token);

    // The fuzzer cannot forge HMAC: sign its header and payload with the issuer's secret too,
    // so the checks behind the signature (claims, times, issuer) get explored as well.
    if let Some((signing_input, _)) = token.rsplit_once('.') {
        let issuer = decode_unverified(token)
            .map(|claims| claims.issuer)
            .unwrap_or_default();
        let secret = KEYS
            .iter()
            .find(|(key, _)| *key == issuer)
            .map_or(KEYS[2].1, |(_, secret)| *secret);
        let resigned = format!("{signing_input}.{}", sign(signing_input, secret));
        check(&verifier, &keys, &resigned);
    }
});

fn check(verifier: &TokenVerifier<&[Credentials]>, keys: &[Credentials], token: &str) {
    match verifier.verify(token, NOW) {
        Ok(claims) => reencodes(verifier, keys, &claims),
        Err(error) => {
            let text = format!("{error} {error:?}");
            for (_, secret) in KEYS {
                assert!(
                    token.contains(secret) || !text.contains(secret),
                    "an error shows a secret: {text}"
                );
            }
        }
    }
}

/// A verified token's claims, signed again, verify to the same claims.
fn reencodes(verifier: &TokenVerifier<&[Credentials]>, keys: &[Credentials], claims: &Claims) {
    assert!(claims.expires_at.is_some(), "verified without exp");
    let credentials = keys
        .iter()
        .find(|credentials| credentials.api_key() == claims.issuer)
        .expect("verified under a known key");
    let Ok(token) = AccessToken::from_grants(claims.grants.clone()).sign(credentials, NOW) else {
        // Some verified claims cannot be minted (a roomJoin without identity or room).
        return;
    };
    let again = verifier
        .verify(&token, NOW)
        .unwrap_or_else(|error| panic!("a re-signed token does not verify: {error}"));
    assert_eq!(again.grants, claims.grants, "claims changed on re-encoding");
}

fn sign(signing_input: &str, secret: &str) -> String {
    use base64::Engine as _;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(signing_input.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}
