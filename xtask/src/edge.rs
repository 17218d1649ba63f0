//! The end-to-end tier's deployment edge: what stands between a production client and a
//! LiveKit server. Inside the tier's network namespace, on loopback only:
//!
//! - a CA and server certificates made for the run with the openssl CLI (never checked in);
//! - nginx (Debian's `nginx-light`) terminating TLS, with HTTP/2 offered by ALPN, in front of
//!   the real server, run from its own config and prefix in a scratch directory (not the
//!   system service), logging each request's port, protocol, connection number and tag;
//! - tinyproxy, an HTTP proxy with basic authentication, logging each `CONNECT`.
//!
//! The tests learn where everything is from the environment [`Edge::env`] returns.

use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Result, run};

/// nginx's ports. Each test that counts lines in a log has a port of its own.
const HTTPS_PORT: u16 = 7900;
/// A certificate for another name than `localhost`.
const WRONG_NAME_PORT: u16 = 7901;
/// A gateway that answers 401 without the right `X-Gateway-Key`.
const GATEWAY_PORT: u16 = 7902;
/// Reached only through the proxy the environment names.
const ENV_PROXY_PORT: u16 = 7903;
/// Reached only through an explicitly configured proxy.
const EXPLICIT_PROXY_PORT: u16 = 7904;
/// Reached only with the proxy bypassed (`no_proxy`): the proxy log must never name it.
const BYPASS_PORT: u16 = 7905;
/// A certificate for the address 127.0.0.1, which NO_PROXY exempts from the proxy: the proxy
/// log must never name it either.
const ADDRESS_PORT: u16 = 7906;
/// tinyproxy's port.
const PROXY_PORT: u16 = 7910;

/// The gateway's key, and the proxy's user and password. Test values, but treated as secrets:
/// the suites check that the password is never traced.
const GATEWAY_KEY: &str = "e2e-gateway-key-8c2f";
const PROXY_USER: &str = "e2eproxy";
const PROXY_PASSWORD: &str = "e2e-proxy-password-6b1d93";

const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// nginx and tinyproxy, running; [`Edge::stop`] (or dropping it) stops both.
pub(crate) struct Edge {
    dir: PathBuf,
    processes: Vec<(&'static str, Child)>,
}

impl Edge {
    /// Makes the certificates and configs in a scratch directory, starts nginx in front of
    /// `upstream_port` and tinyproxy, and waits until both listen.
    pub(crate) fn start(upstream_port: u16) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("livekit-rs-e2e-edge-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)
                .map_err(|error| format!("cannot clear {}: {error}", dir.display()))?;
        }
        fs::create_dir_all(dir.join("nginx"))
            .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
        make_certificates(&dir)?;
        let mut edge = Self {
            dir,
            processes: Vec::new(),
        };
        edge.start_nginx(upstream_port)?;
        edge.start_tinyproxy()?;
        eprintln!(
            "edge: nginx (TLS, HTTP/2) on 127.0.0.1:{HTTPS_PORT}-{BYPASS_PORT}, tinyproxy on \
             127.0.0.1:{PROXY_PORT}, files in {}",
            edge.dir.display()
        );
        Ok(edge)
    }

