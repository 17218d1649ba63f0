//! `livekit.serde.rs`: the proto3 JSON mapping ("protojson") of every message and enum, as
//! serde impls over the runtime of `livekit-proto`'s `protojson` module. For each field the
//! generated code says only its names, its kind (how a value is written and read) and its
//! shape; the rules live in the runtime, once.

use core::fmt::Write as _;

use super::schema::{EnumInfo, Field, Member, MessageInfo, Schema, Shape, Ty, format};
use crate::util::Result;

/// The runtime module, as the generated code names it.
const PJ: &str = "pj";

pub(super) fn generate(schema: &Schema<'_>) -> Result<String> {
    let mut code = String::from("use super::*;\nuse crate::protojson as pj;\n");
    for message in schema.livekit_messages() {
        write_message(&mut code, schema, message)?;
    }
    for name in &schema.enum_order {
        write_enum(&mut code, schema, schema.enumeration(name)?)?;
    }
    format(&code, "livekit.serde.rs")
}

/// The kind of one value of `ty` (see `protojson::Kind`).
fn kind(schema: &Schema<'_>, ty: &Ty) -> Result<String> {
    Ok(match ty {
        Ty::Bool | Ty::Str | Ty::Message(_) => format!("{PJ}::Direct"),
        Ty::Int32 | Ty::Uint32 | Ty::Float | Ty::Double => format!("{PJ}::Num"),
        Ty::Int64 | Ty::Uint64 => format!("{PJ}::Long"),
        Ty::Bytes { shared: false } => format!("{PJ}::Bytes"),
        Ty::Bytes { shared: true } => return Err("shared bytes have no JSON kind".to_owned()),
        Ty::Enum(full) => format!("{PJ}::Enum<{}>", schema.relative_path(&[], full)?),
    })
}

/// Whether a plain field holds a non-default value (`value` is `self.name`).
fn is_set(ty: &Ty, value: &str) -> String {
    match ty {
        Ty::Bool => value.to_owned(),
        Ty::Float | Ty::Double => format!("{value} != 0.0"),
        Ty::Str | Ty::Bytes { .. } => format!("!{value}.is_empty()"),
        Ty::Message(_) => format!("{value}.is_some()"),
        _ => format!("{value} != 0"),
    }
}

/// The serializable form of one value (`value` is a reference expression).
fn one(schema: &Schema<'_>, ty: &Ty, value: &str) -> Result<String> {
    Ok(match ty {
        Ty::Bool | Ty::Str | Ty::Message(_) => value.to_owned(),
        _ => format!("&{PJ}::one::<{}, _>({value})", kind(schema, ty)?),
    })
}

