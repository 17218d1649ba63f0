//! `view.rs`: for every message a view type that borrows its strings and bytes from the
//! buffer it was decoded from (`&'a str` for `String`), with `from_protobuf` and
//! `to_message` (the owned prost type). A view follows prost's decoding rules field for
//! field (what is accepted, how repeated occurrences of a singular field merge), so that its
//! values are prost's.

use core::fmt::Write as _;

use super::SecretFields;
use super::schema::{Field, Member, MessageInfo, Schema, Shape, Ty, format};
use crate::util::Result;

const VIEW: &str = "crate::generated::view";
const WIRE: &str = "crate::wire";

pub(super) fn generate(schema: &Schema<'_>, secrets: &SecretFields) -> Result<String> {
    let mut views = Tree::default();
    for name in &schema.order {
        let message = &schema.messages[name];
        if message.map_entry {
            continue;
        }
        let fields = schema.fields(message)?;
        let secret = secrets.contains_key(name);
        let (view, oneofs) = view_struct(schema, name, message, &fields, secret)?;
        views.at(&message.module).code.push_str(&view);
        if !oneofs.is_empty() {
            let mut module = message.module.clone();
            module.push(message.nested_module.clone());
            views.at(&module).code.push_str(&oneofs);
        }
    }
    let mut view = String::new();
    views.render(&mut view);
    format(&view, "view.rs")
}

/// The view type's path, without generics (`crate::generated::view::participant_info::X`).
fn view_path(message: &MessageInfo<'_>) -> String {
    let mut path = VIEW.to_owned();
    for part in &message.module {
        path.push_str("::");
        path.push_str(part);
    }
    format!("{path}::{}", message.rust_name)
}

/// The module of the view's oneof enums (`crate::generated::view::participant_info`).
fn nested_view(message: &MessageInfo<'_>) -> String {
    let path = view_path(message);
    let scope = path.rsplit_once("::").map_or("", |(scope, _)| scope);
    format!("{scope}::{}", message.nested_module)
}

/// The view type's path (from anywhere in the crate), with `<'a>` if it borrows.
fn view_type(schema: &Schema<'_>, full: &str) -> Result<String> {
    let message = schema.message(full)?;
    let lifetime = if schema.borrows(full)? { "<'a>" } else { "" };
    Ok(format!("{}{lifetime}", view_path(message)))
}

// In the helpers below, `value` is an expression of a reference to the value: `&self.name`
// for a field, or `value` for a binding of `for value in &self.names`.

/// The value itself, for comparisons and casts: `self.name`, or `*value`.
fn deref(value: &str) -> String {
    value
        .strip_prefix('&')
        .map_or_else(|| format!("*{value}"), str::to_owned)
}

/// The receiver of a method call (which dereferences by itself): `self.name`, or `value`.
fn receiver(value: &str) -> &str {
    value.strip_prefix('&').unwrap_or(value)
}

/// The view type of a field's element (`&'a str`, `i32`, a view path).
fn view_ty(schema: &Schema<'_>, ty: &Ty) -> Result<String> {
    Ok(match ty {
        Ty::Bool => "bool".to_owned(),
        Ty::Int32 | Ty::Enum(_) => "i32".to_owned(),
        Ty::Int64 => "i64".to_owned(),
        Ty::Uint32 => "u32".to_owned(),
        Ty::Uint64 => "u64".to_owned(),
        Ty::Float => "f32".to_owned(),
        Ty::Double => "f64".to_owned(),
        Ty::Str => "&'a str".to_owned(),
        Ty::Bytes { .. } => "&'a [u8]".to_owned(),
        Ty::Message(full) => view_type(schema, full)?,
    })
}

/// The `Reader` method that reads a scalar of `ty`.
fn reader_method(ty: &Ty) -> &'static str {
    match ty {
        Ty::Bool => "bool",
        Ty::Int32 | Ty::Enum(_) => "int32",
        Ty::Int64 => "int64",
        Ty::Uint32 => "uint32",
        Ty::Uint64 => "uint64",
        Ty::Float => "float",
        Ty::Double => "double",
        Ty::Str => "string",
        Ty::Bytes { .. } => "bytes",
        Ty::Message(_) => unreachable!("messages are merged, not read"),
    }
}

