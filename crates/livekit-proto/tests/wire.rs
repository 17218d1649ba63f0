//! The views against prost, for every top-level message of the protocol: a view decodes
//! what prost decodes (to the same values) and refuses what prost refuses, on the full samples and on thousands of damaged copies.

use core::fmt::Debug;

use livekit_proto::view::View as _;
use livekit_proto::{HasView, Message, view};

include!("generated/every_message.rs");

/// Decodes `bytes` with prost and as a view; both must succeed with the same message, or
/// both fail.
fn agree<M>(name: &str, bytes: &[u8]) -> bool
where
    M: Message + HasView + Default + PartialEq + Debug,
{
    let prost = M::decode(bytes);
    let viewed = M::View::from_protobuf(bytes);
    match (&prost, &viewed) {
        (Ok(message), Ok(viewed)) => {
            // By encoding, so that a NaN (which is not equal to itself) compares by its bits.
            assert_eq!(
                viewed.to_message().encode_to_vec(),
                message.encode_to_vec(),
                "{name}: view of {bytes:02x?}"
            );
            true
        }
        (Err(_), Err(_)) => false,
        (Ok(message), Err(error)) => {
            panic!("{name}: prost decodes {bytes:02x?} to {message:?}, the view refuses: {error}")
        }
        (Err(error), Ok(_)) => {
            panic!("{name}: prost refuses {bytes:02x?} ({error}), the view accepts it")
        }
    }
}

/// Damaged copies of `sample`: every prefix, and at up to 200 positions the byte replaced by
/// values that change a varint's continuation, a key's wire type or a length.
fn damaged(sample: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let step = sample.len().div_ceil(200).max(1);
    let prefixes = (0..sample.len()).map(|len| sample[..len].to_vec());
    let replaced = (0..sample.len()).step_by(step).flat_map(move |at| {
        let original = sample[at];
        [
            0x00,
            0x80,
            0xff,
            0x7f,
            original ^ 0x07,
            original ^ 0x01,
            original.wrapping_add(1),
        ]
        .into_iter()
        .map(move |byte| {
            let mut copy = sample.to_vec();
            copy[at] = byte;
            copy
        })
    });
    prefixes.chain(replaced)
}

