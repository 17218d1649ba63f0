//! `livekit.rs`: the Rust type of every message and enum, with prost's derives as the
//! protobuf codec. prost's `Message`, `Oneof` and `Enumeration` derives read the
//! `#[prost(...)]` attributes written here; the layout follows prost's conventions (nested
//! types in a module named after their parent, enum fields as `i32`, oneofs as
//! `Option<enum>`), so the types are those of the other Rust LiveKit crates.

use core::fmt::Write as _;
use std::collections::HashSet;

use prost_types::FileDescriptorSet;

use super::SecretFields;
use super::schema::{Docs, EnumInfo, Field, Member, MessageInfo, Schema, Shape, Ty, format};
use crate::util::Result;

pub(super) fn generate(
    descriptors: &FileDescriptorSet,
    schema: &Schema<'_>,
    secrets: &SecretFields,
) -> Result<String> {
    let mut code = String::new();
    for file in descriptors
        .file
        .iter()
        .filter(|file| file.package() == "livekit")
    {
        for message in &file.message_type {
            let full = format!(".livekit.{}", message.name());
            write_message(&mut code, schema, schema.message(&full)?, secrets)?;
        }
        for enumeration in &file.enum_type {
            let full = format!(".livekit.{}", enumeration.name());
            write_enum(&mut code, schema.enumeration(&full)?);
        }
    }
    format(&code, "livekit.rs")
}

fn write_message(
    code: &mut String,
    schema: &Schema<'_>,
    message: &MessageInfo<'_>,
    secrets: &SecretFields,
) -> Result {
    let members = schema.struct_members(message)?;
    let derives = derives(
        "Message",
        message_can(Derive::Copy, schema, &message.full, &mut HashSet::new())?,
        message_can(Derive::Eq, schema, &message.full, &mut HashSet::new())?,
    );
    code.push_str(&message.docs.render(""));
    deprecation_note(code, message.deprecated, !message.docs.is_empty());
    code.push_str(&derives);
    if secrets.contains_key(&message.full) {
        // The redacting `Debug` of `livekit.debug.rs` replaces the derived one.
        code.push_str("#[prost(skip_debug)]\n");
    }
    let _ = writeln!(code, "pub struct {} {{", message.rust_name);
    let mut nested_module = String::new();
    for member in &members {
        match member {
            Member::Field(field) => {
                write_field_docs(code, field);
                let _ = writeln!(
                    code,
                    "#[prost({})]\npub {}: {},",
                    field_attribute(schema, &message.module, field)?,
                    field.rust,
                    field_type(schema, &message.module, field)?
                );
            }
            Member::Oneof {
                rust,
                enum_name,
                variants,
                docs,
            } => {
                let tags: Vec<String> = variants
                    .iter()
                    .map(|(_, field)| field.number.to_string())
                    .collect();
                let path = format!("{}::{enum_name}", message.nested_module);
                code.push_str(&docs.render(""));
                let _ = writeln!(
                    code,
                    "#[prost(oneof = \"{path}\", tags = \"{}\")]\npub {rust}: ::core::option::Option<{path}>,",
                    tags.join(", ")
                );
                write_oneof(
                    &mut nested_module,
                    schema,
                    message,
                    (enum_name, docs),
                    variants,
                )?;
            }
        }
    }
    code.push_str("}\n");

    let mut inner = String::new();
    for nested in &message.descriptor.nested_type {
        let full = format!("{}.{}", message.full, nested.name());
        let nested = schema.message(&full)?;
        if !nested.map_entry {
            write_message(&mut inner, schema, nested, secrets)?;
        }
    }
    for enumeration in &message.descriptor.enum_type {
        let full = format!("{}.{}", message.full, enumeration.name());
        write_enum(&mut inner, schema.enumeration(&full)?);
    }
    inner.push_str(&nested_module);
    if !inner.is_empty() {
        let _ = write!(
            code,
            "/// The types nested in [`{name}`]: its messages, enums and oneofs.\npub mod {module} {{\n{inner}}}\n",
            name = message.rust_name,
            module = message.nested_module,
        );
    }
    let qualified = message.qualified();
    let name = qualified
        .strip_prefix("livekit.")
        .ok_or_else(|| format!("{qualified} is outside the livekit package"))?;
    let _ = write!(
        code,
        "impl ::prost::Name for {rust} {{
    const NAME: &'static str = \"{short}\";
    const PACKAGE: &'static str = \"livekit\";
    fn full_name() -> ::prost::alloc::string::String {{
        \"{qualified}\".into()
    }}
    fn type_url() -> ::prost::alloc::string::String {{
        \"/{qualified}\".into()
    }}
}}
",
        rust = message.rust_name,
        short = name.rsplit('.').next().unwrap_or(name),
    );
    Ok(())
}

