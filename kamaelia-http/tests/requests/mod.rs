//! Generated HTTP/1.1 requests for the property tests (`tests/parser_properties.rs`) and the
//! differential test against hyper (`tests/hyper_differential.rs`): valid requests made field by
//! field with what a parser must make of them ([`message`]), and the mutations that break them
//! ([`mutation`], [`mutate`]): faulty framing fields, control characters, obs-fold, bad line
//! ends, huge numbers, odd chunk lines and chunk sizes, `Content-Length` and
//! `Transfer-Encoding` values rewritten, broken line ends in chunked bodies, duplicated lines,
//! odd whitespace, other versions, random bytes and bit flips.
#![allow(dead_code)]

use kamaelia_http::Version;
use proptest::prelude::*;
use proptest::sample::Index;

/// A request as generated: its bytes, and what the parser must make of them.
#[derive(Debug, Clone)]
pub struct Message {
    pub bytes: Vec<u8>,
    pub method: String,
    pub target: String,
    pub version: Version,
    pub fields: usize,
    pub body: Vec<u8>,
    /// Another request may follow on the connection.
    pub persistent: bool,
}

pub fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"])
            .prop_map(str::to_owned),
        1 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
    ]
}

pub fn target() -> impl Strategy<Value = String> {
    let path = "(/[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,12}){1,4}(\\?[A-Za-z0-9=&/?%-]{0,16})?";
    prop_oneof![
        6 => path.prop_map(|p| p.to_owned()),
        1 => ("[a-z0-9.-]{1,12}", "(:[0-9]{1,5})?", path).prop_map(|(h, p, t)| format!("http://{h}{p}{t}"))
            .prop_filter("a valid port", |t| valid_port(t)),
        // Characters httparse takes and http::Uri (so hyper) does not, as browsers send some.
        1 => (path, "[<>\\\\^`{}|\"]{1,2}").prop_map(|(p, odd)| format!("{p}{odd}")),
    ]
}

pub fn valid_port(absolute: &str) -> bool {
    let authority = absolute["http://".len()..].split('/').next().unwrap_or("");
    authority.split_once(':').is_none_or(|(_, port)| port.parse::<u32>().is_ok_and(|p| p <= 65535))
}

pub fn host() -> impl Strategy<Value = String> {
    ("[a-z0-9][a-z0-9.-]{0,15}", prop::option::of(0u32..=65535))
        .prop_map(|(h, port)| port.map_or(h.clone(), |p| format!("{h}:{p}")))
}

/// An extension field: never one of the fields the parser acts on.
pub fn field() -> impl Strategy<Value = (String, Vec<u8>)> {
    let value_byte = || prop_oneof![8 => 0x21u8..=0x7e, 2 => Just(b' '), 1 => Just(b'\t'), 1 => 0x80u8..=0xff];
    let value = prop_oneof![
        9 => prop::collection::vec(value_byte(), 0..24),
        1 => prop::collection::vec(value_byte(), 24..240),
    ]
    .prop_map(|v| {
        // A field value has no whitespace at either end (RFC 9110 §5.5): httparse trims it.
        let trim = |b: &u8| *b == b' ' || *b == b'\t';
        let start = v.iter().position(|b| !trim(b)).unwrap_or(v.len());
        let end = v.iter().rposition(|b| !trim(b)).map_or(start, |e| e + 1);
        v[start..end].to_vec()
    });
    ("X-[A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}", value)
}

