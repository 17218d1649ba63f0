//! The JWS compact serialization, HS256 only.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;

use crate::credentials::{self, Credentials};
use crate::grants::OutgoingPayload;
use crate::wire::{FieldsVisitor, ReadFields};
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

/// Base64 length of an HS256 signature (32 bytes, unpadded).
const SIGNATURE_B64_LEN: usize = 43;

/// Serializes, encodes and signs a payload.
pub(crate) fn encode(
    credentials: &Credentials,
    payload: &OutgoingPayload<'_>,
) -> Result<String, Error> {
    // Cannot fail for these types (every map key is a string), but never sign a guess.
    let json = serde_json::to_vec(payload).map_err(|error| Error::InvalidJson {
        segment: Segment::Payload,
        detail: alloc::format!("{error}"),
    })?;
    let payload_len = base64::encoded_len(json.len(), false).unwrap_or(0);
    let mut token =
        String::with_capacity(HEADER_B64.len() + 1 + payload_len + 1 + SIGNATURE_B64_LEN);
    token.push_str(HEADER_B64);
    token.push('.');
    BASE64URL.encode_string(&json, &mut token);
    let signature = credentials::sign(credentials, token.as_bytes());
    token.push('.');
    BASE64URL.encode_string(signature, &mut token);
    Ok(token)
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
    let claims = serde_json::from_slice::<Claims>(&json).map_err(|error| Error::InvalidJson {
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
