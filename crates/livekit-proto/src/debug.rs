//! Pieces of the generated `Debug` impls of messages that hold credentials (see
//! `livekit.debug.rs`): secrets print as `<redacted>`, enums by name as prost's derive does.

use core::fmt;
use core::marker::PhantomData;

/// A secret field: `""` when empty (so "was it set?" stays answerable), else `<redacted>`.
pub(crate) struct Redacted<'a, T: ?Sized>(pub(crate) &'a T);

impl fmt::Debug for Redacted<'_, String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        redact(self.0, f)
    }
}

impl fmt::Debug for Redacted<'_, Option<String>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(secret) => f.debug_tuple("Some").field(&Redacted(secret)).finish(),
            None => f.write_str("None"),
        }
    }
}

fn redact(secret: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if secret.is_empty() {
        f.write_str("\"\"")
    } else {
        f.write_str("<redacted>")
    }
}

/// An enum field (`i32`, optional or repeated), printed by name when this version knows the
/// number, else as the number.
pub(crate) struct EnumField<'a, E, V: ?Sized> {
    value: &'a V,
    enumeration: PhantomData<E>,
}

impl<'a, E, V: ?Sized> EnumField<'a, E, V> {
    pub(crate) const fn new(value: &'a V) -> Self {
        Self {
            value,
            enumeration: PhantomData,
        }
    }
}

fn enum_name<E: TryFrom<i32> + fmt::Debug>(number: i32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match E::try_from(number) {
        Ok(known) => fmt::Debug::fmt(&known, f),
        Err(_) => fmt::Debug::fmt(&number, f),
    }
}

impl<E: TryFrom<i32> + fmt::Debug> fmt::Debug for EnumField<'_, E, i32> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum_name::<E>(*self.value, f)
    }
}

impl<E: TryFrom<i32> + fmt::Debug> fmt::Debug for EnumField<'_, E, Option<i32>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(number) => f
                .debug_tuple("Some")
                .field(&EnumField::<E, i32>::new(number))
                .finish(),
            None => f.write_str("None"),
        }
    }
}

impl<E: TryFrom<i32> + fmt::Debug> fmt::Debug for EnumField<'_, E, Vec<i32>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.value.iter().map(EnumField::<E, i32>::new))
            .finish()
    }
}
