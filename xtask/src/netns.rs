//! The end-to-end tier's own network: a network namespace made for the run (`unshare --net`),
//! holding only loopback and one veth pair, so that the server's and the participants' WebRTC
//! traffic cannot reach any interface of the machine.
//!
//! WebRTC needs a host candidate on a non-loopback interface: LiveKit's Go SDK (pion) leaves
//! loopback out when it gathers and offers no setting to put it back. The veth pair gives it
//! one, with addresses from 198.18.0.0/15, the range set aside for benchmarking network
//! devices (RFC 2544), which exist only inside the namespace; it has no route anywhere else
//! and vanishes with the last process in it.

use std::fs;
use std::process::Command;

use crate::util::{Result, run};

/// The veth pair: each end's name and address.
const VETH: [(&str, &str); 2] = [("lkv0", "198.18.0.1/30"), ("lkv1", "198.18.0.2/30")];

/// Runs `program args...` in a new network namespace and waits for it. As root, `unshare
/// --net`; otherwise the same in a user namespace that maps the caller to root
/// (`--map-root-user`), where the kernel allows unprivileged user namespaces.
pub(crate) fn run_isolated(program: &std::path::Path, args: &[&str]) -> Result {
    let unshare = || {
        let mut command = Command::new("unshare");
        command.arg("--net");
        if !is_root() {
            command.arg("--map-root-user");
        }
        command.arg("--");
        command
    };
    // A trial first, so that a failure of the real run is the run's own.
    let mut trial = unshare();
    trial.arg("true");
    run(&mut trial).map_err(|error| {
        format!(
            "{error}\n(the end-to-end tier runs in a network namespace of its own, which needs \
             root or unprivileged user namespaces, and util-linux's unshare)"
        )
    })?;
    run(unshare().arg(program).args(args))
}

/// Inside a namespace made by [`run_isolated`]: brings loopback up and adds the veth pair.
/// Refuses to touch a namespace that holds anything but loopback, such as the machine's own.
pub(crate) fn set_up() -> Result {
    let interfaces = interfaces()?;
    if interfaces != ["lo"] {
        return Err(format!(
            "not in a fresh network namespace (interfaces: {}); run `cargo xtask e2e`",
            interfaces.join(", ")
        ));
    }
    let (first, second) = (VETH[0], VETH[1]);
    ip(&["link", "set", "lo", "up"])?;
    ip(&[
        "link", "add", first.0, "type", "veth", "peer", "name", second.0,
    ])?;
    for (name, address) in VETH {
        ip(&["addr", "add", address, "dev", name])?;
        ip(&["link", "set", name, "up"])?;
    }
    eprintln!(
        "netns: a network namespace of its own: lo, {} {} <-> {} {}",
        first.0, first.1, second.0, second.1
    );
    Ok(())
}

fn ip(args: &[&str]) -> Result {
    run(Command::new("ip").args(args))
        .map_err(|error| format!("{error} (iproute2's `ip` is needed: apt-get install iproute2)"))
}

/// The interfaces of this process's network namespace, from `/proc/self/net/dev`.
fn interfaces() -> Result<Vec<String>> {
    let table = fs::read_to_string("/proc/self/net/dev")
        .map_err(|error| format!("cannot read /proc/self/net/dev: {error}"))?;
    // Two header lines, then `name: counters...` per interface.
    let mut names: Vec<String> = table
        .lines()
        .skip(2)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, _)| name.trim().to_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Whether the effective user is root, from `/proc/self/status` (std cannot say).
fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}
