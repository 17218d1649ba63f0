//! The protocol as the generator sees it: every message, field, oneof and enum of the
//! descriptors, with the Rust names, paths and doc comments the generated code uses. Each
//! writer (`types`, `json`, `debug`, `view`) reads this model and nothing else, so they all
//! agree on names and layout.

use core::fmt::Write as _;
use std::collections::HashMap;

use heck::{ToSnakeCase as _, ToUpperCamelCase as _};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    FileDescriptorSet,
};

use crate::util::Result;

/// The well-known types the protocol may use, all of which `pbjson-types` provides (as
/// prost types with their JSON mapping).
pub(super) const WELL_KNOWN: &[&str] = &["Any", "Duration", "Empty", "Timestamp"];

/// Where the owned types live, from the crate root.
pub(super) const OWNED: &str = "crate::generated::livekit";

/// A message of the descriptors, with where its Rust types live.
pub(super) struct MessageInfo<'d> {
    pub(super) descriptor: &'d DescriptorProto,
    /// `.livekit.ParticipantInfo.State`.
    pub(super) full: String,
    /// `ParticipantInfo.State`, for error messages.
    pub(super) proto_name: String,
    /// The prost type, as a path from the crate root.
    pub(super) owned: String,
    /// The modules (below the package's) the type lives in: `["participant_info"]`.
    pub(super) module: Vec<String>,
    /// The Rust name of the type (`SipTrunkInfo`).
    pub(super) rust_name: String,
    pub(super) map_entry: bool,
    /// The module holding its nested types and oneof enums (`participant_info`).
    pub(super) nested_module: String,
    pub(super) well_known: bool,
    pub(super) docs: Docs,
    pub(super) deprecated: bool,
    /// Doc comments of its fields and oneofs, by field number and oneof index.
    field_docs: HashMap<i32, Docs>,
    oneof_docs: HashMap<i32, Docs>,
}

impl MessageInfo<'_> {
    /// The module of the owned type's oneof enums (`crate::generated::livekit::room`).
    pub(super) fn nested_owned(&self) -> String {
        let scope = self.owned.rsplit_once("::").map_or("", |(scope, _)| scope);
        format!("{scope}::{}", self.nested_module)
    }

    /// The package-qualified name (`livekit.ParticipantInfo.State`).
    pub(super) fn qualified(&self) -> &str {
        self.full.trim_start_matches('.')
    }
}

/// An enum of the descriptors.
pub(super) struct EnumInfo {
    /// `.livekit.ParticipantInfo.State`.
    pub(super) full: String,
    pub(super) module: Vec<String>,
    pub(super) rust_name: String,
    pub(super) docs: Docs,
    pub(super) deprecated: bool,
    /// The values, aliases removed (the first name of a number wins, as in protoc's output).
    pub(super) values: Vec<EnumValue>,
}

pub(super) struct EnumValue {
    /// `ACTIVE`, as written in the `.proto` file and on the JSON wire.
    pub(super) proto_name: String,
    /// `Active`: the enum's name is stripped as a prefix, as prost does.
    pub(super) variant: String,
    pub(super) number: i32,
    pub(super) docs: Docs,
    pub(super) deprecated: bool,
}

/// The doc comment lines of an element, already made safe for rustdoc.
#[derive(Clone, Default)]
pub(super) struct Docs(Vec<String>);

impl Docs {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `///` lines at `indent`, each ending in a newline.
    pub(super) fn render(&self, indent: &str) -> String {
        let mut out = String::new();
        for line in &self.0 {
            if line.is_empty() {
                let _ = writeln!(out, "{indent}///");
            } else {
                let _ = writeln!(out, "{indent}/// {line}");
            }
        }
        out
    }
}

pub(super) struct Schema<'d> {
    pub(super) messages: HashMap<String, MessageInfo<'d>>,
    pub(super) enums: HashMap<String, EnumInfo>,
    /// Fully qualified message names, in the order of the `.proto` files (a message before
    /// its nested ones).
    pub(super) order: Vec<String>,
    /// Fully qualified enum names, in the order of the `.proto` files.
    pub(super) enum_order: Vec<String>,
    borrows: std::cell::RefCell<HashMap<String, bool>>,
}

