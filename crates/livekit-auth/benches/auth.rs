//! Token and webhook throughput on one core; prints one JSON object on stdout.
//!
//! Run through `cargo xtask bench`. The mint/HMAC ratio compares a full mint with HMAC-SHA256
//! alone over the same signing input, measured in the same run.

// Tests and benches run on std; the no_std lints are for the library.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use livekit_auth::{AccessToken, Credentials, TokenVerifier, VideoGrants, body_sha256};

const NOW: u64 = 1_800_000_000;
const SECRET: &str = "bench-secret-bench-secret-0123456789";

/// Runs `operation` repeatedly for about `budget` and returns operations per second.
fn per_second(budget: Duration, mut operation: impl FnMut()) -> f64 {
    for _ in 0..1_000 {
        operation();
    }
    let mut iterations: u64 = 0;
    let started = Instant::now();
    loop {
        for _ in 0..1_000 {
            operation();
        }
        iterations += 1_000;
        let elapsed = started.elapsed();
        if elapsed >= budget {
            return iterations as f64 / elapsed.as_secs_f64();
        }
    }
}

/// Runs `first` and `second` in alternating batches for about `budget` in all, so that
/// frequency changes and neighbours' load hit both alike; returns both rates per second.
fn paired_per_second(
    budget: Duration,
    mut first: impl FnMut(),
    mut second: impl FnMut(),
) -> (f64, f64) {
    for _ in 0..1_000 {
        first();
        second();
    }
    let (mut first_time, mut second_time) = (Duration::ZERO, Duration::ZERO);
    let mut batches: u64 = 0;
    while first_time + second_time < budget {
        let started = Instant::now();
        for _ in 0..1_000 {
            first();
        }
        let middle = Instant::now();
        for _ in 0..1_000 {
            second();
        }
        first_time += middle - started;
        second_time += middle.elapsed();
        batches += 1;
    }
    let calls = (batches * 1_000) as f64;
    (
        calls / first_time.as_secs_f64(),
        calls / second_time.as_secs_f64(),
    )
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(1_500),
    );
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
    let (mints, hmacs) = paired_per_second(
        budget * 2,
        || {
            black_box(black_box(&join).sign(black_box(&credentials), NOW).ok());
        },
        || {
            let mut mac = keyed.clone();
            mac.update(black_box(signing_input.as_bytes()));
            black_box(mac.finalize().into_bytes());
        },
    );
    let verifies = per_second(budget, || {
        black_box(verifier.verify(black_box(&jwt), NOW).ok());
    });
    let webhooks = per_second(budget, || {
        black_box(
            verifier
                .verify_webhook(black_box(&body), black_box(&authorization), NOW)
                .ok(),
        );
    });

    println!(
        "{{\"auth_token_len\":{},\"auth_mints_per_s\":{mints:.0},\"auth_verifies_per_s\":{verifies:.0},\
         \"auth_hmac_only_per_s\":{hmacs:.0},\"auth_mint_to_hmac_cost_ratio\":{:.3},\
         \"auth_webhook_1kb_verifies_per_s\":{webhooks:.0}}}",
        jwt.len(),
        hmacs / mints,
    );
}