    /// What the tests read. `HTTPS_PROXY` and `NO_PROXY` are the standard variables: every
    /// `https` call that does not choose otherwise goes through the proxy, and the plain
    /// `http` server on 127.0.0.1 is exempt.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        let https = |port: u16| format!("https://localhost:{port}");
        let proxy = format!("http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{PROXY_PORT}");
        vec![
            ("LIVEKIT_E2E_HTTPS_URL", https(HTTPS_PORT)),
            (
                "LIVEKIT_E2E_CA_FILE",
                self.dir.join("ca.pem").display().to_string(),
            ),
            ("LIVEKIT_E2E_WRONG_NAME_URL", https(WRONG_NAME_PORT)),
            ("LIVEKIT_E2E_GATEWAY_URL", https(GATEWAY_PORT)),
            ("LIVEKIT_E2E_GATEWAY_KEY", GATEWAY_KEY.to_owned()),
            ("LIVEKIT_E2E_ENV_PROXY_URL", https(ENV_PROXY_PORT)),
            ("LIVEKIT_E2E_EXPLICIT_PROXY_URL", https(EXPLICIT_PROXY_PORT)),
            ("LIVEKIT_E2E_BYPASS_URL", https(BYPASS_PORT)),
            (
                "LIVEKIT_E2E_NO_PROXY_URL",
                format!("https://127.0.0.1:{ADDRESS_PORT}"),
            ),
            ("LIVEKIT_E2E_PROXY", proxy.clone()),
            ("LIVEKIT_E2E_PROXY_PASSWORD", PROXY_PASSWORD.to_owned()),
            (
                "LIVEKIT_E2E_NGINX_LOG",
                self.dir
                    .join("nginx")
                    .join("access.log")
                    .display()
                    .to_string(),
            ),
            (
                "LIVEKIT_E2E_PROXY_LOG",
                self.dir.join("tinyproxy.log").display().to_string(),
            ),
            ("HTTPS_PROXY", proxy),
            ("NO_PROXY", "127.0.0.1".to_owned()),
        ]
    }

    fn start_nginx(&mut self, upstream_port: u16) -> Result {
        let prefix = self.dir.join("nginx");
        let config = prefix.join("nginx.conf");
        write(&config, &nginx_config(&self.dir, upstream_port))?;
        let child = spawn(
            Command::new(program("nginx"))
                .arg("-p")
                .arg(&prefix)
                .arg("-c")
                .arg(&config)
                // Before the config is read, nginx logs to its compiled-in path otherwise.
                .arg("-e")
                .arg(prefix.join("error.log")),
            "nginx",
            &self.dir,
            "nginx is needed: apt-get install nginx-light",
        )?;
        self.processes.push(("nginx", child));
        for port in [
            HTTPS_PORT,
            WRONG_NAME_PORT,
            GATEWAY_PORT,
            ENV_PROXY_PORT,
            EXPLICIT_PROXY_PORT,
            BYPASS_PORT,
            ADDRESS_PORT,
        ] {
            self.wait_for_port("nginx", port)?;
        }
        Ok(())
    }

    fn start_tinyproxy(&mut self) -> Result {
        let config = self.dir.join("tinyproxy.conf");
        write(&config, &tinyproxy_config(&self.dir))?;
        let child = spawn(
            Command::new(program("tinyproxy"))
                .arg("-d")
                .arg("-c")
                .arg(&config),
            "tinyproxy",
            &self.dir,
            "tinyproxy is needed: apt-get install tinyproxy",
        )?;
        self.processes.push(("tinyproxy", child));
        self.wait_for_port("tinyproxy", PROXY_PORT)
    }

    /// Waits until 127.0.0.1:`port` accepts, failing early with the log if `name` exits.
    fn wait_for_port(&mut self, name: &str, port: u16) -> Result {
        let started = Instant::now();
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok() {
                return Ok(());
            }
            let exited = self
                .processes
                .iter_mut()
                .find(|(process, _)| *process == name)
                .and_then(|(_, child)| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                return Err(format!(
                    "{name} exited ({status}) before listening on {port}\n{}",
                    self.log(name)
                ));
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "{name} does not listen on {port} after {} s\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.log(name)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self, name: &str) -> String {
        let path = self.dir.join(format!("{name}.out"));
        let mut text = fs::read_to_string(&path).unwrap_or_default();
        if name == "nginx" {
            text.push_str(
                &fs::read_to_string(self.dir.join("nginx").join("error.log")).unwrap_or_default(),
            );
        }
        format!("output of {name}:\n{text}")
    }

    /// Stops both (SIGTERM, then SIGKILL after 5 s) and removes the scratch directory.
    pub(crate) fn stop(mut self) -> Result {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result {
        let mut outcome = Ok(());
        for (name, mut child) in self.processes.drain(..).rev() {
            if let Err(error) = terminate(name, &mut child) {
                outcome = Err(error);
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
        outcome
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown() {
            eprintln!("edge: {error}");
        }
    }
}

/// `name` on PATH, else Debian's `/usr/sbin/<name>` (PATH may leave `/usr/sbin` out).
fn program(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| Path::new("/usr/sbin").join(name))
}

fn spawn(command: &mut Command, name: &str, dir: &Path, missing: &str) -> Result<Child> {
    let out = dir.join(format!("{name}.out"));
    let log = fs::File::create(&out)
        .map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    let log_for_stderr = log
        .try_clone()
        .map_err(|error| format!("cannot reopen {}: {error}", out.display()))?;
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_for_stderr);
    command
        .spawn()
        .map_err(|error| format!("cannot start {name}: {error} ({missing})"))
}

fn terminate(name: &str, child: &mut Child) -> Result {
    if child.try_wait().ok().flatten().is_some() {
        return Ok(());
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if child.try_wait().ok().flatten().is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("edge: {name} outlived SIGTERM by 5 s, killing it");
    child
        .kill()
        .and_then(|()| child.wait().map(drop))
        .map_err(|error| format!("cannot stop {name}: {error}"))
}

fn write(path: &Path, text: &str) -> Result {
    fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// A CA and server certificates signed by it, for `localhost`, for `wrong.example` and for
/// the address 127.0.0.1: EC P-256, valid for two days.
fn make_certificates(dir: &Path) -> Result {
    let openssl = |args: &[&str]| {
        run(Command::new("openssl").args(args).current_dir(dir)).map_err(|error| {
            format!("{error} (the openssl CLI is needed: apt-get install openssl)")
        })
    };
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=livekit-rs e2e test CA",
    ];
    ca.extend(new_key);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&ca)?;
    for (serial, (name, alternative_name)) in [
        ("server", "DNS:localhost"),
        ("wrong", "DNS:wrong.example"),
        ("address", "IP:127.0.0.1"),
    ]
    .into_iter()
    .enumerate()
    {
        let (key, request, certificate, extensions) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        write(
            &dir.join(&extensions),
            &format!(
                "subjectAltName={alternative_name}\nbasicConstraints=CA:FALSE\n\
                 keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            ),
        )?;
        let common_name = alternative_name
            .split_once(':')
            .map_or("", |(_, name)| name);
        let subject = format!("/CN={common_name}");
        let serial = (serial + 2).to_string();
        let mut csr = vec!["req", "-subj", &subject];
        csr.extend(new_key);
        csr.extend(["-keyout", &key, "-out", &request]);
        openssl(&csr)?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            &request,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            &serial,
            "-days",
            "2",
            "-extfile",
            &extensions,
            "-out",
            &certificate,
        ])?;
    }
    Ok(())
}

