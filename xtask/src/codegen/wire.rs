//! The fast protobuf paths of `livekit-proto`, generated from the same descriptors as the
//! prost types:
//!
//! - `encode.rs`: `Encode` for every message (the prost types and the well-known types the
//!   protocol uses). It measures nested lengths once, into a list, and then writes; prost
//!   measures a nested message again at every level above it.
//! - `view.rs`: for every message a view type that borrows its strings and bytes from the
//!   buffer it was decoded from (`&'a str` for `String`), with `from_protobuf` and
//!   `to_message` (the owned prost type).
//!
//! Both follow prost's rules field for field (encode order, what is skipped at its default,
//! how repeated occurrences merge), so that their bytes and values are prost's.

use core::fmt::Write as _;
use std::collections::HashMap;

use heck::{ToSnakeCase as _, ToUpperCamelCase as _};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};

use super::SecretFields;
use crate::util::Result;

/// The well-known types the protocol may use, all of which `pbjson-types` provides.
const WELL_KNOWN: &[&str] = &["Any", "Duration", "Empty", "Timestamp"];

const VIEW: &str = "crate::generated::view";
const WIRE: &str = "crate::wire";

/// `(encode.rs, view.rs)`.
pub(super) fn generate(
    descriptors: &FileDescriptorSet,
    secrets: &SecretFields,
) -> Result<(String, String)> {
    let schema = Schema::new(descriptors)?;
    let mut encode = String::new();
    let mut views = Tree::default();
    for name in &schema.order {
        let message = &schema.messages[name];
        if message.map_entry {
            continue;
        }
        let fields = schema.fields(message)?;
        encode.push_str(&encode_impl(message, &fields));
        let secret = secrets.contains_key(name);
        let (view, oneofs) = view_struct(&schema, name, message, &fields, secret)?;
        views.at(&message.view_module).code.push_str(&view);
        if !oneofs.is_empty() {
            let mut module = message.view_module.clone();
            module.push(message.nested_module.clone());
            views.at(&module).code.push_str(&oneofs);
        }
    }
    let mut view = String::new();
    views.render(&mut view);
    Ok((format(&encode, "encode.rs")?, format(&view, "view.rs")?))
}

/// Lays out generated code as rustfmt would (with prettyplease, as prost-build does).
fn format(code: &str, name: &str) -> Result<String> {
    let file = syn::parse_file(code)
        .map_err(|error| format!("generated {name} does not parse: {error}"))?;
    Ok(prettyplease::unparse(&file))
}

/// A message of the descriptors, with where its Rust types live.
struct MessageInfo<'d> {
    descriptor: &'d DescriptorProto,
    /// `ParticipantInfo.State`, for error messages.
    proto_name: String,
    /// The prost type, as a path from the crate root.
    owned: String,
    /// The module of the view type, below `view` (`["participant_info"]`).
    view_module: Vec<String>,
    /// The Rust name of both types (`SipTrunkInfo`).
    rust_name: String,
    map_entry: bool,
    /// For the oneofs of the message: where its view and owned enums live.
    nested_module: String,
}

impl MessageInfo<'_> {
    /// The view type's path, without generics (`crate::generated::view::participant_info::X`).
    fn view_path(&self) -> String {
        let mut path = VIEW.to_owned();
        for part in &self.view_module {
            path.push_str("::");
            path.push_str(part);
        }
        format!("{path}::{}", self.rust_name)
    }

    /// The module of the view's oneof enums (`crate::generated::view::participant_info`).
    fn nested_view(&self) -> String {
        let path = self.view_path();
        let scope = path.rsplit_once("::").map_or("", |(scope, _)| scope);
        format!("{scope}::{}", self.nested_module)
    }

    /// The module of the owned type's oneof enums (`crate::generated::livekit::room`).
    fn nested_owned(&self) -> String {
        let scope = self.owned.rsplit_once("::").map_or("", |(scope, _)| scope);
        format!("{scope}::{}", self.nested_module)
    }
}

struct Schema<'d> {
    messages: HashMap<String, MessageInfo<'d>>,
    /// Fully qualified names, in the order of the `.proto` files.
    order: Vec<String>,
    borrows: std::cell::RefCell<HashMap<String, bool>>,
}

