//! The protobuf wire format, for the generated [`Encode`] impls and [`view`](crate::view)
//! types: a reader over a borrowed buffer and a writer that is told every nested length up
//! front.
//!
//! Decoding follows prost's rules exactly (what prost accepts, a view accepts, with the same
//! values; what prost refuses, a view refuses): the same varint limits, wire-type checks,
//! UTF-8 checks, nesting limit (100) and merging of repeated occurrences. Encoding writes the
//! bytes prost writes, field for field.

use alloc::vec::Vec;

#[cfg(feature = "view")]
mod read;
#[cfg(feature = "view")]
pub use read::{DecodeError, HasView, Map, View};
#[cfg(feature = "view")]
pub(crate) use read::{RECURSION_LIMIT, Reader};

/// Protobuf encoding of the protocol's messages, byte for byte what prost's
/// [`Message::encode_to_vec`](prost::Message::encode_to_vec) writes, in about a third of the
/// time: nested lengths are measured once, not once per level of nesting.
///
/// ```
/// use livekit_proto::{Encode as _, Message as _, Room};
///
/// let room = Room { name: "stand-up".into(), max_participants: 20, ..Default::default() };
/// assert_eq!(room.to_protobuf(), room.encode_to_vec());
/// ```
pub trait Encode: sealed::Measure {
    /// The protobuf encoding, in a vector of exactly its length.
    fn to_protobuf(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_protobuf(&mut out);
        out
    }

    /// Appends the protobuf encoding to `out`.
    fn write_protobuf(&self, out: &mut Vec<u8>) {
        let mut sizes = Vec::new();
        let len = self.measure(&mut sizes);
        let start = out.len();
        out.resize(start + len, 0);
        let mut next = sealed::Sizes {
            sizes: &sizes,
            next: 0,
        };
        let written = self.write(&mut out[start..], 0, &mut next);
        debug_assert_eq!(written, len, "measured and written lengths differ");
    }

    /// The length of the protobuf encoding.
    fn protobuf_len(&self) -> usize {
        self.measure(&mut Vec::new())
    }
}

pub(crate) mod sealed {
    /// What the generated code implements for [`Encode`](super::Encode).
    pub trait Measure {
        /// The encoded length; pushes the length of every nested message, in the order
        /// [`write`](Self::write) meets them.
        fn measure(&self, sizes: &mut alloc::vec::Vec<usize>) -> usize;
        /// Writes the encoding into `buf` from `at` (the buffer has room for exactly the
        /// measured length), taking nested lengths from `sizes`; returns where it ended.
        fn write(&self, buf: &mut [u8], at: usize, sizes: &mut Sizes<'_>) -> usize;
    }

    /// The nested lengths [`Encode`](super::Encode) measured, handed out in the order they
    /// were measured.
    pub struct Sizes<'s> {
        pub(in crate::wire) sizes: &'s [usize],
        pub(in crate::wire) next: usize,
    }

    impl Sizes<'_> {
        /// The length of the next nested message.
        #[inline]
        pub(crate) fn next(&mut self) -> usize {
            let size = self.sizes[self.next];
            self.next += 1;
            size
        }
    }
}

// The writers below take the buffer as their own `&mut [u8]` argument and return the new
// position, so that the position stays in a register across the stores.

#[inline(always)]
pub(crate) fn put_byte(buf: &mut [u8], at: usize, byte: u8) -> usize {
    buf[at] = byte;
    at + 1
}

#[inline(always)]
pub(crate) fn put_raw(buf: &mut [u8], at: usize, bytes: &[u8]) -> usize {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
    at + bytes.len()
}

#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn put_varint(buf: &mut [u8], mut at: usize, mut value: u64) -> usize {
    while value >= 0x80 {
        buf[at] = (value as u8) | 0x80;
        value >>= 7;
        at += 1;
    }
    buf[at] = value as u8;
    at + 1
}

#[inline(always)]
pub(crate) fn put_delimited(buf: &mut [u8], at: usize, bytes: &[u8]) -> usize {
    let at = put_varint(buf, at, bytes.len() as u64);
    put_raw(buf, at, bytes)
}

/// The length of `value` as a varint.
#[inline]
pub(crate) const fn varint_len(value: u64) -> usize {
    // 1 byte per started 7 bits; `| 1` makes 0 take one byte.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// The length of a length-delimited payload of `len` bytes, without its key.
#[inline]
pub(crate) const fn delimited_len(len: usize) -> usize {
    varint_len(len as u64) + len
}

/// Reserves a slot for a nested message's length, measures it into the slot and returns it.
#[inline]
pub(crate) fn measure_nested<M: sealed::Measure>(message: &M, sizes: &mut Vec<usize>) -> usize {
    let slot = sizes.len();
    sizes.push(0);
    let len = message.measure(sizes);
    sizes[slot] = len;
    len
}