/// A deprecated message or enum says so in its docs, not with `#[deprecated]`: the
/// services and their callers name these types whenever they call a deprecated RPC, which
/// warns already, and a type-level attribute would warn on every mention of the type.
fn deprecation_note(code: &mut String, deprecated: bool, has_docs: bool) {
    if deprecated {
        if has_docs {
            code.push_str("///\n");
        }
        code.push_str("/// Deprecated in the protocol.\n");
    }
}

fn write_field_docs(code: &mut String, field: &Field) {
    code.push_str(&field.docs.render(""));
    if field.deprecated {
        code.push_str("#[deprecated]\n");
    }
}

/// The oneof's enum, for the message's module.
fn write_oneof(
    code: &mut String,
    schema: &Schema<'_>,
    message: &MessageInfo<'_>,
    (enum_name, docs): (&str, &Docs),
    variants: &[(String, Field)],
) -> Result {
    let mut copy = true;
    let mut eq = true;
    for (_, field) in variants {
        let seen = || HashSet::from([message.full.clone()]);
        copy &= field_can(Derive::Copy, schema, field, &mut seen())?;
        eq &= field_can(Derive::Eq, schema, field, &mut seen())?;
    }
    let mut module = message.module.clone();
    module.push(message.nested_module.clone());
    code.push_str(&docs.render(""));
    let _ = writeln!(
        code,
        "{}pub enum {enum_name} {{",
        derives("Oneof", copy, eq)
    );
    for (variant, field) in variants {
        write_field_docs(code, field);
        let _ = writeln!(
            code,
            "#[prost({})]\n{variant}({}),",
            field_attribute(schema, &module, field)?,
            element_type(schema, &module, &field.ty)?
        );
    }
    code.push_str("}\n");
    Ok(())
}

fn derives(kind: &str, copy: bool, eq: bool) -> String {
    format!(
        "#[derive(Clone, {}PartialEq, {}::prost::{kind})]\n",
        if copy { "Copy, " } else { "" },
        if eq { "Eq, Hash, " } else { "" }
    )
}

fn write_enum(code: &mut String, enumeration: &EnumInfo) {
    code.push_str(&enumeration.docs.render(""));
    deprecation_note(code, enumeration.deprecated, !enumeration.docs.is_empty());
    let name = &enumeration.rust_name;
    let _ = write!(
        code,
        "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]\n#[repr(i32)]\npub enum {name} {{\n"
    );
    let mut names = String::new();
    let mut numbers = String::new();
    for value in &enumeration.values {
        code.push_str(&value.docs.render(""));
        if value.deprecated {
            code.push_str("#[deprecated]\n");
        }
        let _ = writeln!(code, "{} = {},", value.variant, value.number);
        let _ = writeln!(
            names,
            "Self::{} => \"{}\",",
            value.variant, value.proto_name
        );
        let _ = writeln!(
            numbers,
            "\"{}\" => Some(Self::{}),",
            value.proto_name, value.variant
        );
    }
    let _ = write!(
        code,
        "}}
impl {name} {{
    /// The value's name in the `.proto` file (and in protojson): stable, unlike the
    /// Rust variant's name.
    pub fn as_str_name(&self) -> &'static str {{
        match self {{
{names}        }}
    }}
    /// The value of a name in the `.proto` file, if this version knows it.
    pub fn from_str_name(value: &str) -> ::core::option::Option<Self> {{
        match value {{
{numbers}            _ => None,
        }}
    }}
}}
"
    );
}

