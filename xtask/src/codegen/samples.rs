//! A protobuf encoding of every top-level message that sets each of its fields, for the
//! round-trip tests of `livekit-proto`: a test decodes it, so every field of every message is
//! exercised through protobuf and protojson without anyone listing the fields by hand.
//!
//! Values are chosen to catch mapping mistakes: 64-bit integers above 2^53 (they must be JSON
//! strings), negative signed values, non-ASCII strings, bytes that are not UTF-8, the first
//! non-zero enum value, two elements for repeated fields, one entry for maps, and the first
//! member of each oneof. Nested messages are filled down to [`MAX_DEPTH`] and empty below it.

use std::collections::HashMap;

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};

/// How deep nested messages are filled; deeper ones are present but empty.
const MAX_DEPTH: usize = 3;

/// Every message and enum by fully qualified name (`.livekit.Room`).
pub(super) struct Schema<'a> {
    messages: HashMap<String, &'a DescriptorProto>,
    enums: HashMap<String, &'a EnumDescriptorProto>,
}

impl<'a> Schema<'a> {
    pub(super) fn new(descriptors: &'a FileDescriptorSet) -> Self {
        let mut schema = Self {
            messages: HashMap::new(),
            enums: HashMap::new(),
        };
        for file in &descriptors.file {
            schema.index(
                &format!(".{}", file.package()),
                &file.message_type,
                &file.enum_type,
            );
        }
        schema
    }

    fn index(
        &mut self,
        scope: &str,
        messages: &'a [DescriptorProto],
        enums: &'a [EnumDescriptorProto],
    ) {
        for enumeration in enums {
            self.enums
                .insert(format!("{scope}.{}", enumeration.name()), enumeration);
        }
        for message in messages {
            let name = format!("{scope}.{}", message.name());
            self.index(&name, &message.nested_type, &message.enum_type);
            self.messages.insert(name, message);
        }
    }

    /// Whether there is a message named `name`.
    pub(super) fn contains(&self, name: &str) -> bool {
        self.messages.contains_key(name)
    }

    /// The sample encoding of the message named `name`.
    pub(super) fn sample(&self, name: &str) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_message(name, 0, &mut out);
        out
    }

    fn encode_message(&self, name: &str, depth: usize, out: &mut Vec<u8>) {
        let Some(message) = self.messages.get(name) else {
            return;
        };
        if depth > MAX_DEPTH {
            return;
        }
        let mut oneofs_done = Vec::new();
        for field in &message.field {
            // Only the first member of a real oneof; proto3 `optional` fields are synthetic ones.
            if let Some(oneof) = field.oneof_index
                && !field.proto3_optional()
            {
                if oneofs_done.contains(&oneof) {
                    continue;
                }
                oneofs_done.push(oneof);
            }
            let map_entry = self.messages.get(field.type_name()).filter(|entry| {
                entry
                    .options
                    .as_ref()
                    .is_some_and(|options| options.map_entry())
            });
            let count = match (field.label(), map_entry) {
                (Label::Repeated, None) => 2,
                _ => 1,
            };
            for index in 0..count {
                self.encode_field(field, index, depth, out);
            }
        }
    }

    fn encode_field(
        &self,
        field: &FieldDescriptorProto,
        index: u64,
        depth: usize,
        out: &mut Vec<u8>,
    ) {
        let number = u64::try_from(field.number()).expect("field numbers are positive");
        let key = |wire_type: u64, out: &mut Vec<u8>| varint(number << 3 | wire_type, out);
        match field.r#type() {
            Type::Double => {
                key(1, out);
                out.extend_from_slice(&(1.5 + index as f64).to_le_bytes());
            }
            Type::Float => {
                key(5, out);
                out.extend_from_slice(&(2.5 + index as f32).to_le_bytes());
            }
            Type::Int64 | Type::Uint64 => {
                key(0, out);
                varint((1 << 53) + 1 + index, out);
            }
            Type::Int32 | Type::Uint32 => {
                key(0, out);
                varint(7 + index, out);
            }
            Type::Sint32 | Type::Sint64 => {
                // Zigzag encoding of -7 - index.
                key(0, out);
                varint(13 + 2 * index, out);
            }
            Type::Fixed64 | Type::Sfixed64 => {
                key(1, out);
                out.extend_from_slice(&((1_u64 << 53) + 3 + index).to_le_bytes());
            }
            Type::Fixed32 | Type::Sfixed32 => {
                key(5, out);
                out.extend_from_slice(&(9_u32 + index as u32).to_le_bytes());
            }
            Type::Bool => {
                key(0, out);
                varint(1, out);
            }
            Type::String => {
                let text = format!("{} \u{e9}\u{1f600} \"{index}\"", field.name());
                key(2, out);
                varint(text.len() as u64, out);
                out.extend_from_slice(text.as_bytes());
            }
            Type::Bytes => {
                key(2, out);
                varint(3, out);
                out.extend_from_slice(&[0xff, 0x00, index as u8]);
            }
            Type::Enum => {
                let number = self
                    .enums
                    .get(field.type_name())
                    .and_then(|enumeration| {
                        enumeration
                            .value
                            .iter()
                            .map(|value| value.number())
                            .find(|number| *number != 0)
                    })
                    .unwrap_or(0);
                key(0, out);
                // Negative enum numbers are sign-extended to ten bytes, as int32 is.
                varint(i64::from(number) as u64, out);
            }
            Type::Message | Type::Group => {
                let mut nested = Vec::new();
                match field.type_name() {
                    ".google.protobuf.Timestamp" => {
                        varint(1 << 3, &mut nested);
                        varint(1_700_000_000 + index, &mut nested);
                        varint(2 << 3, &mut nested);
                        varint(123_000_000, &mut nested);
                    }
                    ".google.protobuf.Duration" => {
                        varint(1 << 3, &mut nested);
                        varint(30 + index, &mut nested);
                        varint(2 << 3, &mut nested);
                        varint(500_000_000, &mut nested);
                    }
                    name => self.encode_message(name, depth + 1, &mut nested),
                }
                key(2, out);
                varint(nested.len() as u64, out);
                out.extend_from_slice(&nested);
            }
        }
    }
}

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}