/// The owned value of a view element (`value` is a reference to it).
fn to_owned(ty: &Ty, value: &str) -> String {
    let recv = receiver(value);
    match ty {
        Ty::Str => format!("::alloc::string::String::from({})", deref(value)),
        Ty::Bytes { shared: false } => format!("{recv}.to_vec()"),
        Ty::Bytes { shared: true } => format!("::prost::bytes::Bytes::copy_from_slice({recv})"),
        Ty::Message(_) => format!("{recv}.to_message()"),
        _ => deref(value),
    }
}

/// A match arm reading field `field` into `place` (an lvalue of the view element type).
fn read_into(field: &Field, place: &str) -> String {
    let label = &field.label;
    match &field.ty {
        Ty::Message(_) => {
            format!(
                "{{ let sub = r.message(wire_type, \"{label}\", depth)?; {place}.merge(sub, depth - 1)?; }}"
            )
        }
        ty => format!(
            "{place} = r.{}(wire_type, \"{label}\")?,",
            reader_method(ty)
        ),
    }
}

/// The view struct of a message and its impls, and the view enums of its oneofs (for the
/// message's module).
fn view_struct(
    schema: &Schema<'_>,
    full_name: &str,
    message: &MessageInfo<'_>,
    members: &[Member],
    secret: bool,
) -> Result<(String, String)> {
    let borrows = schema.borrows(full_name)?;
    let (generics, reader_lifetime) = if borrows { ("<'a>", "'a") } else { ("", "'_") };
    let name = &message.rust_name;
    let owned = &message.owned;
    let nested_view = nested_view(message);
    let owned_nested = message.nested_owned();

    let mut fields = String::new();
    let mut arms = String::new();
    let mut conversions = String::new();
    let mut oneof_enums = String::new();
    for member in members {
        match member {
            Member::Field(field) => {
                let rust = &field.rust;
                let element = view_ty(schema, &field.ty)?;
                let (ty, arm, conversion) = match &field.shape {
                    Shape::Plain => (
                        element,
                        read_into(field, &format!("self.{rust}")),
                        to_owned(&field.ty, &format!("&self.{rust}")),
                    ),
                    Shape::Optional => {
                        let arm = match &field.ty {
                            Ty::Message(_) => read_into(
                                field,
                                &format!(
                                    "self.{rust}.get_or_insert_with(::core::default::Default::default)"
                                ),
                            ),
                            ty => format!(
                                "self.{rust} = Some(r.{}(wire_type, \"{}\")?),",
                                reader_method(ty),
                                field.label
                            ),
                        };
                        (
                            format!("::core::option::Option<{element}>"),
                            arm,
                            format!(
                                "self.{rust}.as_ref().map(|value| {})",
                                to_owned(&field.ty, "value")
                            ),
                        )
                    }
                    Shape::Repeated => {
                        let arm = match &field.ty {
                            Ty::Message(_) => format!(
                                "{{ let sub = r.message(wire_type, \"{}\", depth)?; \
                                 if self.{rust}.capacity() == 0 {{ self.{rust}.reserve_exact(r.capacity_for({}, sub.len(), depth)); }} \
                                 self.{rust}.push(<{element}>::default()); \
                                 if let Some(value) = self.{rust}.last_mut() {{ value.merge(sub, depth - 1)?; }} }}",
                                field.label, field.number
                            ),
                            Ty::Str | Ty::Bytes { .. } => format!(
                                "self.{rust}.push(r.{}(wire_type, \"{}\")?),",
                                reader_method(&field.ty),
                                field.label
                            ),
                            Ty::Int32 | Ty::Enum(_) => format!(
                                "r.repeated_int32(wire_type, \"{}\", &mut self.{rust})?,",
                                field.label
                            ),
                            _ => {
                                return Err(format!(
                                    "{}: repeated scalars other than int32 and enums are not supported",
                                    field.label
                                ));
                            }
                        };
                        (
                            format!("::alloc::vec::Vec<{element}>"),
                            arm,
                            format!(
                                "self.{rust}.iter().map(|value| {}).collect()",
                                to_owned(&field.ty, "value")
                            ),
                        )
                    }
                    Shape::Map(key_ty, value_ty) => {
                        let key_view = view_ty(schema, key_ty)?;
                        let value_view = view_ty(schema, value_ty)?;
                        let key_arm = format!(
                            "1 => key = entry.{}(wire_type, \"{}\")?,",
                            reader_method(key_ty),
                            field.label
                        );
                        let value_arm = match value_ty {
                            Ty::Message(_) => format!(
                                "2 => {{ let sub = entry.message(wire_type, \"{}\", depth - 1)?; value.merge(sub, depth - 2)?; }}",
                                field.label
                            ),
                            ty => format!(
                                "2 => value = entry.{}(wire_type, \"{}\")?,",
                                reader_method(ty),
                                field.label
                            ),
                        };
                        let arm = format!(
                            "{{ let mut entry = r.message(wire_type, \"{label}\", depth)?; \
                             let mut key = <{key_view}>::default(); let mut value = <{value_view}>::default(); \
                             while !entry.is_empty() {{ let (tag, wire_type) = entry.key()?; match tag {{ \
                             {key_arm} {value_arm} _ => entry.skip(wire_type, tag, depth - 1)?, }} }} \
                             self.{rust}.push(key, value); }}",
                            label = field.label
                        );
                        (
                            format!("{WIRE}::Map<{key_view}, {value_view}>"),
                            arm,
                            format!(
                                "self.{rust}.iter().map(|(key, value)| ({}, {})).collect()",
                                to_owned(key_ty, "key"),
                                to_owned(value_ty, "value")
                            ),
                        )
                    }
                };
                let _ = write!(fields, "\n    pub {rust}: {ty},");
                let _ = write!(arms, "\n                {} => {arm}", field.number);
                let _ = write!(conversions, "\n            {rust}: {conversion},");
            }
            Member::Oneof {
                rust,
                enum_name,
                variants,
                ..
            } => {
                let mut oneof_borrows = false;
                let mut enum_variants = String::new();
                let mut conversion_arms = String::new();
                for (variant, field) in variants {
                    oneof_borrows |= match &field.ty {
                        Ty::Str | Ty::Bytes { .. } => true,
                        Ty::Message(full) => schema.borrows(full)?,
                        _ => false,
                    };
                    let element = view_ty(schema, &field.ty)?;
                    let _ = write!(enum_variants, "\n    {variant}({element}),");
                    let arm = match &field.ty {
                        Ty::Message(_) => format!(
                            "{{ let sub = r.message(wire_type, \"{label}\", depth)?; \
                             if let Some({nested_view}::{enum_name}::{variant}(value)) = &mut self.{rust} {{ \
                             value.merge(sub, depth - 1)?; }} else {{ \
                             let mut value = <{element}>::default(); value.merge(sub, depth - 1)?; \
                             self.{rust} = Some({nested_view}::{enum_name}::{variant}(value)); }} }}",
                            label = field.label
                        ),
                        ty => format!(
                            "self.{rust} = Some({nested_view}::{enum_name}::{variant}(r.{}(wire_type, \"{}\")?)),",
                            reader_method(ty),
                            field.label
                        ),
                    };
                    let _ = write!(arms, "\n                {} => {arm}", field.number);
                    let _ = write!(
                        conversion_arms,
                        "\n                {nested_view}::{enum_name}::{variant}(value) => {owned_nested}::{enum_name}::{variant}({}),",
                        to_owned(&field.ty, "value")
                    );
                }
                let enum_generics = if oneof_borrows { "<'a>" } else { "" };
                let _ = write!(
                    oneof_enums,
                    "
/// The `{enum_name}` oneof of [`{name}`](super::{name}), viewed.
#[derive(Debug, Clone, PartialEq)]
pub enum {enum_name}{enum_generics} {{{enum_variants}
}}
"
                );
                let _ = write!(
                    fields,
                    "\n    pub {rust}: ::core::option::Option<{nested_view}::{enum_name}{enum_generics}>,"
                );
                let _ = write!(
                    conversions,
                    "\n            {rust}: self.{rust}.as_ref().map(|value| match value {{{conversion_arms}\n            }}),"
                );
            }
        }
    }
    let lifetime_use = if borrows { "<'_>" } else { "" };
    // Printed through the owned message: the same output (credentials redacted), and no
    // derived `Debug` to compile for every view.
    let redacted = if secret {
        ": credentials as `<redacted>`"
    } else {
        ""
    };
    let debug = format!(
        "
/// Prints as the owned message does{redacted}.
impl ::core::fmt::Debug for {name}{lifetime_use} {{
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{
        ::core::fmt::Debug::fmt(&self.to_message(), f)
    }}
}}
"
    );
    let code = format!(
        "
/// [`{owned_doc}`] viewed in place: strings and bytes borrowed from the protobuf buffer.
#[derive(Clone, PartialEq, Default)]
pub struct {name}{generics} {{{fields}
}}
{debug}
impl{generics} {name}{generics} {{
    /// Decodes `buf`, borrowing its strings and bytes; accepts and refuses what prost does.
    pub fn from_protobuf(buf: &{reader_lifetime_ref}[u8]) -> ::core::result::Result<Self, {WIRE}::DecodeError> {{
        let mut message = Self::default();
        message.merge({WIRE}::Reader::new(buf), {WIRE}::RECURSION_LIMIT)?;
        Ok(message)
    }}

    #[allow(unused_variables)]
    pub(crate) fn merge(&mut self, mut r: {WIRE}::Reader<{reader_lifetime}>, depth: u32) -> ::core::result::Result<(), {WIRE}::DecodeError> {{
        while !r.is_empty() {{
            let (tag, wire_type) = r.key()?;
            match tag {{{arms}
                _ => r.skip(wire_type, tag, depth)?,
            }}
        }}
        Ok(())
    }}

    /// The owned message, copying what is borrowed.
    pub fn to_message(&self) -> {owned} {{
        {owned} {{{conversions}
        }}
    }}
}}

impl ::core::convert::From<&{name}{lifetime_use}> for {owned} {{
    fn from(view: &{name}{lifetime_use}) -> Self {{
        view.to_message()
    }}
}}

impl<'a> {WIRE}::View<'a> for {name}{view_generics} {{
    type Message = {owned};

    fn from_protobuf(buf: &'a [u8]) -> ::core::result::Result<Self, {WIRE}::DecodeError> {{
        Self::from_protobuf(buf)
    }}

    fn to_message(&self) -> {owned} {{
        self.to_message()
    }}
}}

impl {WIRE}::HasView for {owned} {{
    type View<'a> = {self_path}{view_generics};
}}
",
        view_generics = if borrows { "<'a>" } else { "" },
        self_path = view_path(message),
        owned_doc = owned.trim_start_matches("::").replace("crate::generated::livekit", "crate"),
        reader_lifetime_ref = if borrows { "'a " } else { "" },
    );
    Ok((code, oneof_enums))
}

/// View modules by path, each with its code and submodules.
#[derive(Default)]
struct Tree {
    code: String,
    children: std::collections::BTreeMap<String, Self>,
}

impl Tree {
    fn at(&mut self, path: &[String]) -> &mut Self {
        let mut node = self;
        for part in path {
            node = node.children.entry(part.clone()).or_default();
        }
        node
    }

    fn render(&self, out: &mut String) {
        out.push_str(&self.code);
        for (name, child) in &self.children {
            let _ = write!(out, "\n/// Nested types, viewed.\npub mod {name} {{\n");
            child.render(out);
            out.push_str("}\n");
        }
    }
}