fn check<M>(name: &str, hex: &str) -> (usize, usize)
where
    M: Message + HasView + Default + PartialEq + Debug,
{
    let sample = from_hex(hex);
    let message = M::decode(sample.as_slice()).expect("the sample decodes");
    let encoded = message.encode_to_vec();

    assert!(agree::<M>(name, &sample), "{name}: the sample");
    assert!(agree::<M>(name, &encoded), "{name}: our encoding");
    let (mut accepted, mut refused) = (0, 0);
    for copy in damaged(&sample) {
        if agree::<M>(name, &copy) {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    (accepted, refused)
}

macro_rules! check_all {
    ($(($message:ident, $hex:literal)),* $(,)?) => {
        #[test]
        fn every_message_encodes_as_prost_does_and_views_decode_as_prost_does() {
            let (mut messages, mut accepted, mut refused) = (0, 0, 0);
            $(
                let (ok, err) = check::<livekit_proto::$message>(stringify!($message), $hex);
                messages += 1;
                accepted += ok;
                refused += err;
            )*
            assert!(messages > 150, "only {messages} messages");
            // Both outcomes are exercised in bulk, so neither side of the agreement is vacuous.
            assert!(accepted > 10_000 && refused > 10_000, "{accepted} accepted, {refused} refused");
        }
    };
}

for_each_message!(check_all);

fn participant_hex(info: &livekit_proto::ParticipantInfo) -> Vec<u8> {
    info.encode_to_vec()
}

/// Hand-made encodings for the rules a sample does not reach.
#[test]
fn edge_cases_agree_with_prost() {
    use livekit_proto::{ParticipantInfo, ParticipantPermission};
    type P = ParticipantInfo;
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        // A singular message twice: the second merges into the first.
        (
            "merged permission",
            [
                participant_hex(&P {
                    permission: Some(ParticipantPermission {
                        can_publish: true,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                participant_hex(&P {
                    permission: Some(ParticipantPermission {
                        can_subscribe: true,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            ]
            .concat(),
            true,
        ),
        // A string field twice: the last wins.
        (
            "identity twice",
            vec![0x12, 0x01, b'a', 0x12, 0x01, b'b'],
            true,
        ),
        // A map key twice: the last value wins.
        (
            "attributes twice",
            vec![
                0x7a, 0x06, 0x0a, 0x01, b'k', 0x12, 0x01, b'1', 0x7a, 0x06, 0x0a, 0x01, b'k', 0x12,
                0x01, b'2',
            ],
            true,
        ),
        // A map entry whose key and value are missing, or an unknown field inside it.
        ("empty entry", vec![0x7a, 0x00], true),
        (
            "entry with unknown field",
            vec![0x7a, 0x02, 0x18, 0x01],
            true,
        ),
        // An enum number this version does not know; a negative one (ten bytes).
        ("unknown state", vec![0x18, 0x63], true),
        (
            "negative state",
            vec![
                0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            true,
        ),
        // A ten-byte varint whose last byte overflows.
        (
            "overflowing varint",
            vec![
                0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
            ],
            false,
        ),
        (
            "eleven-byte varint",
            vec![
                0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x01,
            ],
            false,
        ),
        // Unknown fields of every wire type, and a group holding a group.
        (
            "unknown fields",
            vec![
                0xf8, 0x07, 0x01, 0xf9, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 0xfa, 0x07, 0x01, 0x00, 0xfd,
                0x07, 1, 2, 3, 4,
            ],
            true,
        ),
        (
            "nested groups",
            vec![0xfb, 0x07, 0x0b, 0x08, 0x01, 0x0c, 0xfc, 0x07],
            true,
        ),
        (
            "group ends with another number",
            vec![0xfb, 0x07, 0x0c],
            false,
        ),
        ("end group without start", vec![0xfc, 0x07], false),
        // A known field with the wrong wire type; wire types 6 and 7; field number 0.
        ("identity as varint", vec![0x10, 0x01], false),
        ("wire type 6", vec![0x16], false),
        ("field 0", vec![0x00, 0x01], false),
        // A string that is not UTF-8; a length past the end.
        ("invalid UTF-8", vec![0x12, 0x02, 0xc3, 0x28], false),
        ("length past the end", vec![0x12, 0x05, b'a'], false),
        // Repeated enum fields, packed and not.
        (
            "kind details packed",
            vec![0x92, 0x01, 0x02, 0x01, 0x02],
            true,
        ),
        (
            "kind details unpacked",
            vec![0x90, 0x01, 0x01, 0x90, 0x01, 0x02],
            true,
        ),
        (
            "kind details packed, truncated",
            vec![0x92, 0x01, 0x02, 0x01, 0x80],
            false,
        ),
    ];
    for (name, bytes, accepted) in &cases {
        assert_eq!(
            agree::<P>(name, bytes),
            *accepted,
            "{name}: expected accepted = {accepted}"
        );
    }

    // Groups nested past prost's limit of 100 are refused by both; up to it both accept.
    for (depth, accepted) in [(99, true), (100, true), (101, false)] {
        let mut bytes = Vec::new();
        for _ in 0..depth {
            bytes.extend([0xfb, 0x07]);
        }
        for _ in 0..depth {
            bytes.extend([0xfc, 0x07]);
        }
        assert_eq!(
            agree::<P>("deep groups", &bytes),
            accepted,
            "groups {depth} deep"
        );
    }
}

/// Views borrow: the decoded strings point into the buffer.
#[test]
fn views_borrow_from_the_buffer() {
    let info = livekit_proto::ParticipantInfo {
        identity: "alice".into(),
        attributes: [("team".to_owned(), "blue".to_owned())].into(),
        ..Default::default()
    };
    let bytes = info.encode_to_vec();
    let viewed = view::ParticipantInfo::from_protobuf(&bytes).expect("decodes");
    let range = bytes.as_ptr_range();
    assert!(range.contains(&viewed.identity.as_ptr()));
    assert_eq!(viewed.attributes.get("team"), Some(&"blue"));
    assert_eq!(viewed.attributes.get("missing"), None);
    assert_eq!(livekit_proto::ParticipantInfo::from(&viewed), info);
}

/// A view prints as its owned message does; credentials are redacted.
#[test]
fn views_redact_secrets_in_debug() {
    let info = livekit_proto::ParticipantInfo {
        identity: "alice".into(),
        state: 99,
        ..Default::default()
    };
    let bytes = info.encode_to_vec();
    let viewed = view::ParticipantInfo::from_protobuf(&bytes).expect("decodes");
    assert_eq!(format!("{viewed:?}"), format!("{info:?}"));

    let trunk = livekit_proto::SipOutboundTrunkInfo {
        auth_password: "hunter2-sip".into(),
        ..Default::default()
    };
    let bytes = trunk.encode_to_vec();
    let viewed = view::SipOutboundTrunkInfo::from_protobuf(&bytes).expect("decodes");
    let printed = format!("{viewed:?}");
    assert!(!printed.contains("hunter2-sip"), "{printed}");
    assert!(printed.contains("<redacted>"), "{printed}");
    assert_eq!(printed, format!("{trunk:?}"));
}
