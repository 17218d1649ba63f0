// Production shapes, end to end: the real server behind nginx (TLS with a CA made for the run,
// HTTP/2 by ALPN, a gateway that wants a header) and tinyproxy (an HTTP proxy with basic
// authentication), all started by `cargo xtask e2e` on loopback in its namespace (see
// xtask/src/edge.rs, which sets the LIVEKIT_E2E_* variables read here, HTTPS_PROXY and
// NO_PROXY).
//
// A transport's `tests/e2e.rs` also defines, for these tests:
// - `type Transport` and `fn build_transport(&EdgeOptions) -> Result<Transport, Error>`,
//   through the transport's public builder;
// - `const PROTOCOL: &str`: the protocol nginx logs for it over TLS ("HTTP/2.0" where the
//   transport speaks HTTP/2).

/// How a test's transport is set up.
#[derive(Default)]
struct EdgeOptions {
    /// Trust the run's CA (only).
    ca: bool,
    proxy: ProxyChoice,
}

#[derive(Default)]
enum ProxyChoice {
    /// Whatever HTTPS_PROXY / NO_PROXY say (the transports' default).
    #[default]
    Environment,
    /// Never a proxy.
    Direct,
    /// This proxy URL, bypassed for these hosts.
    Explicit { url: String, no_proxy: Option<String> },
}

impl EdgeOptions {
    fn trusting_the_ca() -> Self {
        Self { ca: true, proxy: ProxyChoice::Environment }
    }

    fn direct(mut self) -> Self {
        self.proxy = ProxyChoice::Direct;
        self
    }

    fn through(mut self, url: &str, no_proxy: Option<&str>) -> Self {
        self.proxy = ProxyChoice::Explicit {
            url: url.to_owned(),
            no_proxy: no_proxy.map(str::to_owned),
        };
        self
    }
}

fn edge_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} must be set: the edge tests run under cargo xtask e2e, which starts nginx and tinyproxy")
    })
}

