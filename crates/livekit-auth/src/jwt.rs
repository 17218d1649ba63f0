//! The JWS compact serialization, HS256 only.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;

use crate::credentials::{self, Credentials};
use crate::grants::OutgoingPayload;
use crate::wire::{FieldsVisitor, ReadFields, WriteJson};
use crate::{Claims, Error, Segment};

/// Unpadded base64url, as JWS requires; padding is tolerated on input since some minters
/// emit it.
pub(crate) const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `{"alg":"HS256","typ":"JWT"}`, the header the reference SDK writes, already encoded.
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Serializes, encodes and signs a payload.
pub(crate) fn encode(credentials: &Credentials, payload: &OutgoingPayload<'_>) -> String {
    // Room for a typical payload; larger ones (metadata, room configuration) just grow it.
    let mut json = Vec::with_capacity(256);
    // Not `serde_json`: `WriteJson` says why.
    payload.write_json(&mut json);
    let mut token = Vec::with_capacity(
        HEADER_B64.len() + 1 + encoded_len(json.len()) + 1 + encoded_len(SIGNATURE_LEN),
    );
    token.extend_from_slice(HEADER_B64.as_bytes());
    token.push(b'.');
    append_base64url(&json, &mut token);
    let signature = credentials::sign(credentials, &token);
    token.push(b'.');
    append_base64url(&signature, &mut token);
    // Every byte pushed above is ASCII, so this cannot fail; it validates in one fast pass.
    String::from_utf8(token).unwrap_or_default()
}

/// The length of an HS256 signature.
const SIGNATURE_LEN: usize = 32;

/// The length of the unpadded base64 encoding of `len` bytes.
const fn encoded_len(len: usize) -> usize {
    len / 3 * 4 + [0, 2, 3][len % 3]
}

/// Appends unpadded base64url of `input` to `out`.
fn append_base64url(input: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + encoded_len(input.len()), 0);
    // The space is exactly the encoded length, so the engine always fits and writes all of it.
    let written = BASE64URL
        .encode_slice(input, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
}

/// A token split into its parts, its payload decoded but nothing verified yet.
pub(crate) struct Parsed<'a> {
    pub(crate) signing_input: &'a str,
    pub(crate) signature: [u8; 32],
    pub(crate) claims: Claims,
}

/// Splits and decodes a token, checking its header names HS256.
pub(crate) fn parse(token: &str, max_len: usize) -> Result<Parsed<'_>, Error> {
    if token.len() > max_len {
        return Err(Error::TokenTooLarge {
            len: token.len(),
            max: max_len,
        });
    }
    let mut parts = token.splitn(4, '.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::MalformedToken {
            segments: token.split('.').count(),
        });
    };
    if header != HEADER_B64 {
        check_header(header)?;
    }
    let signing_input = &token[..header.len() + 1 + payload.len()];

    let mut signature_bytes = [0u8; 32];
    match BASE64URL.decode_slice(signature, &mut signature_bytes) {
        Ok(32) => {}
        // A wrong length is a wrong signature, not an encoding problem.
        Ok(_) | Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            return Err(Error::InvalidSignature);
        }
        Err(base64::DecodeSliceError::DecodeError(_)) => {
            return Err(Error::InvalidBase64(Segment::Signature));
        }
    }

    let json = decode_segment(payload, Segment::Payload)?;
    // One validation pass over the whole payload, then a parser that need not re-check
    // every string it borrows: measurably faster than `from_slice`.
    let json = core::str::from_utf8(&json).map_err(|error| Error::InvalidJson {
        segment: Segment::Payload,
        detail: alloc::format!("{error}"),
    })?;
    let claims = serde_json::from_str::<Claims>(json).map_err(|error| Error::InvalidJson {
        segment: Segment::Payload,
        detail: alloc::format!("{error}"),
    })?;
    Ok(Parsed {
        signing_input,
        signature: signature_bytes,
        claims,
    })
}

fn decode_segment(segment_text: &str, segment: Segment) -> Result<Vec<u8>, Error> {
    BASE64URL
        .decode(segment_text)
        .map_err(|_| Error::InvalidBase64(segment))
}

/// Accepts only headers that name HS256.
fn check_header(header: &str) -> Result<(), Error> {
    let json = decode_segment(header, Segment::Header)?;
    let parsed = serde_json::from_slice::<Header>(&json).map_err(|error| Error::InvalidJson {
        segment: Segment::Header,
        detail: alloc::format!("{error}"),
    })?;
    match parsed.alg.as_deref() {
        Some("HS256") => Ok(()),
        Some(other) => Err(Error::UnsupportedAlgorithm(String::from(other))),
        None => Err(Error::UnsupportedAlgorithm(String::new())),
    }
}

/// The one header field that matters here.
#[derive(Default)]
struct Header {
    alg: Option<String>,
}

impl ReadFields for Header {
    fn read_field<'de, A: serde::de::MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        if key != "alg" {
            return Ok(false);
        }
        self.alg = map.next_value()?;
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FieldsVisitor(core::marker::PhantomData, "jose header"))
    }
}