/// What a field holds.
#[derive(Clone, PartialEq)]
enum Ty {
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Float,
    Double,
    Enum,
    Str,
    /// `bytes`: `Vec<u8>` in the prost types, `bytes::Bytes` in the well-known ones.
    Bytes {
        shared: bool,
    },
    Message(String),
}

/// How a field holds it.
enum Shape {
    Plain,
    /// proto3 `optional` scalars and every singular message: `Option<T>`.
    Optional,
    Repeated {
        packed: bool,
    },
    Map(Ty, Ty),
}

struct Field {
    number: u32,
    /// `ParticipantInfo.tracks`.
    label: String,
    /// The Rust field name (`r#type`).
    rust: String,
    ty: Ty,
    shape: Shape,
}

/// A field of the struct, in prost's encoding order.
enum Member {
    Field(Field),
    Oneof {
        rust: String,
        /// The enum's name in the message's module (`Output`).
        enum_name: String,
        variants: Vec<(String, Field)>,
    },
}

impl Member {
    fn min_tag(&self) -> u32 {
        match self {
            Self::Field(field) => field.number,
            Self::Oneof { variants, .. } => variants
                .iter()
                .map(|(_, field)| field.number)
                .min()
                .unwrap_or(0),
        }
    }
}

impl<'d> Schema<'d> {
    fn new(descriptors: &'d FileDescriptorSet) -> Result<Self> {
        let mut schema = Self {
            messages: HashMap::new(),
            order: Vec::new(),
            borrows: std::cell::RefCell::default(),
        };
        for file in &descriptors.file {
            match file.package() {
                "livekit" => {
                    for message in &file.message_type {
                        schema.add(message, ".livekit", &[], "crate::generated::livekit");
                    }
                }
                "google.protobuf" => {
                    for message in &file.message_type {
                        if WELL_KNOWN.contains(&message.name()) {
                            schema.add_well_known(message);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(schema)
    }

    fn add(
        &mut self,
        message: &'d DescriptorProto,
        scope: &str,
        parents: &[String],
        owned_scope: &str,
    ) {
        let full = format!("{scope}.{}", message.name());
        let rust_name = message.name().to_upper_camel_case();
        let module = message.name().to_snake_case();
        let mut view_module = parents.to_vec();
        view_module.push(module.clone());
        let proto_name = full.trim_start_matches(".livekit.").to_owned();
        self.messages.insert(
            full.clone(),
            MessageInfo {
                descriptor: message,
                proto_name,
                owned: format!("{owned_scope}::{rust_name}"),
                view_module: parents.to_vec(),
                rust_name,
                map_entry: message
                    .options
                    .as_ref()
                    .is_some_and(|options| options.map_entry()),
                nested_module: module.clone(),
            },
        );
        self.order.push(full.clone());
        for nested in &message.nested_type {
            self.add(
                nested,
                &full,
                &view_module,
                &format!("{owned_scope}::{module}"),
            );
        }
    }

    fn add_well_known(&mut self, message: &'d DescriptorProto) {
        let full = format!(".google.protobuf.{}", message.name());
        self.messages.insert(
            full.clone(),
            MessageInfo {
                descriptor: message,
                proto_name: format!("google.protobuf.{}", message.name()),
                owned: format!("::pbjson_types::{}", message.name()),
                view_module: vec!["well_known".to_owned()],
                rust_name: message.name().to_owned(),
                map_entry: false,
                nested_module: String::new(),
            },
        );
        self.order.push(full);
    }

    fn message(&self, full: &str) -> Result<&MessageInfo<'d>> {
        self.messages
            .get(full)
            .ok_or_else(|| format!("{full} is referenced but not generated"))
    }

    /// The view type's path (from anywhere in the crate), with `<'a>` if it borrows.
    fn view_type(&self, full: &str) -> Result<String> {
        let message = self.message(full)?;
        let lifetime = if self.borrows(full)? { "<'a>" } else { "" };
        Ok(format!("{}{lifetime}", message.view_path()))
    }

    /// Whether the view of `full` borrows from the buffer (holds a string or bytes, itself
    /// or in a message it holds).
    fn borrows(&self, full: &str) -> Result<bool> {
        if let Some(&known) = self.borrows.borrow().get(full) {
            return Ok(known);
        }
        // A message that holds itself would recurse forever here; the protocol has none.
        let message = self.message(full)?;
        let mut borrows = false;
        for field in &message.descriptor.field {
            borrows |= match field.r#type() {
                Type::String | Type::Bytes => true,
                Type::Message => self.borrows(field.type_name())?,
                _ => false,
            };
        }
        self.borrows.borrow_mut().insert(full.to_owned(), borrows);
        Ok(borrows)
    }

    fn ty(&self, field: &FieldDescriptorProto, well_known: bool) -> Result<Ty> {
        Ok(match field.r#type() {
            Type::Bool => Ty::Bool,
            Type::Int32 => Ty::Int32,
            Type::Int64 => Ty::Int64,
            Type::Uint32 => Ty::Uint32,
            Type::Uint64 => Ty::Uint64,
            Type::Float => Ty::Float,
            Type::Double => Ty::Double,
            Type::Enum => Ty::Enum,
            Type::String => Ty::Str,
            Type::Bytes => Ty::Bytes { shared: well_known },
            Type::Message => {
                self.message(field.type_name())?;
                Ty::Message(field.type_name().to_owned())
            }
            other => {
                return Err(format!(
                    "{}: {other:?} fields are not supported by the wire codegen",
                    field.name()
                ));
            }
        })
    }

    /// The members of `message`, in prost's encoding order (by their least field number).
    fn fields(&self, message: &MessageInfo<'d>) -> Result<Vec<Member>> {
        let well_known = message.owned.starts_with("::pbjson_types");
        let mut members: Vec<Member> = Vec::new();
        let mut oneofs: HashMap<i32, usize> = HashMap::new();
        for descriptor in &message.descriptor.field {
            let number = u32::try_from(descriptor.number()).map_err(|e| e.to_string())?;
            let label = format!("{}.{}", message.proto_name, descriptor.name());
            let ty = self.ty(descriptor, well_known)?;
            let repeated = descriptor.label() == Label::Repeated;
            let shape = if repeated {
                match &ty {
                    Ty::Message(entry) if self.message(entry)?.map_entry => {
                        let entry = self.message(entry)?.descriptor;
                        let part = |number: i32| {
                            entry
                                .field
                                .iter()
                                .find(|field| field.number() == number)
                                .ok_or_else(|| format!("{label}: map entry lacks field {number}"))
                        };
                        Shape::Map(self.ty(part(1)?, false)?, self.ty(part(2)?, false)?)
                    }
                    _ => {
                        let numeric = !matches!(ty, Ty::Str | Ty::Bytes { .. } | Ty::Message(_));
                        let packed = numeric
                            && descriptor
                                .options
                                .as_ref()
                                .and_then(|options| options.packed)
                                .unwrap_or(true);
                        Shape::Repeated { packed }
                    }
                }
            } else if descriptor.proto3_optional() || matches!(ty, Ty::Message(_)) {
                Shape::Optional
            } else {
                Shape::Plain
            };
            let field = Field {
                number,
                label,
                rust: rust_field(descriptor.name()),
                ty,
                shape,
            };
            match descriptor.oneof_index {
                Some(index) if !descriptor.proto3_optional() => {
                    let variant = descriptor.name().to_upper_camel_case();
                    let field = Field {
                        shape: Shape::Plain,
                        ..field
                    };
                    if let Some(&at) = oneofs.get(&index) {
                        if let Member::Oneof { variants, .. } = &mut members[at] {
                            variants.push((variant, field));
                        }
                    } else {
                        let oneof = message
                            .descriptor
                            .oneof_decl
                            .get(usize::try_from(index).map_err(|e| e.to_string())?)
                            .ok_or("oneof index out of range")?;
                        oneofs.insert(index, members.len());
                        members.push(Member::Oneof {
                            rust: rust_field(oneof.name()),
                            enum_name: oneof.name().to_upper_camel_case(),
                            variants: vec![(variant, field)],
                        });
                    }
                }
                _ => members.push(Member::Field(field)),
            }
        }
        members.sort_by_key(Member::min_tag);
        Ok(members)
    }
}

/// prost's field name: snake case, keywords raw (`r#type`), `self`-like names suffixed.
fn rust_field(name: &str) -> String {
    const RAW: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
        "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
        "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
        "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
        "typeof", "unsized", "virtual", "yield", "try", "gen",
    ];
    let name = name.to_snake_case();
    if RAW.contains(&name.as_str()) {
        format!("r#{name}")
    } else if ["self", "super", "crate", "Self"].contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

/// The encoded key of field `number` with `wire_type`, as a byte-array literal, and its
/// length.
fn key(number: u32, wire_type: u32) -> (String, usize) {
    let mut value = u64::from(number) << 3 | u64::from(wire_type);
    let mut bytes = Vec::new();
    while value >= 0x80 {
        bytes.push(format!("0x{:02x}", (value & 0x7f) | 0x80));
        value >>= 7;
    }
    bytes.push(format!("0x{value:02x}"));
    let len = bytes.len();
    (format!("&[{}]", bytes.join(", ")), len)
}

fn wire_type(ty: &Ty) -> u32 {
    match ty {
        Ty::Float => 5,
        Ty::Double => 1,
        Ty::Str | Ty::Bytes { .. } | Ty::Message(_) => 2,
        _ => 0,
    }
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

/// `value` as the `u64` its varint encodes.
fn as_varint(ty: &Ty, value: &str) -> String {
    let value = deref(value);
    match ty {
        Ty::Bool | Ty::Uint32 => format!("u64::from({value})"),
        Ty::Uint64 => value,
        // Negative 32-bit values are sign-extended to ten bytes, as prost writes them.
        Ty::Int32 | Ty::Enum | Ty::Int64 => format!("{value} as u64"),
        _ => unreachable!("not a varint type"),
    }
}

/// The test that `value` is not at its default (prost skips a plain field at its default).
fn is_set(ty: &Ty, value: &str) -> String {
    match ty {
        Ty::Bool => deref(value),
        Ty::Float | Ty::Double => format!("{} != 0.0", deref(value)),
        Ty::Str | Ty::Bytes { .. } => format!("!{}.is_empty()", receiver(value)),
        Ty::Message(_) => format!("{} != ::core::default::Default::default()", deref(value)),
        _ => format!("{} != 0", deref(value)),
    }
}

/// Statements adding the length of `value`, key included, to `len`.
fn measure_value(ty: &Ty, key_len: usize, value: &str) -> String {
    match ty {
        Ty::Float => format!("len += {};", key_len + 4),
        Ty::Double => format!("len += {};", key_len + 8),
        Ty::Str | Ty::Bytes { .. } => format!(
            "len += {key_len} + {WIRE}::delimited_len({}.len());",
            receiver(value)
        ),
        Ty::Message(_) => format!(
            "len += {key_len} + {WIRE}::delimited_len({WIRE}::measure_nested({value}, sizes));"
        ),
        _ => format!(
            "len += {key_len} + {WIRE}::varint_len({});",
            as_varint(ty, value)
        ),
    }
}

/// Statements writing `value`, key included.
fn write_value(ty: &Ty, key: &str, value: &str) -> String {
    let recv = receiver(value);
    let body = match ty {
        Ty::Float | Ty::Double => {
            format!("at = {WIRE}::put_raw(buf, at, &{recv}.to_le_bytes());")
        }
        Ty::Str => format!("at = {WIRE}::put_delimited(buf, at, {recv}.as_bytes());"),
        Ty::Bytes { .. } => format!("at = {WIRE}::put_delimited(buf, at, &{recv}[..]);"),
        Ty::Message(_) => format!(
            "let size = sizes.next(); at = {WIRE}::put_varint(buf, at, size as u64); at = {recv}.write(buf, at, sizes);"
        ),
        _ => format!(
            "at = {WIRE}::put_varint(buf, at, {});",
            as_varint(ty, value)
        ),
    };
    format!("{} {body}", write_key(key))
}

/// Writes a key given as a byte-array literal (from [`key`]).
fn write_key(key: &str) -> String {
    match key
        .strip_prefix("&[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        Some(byte) if !byte.contains(',') => format!("at = {WIRE}::put_byte(buf, at, {byte});"),
        _ => format!("at = {WIRE}::put_raw(buf, at, {key});"),
    }
}

/// The length of a map entry's key or value at field 1 or 2 (a one-byte key), for the
/// measure pass (`sizes` available) or the write pass (nested lengths from `w`).
fn entry_part_len(ty: &Ty, value: &str, measuring: bool) -> String {
    match ty {
        Ty::Float => "5".to_owned(),
        Ty::Double => "9".to_owned(),
        Ty::Str | Ty::Bytes { .. } => {
            format!("1 + {WIRE}::delimited_len({}.len())", receiver(value))
        }
        Ty::Message(_) if measuring => {
            format!("1 + {WIRE}::delimited_len({WIRE}::measure_nested({value}, sizes))")
        }
        Ty::Message(_) => "1 + {WIRE}::delimited_len(value_size)".replace("{WIRE}", WIRE),
        _ => format!("1 + {WIRE}::varint_len({})", as_varint(ty, value)),
    }
}

fn encode_impl(message: &MessageInfo<'_>, members: &[Member]) -> String {
    let mut measure = String::new();
    let mut write = String::new();
    for member in members {
        match member {
            Member::Field(field) => encode_field(field, &mut measure, &mut write),
            Member::Oneof {
                rust,
                enum_name,
                variants,
            } => {
                let owned_enum = format!("{}::{enum_name}", message.nested_owned());
                let _ = write!(
                    measure,
                    "\n        if let Some(value) = &self.{rust} {{ match value {{"
                );
                let _ = write!(
                    write,
                    "\n        if let Some(value) = &self.{rust} {{ match value {{"
                );
                for (variant, field) in variants {
                    let (key_bytes, key_len) = key(field.number, wire_type(&field.ty));
                    let _ = write!(
                        measure,
                        "\n            {owned_enum}::{variant}(value) => {{ {} }}",
                        measure_value(&field.ty, key_len, "value")
                    );
                    let _ = write!(
                        write,
                        "\n            {owned_enum}::{variant}(value) => {{ {} }}",
                        write_value(&field.ty, &key_bytes, "value")
                    );
                }
                measure.push_str("\n        } }");
                write.push_str("\n        } }");
            }
        }
    }
    let owned = &message.owned;
    format!(
        "
impl {WIRE}::sealed::Measure for {owned} {{
    #[allow(unused_variables, unused_mut)]
    fn measure(&self, sizes: &mut ::alloc::vec::Vec<usize>) -> usize {{
        let mut len = 0;{measure}
        len
    }}

    #[allow(unused_variables, unused_mut)]
    fn write(&self, buf: &mut [u8], mut at: usize, sizes: &mut {WIRE}::sealed::Sizes<'_>) -> usize {{{write}
        at
    }}
}}

impl {WIRE}::Encode for {owned} {{}}
"
    )
}

fn encode_field(field: &Field, measure: &mut String, write: &mut String) {
    let rust = &field.rust;
    let wire = wire_type(&field.ty);
    let (key_bytes, key_len) = key(field.number, wire);
    match &field.shape {
        Shape::Plain => {
            let value = format!("&self.{rust}");
            let _ = write!(
                measure,
                "\n        if {} {{ {} }}",
                is_set(&field.ty, &value),
                measure_value(&field.ty, key_len, &value)
            );
            let _ = write!(
                write,
                "\n        if {} {{ {} }}",
                is_set(&field.ty, &value),
                write_value(&field.ty, &key_bytes, &value)
            );
        }
        Shape::Optional => {
            let _ = write!(
                measure,
                "\n        if let Some(value) = &self.{rust} {{ {} }}",
                measure_value(&field.ty, key_len, "value")
            );
            let _ = write!(
                write,
                "\n        if let Some(value) = &self.{rust} {{ {} }}",
                write_value(&field.ty, &key_bytes, "value")
            );
        }
        Shape::Repeated { packed: true } => {
            let (key_bytes, key_len) = key(field.number, 2);
            let body = format!(
                "self.{rust}.iter().map(|value| {WIRE}::varint_len({})).sum::<usize>()",
                as_varint(&field.ty, "value")
            );
            let _ = write!(
                measure,
                "\n        if !self.{rust}.is_empty() {{ len += {key_len} + {WIRE}::delimited_len({body}); }}"
            );
            let _ = write!(
                write,
                "\n        if !self.{rust}.is_empty() {{ {} at = {WIRE}::put_varint(buf, at, ({body}) as u64); \
                 for value in &self.{rust} {{ at = {WIRE}::put_varint(buf, at, {}); }} }}",
                write_key(&key_bytes),
                as_varint(&field.ty, "value")
            );
        }
        Shape::Repeated { packed: false } => {
            let _ = write!(
                measure,
                "\n        for value in &self.{rust} {{ {} }}",
                measure_value(&field.ty, key_len, "value")
            );
            let _ = write!(
                write,
                "\n        for value in &self.{rust} {{ {} }}",
                write_value(&field.ty, &key_bytes, "value")
            );
        }
        Shape::Map(key_ty, value_ty) => {
            let entry_key = |measuring: bool| {
                format!(
                    "(if {} {{ {} }} else {{ 0 }})",
                    is_set(key_ty, "key"),
                    entry_part_len(key_ty, "key", measuring)
                )
            };
            let entry_value = |measuring: bool| {
                format!(
                    "(if {} {{ {} }} else {{ 0 }})",
                    is_set(value_ty, "value"),
                    entry_part_len(value_ty, "value", measuring)
                )
            };
            let _ = write!(
                measure,
                "\n        for (key, value) in &self.{rust} {{ let entry = {} + {}; len += {key_len} + {WIRE}::delimited_len(entry); }}",
                entry_key(true),
                entry_value(true)
            );
            let value_size = if matches!(value_ty, Ty::Message(_)) {
                format!(
                    "let value_size = if {} {{ sizes.next() }} else {{ 0 }}; ",
                    is_set(value_ty, "value")
                )
            } else {
                String::new()
            };
            let (key_key, _) = key(1, wire_type(key_ty));
            let (value_key, _) = key(2, wire_type(value_ty));
            let write_part = |ty: &Ty, key: &str, value: &str| match ty {
                Ty::Message(_) => {
                    format!(
                        "{} at = {WIRE}::put_varint(buf, at, value_size as u64); at = {}.write(buf, at, sizes);",
                        write_key(key),
                        receiver(value)
                    )
                }
                _ => write_value(ty, key, value),
            };
            let _ = write!(
                write,
                "\n        for (key, value) in &self.{rust} {{ {value_size}let entry = {} + {}; \
                 {} at = {WIRE}::put_varint(buf, at, entry as u64); \
                 if {} {{ {} }} if {} {{ {} }} }}",
                entry_key(false),
                entry_value(false),
                write_key(&key_bytes),
                is_set(key_ty, "key"),
                write_part(key_ty, &key_key, "key"),
                is_set(value_ty, "value"),
                write_part(value_ty, &value_key, "value"),
            );
        }
    }
}

/// The view type of a field's element (`&'a str`, `i32`, a view path).
fn view_ty(schema: &Schema<'_>, ty: &Ty) -> Result<String> {
    Ok(match ty {
        Ty::Bool => "bool".to_owned(),
        Ty::Int32 | Ty::Enum => "i32".to_owned(),
        Ty::Int64 => "i64".to_owned(),
        Ty::Uint32 => "u32".to_owned(),
        Ty::Uint64 => "u64".to_owned(),
        Ty::Float => "f32".to_owned(),
        Ty::Double => "f64".to_owned(),
        Ty::Str => "&'a str".to_owned(),
        Ty::Bytes { .. } => "&'a [u8]".to_owned(),
        Ty::Message(full) => schema.view_type(full)?,
    })
}

/// The `Reader` method that reads a scalar of `ty`.
fn reader_method(ty: &Ty) -> &'static str {
    match ty {
        Ty::Bool => "bool",
        Ty::Int32 | Ty::Enum => "int32",
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
    let nested_view = message.nested_view();
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
                    Shape::Repeated { .. } => {
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
                            Ty::Int32 | Ty::Enum => format!(
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
        self_path = message.view_path(),
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