fn nginx_config(dir: &Path, upstream_port: u16) -> String {
    let dir = dir.display();
    let mut config = format!(
        "# Written by cargo xtask e2e for one run.
daemon off;
worker_processes 1;
# Root in the tier's namespace (possibly a user namespace mapping only root): stay root.
user root root;
pid {dir}/nginx/nginx.pid;
error_log {dir}/nginx/error.log info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {dir}/nginx/client_body;
    proxy_temp_path {dir}/nginx/proxy;
    fastcgi_temp_path {dir}/nginx/fastcgi;
    uwsgi_temp_path {dir}/nginx/uwsgi;
    scgi_temp_path {dir}/nginx/scgi;
    log_format edge 'port=$server_port protocol=$server_protocol connection=$connection '
                    'requests=$connection_requests tag=\"$http_x_e2e_tag\" status=$status';
    access_log {dir}/nginx/access.log edge;
    proxy_http_version 1.1;
    proxy_set_header Connection \"\";
    proxy_read_timeout 60s;
"
    );
    let tls = |certificate: &str| {
        format!(
            "        ssl_certificate {dir}/{certificate}.pem;
        ssl_certificate_key {dir}/{certificate}.key;
"
        )
    };
    let listen = |ports: &[u16]| {
        ports.iter().fold(String::new(), |mut text, port| {
            let _ = writeln!(text, "        listen 127.0.0.1:{port} ssl http2;");
            text
        })
    };
    let upstream = format!("proxy_pass http://127.0.0.1:{upstream_port};");
    let _ = write!(
        config,
        "    server {{
{}{}        location / {{ {upstream} }}
    }}
    server {{
{}{}        location / {{ {upstream} }}
    }}
    server {{
{}{}        location / {{ {upstream} }}
    }}
    server {{
{}{}        location / {{
            if ($http_x_gateway_key != \"{GATEWAY_KEY}\") {{ return 401 \"gateway key missing\\n\"; }}
            {upstream}
        }}
    }}
}}
",
        listen(&[
            HTTPS_PORT,
            ENV_PROXY_PORT,
            EXPLICIT_PROXY_PORT,
            BYPASS_PORT
        ]),
        tls("server"),
        listen(&[WRONG_NAME_PORT]),
        tls("wrong"),
        listen(&[ADDRESS_PORT]),
        tls("address"),
        listen(&[GATEWAY_PORT]),
        tls("server"),
    );
    config
}

fn tinyproxy_config(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "# Written by cargo xtask e2e for one run.
Port {PROXY_PORT}
Listen 127.0.0.1
Timeout 60
MaxClients 32
LogFile \"{dir}/tinyproxy.log\"
LogLevel Info
PidFile \"{dir}/tinyproxy.pid\"
Allow 127.0.0.1
BasicAuth {PROXY_USER} {PROXY_PASSWORD}
"
    )
}