/// What a field holds.
#[derive(Clone, PartialEq)]
pub(super) enum Ty {
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Float,
    Double,
    /// An enum, by fully qualified name; `i32` in Rust.
    Enum(String),
    Str,
    /// `bytes`: `Vec<u8>` in the prost types, `bytes::Bytes` in the well-known ones.
    Bytes {
        shared: bool,
    },
    Message(String),
}

/// How a field holds it.
pub(super) enum Shape {
    Plain,
    /// proto3 `optional` scalars and every singular message: `Option<T>`.
    Optional,
    Repeated,
    Map(Ty, Ty),
}

pub(super) struct Field {
    pub(super) number: u32,
    /// `ParticipantInfo.tracks`.
    pub(super) label: String,
    /// The name in the `.proto` file (`joined_at`).
    pub(super) proto_name: String,
    /// The JSON name (`joinedAt`).
    pub(super) json_name: String,
    /// The Rust field name (`r#type`).
    pub(super) rust: String,
    pub(super) ty: Ty,
    pub(super) shape: Shape,
    pub(super) docs: Docs,
    pub(super) deprecated: bool,
    /// `[packed = false]` written out on a repeated scalar.
    pub(super) unpacked: bool,
}

/// A field of the struct: a field, or a oneof (one `Option<enum>` field).
pub(super) enum Member {
    Field(Field),
    Oneof {
        rust: String,
        /// The enum's name in the message's module (`Output`).
        enum_name: String,
        variants: Vec<(String, Field)>,
        docs: Docs,
    },
}

impl Member {
    pub(super) fn min_tag(&self) -> u32 {
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

/// The comments of one file, by descriptor path (`[4, 2, 2, 0]`: message 2, field 0).
struct Comments<'d>(HashMap<&'d [i32], Docs>);

impl<'d> Comments<'d> {
    fn new(file: &'d FileDescriptorProto) -> Self {
        let mut map = HashMap::new();
        for location in file.source_code_info.iter().flat_map(|info| &info.location) {
            let mut lines = Vec::new();
            let leading = location.leading_comments.as_deref().unwrap_or("");
            let trailing = location.trailing_comments.as_deref().unwrap_or("");
            lines.extend(comment_lines(leading));
            if !lines.is_empty() && !trailing.trim().is_empty() {
                lines.push(String::new());
            }
            lines.extend(comment_lines(trailing));
            if !lines.is_empty() {
                map.insert(location.path.as_slice(), Docs(lines));
            }
        }
        Self(map)
    }