// Unused by a transport built without TLS, whose TLS tests panic.
#[cfg_attr(not(feature = "rustls"), allow(dead_code))]
fn ca_pem() -> Vec<u8> {
    let path = edge_var("LIVEKIT_E2E_CA_FILE");
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

/// A client for `url` on a transport set up as `options` say, with `client_options`.
fn edge_api(
    url: &str,
    options: &EdgeOptions,
    client_options: livekit_core::ClientOptions,
) -> Result<Api, Error> {
    let client = livekit_core::Client::new(url, Credentials::new(key(), secret()).unwrap())?
        .with_options(client_options)?;
    Api::from_parts(client, build_transport(options)?)
}

/// A per-call header that tags the call's requests in nginx's access log.
fn tagged(tag: &str) -> CallOptions {
    CallOptions::default().with_header(
        http::HeaderName::from_static("x-e2e-tag"),
        http::HeaderValue::from_str(tag).unwrap(),
    )
}

/// One request as nginx logged it.
#[derive(Debug)]
struct Logged {
    port: u16,
    protocol: String,
    connection: u64,
    status: u16,
}

/// The requests nginx logged with `tag`, once there are `expected` of them (or 10 s passed).
/// nginx writes a request's line after the response has gone out, so a client can finish a
/// call before its line exists.
fn nginx_log(tag: &str, expected: usize) -> Vec<Logged> {
    let started = Instant::now();
    loop {
        let logged = nginx_log_now(tag);
        if logged.len() >= expected || started.elapsed() > Duration::from_secs(10) {
            return logged;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The requests nginx has logged with `tag` so far.
fn nginx_log_now(tag: &str) -> Vec<Logged> {
    let path = edge_var("LIVEKIT_E2E_NGINX_LOG");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    text.lines()
        .filter(|line| line.contains(&format!("tag=\"{tag}\"")))
        .map(|line| {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|word| word.strip_prefix(&format!("{name}=")))
                    .unwrap_or_else(|| panic!("no {name} in {line}"))
                    .to_owned()
            };
            Logged {
                port: field("port").parse().unwrap(),
                protocol: field("protocol"),
                connection: field("connection").parse().unwrap(),
                status: field("status").parse().unwrap(),
            }
        })
        .collect()
}

/// The end of nginx's access log, for failure messages.
fn nginx_log_tail() -> String {
    let text = std::fs::read_to_string(edge_var("LIVEKIT_E2E_NGINX_LOG")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// How many tunnels tinyproxy opened to `host_port`.
fn proxy_tunnels_to(host_port: &str) -> usize {
    let path = edge_var("LIVEKIT_E2E_PROXY_LOG");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    text.lines()
        .filter(|line| line.contains(&format!("CONNECT {host_port} ")))
        .count()
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

fn transport_error(error: &Error) -> &livekit_core::TransportError {
    match error {
        Error::Transport(transport) => transport,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

e2e_test!(every_service_answers_over_https_with_the_test_ca {
    // wss:// is what LiveKit's dashboards hand out: it must mean https.
    let https = edge_var("LIVEKIT_E2E_HTTPS_URL");
    let url = https.replacen("https://", "wss://", 1);
    let api = edge_api(&url, &EdgeOptions::trusting_the_ca().direct(), Default::default()).unwrap();
    let tag = unique("tls");
    let options = tagged(&tag);
    let room = unique("tls-room");
    let created = call!(api.room().with_options(options.clone()).create_room(proto::CreateRoomRequest {
        name: room.clone(),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(created.name, room);
    call!(api.room().with_options(options.clone()).list_participants(proto::ListParticipantsRequest {
        room: room.clone(),
    }))
    .unwrap();
    call!(api.agent_dispatch().with_options(options.clone()).list_dispatch(proto::ListAgentDispatchRequest {
        room: room.clone(),
        ..Default::default()
    }))
    .unwrap();
    call!(api.sip().with_options(options.clone()).list_sip_inbound_trunk(Default::default())).unwrap();
    call!(api.ingress().with_options(options.clone()).list_ingress(Default::default())).unwrap();
    call!(api.egress().with_options(options.clone()).list_egress(Default::default())).unwrap();
    call!(api.room().with_options(options.clone()).delete_room(proto::DeleteRoomRequest { room })).unwrap();

    let logged = nginx_log(&tag, 7);
    assert_eq!(logged.len(), 7, "{logged:?}");
    for request in &logged {
        assert_eq!(request.port, port_of(&https), "{request:?}");
        assert_eq!(request.protocol, PROTOCOL, "{request:?}");
        assert_eq!(request.status, 200, "{request:?}");
    }
    // Sequential calls reuse the pooled TLS connection.
    assert!(logged.iter().all(|request| request.connection == logged[0].connection), "{logged:?}");
});

e2e_test!(the_default_roots_refuse_the_test_ca_naming_the_host {
    let url = edge_var("LIVEKIT_E2E_HTTPS_URL");
    let api = Api::new(&url, key(), secret()).unwrap();
    let error = call!(api.room().list_rooms(Default::default())).unwrap_err();
    let transport = transport_error(&error);
    assert_eq!(transport.kind, TransportErrorKind::Tls, "{error}");
    assert!(!transport.request_sent, "{error}");
    let message = error.to_string();
    assert!(message.contains(url.trim_start_matches("https://")), "{message}");
    assert!(message.to_lowercase().contains("certificate"), "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
});

e2e_test!(a_certificate_for_another_name_is_refused {
    let https = edge_var("LIVEKIT_E2E_HTTPS_URL");
    let by_address = https.replacen("localhost", "127.0.0.1", 1);
    let wrong_name = edge_var("LIVEKIT_E2E_WRONG_NAME_URL");
    for url in [by_address, wrong_name] {
        let api = edge_api(&url, &EdgeOptions::trusting_the_ca().direct(), Default::default()).unwrap();
        let error = call!(api.room().list_rooms(Default::default())).unwrap_err();
        assert_eq!(transport_error(&error).kind, TransportErrorKind::Tls, "{error}");
        let message = error.to_string();
        assert!(message.contains(url.trim_start_matches("https://")), "{message}");
        assert!(message.contains("NotValidForName") || message.contains("not valid for name"), "{message}");
    }
});

e2e_test!(a_gateway_gets_its_header_from_the_client_or_the_call {
    let url = edge_var("LIVEKIT_E2E_GATEWAY_URL");
    let gateway_key = edge_var("LIVEKIT_E2E_GATEWAY_KEY");
    let options = EdgeOptions::trusting_the_ca().direct();
    let header = || {
        (
            http::HeaderName::from_static("x-gateway-key"),
            http::HeaderValue::from_str(&gateway_key).unwrap(),
        )
    };

    let bare = edge_api(&url, &options, Default::default()).unwrap();
    let error = call!(bare.room().list_rooms(Default::default())).unwrap_err();
    match &error {
        Error::Server(server) => {
            assert_eq!(server.status, 401, "{error}");
            assert!(server.message.contains("gateway key missing"), "{error:?}");
        }
        other => panic!("expected the gateway's 401, got {other:?}"),
    }

    let (name, value) = header();
    let client_wide = livekit_core::ClientOptions::default().with_header(name, value);
    let api = edge_api(&url, &options, client_wide).unwrap();
    let tag = unique("gateway-client");
    call!(api.room().with_options(tagged(&tag)).list_rooms(Default::default())).unwrap();
    assert_eq!(nginx_log(&tag, 1).len(), 1, "{}", nginx_log_tail());

    let (name, value) = header();
    let tag = unique("gateway-call");
    call!(bare.room().with_options(tagged(&tag).with_header(name, value)).list_rooms(Default::default()))
        .unwrap();
    let logged = nginx_log(&tag, 1);
    assert_eq!(logged.len(), 1, "{logged:?} in\n{}", nginx_log_tail());
    assert_eq!(logged[0].status, 200);
});

e2e_test!(https_goes_through_the_proxy_the_environment_names_and_no_proxy_is_honoured {
    // Set by the tier for the whole test run: HTTPS_PROXY names tinyproxy with credentials,
    // NO_PROXY the plain-http server on 127.0.0.1 that every other test calls.
    assert!(std::env::var("HTTPS_PROXY").is_ok_and(|proxy| proxy.contains("@127.0.0.1:")));
    assert_eq!(std::env::var("NO_PROXY").as_deref(), Ok("127.0.0.1"));
    let proxied = edge_var("LIVEKIT_E2E_ENV_PROXY_URL");
    let host_port = proxied.trim_start_matches("https://").to_owned();
    let before = proxy_tunnels_to(&host_port);
    let api = edge_api(&proxied, &EdgeOptions::trusting_the_ca(), Default::default()).unwrap();
    call!(api.room().list_rooms(Default::default())).unwrap();
    assert!(proxy_tunnels_to(&host_port) > before, "no CONNECT to {host_port} in the proxy's log");

    // 127.0.0.1 is in NO_PROXY: over https (a certificate for the address) ...
    let exempt = edge_var("LIVEKIT_E2E_NO_PROXY_URL");
    let api = edge_api(&exempt, &EdgeOptions::trusting_the_ca(), Default::default()).unwrap();
    let tag = unique("no-proxy");
    call!(api.room().with_options(tagged(&tag)).list_rooms(Default::default())).unwrap();
    assert_eq!(nginx_log(&tag, 1).len(), 1);
    // tinyproxy logs a CONNECT before it opens the tunnel: had there been one, it is logged.
    assert_eq!(proxy_tunnels_to(exempt.trim_start_matches("https://")), 0);
    // ... and the plain-http server: the rest of the suite never went through.
    let plain = url();
    call!(self::api().room().list_rooms(Default::default())).unwrap();
    assert_eq!(proxy_tunnels_to(plain.trim_start_matches("http://")), 0);
});

e2e_test!(an_explicit_proxy_with_credentials_carries_the_calls_and_never_shows_them {
    let proxy = edge_var("LIVEKIT_E2E_PROXY");
    let password = edge_var("LIVEKIT_E2E_PROXY_PASSWORD");
    let url = edge_var("LIVEKIT_E2E_EXPLICIT_PROXY_URL");
    let host_port = url.trim_start_matches("https://").to_owned();
    let before = proxy_tunnels_to(&host_port);
    let options = EdgeOptions::trusting_the_ca().through(&proxy, None);
    let transport = build_transport(&options).unwrap();
    let debug = format!("{transport:?}");
    assert!(debug.contains("127.0.0.1"), "{debug}");
    assert!(!debug.contains(&password), "{debug}");
    let api = edge_api(&url, &options, Default::default()).unwrap();
    assert!(!format!("{api:?}").contains(&password));
    call!(api.room().list_rooms(Default::default())).unwrap();
    assert!(proxy_tunnels_to(&host_port) > before, "no CONNECT to {host_port} in the proxy's log");

    // A wrong password: the proxy's refusal, in an error that does not quote the password.
    let wrong = "wrong-password-a91c";
    let refused = proxy.replace(&password, wrong);
    let api = edge_api(&url, &EdgeOptions::trusting_the_ca().through(&refused, None), Default::default())
        .unwrap();
    let error = call!(api.room().list_rooms(Default::default())).unwrap_err();
    let message = format!("{error} {error:?}");
    // tinyproxy answers a wrong password with 401 (not 407): the proxy's own status.
    assert!(message.contains("401"), "{message}");
    assert_eq!(transport_error(&error).kind, TransportErrorKind::Connect, "{message}");
    assert!(!message.contains(wrong), "{message}");
    assert!(!message.contains(&password), "{message}");
});

e2e_test!(no_proxy_bypasses_an_explicit_proxy {
    let proxy = edge_var("LIVEKIT_E2E_PROXY");
    let url = edge_var("LIVEKIT_E2E_BYPASS_URL");
    let api = edge_api(
        &url,
        &EdgeOptions::trusting_the_ca().through(&proxy, Some("localhost")),
        Default::default(),
    )
    .unwrap();
    let tag = unique("bypass");
    call!(api.room().with_options(tagged(&tag)).list_rooms(Default::default())).unwrap();
    assert_eq!(nginx_log(&tag, 1).len(), 1);
    // tinyproxy logs a CONNECT before it opens the tunnel: had there been one, it is logged.
    assert_eq!(proxy_tunnels_to(url.trim_start_matches("https://")), 0);
});
