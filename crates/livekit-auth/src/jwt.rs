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

/// Serializes, encodes and signs a payload, in one buffer.
///
/// The JSON is written past the place its encoding will occupy and encoded in place, so a
/// mint costs one allocation.
pub(crate) fn encode(credentials: &Credentials, payload: &OutgoingPayload<'_>) -> String {
    const PREFIX: usize = HEADER_B64.len() + 1;
    let mut token = Vec::with_capacity(512);
    token.extend_from_slice(HEADER_B64.as_bytes());
    token.push(b'.');
    payload.write_json(&mut token);
    let json_len = token.len() - PREFIX;
    let encoded_len = encoded_len(json_len);
    // Shift the JSON right by the growth of its encoding, so the encoder, which writes
    // 4 bytes for every 3 it reads, never overwrites bytes it has yet to read.
    let shift = encoded_len - json_len;
    token.resize(PREFIX + encoded_len, 0);
    token.copy_within(PREFIX..PREFIX + json_len, PREFIX + shift);
    encode_base64url_within(&mut token, PREFIX + shift, json_len, PREFIX);
    let signature = credentials::sign(credentials, &token);
    token.push(b'.');
    encode_base64url(&signature, &mut token);
    // Every byte pushed above is ASCII, so this cannot fail; it validates in one fast pass.
    String::from_utf8(token).unwrap_or_default()
}

/// The length of the unpadded base64 encoding of `len` bytes.
const fn encoded_len(len: usize) -> usize {
    len / 3 * 4 + [0, 2, 3][len % 3]
}

const BASE64URL_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Every 12-bit value as its two base64url characters, as a little-endian `u16`: half the
/// lookups of a 6-bit table, and one 4-byte store per 3 input bytes.
static BASE64URL_PAIRS: [u16; 4096] = {
    let mut table = [0u16; 4096];
    let mut index = 0;
    while index < 4096 {
        table[index] = u16::from_le_bytes([
            BASE64URL_ALPHABET[index >> 6],
            BASE64URL_ALPHABET[index & 63],
        ]);
        index += 1;
    }
    table
};

/// Appends unpadded base64url of `input` to `out`.
pub(crate) fn encode_base64url(input: &[u8], out: &mut Vec<u8>) {
    let source = out.len();
    out.extend_from_slice(input);
    let encoded = encoded_len(input.len());
    let shift = encoded - input.len();
    out.resize(source + encoded, 0);
    out.copy_within(source..source + input.len(), source + shift);
    encode_base64url_within(out, source + shift, input.len(), source);
}

/// Encodes the `len` bytes at `buffer[source..]` as unpadded base64url into
/// `buffer[target..]`. The minting hot path, about twice as fast as the general-purpose
/// engine on token-sized input and checked against it in tests.
///
/// `target + encoded_len(len)` must fit in the buffer, and `source - target` must be at least
/// `encoded_len(len) - len`: the encoding then never overtakes the bytes still to be read,
/// since each step copies its input window before writing.
fn encode_base64url_within(buffer: &mut [u8], source: usize, len: usize, target: usize) {
    // Six input bytes at a time from one 8-byte load: four 12-bit lookups, one 8-byte store.
    // Block k reads bytes 6k..6k+8, so the last block must end within the input.
    let blocks = if len >= 8 { (len - 2) / 6 } else { 0 };
    for block in 0..blocks {
        let from = source + block * 6;
        let mut window = [0u8; 8];
        window.copy_from_slice(&buffer[from..from + 8]);
        let word = u64::from_be_bytes(window);
        let pair = |shift: u32| u64::from(BASE64URL_PAIRS[((word >> shift) & 0xfff) as usize]);
        let quad = pair(52) | (pair(40) << 16) | (pair(28) << 32) | (pair(16) << 48);
        let to = target + block * 8;
        buffer[to..to + 8].copy_from_slice(&quad.to_le_bytes());
    }
    let (mut from, mut to) = (source + blocks * 6, target + blocks * 8);
    let end = source + len;
    while from + 3 <= end {
        let bits = (usize::from(buffer[from]) << 16)
            | (usize::from(buffer[from + 1]) << 8)
            | usize::from(buffer[from + 2]);
        let quad = u32::from(BASE64URL_PAIRS[bits >> 12])
            | (u32::from(BASE64URL_PAIRS[bits & 0xfff]) << 16);
        buffer[to..to + 4].copy_from_slice(&quad.to_le_bytes());
        from += 3;
        to += 4;
    }
    match end - from {
        1 => {
            let pair = BASE64URL_PAIRS[usize::from(buffer[from]) << 4].to_le_bytes();
            buffer[to..to + 2].copy_from_slice(&pair);
        }
        2 => {
            let bits = (usize::from(buffer[from]) << 10) | (usize::from(buffer[from + 1]) << 2);
            let pair = BASE64URL_PAIRS[bits >> 6].to_le_bytes();
            buffer[to..to + 2].copy_from_slice(&pair);
            buffer[to + 2] = BASE64URL_ALPHABET[bits & 63];
        }
        _ => {}
    }
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

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use base64::Engine as _;

    use super::encode_base64url;

    #[test]
    fn base64url_matches_the_reference_engine_at_every_length() {
        let input: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..input.len() {
            let mut ours = Vec::new();
            encode_base64url(&input[..len], &mut ours);
            let reference = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&input[..len]);
            assert_eq!(ours, reference.as_bytes(), "length {len}");
        }
    }
}
