//! Test support for the workspace, never published: reads a component's `# Inboxes` and
//! `# Outboxes` tables out of its source, and holds them against the boxes the component
//! declares. Kamaelia's convention (every box listed, with the description its declaration
//! gives) made a test: each crate's `tests/component_docs.rs` runs [`check`] on each of its
//! components.
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
//! `inbox`/`outbox`) gives it, written as Markdown. Before they are compared, backticks, `*` and
//! link targets are taken out of the cell (`` [`Resource`](crate::Resource) `` reads `Resource`),
//! so the description declared is plain text and the table the same text, formatted. Headings and
//! rows inside code blocks (```` ``` ````) are not read: a hidden `# ` line of an example is no
//! heading.
//!
//! Written for no crate in particular: it reads a source file's text ([`include_str!`]) and a
//! live component's boxes, and the same check serves every crate of the workspace. It is a
//! dev-dependency of each (axon-core's included: its integration tests link the one axon-core
//! this crate is built on); a crate's unit tests can use it too, except axon-core's.

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

/// The lines of `doc` outside its code blocks (the fences left out too).
fn prose(doc: &str) -> impl Iterator<Item = &str> {
    let mut in_code = false;
    doc.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            return false;
        }
        !in_code
    })
}

/// The `# Inboxes` and `# Outboxes` tables of `doc` (a doc comment's text).
pub fn box_tables(doc: &str) -> BoxTables {
    let mut tables = BoxTables::default();
    let mut section: Option<BoxKind> = None;
    for line in prose(doc) {
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

/// A cell's Markdown as plain text: backticks and `*` emphasis markers taken out, links reduced
/// to their text, spaces collapsed. (`_` stays: box names such as `_signal` have it.)
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

/// Whether a `carries` cell fits a type as [`short_type`] writes it. The cell may name type
/// parameters, each standing for any type: one capital letter (`T`, `Subscription<T>`), or one and
/// an associated type (`T::Inbox`, for a wrapper whose boxes are its inner component's).
pub fn carries_matches(cell: &str, short: &str) -> bool {
    fits(&pattern(cell), short)
}

/// A piece of a `carries` cell: text to find as it is, or a type parameter.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Parameter,
}

/// The cell as text and type parameters.
fn pattern(cell: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = cell;
    while let Some(c) = rest.chars().next() {
        if c.is_alphanumeric() || c == '_' {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            let word = &rest[..end];
            if is_type_parameter(word) {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Parameter);
            } else {
                text.push_str(word);
            }
            rest = &rest[end..];
        } else {
            text.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// Whether a word of a cell is a type parameter: `T`, or `T::Inbox`.
fn is_type_parameter(word: &str) -> bool {
    let one_capital = |s: &str| s.len() == 1 && s.chars().all(|c| c.is_ascii_uppercase());
    match word.split_once("::") {
        None => one_capital(word),
        Some((parameter, associated)) => {
            one_capital(parameter)
                && !associated.is_empty()
                && associated.chars().all(|c| c.is_alphanumeric() || c == '_')
        }
    }
}

/// Whether `ty` is the pieces in order, each parameter standing for a type: a non-empty part
/// with its brackets balanced.
fn fits(pieces: &[Piece], ty: &str) -> bool {
    match pieces.split_first() {
        None => ty.is_empty(),
        Some((Piece::Text(text), rest)) => ty.strip_prefix(text.as_str()).is_some_and(|after| fits(rest, after)),
        Some((Piece::Parameter, rest)) => {
            let mut depth = 0i32;
            for (at, c) in ty.char_indices() {
                match c {
                    '<' | '(' | '[' => depth += 1,
                    '>' | ')' | ']' => depth -= 1,
                    _ => {}
                }
                if depth < 0 {
                    return false;
                }
                let end = at + c.len_utf8();
                if depth == 0 && fits(rest, &ty[end..]) {
                    return true;
                }
            }
            false
        }
    }
}

/// Every way the tables in `doc` differ from the boxes `declared`, one line each; empty if they
/// agree. A type parameter in a `carries` cell (`T`, `T::Inbox`) stands for any type
/// ([`carries_matches`]).
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
            if !carries_matches(&row.carries, &short) {
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
/// doc (or, for the component a module is about, the module's) has an `# Example` that runs and
/// a `# How it works`. If the module's doc has box tables too, they are held against the same
/// boxes ([`check_module`]). Returns what is wrong, empty if nothing.
pub fn check(file: &str, source: &str, name: &str, declared: &[DeclaredBox]) -> Vec<String> {
    check_under(file, source, name, declared, None)
}

/// As [`check`], for a component defined in a file below the module that tells its story
/// (`backplane/publish.rs` below `backplane/mod.rs`): `module`, that module's file and source,
/// may hold its `# Example` and `# How it works`, and its tables, if any, are checked too.
pub fn check_under(
    file: &str,
    source: &str,
    name: &str,
    declared: &[DeclaredBox],
    module: Option<(&str, &str)>,
) -> Vec<String> {
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
    let modules: Vec<String> =
        [Some(source), module.map(|(_, source)| source)].into_iter().flatten().map(module_doc).collect();
    for heading in ["Example", "How it works"] {
        if !has_section(&doc, heading) && !modules.iter().any(|m| has_section(m, heading)) {
            problems.push(format!("no `# {heading}` section in its doc or its module's"));
        }
    }
    if !example_has_code(&doc) && !modules.iter().any(|m| example_has_code(m)) {
        problems.push("its `# Example` has no code block that runs (no_run, ignore and text do not)".to_owned());
    }
    let mut problems: Vec<String> = problems.into_iter().map(|p| format!("{file}: {name}: {p}")).collect();
    for (file, source) in [Some((file, source)), module].into_iter().flatten() {
        problems.extend(check_module(file, source, name, declared));
    }
    problems
}

/// If the module doc of `source` (file `file`) has box tables, what is wrong with them as tables
/// of the component `name`'s boxes `declared`: a module about one component, or about several
/// with the same boxes, may repeat their tables; one about components with different boxes leaves
/// the tables to each one's doc. Empty if it has none.
pub fn check_module(file: &str, source: &str, name: &str, declared: &[DeclaredBox]) -> Vec<String> {
    let module = module_doc(source);
    if box_tables(&module) == BoxTables::default() {
        return Vec::new();
    }
    differences(&module, declared)
        .into_iter()
        .map(|p| format!("{file}: the module's tables, as {name}'s: {p}"))
        .collect()
}

/// Whether `doc` has a heading (of any level) reading `heading`.
fn has_section(doc: &str, heading: &str) -> bool {
    prose(doc).any(|line| {
        let line = line.trim();
        line.starts_with('#') && line.trim_start_matches('#').trim() == heading
    })
}

/// Whether an `# Example` section of `doc` has a code block that rustdoc compiles and runs: a
/// fence (```` ``` ````) with no attribute, or only `rust` (not `no_run`, `ignore`, `text`, ...).
fn example_has_code(doc: &str) -> bool {
    let mut in_example = false;
    let mut in_code = false;
    for line in doc.lines() {
        let line = line.trim();
        if let Some(info) = line.strip_prefix("```") {
            if in_example && !in_code && (info.is_empty() || info == "rust") {
                return true;
            }
            in_code = !in_code;
            continue;
        }
        if !in_code && (line.starts_with("# ") || line.starts_with("## ")) {
            in_example = line.trim_start_matches('#').trim() == "Example";
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
    fn headings_and_rows_in_code_blocks_are_not_read() {
        let doc = "# Inboxes\n\n| box | carries | what arrives |\n|---|---|---|\n| `inbox` | `u8` | Bytes |\n\n\
                   ```\n# use std::fmt;\n| `hidden` | `u8` | Not a row |\n```\n\n| `control` | `Ipc` | Signals |\n";
        let names: Vec<String> = box_tables(doc).inboxes.into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["inbox", "control"]);
        assert!(!has_section("```\n# Example\n```", "Example"));
    }

    #[test]
    fn an_example_must_be_one_that_runs() {
        assert!(example_has_code("# Example\n\n```rust\nlet x = 1;\n```"));
        assert!(!example_has_code("# Example\n\n```no_run\nloop {}\n```"));
        assert!(!example_has_code("# Example\n\n```text\nA picture\n```"));
        assert!(!example_has_code("# How it works\n\n```\nlet x = 1;\n```"));
        // A hidden line of a code block ends no section.
        assert!(example_has_code("# Example\n\n```text\n# x\n```\n\n```\nlet x = 1;\n```"));
    }

    #[test]
    fn type_parameters_match_any_type() {
        assert!(carries_matches("T", "u8"));
        assert!(carries_matches("T", "Option<String>"));
        assert!(carries_matches("T::Inbox", "String"));
        assert!(carries_matches("Subscription<T>", "Subscription<u8>"));
        assert!(carries_matches("Subscription<T>", "Subscription<Vec<u8>>"));
        assert!(carries_matches("Ipc", "Ipc"));
        assert!(!carries_matches("Ipc", "u8"));
        assert!(!carries_matches("Subscription<T>", "Subscription<>"));
        assert!(!carries_matches("Subscription<T>", "Other<u8>"));
        assert!(!carries_matches("Vec<T>", "Vec<u8>>"));
        assert!(!carries_matches("T::", "u8"));
        // A word of several capitals is a type, not a parameter.
        assert!(!carries_matches("IO", "u8"));
    }

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(short_type("bytes::bytes::Bytes"), "Bytes");
        assert_eq!(short_type("core::option::Option<alloc::string::String>"), "Option<String>");
        assert_eq!(short_type("()"), "()");
    }
}