    fn at(&self, path: &[i32]) -> Docs {
        self.0.get(path).cloned().unwrap_or_default()
    }
}

/// The lines of a `.proto` comment as Markdown that rustdoc reads as the author meant it:
/// no line is indented enough to become a code block (which rustdoc would compile as a
/// doctest), bare URLs are links, and square brackets are text, not links.
fn comment_lines(comment: &str) -> Vec<String> {
    let mut lines: Vec<String> = comment
        .lines()
        .map(|line| {
            let line = line.trim_end();
            let text = line.trim_start();
            // Keep a list's nesting, but never four spaces.
            let indent = (line.len() - text.len()).saturating_sub(1).min(3);
            let mut out = " ".repeat(indent);
            for (index, word) in text.split(' ').enumerate() {
                if index > 0 {
                    out.push(' ');
                }
                let scheme = ["http://", "https://"]
                    .iter()
                    .find(|scheme| word.starts_with(**scheme));
                if scheme.is_some_and(|scheme| word.len() > scheme.len()) {
                    let end = word.find([')', ',', ';']).unwrap_or(word.len());
                    let (url, rest) = word.split_at(end);
                    let _ = write!(out, "<{url}>{rest}");
                } else {
                    for c in word.chars() {
                        match c {
                            '[' | ']' => {
                                out.push('\\');
                                out.push(c);
                            }
                            _ => out.push(c),
                        }
                    }
                }
            }
            out
        })
        .collect();
    while lines.first().is_some_and(String::is_empty) {
        lines.remove(0);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Descriptor field numbers used in source-code-info paths.
mod path {
    pub(super) const FILE_MESSAGE: i32 = 4;
    pub(super) const FILE_ENUM: i32 = 5;
    pub(super) const MESSAGE_FIELD: i32 = 2;
    pub(super) const MESSAGE_NESTED: i32 = 3;
    pub(super) const MESSAGE_ENUM: i32 = 4;
    pub(super) const MESSAGE_ONEOF: i32 = 8;
    pub(super) const ENUM_VALUE: i32 = 2;
}

fn index(position: usize) -> i32 {
    i32::try_from(position).unwrap_or(i32::MAX)
}

impl<'d> Schema<'d> {
    pub(super) fn new(descriptors: &'d FileDescriptorSet) -> Result<Self> {
        let mut schema = Self {
            messages: HashMap::new(),
            enums: HashMap::new(),
            order: Vec::new(),
            enum_order: Vec::new(),
            borrows: std::cell::RefCell::default(),
        };
        for file in &descriptors.file {
            let comments = Comments::new(file);
            match file.package() {
                "livekit" => {
                    for (position, message) in file.message_type.iter().enumerate() {
                        schema.add(
                            message,
                            ".livekit",
                            &[],
                            OWNED,
                            &comments,
                            &[path::FILE_MESSAGE, index(position)],
                        );
                    }
                    for (position, enumeration) in file.enum_type.iter().enumerate() {
                        schema.add_enum(
                            enumeration,
                            ".livekit",
                            &[],
                            &comments,
                            &[path::FILE_ENUM, index(position)],
                        );
                    }
                }
                "google.protobuf" => {
                    for message in &file.message_type {
                        if WELL_KNOWN.contains(&message.name()) {
                            schema.add_well_known(message);
                        }
                    }
                }
                "logger" => {}
                other => return Err(format!("unexpected protobuf package {other}")),
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
        comments: &Comments<'_>,
        at: &[i32],
    ) {
        let full = format!("{scope}.{}", message.name());
        let rust_name = message.name().to_upper_camel_case();
        let module = message.name().to_snake_case();
        let mut nested = parents.to_vec();
        nested.push(module.clone());
        let proto_name = full.trim_start_matches(".livekit.").to_owned();
        let child = |kind: i32, position: usize| {
            let mut path = at.to_vec();
            path.extend([kind, index(position)]);
            path
        };
        let field_docs = message
            .field
            .iter()
            .enumerate()
            .map(|(position, field)| {
                (
                    field.number(),
                    comments.at(&child(path::MESSAGE_FIELD, position)),
                )
            })
            .collect();
        let oneof_docs = (0..message.oneof_decl.len())
            .map(|position| {
                (
                    index(position),
                    comments.at(&child(path::MESSAGE_ONEOF, position)),
                )
            })
            .collect();
        self.messages.insert(
            full.clone(),
            MessageInfo {
                descriptor: message,
                full: full.clone(),
                proto_name,
                owned: format!("{owned_scope}::{rust_name}"),
                module: parents.to_vec(),
                rust_name,
                map_entry: message
                    .options
                    .as_ref()
                    .is_some_and(|options| options.map_entry()),
                nested_module: module.clone(),
                well_known: false,
                docs: comments.at(at),
                deprecated: message
                    .options
                    .as_ref()
                    .is_some_and(|options| options.deprecated()),
                field_docs,
                oneof_docs,
            },
        );
        self.order.push(full.clone());
        for (position, inner) in message.nested_type.iter().enumerate() {
            self.add(
                inner,
                &full,
                &nested,
                &format!("{owned_scope}::{module}"),
                comments,
                &child(path::MESSAGE_NESTED, position),
            );
        }
        for (position, enumeration) in message.enum_type.iter().enumerate() {
            self.add_enum(
                enumeration,
                &full,
                &nested,
                comments,
                &child(path::MESSAGE_ENUM, position),
            );
        }
    }

    fn add_enum(
        &mut self,
        enumeration: &EnumDescriptorProto,
        scope: &str,
        module: &[String],
        comments: &Comments<'_>,
        at: &[i32],
    ) {
        let full = format!("{scope}.{}", enumeration.name());
        let rust_name = enumeration.name().to_upper_camel_case();
        let mut values: Vec<EnumValue> = Vec::new();
        for (position, value) in enumeration.value.iter().enumerate() {
            if values.iter().any(|seen| seen.number == value.number()) {
                continue;
            }
            let mut path = at.to_vec();
            path.extend([path::ENUM_VALUE, index(position)]);
            values.push(EnumValue {
                proto_name: value.name().to_owned(),
                variant: strip_enum_prefix(&rust_name, &value.name().to_upper_camel_case()),
                number: value.number(),
                docs: comments.at(&path),
                deprecated: value
                    .options
                    .as_ref()
                    .is_some_and(|options| options.deprecated()),
            });
        }
        self.enums.insert(
            full.clone(),
            EnumInfo {
                full: full.clone(),
                module: module.to_vec(),
                rust_name,
                docs: comments.at(at),
                deprecated: enumeration
                    .options
                    .as_ref()
                    .is_some_and(|options| options.deprecated()),
                values,
            },
        );
        self.enum_order.push(full);
    }

    fn add_well_known(&mut self, message: &'d DescriptorProto) {
        let full = format!(".google.protobuf.{}", message.name());
        self.messages.insert(
            full.clone(),
            MessageInfo {
                descriptor: message,
                full: full.clone(),
                proto_name: format!("google.protobuf.{}", message.name()),
                owned: format!("::pbjson_types::{}", message.name()),
                module: vec!["well_known".to_owned()],
                rust_name: message.name().to_owned(),
                map_entry: false,
                nested_module: String::new(),
                well_known: true,
                docs: Docs::default(),
                deprecated: false,
                field_docs: HashMap::new(),
                oneof_docs: HashMap::new(),
            },
        );
        self.order.push(full);
    }

    pub(super) fn message(&self, full: &str) -> Result<&MessageInfo<'d>> {
        self.messages
            .get(full)
            .ok_or_else(|| format!("{full} is referenced but not generated"))
    }

    pub(super) fn enumeration(&self, full: &str) -> Result<&EnumInfo> {
        self.enums
            .get(full)
            .ok_or_else(|| format!("enum {full} is referenced but not generated"))
    }

    /// The messages of the `livekit` package, map entries left out, in file order.
    pub(super) fn livekit_messages(&self) -> impl Iterator<Item = &MessageInfo<'d>> {
        self.order
            .iter()
            .map(|name| &self.messages[name])
            .filter(|message| !message.well_known && !message.map_entry)
    }

    /// The Rust path of message or enum `full` as written inside module `from` (a path of
    /// modules below the package's), as prost lays out paths: `super::Room`, `room::Kind`.
    pub(super) fn relative_path(&self, from: &[String], full: &str) -> Result<String> {
        let (module, name) = if let Some(message) = self.messages.get(full) {
            if message.well_known {
                return Ok(message.owned.clone());
            }
            (&message.module, &message.rust_name)
        } else {
            let enumeration = self.enumeration(full)?;
            (&enumeration.module, &enumeration.rust_name)
        };
        let common = from
            .iter()
            .zip(module)
            .take_while(|(left, right)| left == right)
            .count();
        let mut parts: Vec<&str> = vec!["super"; from.len() - common];
        parts.extend(module[common..].iter().map(String::as_str));
        parts.push(name);
        Ok(parts.join("::"))
    }

    /// Whether the view of `full` borrows from the buffer (holds a string or bytes, itself
    /// or in a message it holds).
    pub(super) fn borrows(&self, full: &str) -> Result<bool> {
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
            Type::Enum => {
                self.enumeration(field.type_name())?;
                Ty::Enum(field.type_name().to_owned())
            }
            Type::String => Ty::Str,
            Type::Bytes => Ty::Bytes { shared: well_known },
            Type::Message => {
                self.message(field.type_name())?;
                Ty::Message(field.type_name().to_owned())
            }
            other => {
                return Err(format!(
                    "{}: {other:?} fields are not supported by the code generator; add them \
                     to codegen/schema.rs and its writers",
                    field.name()
                ));
            }
        })
    }

    /// The members of `message`, in prost's encoding order (by their least field number).
    pub(super) fn fields(&self, message: &MessageInfo<'d>) -> Result<Vec<Member>> {
        let mut members = self.members(message)?;
        members.sort_by_key(Member::min_tag);
        Ok(members)
    }

    /// The members of `message` as prost-build lays out its struct: fields in declaration
    /// order, then the oneofs.
    pub(super) fn struct_members(&self, message: &MessageInfo<'d>) -> Result<Vec<Member>> {
        let mut members = self.members(message)?;
        members.sort_by_key(|member| matches!(member, Member::Oneof { .. }));
        Ok(members)
    }

    /// The members of `message` in declaration order (a oneof where its first field is), the
    /// order protojson writes them in.
    pub(super) fn members(&self, message: &MessageInfo<'d>) -> Result<Vec<Member>> {
        let mut members: Vec<Member> = Vec::new();
        let mut oneofs: HashMap<i32, usize> = HashMap::new();
        for descriptor in &message.descriptor.field {
            let number = u32::try_from(descriptor.number()).map_err(|e| e.to_string())?;
            let label = format!("{}.{}", message.proto_name, descriptor.name());
            let ty = self.ty(descriptor, message.well_known)?;
            let repeated = descriptor.label() == Label::Repeated;
            let packed_option = descriptor
                .options
                .as_ref()
                .and_then(|options| options.packed);
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
                    _ => Shape::Repeated,
                }
            } else if descriptor.proto3_optional() || matches!(ty, Ty::Message(_)) {
                Shape::Optional
            } else {
                Shape::Plain
            };
            let field = Field {
                number,
                label,
                proto_name: descriptor.name().to_owned(),
                json_name: descriptor
                    .json_name
                    .clone()
                    .unwrap_or_else(|| json_name(descriptor.name())),
                rust: rust_field(descriptor.name()),
                ty,
                shape,
                docs: message
                    .field_docs
                    .get(&descriptor.number())
                    .cloned()
                    .unwrap_or_default(),
                deprecated: descriptor
                    .options
                    .as_ref()
                    .is_some_and(|options| options.deprecated()),
                unpacked: repeated && packed_option == Some(false),
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
                            docs: message.oneof_docs.get(&index).cloned().unwrap_or_default(),
                        });
                    }
                }
                _ => members.push(Member::Field(field)),
            }
        }
        Ok(members)
    }
}

