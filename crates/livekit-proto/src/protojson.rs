//! The proto3 JSON mapping, as the generated serde impls (`livekit.serde.rs`) use it.
//!
//! The generated code says, for each field, its JSON names, its *kind* (how one value is
//! written and read: [`Direct`], [`Num`], [`Long`], [`Bytes`], [`Enum`]) and its shape
//! (plain, optional, repeated, map, oneof); everything else is here, once:
//!
//! - Decoding accepts camelCase and snake\_case names (the generated `field_index`), numbers
//!   as JSON numbers or strings, enums as names or numbers, `null` for unset, and ignores
//!   unknown fields.
//! - An enum number this version does not know is kept as that number, and written back as a
//!   number; an unknown name reads as the enum's default (0).
//! - Encoding writes camelCase names, omits defaults (the generated code decides what is
//!   set), 64-bit integers as strings, enums as names, bytes as standard base64.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::Serialize as _;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap as _, SerializeSeq as _, Serializer};

/// How one value of a field is written and read.
pub(crate) trait Kind<T> {
    fn write<S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error>;
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error>;
}

/// Strings, booleans and messages: their own serde impls.
pub(crate) struct Direct;

impl<T: serde::Serialize + for<'de> Deserialize<'de>> Kind<T> for Direct {
    fn write<S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

/// 32-bit integers and floating-point numbers: written as JSON numbers (non-finite floats as
/// `"NaN"`, `"Infinity"`, `"-Infinity"`), read from numbers or strings.
pub(crate) struct Num;

/// 64-bit integers: written as strings (JSON numbers lose precision above 2^53), read from
/// strings or numbers.
pub(crate) struct Long;

macro_rules! integer_kinds {
    ($kind:ident, |$value:ident, $serializer:ident| $write:expr, $($ty:ty),*) => {$(
        impl Kind<$ty> for $kind {
            fn write<S: Serializer>($value: &$ty, $serializer: S) -> Result<S::Ok, S::Error> {
                $write
            }

            fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                deserializer.deserialize_any(NumberVisitor(PhantomData))
            }
        }
    )*};
}

integer_kinds!(
    Num,
    |value, serializer| serde::Serialize::serialize(value, serializer),
    i32,
    u32
);
integer_kinds!(
    Long,
    |value, serializer| serializer.collect_str(value),
    i64,
    u64
);

macro_rules! float_kinds {
    ($($ty:ty),*) => {$(
        impl Kind<$ty> for Num {
            fn write<S: Serializer>(value: &$ty, serializer: S) -> Result<S::Ok, S::Error> {
                if value.is_finite() {
                    serializer.serialize_f64(f64::from(*value))
                } else if value.is_nan() {
                    serializer.serialize_str("NaN")
                } else if value.is_sign_positive() {
                    serializer.serialize_str("Infinity")
                } else {
                    serializer.serialize_str("-Infinity")
                }
            }

            fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                deserializer.deserialize_any(NumberVisitor(PhantomData))
            }
        }
    )*};
}

float_kinds!(f32, f64);

/// `bytes`: written as standard base64 with padding; read from standard or URL-safe base64,
/// padded or not, as the mapping allows.
pub(crate) struct Bytes;

impl Kind<Vec<u8>> for Bytes {
    fn write<S: Serializer>(value: &Vec<u8>, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(value))
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct Base64;

        impl Visitor<'_> for Base64 {
            type Value = Vec<u8>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("base64 text")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Vec<u8>, E> {
                use base64::Engine as _;
                use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
                const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
                    .with_decode_padding_mode(DecodePaddingMode::Indifferent);
                const STANDARD: GeneralPurpose =
                    GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
                const URL_SAFE: GeneralPurpose =
                    GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);
                let engine = if text.contains(['-', '_']) {
                    &URL_SAFE
                } else {
                    &STANDARD
                };
                engine
                    .decode(text)
                    .map_err(|error| E::custom(format_args!("invalid base64: {error}")))
            }
        }

        deserializer.deserialize_str(Base64)
    }
}

/// An enum field (`i32`) of enum `E`: written as the name of a known number and as the
/// number otherwise; read from a name (unknown names give 0) or any `i32`.
pub(crate) struct Enum<E>(PhantomData<E>);

/// What the generated code implements for every enum.
pub(crate) trait JsonEnum {
    /// The `.proto` name of `number`, if this version knows it.
    fn name(number: i32) -> Option<&'static str>;
    /// The number of a `.proto` name, if this version knows it.
    fn number(name: &str) -> Option<i32>;
}

impl<E: JsonEnum> Kind<i32> for Enum<E> {
    fn write<S: Serializer>(value: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        match E::name(*value) {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_i32(*value),
        }
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
        deserializer.deserialize_any(EnumVisitor::<E> {
            keep_unknown_numbers: true,
            enumeration: PhantomData,
        })
    }
}

struct EnumVisitor<E> {
    /// Whether a number this version does not know is kept (an `i32` field) or read as the
    /// default (the Rust enum, which cannot hold it).
    keep_unknown_numbers: bool,
    enumeration: PhantomData<E>,
}

