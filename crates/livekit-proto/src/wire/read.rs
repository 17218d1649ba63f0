//! The read side: a reader over a borrowed buffer, for the generated [`view`](crate::view)
//! types (feature `view`).

use alloc::vec::Vec;
use core::fmt;

/// How deep messages and groups may nest, as prost counts it.
pub(crate) const RECURSION_LIMIT: u32 = 100;

const VARINT: u8 = 0;
const SIXTY_FOUR_BIT: u8 = 1;
const LENGTH_DELIMITED: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const THIRTY_TWO_BIT: u8 = 5;

/// Why a buffer is not a valid protobuf encoding of a [`view`](crate::view) type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The buffer ends inside a field, or a length points past its end.
    Truncated,
    /// A varint is longer than 10 bytes or overflows 64 bits.
    InvalidVarint,
    /// A field key is over 32 bits, names field 0, or has wire type 6 or 7.
    InvalidKey,
    /// A known field arrived with a wire type its type cannot have.
    WrongWireType {
        /// `Message.field`, as in the `.proto` file.
        field: &'static str,
        /// The wire type found.
        wire_type: u8,
    },
    /// A `string` field is not UTF-8.
    InvalidUtf8 {
        /// `Message.field`, as in the `.proto` file.
        field: &'static str,
    },
    /// Messages or groups nest deeper than 100.
    RecursionLimit,
    /// A group ends with another field number than it started with, or ends unopened.
    UnexpectedEndGroup,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("protobuf: the buffer ends inside a field"),
            Self::InvalidVarint => f.write_str("protobuf: invalid varint"),
            Self::InvalidKey => f.write_str("protobuf: invalid field key"),
            Self::WrongWireType { field, wire_type } => {
                write!(f, "protobuf: {field} cannot have wire type {wire_type}")
            }
            Self::InvalidUtf8 { field } => write!(f, "protobuf: {field} is not UTF-8"),
            Self::RecursionLimit => f.write_str("protobuf: nested more than 100 deep"),
            Self::UnexpectedEndGroup => f.write_str("protobuf: unexpected end of group"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// A protobuf buffer being read, borrowed for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    #[inline]
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    #[inline]
    pub(crate) const fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    pub(crate) const fn len(&self) -> usize {
        self.buf.len()
    }

    /// A varint, as prost reads one: at most 10 bytes, the tenth at most 1.
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        match *self.buf {
            [first, ref rest @ ..] if first < 0x80 => {
                self.buf = rest;
                Ok(u64::from(first))
            }
            [first, second, ref rest @ ..] if second < 0x80 => {
                self.buf = rest;
                Ok(u64::from(first & 0x7f) | u64::from(second) << 7)
            }
            _ => self.varint_slow(),
        }
    }

    #[inline(never)]
    fn varint_slow(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0_u64;
        for (count, &byte) in self.buf.iter().take(10).enumerate() {
            value |= u64::from(byte & 0x7f) << (count * 7);
            if byte < 0x80 {
                if count == 9 && byte >= 0x02 {
                    return Err(DecodeError::InvalidVarint);
                }
                self.buf = &self.buf[count + 1..];
                return Ok(value);
            }
        }
        Err(DecodeError::InvalidVarint)
    }

    /// A field key: `(field number, wire type)`.
    #[inline]
    pub(crate) fn key(&mut self) -> Result<(u32, u8), DecodeError> {
        let key = self.varint()?;
        let key = u32::try_from(key).map_err(|_| DecodeError::InvalidKey)?;
        let wire_type = (key & 0x07) as u8;
        let tag = key >> 3;
        if wire_type > THIRTY_TWO_BIT || tag == 0 {
            return Err(DecodeError::InvalidKey);
        }
        Ok((tag, wire_type))
    }

    #[inline]
    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        let (taken, rest) = self.buf.split_at(len);
        self.buf = rest;
        Ok(taken)
    }

    /// A length-delimited payload (after its key).
    #[inline]
    fn delimited(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated)?;
        self.take(len)
    }

    #[inline]
    const fn expect(wire_type: u8, expected: u8, field: &'static str) -> Result<(), DecodeError> {
        if wire_type == expected {
            Ok(())
        } else {
            Err(DecodeError::WrongWireType { field, wire_type })
        }
    }

    #[inline]
    pub(crate) fn string(
        &mut self,
        wire_type: u8,
        field: &'static str,
    ) -> Result<&'a str, DecodeError> {
        Self::expect(wire_type, LENGTH_DELIMITED, field)?;
        let bytes = self.delimited()?;
        utf8(bytes).ok_or(DecodeError::InvalidUtf8 { field })
    }

    #[inline]
    pub(crate) fn bytes(
        &mut self,
        wire_type: u8,
        field: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        Self::expect(wire_type, LENGTH_DELIMITED, field)?;
        self.delimited()
    }

    #[inline]
    pub(crate) fn uint64(
        &mut self,
        wire_type: u8,
        field: &'static str,
    ) -> Result<u64, DecodeError> {
        Self::expect(wire_type, VARINT, field)?;
        self.varint()
    }

    // The casts below truncate and reinterpret as prost's decoders do.
    #[inline]
    #[allow(clippy::cast_possible_truncation)]
    pub(crate) fn uint32(
        &mut self,
        wire_type: u8,
        field: &'static str,
    ) -> Result<u32, DecodeError> {
        self.uint64(wire_type, field).map(|value| value as u32)
    }

    #[inline]
    #[allow(clippy::cast_possible_wrap)]
    pub(crate) fn int64(&mut self, wire_type: u8, field: &'static str) -> Result<i64, DecodeError> {
        self.uint64(wire_type, field).map(|value| value as i64)
    }

    #[inline]
    #[allow(clippy::cast_possible_truncation)]
    pub(crate) fn int32(&mut self, wire_type: u8, field: &'static str) -> Result<i32, DecodeError> {
        self.uint64(wire_type, field).map(|value| value as i32)
    }

    #[inline]
    pub(crate) fn bool(&mut self, wire_type: u8, field: &'static str) -> Result<bool, DecodeError> {
        self.uint64(wire_type, field).map(|value| value != 0)
    }

    #[inline]
    pub(crate) fn double(
        &mut self,
        wire_type: u8,
        field: &'static str,
    ) -> Result<f64, DecodeError> {
        Self::expect(wire_type, SIXTY_FOUR_BIT, field)?;
        let bytes = self.take(8)?;
        let mut raw = [0_u8; 8];
        raw.copy_from_slice(bytes);
        Ok(f64::from_le_bytes(raw))
    }

    #[inline]
    pub(crate) fn float(&mut self, wire_type: u8, field: &'static str) -> Result<f32, DecodeError> {
        Self::expect(wire_type, THIRTY_TWO_BIT, field)?;
        let bytes = self.take(4)?;
        let mut raw = [0_u8; 4];
        raw.copy_from_slice(bytes);
        Ok(f32::from_le_bytes(raw))
    }

    /// A repeated `int32`-like field (enums): packed or one value, both as prost takes them.
    #[allow(clippy::cast_possible_truncation)]
    pub(crate) fn repeated_int32(
        &mut self,
        wire_type: u8,
        field: &'static str,
        values: &mut Vec<i32>,
    ) -> Result<(), DecodeError> {
        if wire_type == LENGTH_DELIMITED {
            let mut packed = Self::new(self.delimited()?);
            while !packed.is_empty() {
                values.push(packed.varint()? as i32);
            }
            Ok(())
        } else {
            values.push(self.int32(wire_type, field)?);
            Ok(())
        }
    }

    /// The payload of a nested message or a map entry; `depth` is the nesting budget of the
    /// message that holds the field.
    #[inline]
    pub(crate) fn message(
        &mut self,
        wire_type: u8,
        field: &'static str,
        depth: u32,
    ) -> Result<Self, DecodeError> {
        Self::expect(wire_type, LENGTH_DELIMITED, field)?;
        if depth == 0 {
            return Err(DecodeError::RecursionLimit);
        }
        self.delimited().map(Self::new)
    }

    /// The capacity for a repeated message field whose first element (`first` bytes) was
    /// just read: when more than four more could follow, how many of the fields still to
    /// read are field `tag` (plus the first), so that the vector is sized once instead of
    /// grown; otherwise 0, and the vector grows as usual (a first allocation holds four).
    #[inline]
    pub(crate) fn capacity_for(&self, tag: u32, first: usize, depth: u32) -> usize {
        if self.buf.len() / (first + 2) <= 4 {
            return 0;
        }
        1 + self.count(tag, depth)
    }

    /// How many of the fields still to read are field `tag`. Stops counting at anything
    /// malformed (reading will refuse it).
    fn count(&self, tag: u32, depth: u32) -> usize {
        let mut rest = *self;
        let mut count = 0;
        while !rest.is_empty() {
            let Ok((found, wire_type)) = rest.key() else {
                break;
            };
            count += usize::from(found == tag);
            if rest.skip(wire_type, found, depth).is_err() {
                break;
            }
        }
        count
    }

    /// Skips a field this version does not know.
    pub(crate) fn skip(&mut self, wire_type: u8, tag: u32, depth: u32) -> Result<(), DecodeError> {
        if depth == 0 {
            return Err(DecodeError::RecursionLimit);
        }
        match wire_type {
            VARINT => self.varint().map(drop),
            SIXTY_FOUR_BIT => self.take(8).map(drop),
            THIRTY_TWO_BIT => self.take(4).map(drop),
            LENGTH_DELIMITED => self.delimited().map(drop),
            START_GROUP => loop {
                let (inner_tag, inner_wire_type) = self.key()?;
                if inner_wire_type == END_GROUP {
                    if inner_tag != tag {
                        return Err(DecodeError::UnexpectedEndGroup);
                    }
                    break Ok(());
                }
                self.skip(inner_wire_type, inner_tag, depth - 1)?;
            },
            _ => Err(DecodeError::UnexpectedEndGroup),
        }
    }
}

