//! No credential of the protocol (SIP passwords, cloud storage keys, API keys, stream keys,
//! signing keys) appears in the `Debug` output of any message, however deeply it is nested;
//! everything else still does.

use core::fmt::Debug;

use livekit_proto::*;

include!("generated/every_message.rs");

/// The sample encodings set each string field to `"<field name> é😀 \"0\""` (or `1` for the
/// second element of a repeated field), so a leaked secret shows up as its field name.
fn sample_value(field: &str) -> String {
    format!("{field} é😀")
}

fn check<M: Message + Default + Debug>(name: &str, hex: &str, checked: &mut Vec<&'static str>) {
    let message = M::decode(from_hex(hex).as_slice()).expect("the sample decodes");
    for output in [format!("{message:?}"), format!("{message:#?}")] {
        for (owner, field) in SECRET_FIELDS {
            assert!(
                !output.contains(&sample_value(field)),
                "{name}: the Debug output shows {owner}.{field}:\n{output}"
            );
        }
    }
    for (owner, field) in SECRET_FIELDS {
        if *owner == name {
            let output = format!("{message:?}");
            assert!(
                output.contains(&format!("{field}: <redacted>"))
                    || output.contains(&format!("{field}: Some(<redacted>)")),
                "{name}.{field} is not shown as redacted:\n{output}"
            );
            checked.push(owner);
        }
    }
}

macro_rules! check_all {
    ($(($message:ident, $hex:literal)),* $(,)?) => {
        #[test]
        fn no_message_prints_a_secret() {
            let mut checked = Vec::new();
            $( check::<$message>(stringify!($message), $hex, &mut checked); )*
            for (owner, field) in SECRET_FIELDS {
                assert!(checked.contains(owner), "{owner}.{field} was never checked");
            }
        }
    };
}

for_each_message!(check_all);

#[test]
fn redacted_messages_still_show_their_other_fields() {
    let trunk = SipOutboundTrunkInfo {
        sip_trunk_id: "ST_abc".into(),
        address: "sip.example.com".into(),
        transport: SipTransport::Tcp.into(),
        auth_username: "alice".into(),
        auth_password: "hunter2-the-password".into(),
        ..Default::default()
    };
    let request = CreateSipOutboundTrunkRequest { trunk: Some(trunk) };
    let output = format!("{request:?}");
    assert!(!output.contains("hunter2"), "{output}");
    for shown in [
        "ST_abc",
        "sip.example.com",
        "transport: Tcp",
        "auth_username: \"alice\"",
        "auth_password: <redacted>",
    ] {
        assert!(output.contains(shown), "{shown} missing from {output}");
    }

    // An unset secret stays visibly unset, and an enum number this version does not know
    // prints as the number.
    let update = SipOutboundTrunkUpdate {
        auth_password: None,
        transport: Some(99),
        ..Default::default()
    };
    let output = format!("{update:?}");
    assert!(output.contains("auth_password: None"), "{output}");
    assert!(output.contains("transport: Some(99)"), "{output}");
    let empty = SipInboundTrunkInfo::default();
    assert!(format!("{empty:?}").contains("auth_password: \"\""));
}
