//! Reads a component's `# Inboxes` and `# Outboxes` tables out of its source, and holds them
//! against the boxes the component declares: Kamaelia's convention (every box listed, with the
//! description its declaration gives) made a test.
//!
//! A table is the Markdown the crates write in a doc comment, one row a box:
//!
//! ```text
//! /// # Inboxes
//! ///
//! /// | box       | carries | what arrives                               |
//! /// |-----------|---------|--------------------------------------------|
//! /// | `inbox`   | `Bytes` | Bytes from the client                      |
//! /// | `control` | `Ipc`   | `ProducerFinished`: the client has stopped |
//! ```
//!
//! The first cell names the box (in backticks), the second the message type, the third its
//! description: the words [`Declarations::describe`](axon_core::Declarations::describe) (or
//! `inbox`/`outbox`) gives it, written as Markdown. Before they are compared, backticks and link
//! targets are taken out of the cell (`` [`Resource`](crate::Resource) `` reads `Resource`), so the
//! description declared is plain text and the table the same text, formatted.
//!
//! Written for no crate in particular: it reads a source file's text ([`include_str!`]) and a
//! live component's boxes, and the same check serves every crate of the workspace.
#![allow(dead_code)]

use axon_core::{BoxKind, ComponentRef, IntoInstance, Scheduler};

/// One row of a box table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxRow {
    /// The box's name, without its backticks.
    pub name: String,
    /// The message type, as plain text (`Bytes`, `Parsed`, `T`).
    pub carries: String,
    /// The description, as plain text.
    pub description: String,
}

/// A component's box tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoxTables {
    /// The rows under `# Inboxes`.
    pub inboxes: Vec<BoxRow>,
    /// The rows under `# Outboxes`.
    pub outboxes: Vec<BoxRow>,
}

impl BoxTables {
    /// The rows of one kind.
    pub fn of(&self, kind: BoxKind) -> &[BoxRow] {
        match kind {
            BoxKind::Inbox => &self.inboxes,
            BoxKind::Outbox => &self.outboxes,
        }
    }
}

/// One box as the running component declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredBox {
    /// Inbox or outbox.
    pub kind: BoxKind,
    /// Its name.
    pub name: String,
    /// Its message type's full name (`bytes::bytes::Bytes`).
    pub type_name: String,
    /// Its description.
    pub description: String,
}

/// The doc comment (`///` lines) of the item `pub struct NAME`, `pub enum NAME` or `pub fn NAME`
/// in `source`, without the `///` and the one space after it; `None` if there is no such item.
/// Attributes between the comment and the item are skipped.
pub fn item_doc(source: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let at = lines.iter().position(|line| {
        let line = line.trim_start();
        ["pub struct ", "pub(crate) struct ", "pub enum ", "pub fn "].iter().any(|start| {
            line.strip_prefix(start).is_some_and(|rest| {
                rest.strip_prefix(name)
                    .is_some_and(|after| after.is_empty() || after.starts_with(['<', ' ', '(', ';', '{']))
            })
        })
    })?;
    let mut doc = Vec::new();
    for line in lines[..at].iter().rev() {
        let line = line.trim_start();
        if line.starts_with("#[") {
            continue;
        }
        let Some(text) = line.strip_prefix("///") else { break };
        doc.push(text.strip_prefix(' ').unwrap_or(text));
    }
    doc.reverse();
    Some(doc.join("\n"))
}