impl<E: JsonEnum> Visitor<'_> for EnumVisitor<E> {
    type Value = i32;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an enum value name or a 32-bit integer")
    }

    fn visit_i64<Error: de::Error>(self, value: i64) -> Result<i32, Error> {
        let number = i32::try_from(value)
            .map_err(|_| Error::invalid_value(de::Unexpected::Signed(value), &self))?;
        Ok(self.number(number))
    }

    fn visit_u64<Error: de::Error>(self, value: u64) -> Result<i32, Error> {
        let number = i32::try_from(value)
            .map_err(|_| Error::invalid_value(de::Unexpected::Unsigned(value), &self))?;
        Ok(self.number(number))
    }

    fn visit_str<Error: de::Error>(self, value: &str) -> Result<i32, Error> {
        Ok(E::number(value).unwrap_or(0))
    }
}

impl<E: JsonEnum> EnumVisitor<E> {
    fn number(&self, number: i32) -> i32 {
        if self.keep_unknown_numbers || E::name(number).is_some() {
            number
        } else {
            0
        }
    }
}

/// Writes an enum type itself (not an `i32` field): its name.
pub(crate) fn serialize_enum<E: JsonEnum + Copy + Into<i32>, S: Serializer>(
    value: E,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let number: i32 = value.into();
    match E::name(number) {
        Some(name) => serializer.serialize_str(name),
        None => serializer.serialize_i32(number),
    }
}

/// Reads an enum type itself: a name or a number; ones this version does not know read as
/// the default.
pub(crate) fn deserialize_enum<'de, E, D>(deserializer: D) -> Result<E, D::Error>
where
    E: JsonEnum + TryFrom<i32> + Default,
    D: Deserializer<'de>,
{
    let number = deserializer.deserialize_any(EnumVisitor::<E> {
        keep_unknown_numbers: false,
        enumeration: PhantomData,
    })?;
    Ok(E::try_from(number).unwrap_or_default())
}

/// A number from a JSON number or from a string holding one.
struct NumberVisitor<T>(PhantomData<T>);

/// The numeric types of protobuf fields, read from JSON numbers or their text.
trait JsonNumber: core::str::FromStr + Sized {
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

impl<T: JsonNumber> Visitor<'_> for NumberVisitor<T>
where
    <T as core::str::FromStr>::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        T::from_u64(value).ok_or_else(|| E::custom(format_args!("{value} is out of range")))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        T::from_i64(value).ok_or_else(|| E::custom(format_args!("{value} is out of range")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<T, E> {
        T::from_f64(value)
            .ok_or_else(|| E::custom(format_args!("{value} is not a valid value here")))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.trim().parse().map_err(E::custom)
    }
}

/// One value, written with kind `K`.
pub(crate) struct One<'a, K, T>(&'a T, PhantomData<K>);

pub(crate) const fn one<K: Kind<T>, T>(value: &T) -> One<'_, K, T> {
    One(value, PhantomData)
}

impl<K: Kind<T>, T> serde::Serialize for One<'_, K, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        K::write(self.0, serializer)
    }
}

/// A repeated field, written with kind `K`.
pub(crate) struct Many<'a, K, T>(&'a [T], PhantomData<K>);

pub(crate) const fn many<K: Kind<T>, T>(values: &[T]) -> Many<'_, K, T> {
    Many(values, PhantomData)
}

impl<K: Kind<T>, T> serde::Serialize for Many<'_, K, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for value in self.0 {
            seq.serialize_element(&one::<K, T>(value))?;
        }
        seq.end()
    }
}

/// A map field (string keys), its values written with kind `K`.
pub(crate) struct Map<'a, K, T>(&'a BTreeMap<String, T>, PhantomData<K>);

pub(crate) const fn map<K: Kind<T>, T>(values: &BTreeMap<String, T>) -> Map<'_, K, T> {
    Map(values, PhantomData)
}

impl<K: Kind<T>, T> serde::Serialize for Map<'_, K, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, &one::<K, T>(value))?;
        }
        map.end()
    }
}

/// Reads one value of kind `K` (a `DeserializeSeed`, so that it needs no `Deserialize`
/// impl of its own).
struct Value<K, T>(PhantomData<(K, T)>);

impl<K, T> Value<K, T> {
    const NEW: Self = Self(PhantomData);
}

impl<'de, K: Kind<T>, T> DeserializeSeed<'de> for Value<K, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        K::read(deserializer)
    }
}

/// A value of kind `K`, or `null` (`None`).
struct Nullable<K, T>(PhantomData<(K, T)>);

impl<K, T> Nullable<K, T> {
    const NEW: Self = Self(PhantomData);
}

impl<'de, K: Kind<T>, T> DeserializeSeed<'de> for Nullable<K, T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, K: Kind<T>, T> Visitor<'de> for Nullable<K, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        K::read(deserializer).map(Some)
    }
}

