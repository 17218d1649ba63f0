//! `cargo xtask api [--write]`: the public API of each library crate, as a checked-in text
//! snapshot (`xtask/api/<crate>.txt`), so that the surface only changes on purpose.
//!
//! The listing comes from rustdoc's JSON output (`--output-format json`, which stable rustdoc
//! gives with `RUSTC_BOOTSTRAP=1`, the same way `cargo xtask fuzz` gets its flags): every
//! public item reachable from the crate root, with its path and kind, the public fields of
//! structs, the variants of enums, the items of traits, the methods of inherent impls, the
//! traits implemented by hand (not auto or blanket impls), and `#[non_exhaustive]`. Without
//! `--write` it fails when the snapshot differs, printing what was added and removed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::Value;

use crate::util::{Result, cargo, run, workspace_root};

/// The crates whose API is snapshotted, with the features documented.
const CRATES: &[(&str, &[&str])] = &[
    ("livekit-auth", &["std"]),
    ("livekit-proto", &["serde", "view"]),
    ("livekit-core", &["system"]),
    ("livekit-hyper", &[]),
    ("livekit-ureq", &[]),
];

pub(crate) fn run_api(args: &[String]) -> Result {
    let write = match args {
        [] => false,
        [flag] if flag == "--write" => true,
        _ => return Err("usage: cargo xtask api [--write]".to_owned()),
    };
    let mut stale = Vec::new();
    for (name, features) in CRATES {
        let listing = listing(name, features)?;
        let path = workspace_root()
            .join("xtask")
            .join("api")
            .join(format!("{name}.txt"));
        let checked_in = fs::read_to_string(&path).unwrap_or_default();
        if listing == checked_in {
            continue;
        }
        if write {
            fs::create_dir_all(path.parent().expect("xtask/api/ has a parent"))
                .map_err(|error| format!("cannot create xtask/api/: {error}"))?;
            fs::write(&path, &listing)
                .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
            eprintln!("api: wrote {}", path.display());
        } else {
            let old: BTreeSet<&str> = checked_in.lines().collect();
            let new: BTreeSet<&str> = listing.lines().collect();
            let mut report = format!("{name}: the public API differs from xtask/api/{name}.txt");
            for line in new.difference(&old) {
                report.push_str(&format!("\n  + {line}"));
            }
            for line in old.difference(&new) {
                report.push_str(&format!("\n  - {line}"));
            }
            stale.push(report);
        }
    }
    if stale.is_empty() {
        eprintln!("api: every snapshot is current");
        Ok(())
    } else {
        Err(format!(
            "{}\n(if the change is meant, `cargo xtask api --write` and commit xtask/api/)",
            stale.join("\n")
        ))
    }
}

/// The crate's public API, one sorted line per item.
fn listing(name: &str, features: &[&str]) -> Result<String> {
    let mut command = cargo();
    command.args(["rustdoc", "--quiet", "--lib", "--package", name]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    command
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        // Stable rustdoc with its JSON output unlocked, not nightly: the snapshot must not
        // move with an unpinned nightly's JSON format.
        .env("RUSTC_BOOTSTRAP", "1");
    run(&mut command)?;
    let file = workspace_root()
        .join("target")
        .join("doc")
        .join(format!("{}.json", name.replace('-', "_")));
    let text = fs::read_to_string(&file).map_err(|error| format!("{}: {error}", file.display()))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|error| format!("{}: not rustdoc json: {error}", file.display()))?;
    let mut lines = BTreeSet::new();
    let crate_name = name.replace('-', "_");
    let root = doc["root"].to_string();
    Walker {
        doc: &doc,
        lines: &mut lines,
        seen: BTreeMap::new(),
    }
    .module(&root, &crate_name);
    let mut out = String::new();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

struct Walker<'a> {
    doc: &'a Value,
    lines: &'a mut BTreeSet<String>,
    /// Where each item already walked was listed first: a re-export of it elsewhere is one
    /// line naming that place, not a second walk of its fields, methods or module.
    seen: BTreeMap<String, String>,
}