/// The module's doc comment (its leading `//!` lines), as [`item_doc`] gives an item's.
pub fn module_doc(source: &str) -> String {
    source
        .lines()
        .map(str::trim_start)
        .take_while(|line| line.starts_with("//!") || line.is_empty())
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|text| text.strip_prefix(' ').unwrap_or(text))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `# Inboxes` and `# Outboxes` tables of `doc` (a doc comment's text).
pub fn box_tables(doc: &str) -> BoxTables {
    let mut tables = BoxTables::default();
    let mut section: Option<BoxKind> = None;
    for line in doc.lines() {
        let trimmed = line.trim();
        if let Some(heading) = trimmed.strip_prefix('#') {
            let heading = heading.trim_start_matches('#').trim();
            section = match heading {
                "Inboxes" => Some(BoxKind::Inbox),
                "Outboxes" => Some(BoxKind::Outbox),
                _ => None,
            };
            continue;
        }
        let Some(kind) = section else { continue };
        let Some(row) = table_row(trimmed) else { continue };
        match kind {
            BoxKind::Inbox => tables.inboxes.push(row),
            BoxKind::Outbox => tables.outboxes.push(row),
        }
    }
    tables
}

/// A row `| `name` | carries | description |`; `None` for the header row, the rule under it,
/// and anything that is not a table row.
fn table_row(line: &str) -> Option<BoxRow> {
    let inner = line.strip_prefix('|')?.strip_suffix('|')?;
    let cells = split_cells(inner);
    let [name, carries, description] = cells.as_slice() else { return None };
    // The header names no box in backticks; the rule is dashes.
    let name = name.trim().strip_prefix('`')?.strip_suffix('`')?;
    Some(BoxRow { name: name.to_owned(), carries: plain(carries), description: plain(description) })
}

/// The cells of a row, split at `|` but not at `\|`.
fn split_cells(inner: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().expect("one cell at least").push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().expect("one cell at least").push(c),
        }
    }
    cells
}