/// A JSON array of values of kind `K`.
struct Array<K, T>(PhantomData<(K, T)>);

impl<'de, K: Kind<T>, T> Visitor<'de> for Array<K, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(value) = seq.next_element_seed(Value::<K, T>::NEW)? {
            values.push(value);
        }
        Ok(values)
    }
}

struct ArrayKind;

impl<K: Kind<T>, T> Kind<Vec<T>> for (ArrayKind, K) {
    fn write<S: Serializer>(value: &Vec<T>, serializer: S) -> Result<S::Ok, S::Error> {
        many::<K, T>(value).serialize(serializer)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(Array::<K, T>(PhantomData))
    }
}

/// A JSON object of values of kind `K`.
struct Object<K, T>(PhantomData<(K, T)>);

impl<'de, K: Kind<T>, T> Visitor<'de> for Object<K, T> {
    type Value = BTreeMap<String, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BTreeMap<String, T>, A::Error> {
        let mut values = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Value::<K, T>::NEW)?;
            values.insert(key, value);
        }
        Ok(values)
    }
}

struct ObjectKind;

impl<K: Kind<T>, T> Kind<BTreeMap<String, T>> for (ObjectKind, K) {
    fn write<S: Serializer>(value: &BTreeMap<String, T>, serializer: S) -> Result<S::Ok, S::Error> {
        map::<K, T>(value).serialize(serializer)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, T>, D::Error> {
        deserializer.deserialize_map(Object::<K, T>(PhantomData))
    }
}

/// Reads a plain field; `null` leaves it at its default.
pub(crate) fn set<'de, K: Kind<T>, T, A: MapAccess<'de>>(
    map: &mut A,
    place: &mut T,
) -> Result<(), A::Error> {
    if let Some(value) = map.next_value_seed(Nullable::<K, T>::NEW)? {
        *place = value;
    }
    Ok(())
}

/// Reads an optional field (a message, or a proto3 `optional` scalar); `null` leaves it
/// unset.
pub(crate) fn set_some<'de, K: Kind<T>, T, A: MapAccess<'de>>(
    map: &mut A,
    place: &mut Option<T>,
) -> Result<(), A::Error> {
    if let Some(value) = map.next_value_seed(Nullable::<K, T>::NEW)? {
        *place = Some(value);
    }
    Ok(())
}

/// Reads a repeated field; `null` leaves it empty.
pub(crate) fn set_many<'de, K: Kind<T>, T, A: MapAccess<'de>>(
    map: &mut A,
    place: &mut Vec<T>,
) -> Result<(), A::Error> {
    set::<(ArrayKind, K), Vec<T>, A>(map, place)
}

/// Reads a map field; `null` leaves it empty.
pub(crate) fn set_map<'de, K: Kind<T>, T, A: MapAccess<'de>>(
    map: &mut A,
    place: &mut BTreeMap<String, T>,
) -> Result<(), A::Error> {
    set::<(ObjectKind, K), BTreeMap<String, T>, A>(map, place)
}

/// Reads a member of a oneof; `null` leaves the oneof as it is.
pub(crate) fn set_oneof<'de, K: Kind<T>, T, O, A: MapAccess<'de>>(
    map: &mut A,
    place: &mut Option<O>,
    variant: fn(T) -> O,
) -> Result<(), A::Error> {
    if let Some(value) = map.next_value_seed(Nullable::<K, T>::NEW)? {
        *place = Some(variant(value));
    }
    Ok(())
}

/// What the generated code implements for every message, to be read by
/// [`deserialize_message`].
pub(crate) trait JsonMessage: Default {
    /// `livekit.Room`.
    const NAME: &'static str;

    /// The field a JSON name (camelCase or snake\_case) stands for.
    fn field_index(name: &str) -> Option<u32>;

    /// Reads the value of field `index` (from [`field_index`](Self::field_index)).
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        index: u32,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// Reads a message from a JSON object; a later occurrence of a field replaces an earlier one.
pub(crate) fn deserialize_message<'de, M: JsonMessage, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<M, D::Error> {
    struct MessageVisitor<M>(PhantomData<M>);

    impl<'de, M: JsonMessage> Visitor<'de> for MessageVisitor<M> {
        type Value = M;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} object", M::NAME)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<M, A::Error> {
            let mut message = M::default();
            while let Some(key) = map.next_key_seed(FieldKey::<M>(PhantomData))? {
                match key {
                    Some(index) => message.read_field(index, &mut map)?,
                    None => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            Ok(message)
        }
    }

    deserializer.deserialize_struct(M::NAME, &[], MessageVisitor::<M>(PhantomData))
}

/// A field name, looked up without allocating: the field's index, or `None` when unknown.
struct FieldKey<M>(PhantomData<M>);

impl<'de, M: JsonMessage> DeserializeSeed<'de> for FieldKey<M> {
    type Value = Option<u32>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<u32>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<M: JsonMessage> Visitor<'_> for FieldKey<M> {
    type Value = Option<u32>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Option<u32>, E> {
        Ok(M::field_index(name))
    }
}
