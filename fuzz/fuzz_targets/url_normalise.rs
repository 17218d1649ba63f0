//! `BaseUrl::parse` on any text: never a panic; a URL it accepts is a fixed point (parsing
//! its text gives it back) and every URL built from it is a valid HTTP URI.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livekit_core::BaseUrl;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(url) = BaseUrl::parse(text) else {
        return;
    };
    let again = BaseUrl::parse(&url.to_string())
        .unwrap_or_else(|error| panic!("{url} does not parse again: {error}"));
    assert_eq!(again, url, "normalisation is not idempotent for {text:?}");
    for built in [
        url.rpc_url("RoomService", "CreateRoom"),
        format!("{}/settings/regions", url.origin()),
    ] {
        let uri = http::Uri::try_from(built.as_str())
            .unwrap_or_else(|error| panic!("{text:?} builds {built:?}, not a uri: {error}"));
        assert_eq!(
            uri.scheme_str(),
            Some(if url.is_https() { "https" } else { "http" })
        );
        assert_eq!(
            uri.authority().map(|authority| authority.as_str()),
            Some(url.authority())
        );
    }
    assert!(url.authority().starts_with(url.host()));
    assert!(url.path().is_empty() || (url.path().starts_with('/') && !url.path().ends_with('/')));
});
