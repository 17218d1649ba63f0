//! The part of the proto3 JSON mapping that pbjson leaves to us: enum fields that keep numbers
//! this version does not know. The generated serde impls call this for every enum field (see
//! `patch_serde` in `xtask/src/codegen.rs`).

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IntoDeserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// The `i32` of an enum field, read and written with the JSON mapping of enum `E`.
///
/// Decoding takes a name (an unknown name gives 0, the enum's default, rather than an error)
/// or any `i32` number, known or not. Encoding writes the name of a known number and the
/// number itself otherwise, so a message decoded from a newer server encodes again unchanged.
pub(crate) struct EnumNumber<E> {
    number: i32,
    enumeration: PhantomData<E>,
}

impl<E> EnumNumber<E> {
    pub(crate) const fn new(number: i32) -> Self {
        Self {
            number,
            enumeration: PhantomData,
        }
    }

    pub(crate) const fn number(self) -> i32 {
        self.number
    }
}

impl<E> Serialize for EnumNumber<E>
where
    E: Serialize + TryFrom<i32>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match E::try_from(self.number) {
            Ok(known) => known.serialize(serializer),
            Err(_) => serializer.serialize_i32(self.number),
        }
    }
}

impl<'de, E> Deserialize<'de> for EnumNumber<E>
where
    E: Deserialize<'de> + Into<i32>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberOrName(PhantomData))
    }
}

struct NumberOrName<E>(PhantomData<E>);

impl<'de, E> Visitor<'de> for NumberOrName<E>
where
    E: Deserialize<'de> + Into<i32>,
{
    type Value = EnumNumber<E>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an enum value name or a 32-bit integer")
    }

    fn visit_i64<Error: de::Error>(self, value: i64) -> Result<Self::Value, Error> {
        i32::try_from(value)
            .map(EnumNumber::new)
            .map_err(|_| Error::invalid_value(de::Unexpected::Signed(value), &self))
    }

    fn visit_u64<Error: de::Error>(self, value: u64) -> Result<Self::Value, Error> {
        i32::try_from(value)
            .map(EnumNumber::new)
            .map_err(|_| Error::invalid_value(de::Unexpected::Unsigned(value), &self))
    }

    fn visit_str<Error: de::Error>(self, value: &str) -> Result<Self::Value, Error> {
        // The generated impl of `E` maps names, and unknown names to the default.
        let known = E::deserialize(value.into_deserializer())?;
        Ok(EnumNumber::new(known.into()))
    }
}