impl Walker<'_> {
    fn item(&self, id: &str) -> Option<&Value> {
        self.doc["index"].get(id)
    }

    fn module(&mut self, id: &str, path: &str) {
        let Some(module) = self.item(id) else { return };
        let mut items: Vec<String> = module["inner"]["module"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Value::to_string)
            .collect();
        // Submodules last, so an item re-exported at this level is listed here, and the
        // submodule's path is the alias.
        items.sort_by_key(|child| self.is_module(child));
        for child in items {
            self.public_item(&child, path);
        }
    }

    /// Whether `id` is a module, or a re-export of one.
    fn is_module(&self, id: &str) -> bool {
        let Some(item) = self.item(id) else {
            return false;
        };
        match item["inner"].get("use") {
            Some(import) => self
                .item(&import["id"].to_string())
                .is_some_and(|target| target["inner"].get("module").is_some()),
            None => item["inner"].get("module").is_some(),
        }
    }

    /// A public item of a module at `parent`.
    fn public_item(&mut self, id: &str, parent: &str) {
        let Some(item) = self.item(id).cloned() else {
            return;
        };
        if item["visibility"] != "public" {
            return;
        }
        if let Some(import) = item["inner"].get("use") {
            let name = import["name"].as_str().unwrap_or_default();
            let target = import["id"].to_string();
            match self.item(&target) {
                // A re-export of this crate's own item: listed where it is re-exported.
                Some(_) if import["is_glob"] == false => {
                    self.named(&target, &format!("{parent}::{name}"));
                }
                // A glob, or another crate's item: listed as the re-export it is.
                _ if import["is_glob"] == true => {
                    let source = import["source"].as_str().unwrap_or_default();
                    self.lines
                        .insert(format!("{parent}::* = pub use {source}::*"));
                }
                _ => {
                    let source = import["source"].as_str().unwrap_or_default();
                    self.lines
                        .insert(format!("{parent}::{name} = pub use {source}"));
                }
            }
            return;
        }
        let name = item["name"].as_str().unwrap_or_default().to_owned();
        self.named(id, &format!("{parent}::{name}"));
    }

    /// An item of this crate, listed at `path`.
    fn named(&mut self, id: &str, path: &str) {
        if let Some(first) = self.seen.get(id) {
            self.lines.insert(format!("{path} = {first}"));
            return;
        }
        self.seen.insert(id.to_owned(), path.to_owned());
        let Some(item) = self.item(id).cloned() else {
            return;
        };
        let inner = &item["inner"];
        let Some((kind, body)) = inner.as_object().and_then(|object| object.iter().next()) else {
            return;
        };
        let non_exhaustive = item["attrs"].as_array().is_some_and(|attrs| {
            attrs
                .iter()
                .any(|attr| attr.to_string().contains("non_exhaustive"))
        });
        let marker = if non_exhaustive {
            " #[non_exhaustive]"
        } else {
            ""
        };
        match kind.as_str() {
            "module" => {
                self.lines.insert(format!("mod {path}"));
                self.module(id, path);
            }
            "struct" => {
                self.lines.insert(format!("struct {path}{marker}"));
                for field in body["kind"]["plain"]["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if let Some(field) = self.item(&field.to_string())
                        && field["visibility"] == "public"
                    {
                        let name = field["name"].as_str().unwrap_or_default();
                        self.lines.insert(format!("field {path}::{name}"));
                    }
                }
                self.impls(body, path);
            }
            "enum" => {
                self.lines.insert(format!("enum {path}{marker}"));
                for variant in body["variants"].as_array().into_iter().flatten() {
                    if let Some(variant) = self.item(&variant.to_string()) {
                        let name = variant["name"].as_str().unwrap_or_default();
                        self.lines.insert(format!("variant {path}::{name}"));
                    }
                }
                self.impls(body, path);
            }
            "trait" => {
                self.lines.insert(format!("trait {path}"));
                for member in body["items"].as_array().into_iter().flatten() {
                    if let Some(member) = self.item(&member.to_string()) {
                        let name = member["name"].as_str().unwrap_or_default();
                        self.lines.insert(format!("trait item {path}::{name}"));
                    }
                }
            }
            "function" => {
                self.lines.insert(format!("fn {path}"));
            }
            other => {
                // Constants, statics, type aliases, macros, unions.
                self.lines
                    .insert(format!("{} {path}", other.replace('_', " ")));
            }
        }
    }

    /// The inherent methods and the hand-written trait impls of a struct or an enum.
    fn impls(&mut self, body: &Value, path: &str) {
        for id in body["impls"].as_array().into_iter().flatten() {
            let Some(implementation) = self.item(&id.to_string()).cloned() else {
                continue;
            };
            let implementation = &implementation["inner"]["impl"];
            if implementation["is_synthetic"] == true || !implementation["blanket_impl"].is_null() {
                continue;
            }
            match implementation["trait"]["path"].as_str() {
                Some(name) => {
                    self.lines.insert(format!("impl {name} for {path}"));
                }
                None => {
                    for method in implementation["items"].as_array().into_iter().flatten() {
                        if let Some(method) = self.item(&method.to_string())
                            && method["visibility"] == "public"
                        {
                            let name = method["name"].as_str().unwrap_or_default();
                            self.lines.insert(format!("fn {path}::{name}"));
                        }
                    }
                }
            }
        }
    }
}