/// The `#[prost(...)]` of a field or oneof variant, with paths relative to `module`.
fn field_attribute(schema: &Schema<'_>, module: &[String], field: &Field) -> Result<String> {
    let tag = field.number;
    Ok(match &field.shape {
        Shape::Map(key, value) => format!(
            "btree_map = \"{}, {}\", tag = \"{tag}\"",
            scalar_kind(key).ok_or_else(|| format!("{}: unsupported map key", field.label))?,
            match value {
                Ty::Enum(full) => format!("enumeration({})", schema.relative_path(module, full)?),
                Ty::Message(_) => "message".to_owned(),
                other => scalar_kind(other)
                    .ok_or_else(|| format!("{}: unsupported map value", field.label))?
                    .to_owned(),
            }
        ),
        shape => {
            let kind = match &field.ty {
                Ty::Enum(full) => {
                    format!("enumeration = \"{}\"", schema.relative_path(module, full)?)
                }
                Ty::Message(_) => "message".to_owned(),
                Ty::Bytes { .. } => "bytes = \"vec\"".to_owned(),
                other => scalar_kind(other)
                    .ok_or_else(|| format!("{}: unsupported type", field.label))?
                    .to_owned(),
            };
            let label = match shape {
                Shape::Optional => ", optional",
                Shape::Repeated if field.unpacked => ", repeated, packed = \"false\"",
                Shape::Repeated => ", repeated",
                Shape::Plain | Shape::Map(..) => "",
            };
            format!("{kind}{label}, tag = \"{tag}\"")
        }
    })
}

fn scalar_kind(ty: &Ty) -> Option<&'static str> {
    Some(match ty {
        Ty::Bool => "bool",
        Ty::Int32 => "int32",
        Ty::Int64 => "int64",
        Ty::Uint32 => "uint32",
        Ty::Uint64 => "uint64",
        Ty::Float => "float",
        Ty::Double => "double",
        Ty::Str => "string",
        Ty::Bytes { .. } => "bytes",
        Ty::Enum(_) | Ty::Message(_) => return None,
    })
}

/// The Rust type of one value of `ty`, as written in `module`.
fn element_type(schema: &Schema<'_>, module: &[String], ty: &Ty) -> Result<String> {
    Ok(match ty {
        Ty::Bool => "bool".to_owned(),
        Ty::Int32 | Ty::Enum(_) => "i32".to_owned(),
        Ty::Int64 => "i64".to_owned(),
        Ty::Uint32 => "u32".to_owned(),
        Ty::Uint64 => "u64".to_owned(),
        Ty::Float => "f32".to_owned(),
        Ty::Double => "f64".to_owned(),
        Ty::Str => "::prost::alloc::string::String".to_owned(),
        Ty::Bytes { .. } => "::prost::alloc::vec::Vec<u8>".to_owned(),
        Ty::Message(full) => schema.relative_path(module, full)?,
    })
}

fn field_type(schema: &Schema<'_>, module: &[String], field: &Field) -> Result<String> {
    let element = element_type(schema, module, &field.ty)?;
    Ok(match &field.shape {
        Shape::Plain => element,
        Shape::Optional => format!("::core::option::Option<{element}>"),
        Shape::Repeated => format!("::prost::alloc::vec::Vec<{element}>"),
        Shape::Map(key, value) => format!(
            "::prost::alloc::collections::BTreeMap<{}, {}>",
            element_type(schema, module, key)?,
            element_type(schema, module, value)?
        ),
    })
}

/// Which derive a message, oneof or field is checked for.
#[derive(Clone, Copy)]
enum Derive {
    /// `Copy`: no strings, bytes, repeated fields or maps.
    Copy,
    /// `Eq` and `Hash`: no floating-point fields, repeated messages or maps.
    Eq,
}

/// Whether a message can have `derive`, looking into the messages it holds. `seen` guards
/// against recursion (a recursive message can have neither).
fn message_can(
    derive: Derive,
    schema: &Schema<'_>,
    full: &str,
    seen: &mut HashSet<String>,
) -> Result<bool> {
    if !seen.insert(full.to_owned()) {
        return Ok(false);
    }
    let mut can = true;
    for member in schema.fields(schema.message(full)?)? {
        can &= match &member {
            Member::Field(field) => field_can(derive, schema, field, seen)?,
            Member::Oneof { variants, .. } => {
                let mut all = true;
                for (_, field) in variants {
                    all &= field_can(derive, schema, field, seen)?;
                }
                all
            }
        };
        if !can {
            break;
        }
    }
    seen.remove(full);
    Ok(can)
}

fn field_can(
    derive: Derive,
    schema: &Schema<'_>,
    field: &Field,
    seen: &mut HashSet<String>,
) -> Result<bool> {
    match (derive, &field.ty, &field.shape) {
        (_, _, Shape::Map(..))
        | (Derive::Copy, _, Shape::Repeated)
        | (Derive::Copy, Ty::Str | Ty::Bytes { .. }, _)
        | (Derive::Eq, Ty::Float | Ty::Double, _)
        | (Derive::Eq, Ty::Message(_), Shape::Repeated) => Ok(false),
        (_, Ty::Message(full), _) => message_can(derive, schema, full, seen),
        _ => Ok(true),
    }
}