/// `bytes` as text, if they are UTF-8. Most strings of the protocol are short ASCII (ids,
/// names, MIME types); they are checked here, inline, a word at a time, instead of by a call
/// to `core::str::from_utf8`, which costs more than the check itself for them.
#[inline]
fn utf8(bytes: &[u8]) -> Option<&str> {
    if is_ascii(bytes) {
        #[allow(unsafe_code)]
        // SAFETY: every byte is below 0x80, and ASCII is UTF-8.
        return Some(unsafe { core::str::from_utf8_unchecked(bytes) });
    }
    core::str::from_utf8(bytes).ok()
}

/// Whether every byte is below 0x80: words of 8 bytes, the last one overlapping the one
/// before; below 8 bytes, two overlapping words of 4.
#[inline]
fn is_ascii(bytes: &[u8]) -> bool {
    const HIGH_8: u64 = 0x8080_8080_8080_8080;
    const HIGH_4: u32 = 0x8080_8080;
    let len = bytes.len();
    if let Some(last) = bytes.last_chunk::<8>() {
        let (words, _) = bytes.as_chunks::<8>();
        let all = words.iter().fold(u64::from_ne_bytes(*last), |all, word| {
            all | u64::from_ne_bytes(*word)
        });
        all & HIGH_8 == 0
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        (u32::from_ne_bytes(*first) | u32::from_ne_bytes(*last)) & HIGH_4 == 0
    } else {
        debug_assert!(len < 4);
        bytes.iter().all(|byte| *byte < 0x80)
    }
}

