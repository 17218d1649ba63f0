//! Token and webhook throughput on one core; prints one JSON object on stdout.
//!
//! Run through `cargo xtask bench`. The mint/HMAC ratio compares a full mint with HMAC-SHA256
//! alone over the same signing input, measured in the same run. Each figure comes from the
//! fastest batch, with the mean over all batches beside it (`*_mean*`); see
//! `support/timing.rs`.

// Tests and benches run on std; the no_std lints are for the library.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::hint::black_box;

use hmac::{Hmac, KeyInit, Mac};
use livekit_auth::{AccessToken, Credentials, TokenVerifier, VideoGrants, body_sha256};

const NOW: u64 = 1_800_000_000;
const SECRET: &str = "bench-secret-bench-secret-0123456789";

#[path = "support/timing.rs"]
mod timing;

fn main() {
    let credentials = Credentials::new("APIbenchKey", SECRET).expect("valid credentials");
    let join = AccessToken::new()
        .with_identity("participant-identity-42")
        .with_name("Participant Name")
        .with_video_grants(VideoGrants::join("a-typical-room-name"));
    let jwt = join.sign(&credentials, NOW).expect("mints");
    let signing_input = &jwt[..jwt.rfind('.').expect("three segments")];
    let verifier = TokenVerifier::new(credentials.clone());

    let body: Vec<u8> = {
        let padding = "x".repeat(1024 - 120);
        format!(
            r#"{{"event":"room_started","room":{{"sid":"RM_x","name":"r","metadata":"{padding}"}},"id":"EV_1","createdAt":"1"}}"#
        )
        .into_bytes()
    };
    let webhook_token = AccessToken::new()
        .with_sha256(body_sha256(&body))
        .sign(&credentials, NOW)
        .expect("mints");
    let authorization = format!("Bearer {webhook_token}");

    let keyed = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    let rates = timing::measure(
        timing::budget(),
        &mut [
            &mut || {
                black_box(black_box(&join).sign(black_box(&credentials), NOW).ok());
            },
            &mut || {
                let mut mac = keyed.clone();
                mac.update(black_box(signing_input.as_bytes()));
                black_box(mac.finalize().into_bytes());
            },
            &mut || {
                black_box(verifier.verify(black_box(&jwt), NOW).ok());
            },
            &mut || {
                black_box(
                    verifier
                        .verify_webhook(black_box(&body), black_box(&authorization), NOW)
                        .ok(),
                );
            },
        ],
    );
    let [mints, hmacs, verifies, webhooks] = [0, 1, 2, 3].map(|index| &rates[index]);
    println!(
        "{{\"auth_token_len\":{},\
         \"auth_mints_per_s\":{:.0},\"auth_mints_mean_per_s\":{:.0},\
         \"auth_verifies_per_s\":{:.0},\"auth_verifies_mean_per_s\":{:.0},\
         \"auth_hmac_only_per_s\":{:.0},\"auth_hmac_only_mean_per_s\":{:.0},\
         \"auth_mint_to_hmac_cost_ratio\":{:.3},\"auth_mint_to_hmac_cost_ratio_mean\":{:.3},\
         \"auth_webhook_1kb_verifies_per_s\":{:.0},\"auth_webhook_1kb_verifies_mean_per_s\":{:.0}}}",
        jwt.len(),
        mints.best,
        mints.mean,
        verifies.best,
        verifies.mean,
        hmacs.best,
        hmacs.mean,
        hmacs.best / mints.best,
        hmacs.mean / mints.mean,
        webhooks.best,
        webhooks.mean,
    );
}