/// A cell's Markdown as plain text: backticks, `*` and `_` emphasis markers taken out, links
/// reduced to their text, spaces collapsed.
pub fn plain(markdown: &str) -> String {
    let mut out = String::new();
    let mut rest = markdown.trim();
    while let Some(c) = rest.chars().next() {
        // `[text](target)` and `[text]`: the text.
        if c == '[' {
            if let Some(close) = rest.find(']') {
                out.push_str(&plain(&rest[1..close]));
                rest = &rest[close + 1..];
                if rest.starts_with('(') {
                    if let Some(end) = rest.find(')') {
                        rest = &rest[end + 1..];
                    }
                }
                continue;
            }
        }
        if c != '`' && c != '*' {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The boxes `component` declares, with their descriptions, as the running system reports them
/// ([`Scheduler::introspect`]).
///
/// The component is activated on a scheduler of its own and looked at before its body can run:
/// call this from a current-thread tokio runtime (`#[tokio::test]`) and do not await between. The
/// body is dropped, never polled, with the runtime.
pub fn declared_boxes(component: impl IntoInstance) -> Vec<DeclaredBox> {
    let scheduler = Scheduler::new();
    let me: ComponentRef = scheduler.activate(component);
    let snapshot = scheduler.introspect();
    let info = snapshot
        .components
        .iter()
        .find(|c| c.id == me.id())
        .unwrap_or_else(|| panic!("{} is not in the scheduler's snapshot", me.name()));
    let declared: Vec<DeclaredBox> = info
        .boxes
        .iter()
        .map(|b| DeclaredBox {
            kind: b.kind,
            name: b.name.to_string(),
            type_name: b.type_name.to_owned(),
            description: b.description.clone(),
        })
        .collect();
    // The snapshot and the component's own list agree on the names.
    for kind in [BoxKind::Inbox, BoxKind::Outbox] {
        let names: Vec<String> = me.box_names(kind).iter().map(|n| n.to_string()).collect();
        let seen: Vec<String> = declared.iter().filter(|b| b.kind == kind).map(|b| b.name.clone()).collect();
        assert_eq!(names, seen, "{}: box_names and the snapshot disagree", me.name());
    }
    declared
}

/// A type's name as a table writes it: its path taken out (`bytes::bytes::Bytes` reads
/// `Bytes`, `core::option::Option<alloc::string::String>` reads `Option<String>`).
pub fn short_type(type_name: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in type_name.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(""));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(""));
    out
}

/// Every way the tables in `doc` differ from the boxes `declared`, one line each; empty if they
/// agree. A `carries` cell of one capital letter (`T`) stands for a type parameter and matches
/// any type.
pub fn differences(doc: &str, declared: &[DeclaredBox]) -> Vec<String> {
    let tables = box_tables(doc);
    let mut found = Vec::new();
    for kind in [BoxKind::Inbox, BoxKind::Outbox] {
        let word = match kind {
            BoxKind::Inbox => "inbox",
            BoxKind::Outbox => "outbox",
        };
        let rows = tables.of(kind);
        for b in declared.iter().filter(|b| b.kind == kind) {
            let Some(row) = rows.iter().find(|r| r.name == b.name) else {
                found.push(format!("{word} `{}` is declared but not in the table", b.name));
                continue;
            };
            if row.description != b.description {
                found.push(format!(
                    "{word} `{}`: the table says\n      {:?}\n    and declare() says\n      {:?}",
                    b.name, row.description, b.description
                ));
            }
            let short = short_type(&b.type_name);
            let generic = row.carries.len() == 1 && row.carries.chars().all(|c| c.is_ascii_uppercase());
            if row.carries != short && !generic {
                found.push(format!("{word} `{}` carries `{short}`; the table says `{}`", b.name, row.carries));
            }
        }
        for row in rows {
            if !declared.iter().any(|b| b.kind == kind && b.name == row.name) {
                found.push(format!("{word} `{}` is in the table but not declared", row.name));
            }
            if rows.iter().filter(|r| r.name == row.name).count() > 1 {
                found.push(format!("{word} `{}` is in the table more than once", row.name));
            }
        }
    }
    found
}

/// Checks the component `name`, defined in the source `source` (file `file`, for the message):
/// its doc comment has box tables listing exactly the boxes `declared`, word for word, and its
/// doc (or, for the component a module is about, the module's) has an `# Example` with code and
/// a `# How it works`. Returns what is wrong, empty if nothing.
pub fn check(file: &str, source: &str, name: &str, declared: &[DeclaredBox]) -> Vec<String> {
    let Some(doc) = item_doc(source, name) else {
        return vec![format!("{file}: no `pub struct {name}` (or enum, or fn) found")];
    };
    let mut problems = differences(&doc, declared);
    if box_tables(&doc).inboxes.is_empty() {
        problems.push("no `# Inboxes` table in its doc comment".to_owned());
    }
    if box_tables(&doc).outboxes.is_empty() {
        problems.push("no `# Outboxes` table in its doc comment".to_owned());
    }
    let module = module_doc(source);
    for heading in ["Example", "How it works"] {
        if !has_section(&doc, heading) && !has_section(&module, heading) {
            problems.push(format!("no `# {heading}` section in its doc or its module's"));
        }
    }
    if !example_has_code(&doc) && !example_has_code(&module) {
        problems.push("its `# Example` has no code block".to_owned());
    }
    problems.into_iter().map(|p| format!("{file}: {name}: {p}")).collect()
}

/// Whether `doc` has a heading (of any level) reading `heading`.
fn has_section(doc: &str, heading: &str) -> bool {
    doc.lines().any(|line| {
        let line = line.trim();
        line.starts_with('#') && line.trim_start_matches('#').trim() == heading
    })
}

/// Whether an `# Example` section of `doc` has a code block (```` ``` ````) before the next
/// heading.
fn example_has_code(doc: &str) -> bool {
    let mut in_example = false;
    for line in doc.lines() {
        let line = line.trim();
        if line.starts_with("# ") || line.starts_with("## ") {
            in_example = line.trim_start_matches('#').trim() == "Example";
            continue;
        }
        if in_example && line.starts_with("```") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"//! A module.
//!
//! # Example
//!
//! ```
//! let x = 1;
//! ```

/// A thing.
///
/// # How it works
///
/// Simply.
///
/// # Inboxes
///
/// | box | carries | what arrives |
/// |---|---|---|
/// | `inbox` | [`Bytes`](bytes::Bytes) | Bytes from `the client` \| or not |
/// | `control` | `Ipc` | Shutdown signalling |
///
/// # Outboxes
///
/// | box | carries | what leaves |
/// |---|---|---|
/// | `outbox` | `T` | *Everything* |
#[derive(Debug)]
pub struct Thing<T>;
"#;

    #[test]
    fn tables_are_read_as_plain_text_rows() {
        let doc = item_doc(SOURCE, "Thing").unwrap();
        let tables = box_tables(&doc);
        assert_eq!(tables.inboxes.len(), 2);
        assert_eq!(
            tables.inboxes[0],
            BoxRow {
                name: "inbox".into(),
                carries: "Bytes".into(),
                description: "Bytes from the client | or not".into()
            }
        );
        assert_eq!(tables.outboxes[0].description, "Everything");
        assert!(has_section(&doc, "How it works"));
        assert!(example_has_code(&module_doc(SOURCE)));
    }

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(short_type("bytes::bytes::Bytes"), "Bytes");
        assert_eq!(short_type("core::option::Option<alloc::string::String>"), "Option<String>");
        assert_eq!(short_type("()"), "()");
    }
}