/// A `map<K, V>` field of a [`view`](crate::view) type: its entries in the order they were
/// read. A key may appear more than once on the wire; the last entry counts, as it does when
/// decoding into a `BTreeMap` ([`get`](Self::get) and the owned conversion both follow that).
#[derive(Clone, PartialEq, Default)]
pub struct Map<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Map<K, V> {
    /// The entries, in wire order.
    pub fn iter(&self) -> core::slice::Iter<'_, (K, V)> {
        self.entries.iter()
    }

    /// How many entries were read (repeated keys counted each time).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of the last entry with `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: core::borrow::Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        self.entries
            .iter()
            .rev()
            .find(|(candidate, _)| candidate.borrow() == key)
            .map(|(_, value)| value)
    }

    pub(crate) fn push(&mut self, key: K, value: V) {
        self.entries.push((key, value));
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Map<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(key, value)| (key, value)))
            .finish()
    }
}

impl<'m, K, V> IntoIterator for &'m Map<K, V> {
    type Item = &'m (K, V);
    type IntoIter = core::slice::Iter<'m, (K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// A view type: a message decoded in place, borrowing from a buffer that lives for `'a`.
/// Every type of [`view`](crate::view) implements it.
pub trait View<'a>: Sized + Clone + PartialEq + Default + fmt::Debug {
    /// The owned message it views.
    type Message;
    /// Decodes `buf`, borrowing its strings and bytes; accepts and refuses what prost does.
    fn from_protobuf(buf: &'a [u8]) -> Result<Self, DecodeError>;
    /// The owned message, copying what is borrowed.
    fn to_message(&self) -> Self::Message;
}

/// An owned message with a [`View`] type, for code generic over messages:
///
/// ```
/// use livekit_proto::{view::View as _, HasView, Room};
///
/// fn names<M: HasView>(body: &[u8]) -> Result<M::View<'_>, livekit_proto::view::DecodeError> {
///     M::View::from_protobuf(body)
/// }
/// let room = names::<Room>(b"\x12\x04demo")?;
/// assert_eq!(room.name, "demo");
/// # Ok::<(), livekit_proto::view::DecodeError>(())
/// ```
pub trait HasView {
    /// `livekit_proto::view::Same<'a>`.
    type View<'a>: View<'a, Message = Self>;
}