fn write_message(code: &mut String, schema: &Schema<'_>, message: &MessageInfo<'_>) -> Result {
    let path = schema.relative_path(&[], &message.full)?;
    let members = schema.members(message)?;
    let mut count = Vec::new();
    let mut writes = String::new();
    let mut names = String::new();
    let mut reads = String::new();
    let mut index = 0_u32;
    for member in &members {
        match member {
            Member::Field(field) => {
                let value = format!("self.{}", field.rust);
                let name = &field.json_name;
                let (condition, write) = match &field.shape {
                    Shape::Plain => {
                        let condition = is_set(&field.ty, &value);
                        let value = one(schema, &field.ty, &format!("&{value}"))?;
                        let write = format!(
                            "if {condition} {{ s.serialize_field(\"{name}\", {value})?; }}"
                        );
                        (condition, write)
                    }
                    Shape::Optional => {
                        let inner = one(schema, &field.ty, "value")?;
                        (
                            format!("{value}.is_some()"),
                            format!(
                                "if let Some(value) = &{value} {{ s.serialize_field(\"{name}\", {inner})?; }}"
                            ),
                        )
                    }
                    Shape::Repeated => {
                        let all = match &field.ty {
                            Ty::Str | Ty::Message(_) | Ty::Bool => format!("&{value}"),
                            ty => format!("&{PJ}::many::<{}, _>(&{value})", kind(schema, ty)?),
                        };
                        let condition = format!("!{value}.is_empty()");
                        let write =
                            format!("if {condition} {{ s.serialize_field(\"{name}\", {all})?; }}");
                        (condition, write)
                    }
                    Shape::Map(key, ty) => {
                        if *key != Ty::Str {
                            return Err(format!(
                                "{}: JSON maps with non-string keys are not supported",
                                field.label
                            ));
                        }
                        let all = match ty {
                            Ty::Str | Ty::Message(_) | Ty::Bool => format!("&{value}"),
                            ty => format!("&{PJ}::map::<{}, _>(&{value})", kind(schema, ty)?),
                        };
                        let condition = format!("!{value}.is_empty()");
                        let write =
                            format!("if {condition} {{ s.serialize_field(\"{name}\", {all})?; }}");
                        (condition, write)
                    }
                };
                writes.push_str(&write);
                writes.push('\n');
                count.push(format!("usize::from({condition})"));
                let read = match &field.shape {
                    Shape::Plain => "set",
                    Shape::Optional => "set_some",
                    Shape::Repeated => "set_many",
                    Shape::Map(..) => "set_map",
                };
                let value_ty = match &field.shape {
                    Shape::Map(_, ty) => ty,
                    _ => &field.ty,
                };
                let _ = writeln!(
                    reads,
                    "{index} => {PJ}::{read}::<{}, _, _>(map, &mut self.{}),",
                    kind(schema, value_ty)?,
                    field.rust
                );
                write_names(&mut names, field, index);
                index += 1;
            }
            Member::Oneof {
                rust,
                enum_name,
                variants,
                ..
            } => {
                let owned = format!(
                    "{}::{enum_name}",
                    schema
                        .relative_path(&[], &message.full)
                        .map(|path| oneof_module(&path, &message.nested_module))?
                );
                count.push(format!("usize::from(self.{rust}.is_some())"));
                let _ = writeln!(writes, "match &self.{rust} {{");
                for (variant, field) in variants {
                    let _ = writeln!(
                        writes,
                        "Some({owned}::{variant}(value)) => s.serialize_field(\"{}\", {})?,",
                        field.json_name,
                        one(schema, &field.ty, "value")?
                    );
                    let _ = writeln!(
                        reads,
                        "{index} => {PJ}::set_oneof::<{}, _, _, _>(map, &mut self.{rust}, {owned}::{variant}),",
                        kind(schema, &field.ty)?
                    );
                    write_names(&mut names, field, index);
                    index += 1;
                }
                writes.push_str("None => {}\n}\n");
            }
        }
    }
    let count = if count.is_empty() {
        "0".to_owned()
    } else {
        count.join(" + ")
    };
    let qualified = message.qualified();
    let binding = if members.is_empty() { "s" } else { "mut s" };
    let _ = write!(
        code,
        "
impl ::serde::Serialize for {path} {{
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {{
        use ::serde::ser::SerializeStruct as _;
        let {binding} = serializer.serialize_struct(\"{qualified}\", {count})?;
        {writes}
        s.end()
    }}
}}

impl<'de> ::serde::Deserialize<'de> for {path} {{
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {{
        {PJ}::deserialize_message(deserializer)
    }}
}}

impl {PJ}::JsonMessage for {path} {{
    const NAME: &'static str = \"{qualified}\";

    #[inline]
    fn field_index(name: &str) -> ::core::option::Option<u32> {{
        match name {{
            {names}
            _ => None,
        }}
    }}

    #[inline]
    #[allow(unused_variables)]
    fn read_field<'de, A: ::serde::de::MapAccess<'de>>(&mut self, index: u32, map: &mut A) -> ::core::result::Result<(), A::Error> {{
        match index {{
            {reads}
            _ => map.next_value::<::serde::de::IgnoredAny>().map(drop),
        }}
    }}
}}
"
    );
    Ok(())
}

/// `participant_info` for a message at `ParticipantInfo`, `a::b` for one at `a::B`.
fn oneof_module(path: &str, nested_module: &str) -> String {
    match path.rsplit_once("::") {
        Some((scope, _)) => format!("{scope}::{nested_module}"),
        None => nested_module.to_owned(),
    }
}

/// The match arm of `field_index` for `field`: its JSON name and, when it differs, its
/// `.proto` name.
fn write_names(names: &mut String, field: &Field, index: u32) {
    if field.json_name == field.proto_name {
        let _ = writeln!(names, "\"{}\" => Some({index}),", field.json_name);
    } else {
        let _ = writeln!(
            names,
            "\"{}\" | \"{}\" => Some({index}),",
            field.json_name, field.proto_name
        );
    }
}

fn write_enum(code: &mut String, schema: &Schema<'_>, enumeration: &EnumInfo) -> Result {
    let path = schema.relative_path(&[], &enumeration.full)?;
    let _ = write!(
        code,
        "
impl ::serde::Serialize for {path} {{
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {{
        {PJ}::serialize_enum(*self, serializer)
    }}
}}

impl<'de> ::serde::Deserialize<'de> for {path} {{
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {{
        {PJ}::deserialize_enum(deserializer)
    }}
}}

impl {PJ}::JsonEnum for {path} {{
    fn name(number: i32) -> ::core::option::Option<&'static str> {{
        Self::try_from(number).ok().map(|value| value.as_str_name())
    }}

    fn number(name: &str) -> ::core::option::Option<i32> {{
        Self::from_str_name(name).map(|value| value as i32)
    }}
}}
"
    );
    Ok(())
}
