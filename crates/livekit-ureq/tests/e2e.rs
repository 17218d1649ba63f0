//! End to end against a real LiveKit server, over ureq: the shared suite of
//! `livekit-core/tests/e2e_suite`. `cargo xtask e2e` (a step of `cargo xtask ci`) runs it
//! with `--ignored` against a server and real participants in a network namespace of its
//! own. By hand, all but the live-participant tests: `cargo xtask server start`, then
//! `LIVEKIT_E2E_URL=http://127.0.0.1:7880 cargo test -p livekit-ureq --test e2e -- --ignored`.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

type Api = livekit_ureq::LiveKitApi;

const WEBHOOK_PORT: u16 = 7896;

const TRANSPORT: &str = "ureq";

/// The transport the edge tests configure, through its public builder.
type Transport = livekit_ureq::UreqTransport;

/// What nginx logs for this transport's calls over TLS.
const PROTOCOL: &str = "HTTP/1.1";

fn build_transport(options: &EdgeOptions) -> Result<Transport, livekit_core::Error> {
    let mut builder = Transport::builder();
    if options.ca {
        #[cfg(feature = "rustls")]
        {
            builder = builder.root_certificates_pem(&ca_pem())?;
        }
        #[cfg(not(feature = "rustls"))]
        panic!("the TLS tests need the rustls feature");
    }
    match &options.proxy {
        ProxyChoice::Environment => {}
        ProxyChoice::Direct => builder = builder.without_proxy(),
        ProxyChoice::Explicit { url, no_proxy } => {
            builder = builder.proxy(url)?;
            if let Some(hosts) = no_proxy {
                builder = builder.no_proxy(hosts);
            }
        }
    }
    Ok(builder.build())
}

macro_rules! call {
    ($call:expr) => {
        $call
    };
}

macro_rules! e2e_test {
    ($name:ident $body:block) => {
        #[test]
        #[ignore = "needs a LiveKit server: run by cargo xtask ci"]
        fn $name() {
            record_tracing();
            $body
            assert_nothing_secret_traced();
        }
    };
}

include!("../../livekit-core/tests/e2e_suite/mod.rs");