/// protoc's JSON name: `joined_at_ms` to `joinedAtMs` (what descriptors carry anyway).
fn json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A variant name without its enum's name in front (`SipDialtoneEtsi` in `SipDialtone` to
/// `Etsi`), unless nothing or only a digit-led rest would remain.
fn strip_enum_prefix(enum_name: &str, variant: &str) -> String {
    match variant.strip_prefix(enum_name) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => rest.to_owned(),
        _ => variant.to_owned(),
    }
}

/// prost's field name: snake case, keywords raw (`r#type`), `self`-like names suffixed.
pub(super) fn rust_field(name: &str) -> String {
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

/// Lays out generated code as rustfmt would (with prettyplease).
pub(super) fn format(code: &str, name: &str) -> Result<String> {
    let file = syn::parse_file(code)
        .map_err(|error| format!("generated {name} does not parse: {error}"))?;
    Ok(prettyplease::unparse(&file))
}

#[cfg(test)]
mod tests {
    use super::{comment_lines, json_name, strip_enum_prefix};

    #[test]
    fn enum_prefixes_are_stripped_as_prost_does() {
        assert_eq!(strip_enum_prefix("SipDialtone", "SipDialtoneEtsi"), "Etsi");
        assert_eq!(strip_enum_prefix("TrackType", "Audio"), "Audio");
        assert_eq!(strip_enum_prefix("Codec", "Codec"), "Codec");
        assert_eq!(strip_enum_prefix("Layer", "Layer1"), "Layer1");
    }

    #[test]
    fn json_names_are_lower_camel_case() {
        assert_eq!(json_name("joined_at_ms"), "joinedAtMs");
        assert_eq!(json_name("sid"), "sid");
    }

    #[test]
    fn comments_become_safe_markdown() {
        assert_eq!(
            comment_lines(" see https://example.com/a).\n\n      code-ish\n str_data[0]\n"),
            [
                "see <https://example.com/a>).",
                "",
                "   code-ish",
                "str_data\\[0\\]"
            ]
        );
    }
}
