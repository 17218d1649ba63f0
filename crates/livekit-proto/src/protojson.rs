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

/// A number field in the proto3 JSON mapping: a JSON number, or a string holding one (64-bit
/// integers travel as strings). The generated serde impls read every numeric field through
/// it, in place of pbjson's `NumberDeserialize`, which buffers each value and tries it as a
/// string first, building and dropping an error for every plain number.
pub(crate) struct Number<T>(pub(crate) T);

/// The numeric types of protobuf fields, read from JSON numbers or their text.
pub(crate) trait JsonNumber: core::str::FromStr + Sized {
    fn from_u64(value: u64) -> Option<Self>;
    fn from_i64(value: i64) -> Option<Self>;
    fn from_f64(value: f64) -> Option<Self>;
}

macro_rules! integer_json_number {
    ($($ty:ty),*) => {$(
        impl JsonNumber for $ty {
            fn from_u64(value: u64) -> Option<Self> {
                Self::try_from(value).ok()
            }
            fn from_i64(value: i64) -> Option<Self> {
                Self::try_from(value).ok()
            }
            fn from_f64(value: f64) -> Option<Self> {
                // The JSON mapping accepts integral numbers written with a fraction or an
                // exponent (`1.0`, `1e3`); anything else is not this integer type.
                if value.fract() != 0.0 || !value.is_finite() {
                    return None;
                }
                let whole = value as i128;
                (whole as f64 == value).then(|| Self::try_from(whole).ok()).flatten()
            }
        }
    )*};
}

integer_json_number!(i32, i64, u32, u64);

macro_rules! float_json_number {
    ($($ty:ty),*) => {$(
        impl JsonNumber for $ty {
            fn from_u64(value: u64) -> Option<Self> {
                Some(value as Self)
            }
            fn from_i64(value: i64) -> Option<Self> {
                Some(value as Self)
            }
            fn from_f64(value: f64) -> Option<Self> {
                Some(value as Self)
            }
        }
    )*};
}

float_json_number!(f32, f64);

impl<'de, T: JsonNumber> Deserialize<'de> for Number<T>
where
    <T as core::str::FromStr>::Err: fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor<T>(PhantomData<T>);

        impl<T: JsonNumber> Visitor<'_> for NumberVisitor<T>
        where
            <T as core::str::FromStr>::Err: fmt::Display,
        {
            type Value = Number<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, or a string holding one")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                T::from_u64(value)
                    .map(Number)
                    .ok_or_else(|| E::custom(format_args!("{value} is out of range")))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                T::from_i64(value)
                    .map(Number)
                    .ok_or_else(|| E::custom(format_args!("{value} is out of range")))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
                T::from_f64(value)
                    .map(Number)
                    .ok_or_else(|| E::custom(format_args!("{value} is not a valid value here")))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                text.trim().parse().map(Number).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(NumberVisitor(PhantomData))
    }
}
