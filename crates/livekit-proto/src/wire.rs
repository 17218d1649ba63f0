//! The protobuf wire format for the [`view`](crate::view) types: a reader over a borrowed
//! buffer.
//!
//! Decoding follows prost's rules exactly (what prost accepts, a view accepts, with the same
//! values; what prost refuses, a view refuses): the same varint limits, wire-type checks,
//! UTF-8 checks, nesting limit (100) and merging of repeated occurrences.

#[cfg(feature = "view")]
mod read;
#[cfg(feature = "view")]
pub use read::{DecodeError, HasView, Map, View};
#[cfg(feature = "view")]
pub(crate) use read::{RECURSION_LIMIT, Reader};
