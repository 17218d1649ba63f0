//! The transport's public configuration: root certificates and proxies are checked when
//! set, with typed errors, and proxy credentials never show in `Debug` output or errors.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use livekit_hyper::{ConfigError, Error, HyperTransport};

const PASSWORD: &str = "proxy-password-0f3e9a";

fn config_error(result: Result<impl std::fmt::Debug, Error>) -> ConfigError {
    match result {
        Err(Error::Config(error)) => error,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[cfg(feature = "rustls")]
#[test]
fn a_pem_without_a_certificate_is_a_tls_configuration_error() {
    for pem in [
        &b""[..],
        b"not pem at all",
        b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
    ] {
        let error = config_error(HyperTransport::builder().root_certificates_pem(pem));
        assert!(
            matches!(&error, ConfigError::Tls(message) if message.contains("no CERTIFICATE")),
            "{error:?}"
        );
    }
}

#[cfg(feature = "rustls")]
#[test]
fn a_certificate_that_does_not_parse_is_a_tls_configuration_error() {
    let pem = b"-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
    let error = config_error(HyperTransport::builder().root_certificates_pem(pem));
    assert!(
        matches!(&error, ConfigError::Tls(message) if message.contains("root certificate")),
        "{error:?}"
    );
}

#[test]
fn a_proxy_url_that_cannot_be_used_is_an_error_that_never_quotes_it() {
    for url in [
        format!("socks5://user:{PASSWORD}@127.0.0.1:1080"),
        format!("https://user:{PASSWORD}@127.0.0.1:3128"),
        format!("http://user:{PASSWORD}@127.0.0.1:3128/path"),
        format!("user:{PASSWORD}@127.0.0.1:3128"),
        "http://".to_owned(),
        "not a url".to_owned(),
    ] {
        let error = config_error(HyperTransport::builder().proxy(&url));
        assert!(matches!(error, ConfigError::Proxy(_)), "{url}: {error:?}");
        let shown = format!("{error} {error:?}");
        assert!(shown.starts_with("invalid proxy: "), "{shown}");
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
}

#[test]
fn proxy_credentials_never_show_in_debug_output() {
    let url = format!("http://user:{PASSWORD}@proxy.example:3128");
    let builder = HyperTransport::builder()
        .proxy(&url)
        .unwrap()
        .no_proxy("localhost");
    let builder_debug = format!("{builder:?}");
    assert!(
        builder_debug.contains("proxy.example:3128"),
        "{builder_debug}"
    );
    assert!(!builder_debug.contains(PASSWORD), "{builder_debug}");
    let transport = builder.build().unwrap();
    let debug = format!("{transport:?}");
    assert!(debug.contains("proxy.example:3128"), "{debug}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    assert!(!debug.contains("user:"), "{debug}");
}

#[test]
fn without_proxy_and_the_environment_are_told_apart_in_debug_output() {
    let direct = format!(
        "{:?}",
        HyperTransport::builder().without_proxy().build().unwrap()
    );
    assert!(direct.contains("Disabled"), "{direct}");
    let default = format!("{:?}", HyperTransport::builder().build().unwrap());
    assert!(default.contains("FromEnvironment"), "{default}");
}
