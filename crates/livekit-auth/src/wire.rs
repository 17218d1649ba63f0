//! Hand-rolled serde plumbing for the claim structs.
//!
//! A declarative macro writes each struct's `Serialize` and `Deserialize`, so the crate needs
//! no proc-macro dependencies (keeping a token-only build small and quick) and decoding
//! visits each key once, without the buffering that `#[serde(flatten)]` costs.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A map key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(String::from(value))))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads `null` as the type's default, so `"roomJoin": null` decodes like an absent field.
pub(crate) struct Nullable<T>(pub(crate) T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| Self(value.unwrap_or_default()))
    }
}

/// Whether a field is left out of the JSON: unset, false or empty.
pub(crate) trait Omit {
    fn omit(&self) -> bool;
}

impl Omit for bool {
    fn omit(&self) -> bool {
        !*self
    }
}

impl Omit for String {
    fn omit(&self) -> bool {
        self.is_empty()
    }
}

impl<T> Omit for Option<T> {
    fn omit(&self) -> bool {
        self.is_none()
    }
}

impl<T> Omit for Vec<T> {
    fn omit(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> Omit for BTreeMap<K, V> {
    fn omit(&self) -> bool {
        self.is_empty()
    }
}

/// A visitor that builds a struct through its `read_field` method.
pub(crate) struct FieldsVisitor<T>(pub(crate) PhantomData<T>, pub(crate) &'static str);

/// Structs whose fields are read one key at a time.
pub(crate) trait ReadFields: Default {
    /// Reads the value of `key` into `self`; false when the key is not one of its fields.
    fn read_field<'de, A: de::MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error>;
}

impl<'de, T: ReadFields> Visitor<'de> for FieldsVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} object", self.1)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if !value.read_field(&key.0, &mut map)? {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        Ok(value)
    }
}

/// Defines a claim struct: public fields, each with its camelCase JSON name and any other
/// names it is read from, plus `Serialize` (camelCase, unset fields omitted) and
/// `Deserialize` (any listed name, `null` as unset, unknown keys ignored).
macro_rules! claim_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident: $ty:ty => $json:literal $(| $alias:literal)*,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $name {
            /// Writes the fields that are set as map entries.
            #[allow(dead_code)]
            pub(crate) fn write_fields<M: serde::ser::SerializeMap>(
                &self,
                map: &mut M,
            ) -> Result<(), M::Error> {
                $(
                    if !$crate::wire::Omit::omit(&self.$field) {
                        map.serialize_entry($json, &self.$field)?;
                    }
                )*
                Ok(())
            }
        }

        impl $crate::wire::ReadFields for $name {
            fn read_field<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                match key {
                    $(
                        $json $(| $alias)* => {
                            self.$field = map.next_value::<$crate::wire::Nullable<$ty>>()?.0;
                        }
                    )*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                self.write_fields(&mut map)?;
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_map($crate::wire::FieldsVisitor(
                    core::marker::PhantomData,
                    stringify!($name),
                ))
            }
        }
    };
}

pub(crate) use claim_struct;