/// A chunk extension that RFC 9112 §7.1.1 allows.
pub fn chunk_extension() -> impl Strategy<Value = String> {
    let token = "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,6}";
    let value = prop_oneof![token.prop_map(|t| t.to_owned()), "[ !#-\\[\\]-~]{0,6}".prop_map(|q| format!("\"{q}\""))];
    prop::collection::vec((token, prop::option::of(value), "[ \t]{0,1}"), 0..3).prop_map(|exts| {
        exts.into_iter()
            .map(|(name, value, ws)| match value {
                Some(v) => format!("{ws};{ws}{name}{ws}={ws}{v}"),
                None => format!(";{name}"),
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
pub enum BodyKind {
    None,
    Length(Vec<u8>),
    Chunked { chunks: Vec<(Vec<u8>, String, bool)>, last_ext: String, trailers: Vec<(String, Vec<u8>)> },
}

pub fn body() -> impl Strategy<Value = BodyKind> {
    let data = |max| prop::collection::vec(any::<u8>(), 0..max);
    prop_oneof![
        3 => Just(BodyKind::None),
        3 => data(300).prop_map(BodyKind::Length),
        1 => data(600).prop_map(BodyKind::Length),
        3 => (
            prop::collection::vec((prop::collection::vec(any::<u8>(), 1..120), chunk_extension(), any::<bool>()), 0..6),
            chunk_extension(),
            prop::collection::vec(field(), 0..3),
        )
            .prop_map(|(chunks, last_ext, trailers)| BodyKind::Chunked { chunks, last_ext, trailers }),
    ]
}

prop_compose! {
    /// One valid request, made field by field.
    pub fn message()(
        method in method(),
        target in target(),
        http_1_0 in prop::bool::weighted(0.15),
        host in host(),
        host_at in any::<Index>(),
        fields in prop_oneof![4 => prop::collection::vec(field(), 0..6), 1 => prop::collection::vec(field(), 6..14)],
        connection in prop::sample::select(vec![None, Some("close"), Some("keep-alive"), Some("Keep-Alive, x")]),
        expect_continue in prop::bool::weighted(0.1),
        list_framing in prop::bool::weighted(0.05),
        body in body(),
    ) -> Message {
        let version = if http_1_0 { Version::HTTP_10 } else { Version::HTTP_11 };
        // HTTP/1.0 has no chunked coding (RFC 9112 §6.1): send its body by length.
        let body = match body {
            BodyKind::Chunked { chunks, .. } if http_1_0 => {
                BodyKind::Length(chunks.into_iter().flat_map(|(data, _, _)| data).collect())
            }
            body => body,
        };
        let mut lines: Vec<Vec<u8>> = fields.iter().map(|(n, v)| [n.as_bytes(), b": ", v].concat()).collect();
        lines.insert(host_at.index(lines.len() + 1), format!("Host: {host}").into_bytes());
        if let Some(connection) = connection {
            lines.push(format!("Connection: {connection}").into_bytes());
        }
        if expect_continue {
            lines.push(b"Expect: 100-continue".to_vec());
        }
        let mut payload = Vec::new();
        let mut framing = Vec::new();
        match &body {
            BodyKind::None => {}
            BodyKind::Length(data) if list_framing => {
                // One value repeated in a list (RFC 9110 §8.6), which a server may accept.
                lines.push(format!("Content-Length: {0}, {0}", data.len()).into_bytes());
                payload.clone_from(data);
            }
            BodyKind::Length(data) => {
                lines.push(format!("Content-Length: {}", data.len()).into_bytes());
                payload.clone_from(data);
            }
            BodyKind::Chunked { chunks, last_ext, trailers } => {
                // An empty list element (RFC 9110 §5.6.1: a recipient ignores it).
                lines.push(if list_framing { b"Transfer-Encoding: chunked,".to_vec() } else { b"Transfer-Encoding: chunked".to_vec() });
                for (data, ext, upper) in chunks {
                    let size = if *upper { format!("{:X}", data.len()) } else { format!("{:x}", data.len()) };
                    framing.extend_from_slice(format!("{size}{ext}\r\n").as_bytes());
                    framing.extend_from_slice(data);
                    framing.extend_from_slice(b"\r\n");
                    payload.extend_from_slice(data);
                }
                framing.extend_from_slice(format!("0{last_ext}\r\n").as_bytes());
                for (name, value) in trailers {
                    framing.extend_from_slice(&[name.as_bytes(), b": ", value, b"\r\n"].concat());
                }
                framing.extend_from_slice(b"\r\n");
            }
        }
        let version_text = if http_1_0 { "HTTP/1.0" } else { "HTTP/1.1" };
        let mut bytes = format!("{method} {target} {version_text}\r\n").into_bytes();
        for line in &lines {
            bytes.extend_from_slice(line);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        match &body {
            BodyKind::Length(data) => bytes.extend_from_slice(data),
            BodyKind::Chunked { .. } => bytes.extend_from_slice(&framing),
            BodyKind::None => {}
        }
        let persistent = match connection {
            Some("close") => false,
            Some(_) => true,
            None => !http_1_0,
        };
        Message { bytes, method, target, version, fields: lines.len(), body: payload, persistent }
    }
}

/// Cut points in an input of `len` bytes.
pub fn cuts(len: usize, picks: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = picks.iter().map(|i| i.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Fields that make trouble: duplicate and conflicting framing, control characters, obs-fold,
/// huge numbers, a second `Host`.
pub const BAD_FIELDS: &[&[u8]] = &[
    b"Content-Length: 0",
    b"Content-Length: 5",
    b"Content-Length: 5, 5",
    b"Content-Length: 5,6",
    b"Content-Length: 05",
    b"Content-Length: +5",
    b"Content-Length: -1",
    b"Content-Length: 5 5",
    b"Content-Length: 0x10",
    b"Content-Length: 18446744073709551615",
    b"Content-Length: 18446744073709551616",
    b"Content-Length: 99999999999999999999999",
    b"Content-Length:",
    b"Content-Length : 5",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: CHUNKED",
    b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: chunked, gzip",
    b"Transfer-Encoding: chunked, chunked",
    b"Transfer-Encoding: chunked,",
    b"Transfer-Encoding: , chunked",
    b"Transfer-Encoding: identity",
    b"Transfer-Encoding: chunked;q=1",
    b"Transfer-Encoding: \"chunked\"",
    b"Transfer-Encoding:\tchunked",
    b"Transfer-Encoding: xchunked",
    b"Transfer-Encoding:",
    b"Host: b",
    b"Host: a b",
    b"Host: [::1]:80",
    b"Host: x:99999",
    b"Host:",
    b" folded",
    b"\tfolded: too",
    b"X: a\x01b",
    b"X: a\x7fb",
    b"X: a\rb",
    b"X\x00: y",
    b"X : y",
    b": y",
    b"X",
    b"Connection: close",
    b"Connection: keep-alive",
    b"Expect: 100-continue",
    b"Expect: tea",
    b"Upgrade: h2c",
];

/// Chunk lines that make trouble: sizes too large or malformed, whitespace, bad extensions.
pub const BAD_CHUNK_LINES: &[&[u8]] = &[
    b"0",
    b"5",
    b"ffffffffffffffff",
    b"10000000000000000",
    b"0000000000000000005",
    b"000000000000000a",
    b"5 ",
    b" 5",
    b"5;",
    b"5 ;a",
    b"5;a=",
    b"5;a=\"b",
    b"5;a=\"b\"",
    b"5;a=b c",
    b"5;\x01",
    b"-1",
    b"+5",
    b"0x5",
    b"",
    b"5\r",
    b"5\n",
    b"z",
];

/// Bytes that make trouble anywhere.
pub const BAD_BYTES: &[u8] = b"\r\n\0 \t:;=\",\\\x7f\x80\xff\xc3\xa90159aAfFxX-+/?%";

#[derive(Debug, Clone)]
pub enum Mutation {
    InsertByte(Index, u8),
    ReplaceByte(Index, u8),
    Delete(Index, usize),
    /// A line from `BAD_FIELDS` or `BAD_CHUNK_LINES` inserted before a line.
    InsertLine(Index, &'static [u8]),
    /// A CRLF made a bare LF or a bare CR.
    BreakCrlf(Index, bool),
    /// A run of the same byte (a huge number, a long token).
    Repeat(Index, u8, usize),
    /// Another version in place of `HTTP/1.1` or `HTTP/1.0`.
    Version(Index, &'static [u8]),
    /// One bit of one byte flipped.
    FlipBit(Index, u8),
    /// A line repeated (a duplicated field, request line, chunk or trailer).
    DuplicateLine(Index),
    /// Whitespace from `ODD_WHITESPACE` put where the grammar has a boundary: at the start or
    /// end of a line, before or after a colon or a space.
    Whitespace(Index, &'static [u8]),
    /// A chunk-size line's size changed (see `ChunkEdit`).
    ChunkSize(Index, ChunkEdit),
    /// The value of a `Content-Length` or `Transfer-Encoding` field rewritten from a template
    /// of `CONTENT_LENGTHS` or `TRANSFER_ENCODINGS` (`{n}` is the value, `{m}` one more).
    FramingValue(Index, Index),
    /// A line end of a chunked body (after a chunk line, chunk data or a trailer) replaced with
    /// one of `BAD_LINE_ENDS`.
    BodyLineEnd(Index, &'static [u8]),
}

/// `Content-Length` values that parsers read differently: signs, leading zeros, decimals, lists,
/// hex, numbers past 64 bits. `{n}` is the value that was there, `{m}` one more.
pub const CONTENT_LENGTHS: &[&str] = &[
    "+{n}",
    "-{n}",
    "0{n}",
    "00000000000000000000{n}",
    "{n}.0",
    "{n}, {n}",
    "{n},{n}",
    "{n}, {m}",
    "{n} {n}",
    "0x{n}",
    "{n};",
    "\"{n}\"",
    "{n}e0",
    "{m}",
    "18446744073709551616",
    "99999999999999999999",
    "{n}\u{b}",
];

/// `Transfer-Encoding` values that parsers read differently.
pub const TRANSFER_ENCODINGS: &[&str] = &[
    "chunked",
    "Chunked",
    "chunked, chunked",
    "gzip, chunked",
    "chunked, gzip",
    "identity, chunked",
    "chunked;a=b",
    "\"chunked\"",
    "chunk",
    "chunked,",
    ",chunked",
    "x-chunked",
    "chunked\tx",
    "chunked\u{b}",
    "identity",
];

/// What may stand where a CRLF should: a bare LF or CR, doubled or swapped ends, nothing, or
/// whitespace before it.
pub const BAD_LINE_ENDS: &[&[u8]] = &[b"\n", b"\r", b"\r\r\n", b"\n\r", b"", b" \r\n", b"\t\r\n", b"\r\n\r\n", b"\n\n"];

/// Whitespace a parser might take for a separator, or not: spaces, tabs, and the other
/// characters some parsers trim (VT, FF, NUL, NBSP in Latin-1 and UTF-8).
pub const ODD_WHITESPACE: &[&[u8]] = &[b" ", b"\t", b"  ", b" \t", b"\x0b", b"\x0c", b"\0", b"\xa0", b"\xc2\xa0"];

/// What `Mutation::ChunkSize` does to a chunk size.
#[derive(Debug, Clone, Copy)]
pub enum ChunkEdit {
    /// One more than the data that follows (the size now covers the CRLF, or more).
    OneMore,
    /// One less.
    OneLess,
    /// Padded with zeros to this many digits (16 is the most we take, 17 one more).
    Zeros(usize),
    /// Upper case hex digits.
    Upper,
    /// A size that does not fit in 64 bits, or only just.
    Huge(&'static [u8]),
    /// A zero: the body ends early.
    Zero,
}

/// Versions that make trouble: later minor versions, other major versions, near misses.
pub const VERSIONS: &[&[u8]] = &[
    b"HTTP/1.2",
    b"HTTP/1.9",
    b"HTTP/2.0",
    b"HTTP/0.9",
    b"HTTP/3.0",
    b"HTTP/1.10",
    b"HTTP/1.1x",
    b"HTTP/2.0x",
    b"http/1.1",
    b"HTTP/1",
    b"HTTP/11",
];

pub fn chunk_edit() -> impl Strategy<Value = ChunkEdit> {
    prop_oneof![
        Just(ChunkEdit::OneMore),
        Just(ChunkEdit::OneLess),
        prop::sample::select(vec![2usize, 15, 16, 17, 40]).prop_map(ChunkEdit::Zeros),
        Just(ChunkEdit::Upper),
        prop::sample::select(vec![
            &b"ffffffffffffffff"[..],
            b"fffffffffffffffe",
            b"7fffffffffffffff",
            b"10000000000000000",
            b"100000000000000000000000000000001",
        ])
        .prop_map(ChunkEdit::Huge),
        Just(ChunkEdit::Zero),
    ]
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![3 => prop::sample::select(BAD_BYTES), 1 => any::<u8>()];
    let line = prop_oneof![2 => prop::sample::select(BAD_FIELDS), 1 => prop::sample::select(BAD_CHUNK_LINES)];
    prop_oneof![
        2 => (any::<Index>(), byte.clone()).prop_map(|(i, b)| Mutation::InsertByte(i, b)),
        2 => (any::<Index>(), byte.clone()).prop_map(|(i, b)| Mutation::ReplaceByte(i, b)),
        1 => (any::<Index>(), 1usize..8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        4 => (any::<Index>(), line).prop_map(|(i, l)| Mutation::InsertLine(i, l)),
        2 => (any::<Index>(), any::<bool>()).prop_map(|(i, lf)| Mutation::BreakCrlf(i, lf)),
        1 => (any::<Index>(), byte, prop_oneof![1usize..40, 60usize..200]).prop_map(|(i, b, n)| Mutation::Repeat(i, b, n)),
        1 => (any::<Index>(), prop::sample::select(VERSIONS)).prop_map(|(i, v)| Mutation::Version(i, v)),
        1 => (any::<Index>(), 0u8..8).prop_map(|(i, bit)| Mutation::FlipBit(i, bit)),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => (any::<Index>(), prop::sample::select(ODD_WHITESPACE)).prop_map(|(i, w)| Mutation::Whitespace(i, w)),
        2 => (any::<Index>(), chunk_edit()).prop_map(|(i, e)| Mutation::ChunkSize(i, e)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(i, t)| Mutation::FramingValue(i, t)),
        3 => (any::<Index>(), prop_oneof![2 => Just(&b"\n"[..]), 3 => prop::sample::select(BAD_LINE_ENDS)])
            .prop_map(|(i, e)| Mutation::BodyLineEnd(i, e)),
    ]
}

pub fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let line_starts = |bytes: &[u8]| -> Vec<usize> {
        std::iter::once(0).chain(bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1)).collect()
    };
    match *mutation {
        Mutation::InsertByte(at, b) => bytes.insert(at.index(bytes.len() + 1), b),
        Mutation::ReplaceByte(at, b) if !bytes.is_empty() => {
            let at = at.index(bytes.len());
            bytes[at] = b;
        }
        Mutation::ReplaceByte(..) => {}
        Mutation::Delete(at, n) => {
            let at = at.index(bytes.len() + 1);
            bytes.drain(at..(at + n).min(bytes.len()));
        }
        Mutation::InsertLine(at, line) => {
            let starts = line_starts(bytes);
            // Not before the request line: the first line stays a request line.
            let at = if starts.len() > 1 { starts[1 + at.index(starts.len() - 1)] } else { bytes.len() };
            bytes.splice(at..at, [line, b"\r\n"].concat());
        }
        Mutation::BreakCrlf(at, lf) => {
            let crlfs: Vec<usize> =
                bytes.windows(2).enumerate().filter(|(_, w)| w == b"\r\n").map(|(i, _)| i).collect();
            if !crlfs.is_empty() {
                let i = crlfs[at.index(crlfs.len())];
                bytes.remove(if lf { i } else { i + 1 });
            }
        }
        Mutation::Version(at, version) => {
            let found: Vec<usize> = bytes
                .windows(8)
                .enumerate()
                .filter(|(_, w)| *w == b"HTTP/1.1" || *w == b"HTTP/1.0")
                .map(|(i, _)| i)
                .collect();
            if !found.is_empty() {
                let i = found[at.index(found.len())];
                bytes.splice(i..i + 8, version.iter().copied());
            }
        }
        Mutation::Repeat(at, b, n) => {
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..at, std::iter::repeat_n(b, n));
        }
        Mutation::FlipBit(at, bit) if !bytes.is_empty() => {
            let at = at.index(bytes.len());
            bytes[at] ^= 1 << bit;
        }
        Mutation::FlipBit(..) => {}
        Mutation::DuplicateLine(at) => {
            let mut starts = line_starts(bytes);
            starts.push(bytes.len());
            starts.dedup();
            if starts.len() > 1 {
                let i = at.index(starts.len() - 1);
                let line = bytes[starts[i]..starts[i + 1]].to_vec();
                bytes.splice(starts[i]..starts[i], line);
            }
        }
        Mutation::Whitespace(at, ws) => {
            // Boundaries: each line's start and end, and both sides of each colon and space.
            let mut places: Vec<usize> = line_starts(bytes);
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b':' | b' ' => places.extend([i, i + 1]),
                    b'\r' => places.push(i),
                    _ => {}
                }
            }
            let at = places[at.index(places.len())];
            bytes.splice(at..at, ws.iter().copied());
        }
        Mutation::FramingValue(at, template) => {
            // (start, end) of each framing field's value, and whether it is Content-Length.
            let mut values = Vec::new();
            for start in line_starts(bytes) {
                let line = &bytes[start..];
                let end = start + line.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(line.len());
                for (name, is_length) in [(&b"content-length:"[..], true), (b"transfer-encoding:", false)] {
                    if line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name) {
                        let value = (start + name.len()..end).find(|&i| bytes[i] != b' ').unwrap_or(end);
                        values.push((value, end, is_length));
                    }
                }
            }
            if !values.is_empty() {
                let (start, end, is_length) = values[at.index(values.len())];
                let new = if is_length {
                    let n: u128 =
                        std::str::from_utf8(&bytes[start..end]).ok().and_then(|t| t.parse().ok()).unwrap_or(0);
                    CONTENT_LENGTHS[template.index(CONTENT_LENGTHS.len())]
                        .replace("{n}", &n.to_string())
                        .replace("{m}", &n.saturating_add(1).to_string())
                } else {
                    TRANSFER_ENCODINGS[template.index(TRANSFER_ENCODINGS.len())].to_owned()
                };
                bytes.splice(start..end, new.into_bytes());
            }
        }
        Mutation::BodyLineEnd(at, end) => {
            let ends = chunk_line_ends(bytes);
            if !ends.is_empty() {
                let i = ends[at.index(ends.len())];
                bytes.splice(i..i + 2, end.iter().copied());
            }
        }
        Mutation::ChunkSize(at, edit) => {
            let lines = chunk_size_lines(bytes);
            if !lines.is_empty() {
                let (start, digits) = lines[at.index(lines.len())];
                let text = std::str::from_utf8(&bytes[start..start + digits]).expect("hex digits");
                let size = u128::from_str_radix(text, 16).unwrap_or(0);
                let new: Vec<u8> = match edit {
                    ChunkEdit::OneMore => format!("{:x}", size.saturating_add(1)).into_bytes(),
                    ChunkEdit::OneLess => format!("{:x}", size.saturating_sub(1)).into_bytes(),
                    ChunkEdit::Zeros(n) => format!("{size:0n$x}").into_bytes(),
                    ChunkEdit::Upper => text.to_ascii_uppercase().into_bytes(),
                    ChunkEdit::Huge(huge) => huge.to_vec(),
                    ChunkEdit::Zero => b"0".to_vec(),
                };
                bytes.splice(start..start + digits, new);
            }
        }
    }
}

/// Where the CRLFs of chunked bodies are: after each chunk-size line, after each chunk's data,
/// and the one after the last chunk's line (which ends a trailer or the body). Where there is no
/// chunked body, every CRLF after the first head.
fn chunk_line_ends(bytes: &[u8]) -> Vec<usize> {
    let crlf_from = |from: usize| (from..bytes.len().saturating_sub(1)).find(|&i| bytes[i..].starts_with(b"\r\n"));
    let mut ends = Vec::new();
    for (start, digits) in chunk_size_lines(bytes) {
        let Some(line_end) = crlf_from(start) else { continue };
        ends.push(line_end);
        let size =
            std::str::from_utf8(&bytes[start..start + digits]).ok().and_then(|t| usize::from_str_radix(t, 16).ok());
        match size {
            Some(0) => ends.extend(crlf_from(line_end + 2)),
            Some(size) => {
                let data_end = (line_end + 2).saturating_add(size);
                if bytes.get(data_end..).is_some_and(|rest| rest.starts_with(b"\r\n")) {
                    ends.push(data_end);
                }
            }
            None => {}
        }
    }
    if ends.is_empty() {
        if let Some(body) = bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) {
            ends.extend((body..bytes.len().saturating_sub(1)).filter(|&i| bytes[i..].starts_with(b"\r\n")));
        }
    }
    ends.sort_unstable();
    ends.dedup();
    ends
}

/// The chunk-size lines after the first empty line: where each starts, and how many hex digits
/// it begins with. (Found by their look: a line of hex digits, perhaps with extensions.)
fn chunk_size_lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let Some(body) = bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) else { return Vec::new() };
    let mut found = Vec::new();
    let mut start = body;
    while start < bytes.len() {
        let end = bytes[start..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| start + i);
        let line = &bytes[start..end];
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits > 0 && matches!(line.get(digits), None | Some(b';' | b'\r')) {
            found.push((start, digits));
        }
        start = end + 1;
    }
    found
}
