//! Request body framing and decoding, sans-IO.
//!
//! [`body_length`] decides from a request head how its body is framed (RFC 9112 §6), and a
//! [`Decoder`] takes the body bytes that follow the head off the front of a buffer, removing the
//! chunked framing if there is one (RFC 9112 §7.1).
//!
//! # How it works
//!
//! The parser reads a request head, calls [`body_length`], makes a [`Decoder`] for the answer and
//! calls [`Decoder::decode`] with its read buffer each time more bytes arrive. The decoder
//! consumes what it can from the front of the buffer and says what it found: a piece of body
//! ([`Decoded::Data`]), not enough bytes yet ([`Decoded::NeedMore`], which is never an error), or
//! the end of the body ([`Decoded::Done`]). Whatever follows the body stays in the buffer: it is
//! the start of the next (pipelined) request. There are no sockets and no `async` here, so every
//! rule is tested by feeding bytes, split at every possible point.
//!
//! The decoder is a state machine named after the point of the grammar it has reached
//! (`ChunkSize`, `ChunkData`, `ChunkDataCrlf`, `Trailers`), as hyper's `ChunkedState` is. A
//! control line (a chunk-size line or a trailer field line) is consumed only once it is complete,
//! so a line that arrives in pieces is parsed as one; chunk data is handed out as it arrives,
//! without waiting for the whole chunk.
//!
//! # Strictness
//!
//! Framing is where request smuggling happens (RFC 9112 §11.2): if this server and a proxy in
//! front of it disagree about where a body ends, the proxy can be made to forward a second,
//! hidden request. So the rules are applied strictly: a request with both `Transfer-Encoding` and
//! `Content-Length` is refused rather than resolved, a `Content-Length` is exactly `1*DIGIT`, and
//! a chunked body with a bare LF, whitespace where the grammar has none, or an oversized chunk
//! line is an error, not something to guess around.

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode, Version};

use crate::request::{BadRequest, BodyLength};

/// The longest chunk-size line accepted, extensions included and its CRLF not counted: 4 KiB.
/// A longer line is a [`BodyError::ChunkLineTooLong`], raised as soon as the line grows past the
/// limit (without waiting for its end). Extensions are read and ignored, so this only bounds the
/// work and memory a client can make us spend on them; the value is hyper's order of magnitude,
/// chosen rather than derived.
pub(crate) const CHUNK_LINE_LIMIT: usize = 4 * 1024;

/// The largest trailer section accepted after the last chunk: 16 KiB, counting every trailer
/// field line with its CRLF and the empty line (CRLF) that ends the section. A larger one is a
/// [`BodyError::TrailersTooLarge`], raised as soon as the section grows past the limit. Trailers
/// are read and discarded; the limit matches the default limit on a request head
/// ([`DEFAULT_MAX_HEAD_BYTES`](crate::settings::DEFAULT_MAX_HEAD_BYTES)).
pub(crate) const TRAILER_LIMIT: usize = 16 * 1024;

/// The most hex digits in a chunk size: 16, enough for any `u64` (leading zeros count). More is
/// a [`BodyError::InvalidChunkSize`].
pub(crate) const MAX_CHUNK_SIZE_DIGITS: usize = 16;

/// How many bytes of an offending value an error message shows (escaped) before `...`.
const FOUND_LIMIT: usize = 32;

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

/// Decides how the body of a request is framed, from its version and header fields
/// (RFC 9112 §6.3), refusing framings that are ambiguous, unsupported or over `max_body` bytes.
///
/// - `Transfer-Encoding` with `Content-Length`, or in an HTTP/1.0 request: 400.
/// - `Transfer-Encoding` whose final coding is not `chunked`, or with `chunked` twice: 400; with
///   any other coding before `chunked` (`gzip, chunked`): 501.
/// - `Content-Length` that is not `1*DIGIT` fitting a `u64`, or repeated with different values:
///   400; over `max_body`: 413.
///
/// The caller closes the connection after answering any of these errors: the end of the body
/// cannot be known.
pub(crate) fn body_length(version: Version, headers: &HeaderMap, max_body: u64) -> Result<BodyLength, BadRequest> {
    let has_transfer_encoding = headers.contains_key(TRANSFER_ENCODING);
    if !has_transfer_encoding {
        return content_length(headers, max_body);
    }
    // RFC 9112 §6.3 (3): "If a message is received with both a Transfer-Encoding and a
    // Content-Length header field, the Transfer-Encoding overrides the Content-Length. Such a
    // message might indicate an attempt to perform request smuggling (Section 11.2) [...] and
    // ought to be handled as an error." We refuse it rather than pick one.
    if headers.contains_key(CONTENT_LENGTH) {
        return Err(bad(
            StatusCode::BAD_REQUEST,
            "both Transfer-Encoding and Content-Length in one request".to_owned(),
        ));
    }
    // RFC 9112 §6.1: "A server or client that receives an HTTP/1.0 message containing a
    // Transfer-Encoding header field MUST treat the message as if the framing is faulty, even if
    // a Content-Length is present, and close the connection after processing the message."
    if matches!(version, Version::HTTP_09 | Version::HTTP_10) {
        return Err(bad(StatusCode::BAD_REQUEST, "Transfer-Encoding in an HTTP/1.0 request".to_owned()));
    }
    transfer_codings(headers)
}

/// The framing given by the `Transfer-Encoding` fields, which are present: `chunked` if it is the
/// final coding, appears once and is the only one (RFC 9112 §6.1, §6.3 (4), §7).
fn transfer_codings(headers: &HeaderMap) -> Result<BodyLength, BadRequest> {
    let fields: Vec<&[u8]> = headers.get_all(TRANSFER_ENCODING).iter().map(|v| v.as_bytes()).collect();
    let all = fields.iter().map(|f| escaped(f)).collect::<Vec<_>>().join(", ");
    // Every field, as one comma-separated list (RFC 9110 §5.3); empty elements are ignored, as
    // RFC 9110 §5.6.1 requires of a recipient.
    let codings: Vec<&[u8]> =
        fields.iter().flat_map(|f| f.split(|&b| b == b',')).map(trim_ows).filter(|c| !c.is_empty()).collect();

    let mut chunked = 0;
    for coding in &codings {
        // transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 §6.1)
        let name = trim_ows(coding.split(|&b| b == b';').next().unwrap_or_default());
        if !is_token(name) {
            return Err(bad(StatusCode::BAD_REQUEST, format!("invalid transfer coding \"{}\"", escaped(coding))));
        }
        if name.eq_ignore_ascii_case(b"chunked") {
            // chunked defines no parameters (RFC 9112 §7); one is not something to ignore when
            // a proxy may read it differently.
            if name.len() != coding.len() {
                return Err(bad(
                    StatusCode::BAD_REQUEST,
                    format!("the chunked transfer coding takes no parameters: \"{}\"", escaped(coding)),
                ));
            }
            chunked += 1;
        }
    }
    // RFC 9112 §7: "A sender MUST NOT apply the chunked transfer coding more than once to a
    // message body".
    if chunked > 1 {
        return Err(bad(
            StatusCode::BAD_REQUEST,
            format!("chunked applied more than once in Transfer-Encoding \"{all}\""),
        ));
    }
    // RFC 9112 §6.3 (4): "If a Transfer-Encoding header field is present in a request and the
    // chunked transfer coding is not the final encoding, the message body length cannot be
    // determined reliably; the server MUST respond with the 400 (Bad Request) status code and
    // then close the connection."
    if !codings.last().is_some_and(|c| c.eq_ignore_ascii_case(b"chunked")) {
        return Err(bad(
            StatusCode::BAD_REQUEST,
            format!("chunked is not the final coding in Transfer-Encoding \"{all}\""),
        ));
    }
    // RFC 9112 §6.1: "A server that receives a request message with a transfer coding it does not
    // understand SHOULD respond with 501 (Not Implemented)."
    if let Some(other) = codings.iter().find(|c| !c.eq_ignore_ascii_case(b"chunked")) {
        return Err(bad(StatusCode::NOT_IMPLEMENTED, format!("transfer coding \"{}\" not supported", escaped(other))));
    }
    Ok(BodyLength::Chunked)
}

/// The framing given by the `Content-Length` fields, if any (RFC 9110 §8.6, RFC 9112 §6.3 (5)).
fn content_length(headers: &HeaderMap, max_body: u64) -> Result<BodyLength, BadRequest> {
    let mut length: Option<u64> = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let value = value.as_bytes();
        let invalid = || bad(StatusCode::BAD_REQUEST, format!("invalid Content-Length \"{}\"", escaped(value)));
        // A field value has no whitespace at either end (RFC 9110 §5.5: the OWS around it is not
        // part of it); one that does was not produced by a conforming parser.
        if value.first().is_some_and(|&b| is_ows(b)) || value.last().is_some_and(|&b| is_ows(b)) {
            return Err(invalid());
        }
        // RFC 9110 §8.6: a list of identical values ("42, 42"), or repeated fields, may be
        // taken as one value; differing values are an unrecoverable error (RFC 9112 §6.3 (5)).
        for element in value.split(|&b| b == b',').map(trim_ows) {
            let n = parse_decimal(element).ok_or_else(invalid)?;
            match length {
                Some(previous) if previous != n => {
                    return Err(bad(
                        StatusCode::BAD_REQUEST,
                        format!("conflicting Content-Length values {previous} and {n}"),
                    ));
                }
                _ => length = Some(n),
            }
        }
    }
    match length {
        None => Ok(BodyLength::Empty),
        Some(n) if n > max_body => {
            Err(bad(StatusCode::PAYLOAD_TOO_LARGE, format!("body of {n} bytes exceeds the limit of {max_body} bytes")))
        }
        Some(n) => Ok(BodyLength::Known(n)),
    }
}

/// `Content-Length = 1*DIGIT` (RFC 9110 §8.6) as a `u64`: no sign, no whitespace, not empty,
/// not too large.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

fn bad(status: StatusCode, message: String) -> BadRequest {
    BadRequest::new(status, message)
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Why a request body could not be read. The connection cannot continue after one (where the
/// body ends is unknown), so the caller answers with [`status`](BodyError::status) if it still
/// can, and closes.
///
/// Callers may match on the variants and their fields; the wording of the messages is for
/// people and may change. Every `found` is escaped (`escape_ascii`) and cut to 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// A chunk size that is not 1 to 16 hex digits followed by extensions or the line end.
    #[error("invalid chunk size in \"{found}\" (expected 1 to 16 hex digits)")]
    InvalidChunkSize {
        /// The chunk-size line, escaped.
        found: String,
    },
    /// Chunk extensions that do not follow `*( BWS ";" BWS name [ BWS "=" BWS value ] )`.
    #[error("invalid chunk extension \"{found}\"")]
    InvalidChunkExtension {
        /// The extensions part of the chunk-size line, escaped.
        found: String,
    },
    /// A chunk-size line longer than the limit ([`CHUNK_LINE_LIMIT`]).
    #[error("chunk size line longer than {limit} bytes")]
    ChunkLineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Something other than CRLF where CRLF must be: a bare LF, a CR not followed by LF, or
    /// chunk data longer than its chunk size said.
    #[error("expected CRLF after {after}, found \"{found}\"")]
    MissingCrlf {
        /// What the CRLF should have ended: "the chunk size line", "the chunk data" or "a
        /// trailer field line".
        after: &'static str,
        /// What was there instead, escaped.
        found: String,
    },
    /// A trailer field line that is not `token ":" value` with no control characters but HTAB.
    #[error("invalid trailer field \"{found}\"")]
    InvalidTrailer {
        /// The line, escaped.
        found: String,
    },
    /// A trailer section larger than the limit ([`TRAILER_LIMIT`]).
    #[error("trailer section larger than {limit} bytes")]
    TrailersTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A body larger than the server's limit (`max_body`).
    #[error("body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

impl BodyError {
    /// The status to answer with: 413 Content Too Large for [`TooLarge`](BodyError::TooLarge),
    /// 400 Bad Request for the rest.
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<BodyError> for BadRequest {
    fn from(error: BodyError) -> Self {
        BadRequest::new(error.status(), error.to_string())
    }
}

/// What [`Decoder::decode`] found at the front of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A piece of the body (never empty), taken off the front of the buffer.
    Data(Bytes),
    /// The buffer holds no complete unit: call again after appending more bytes.
    NeedMore,
    /// The body is complete; bytes after it in the buffer belong to the next request.
    Done,
}

/// Where the decoder is in the body's grammar: each state names what may come next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// A `Content-Length` body with `remaining` (> 0) bytes still to come.
    Length { remaining: u64 },
    /// Reading a chunk-size line: `chunk-size [ chunk-ext ] CRLF`.
    ChunkSize,
    /// Inside the data of a chunk, `remaining` (> 0) bytes of it still to come.
    ChunkData { remaining: u64 },
    /// After the data of a chunk: exactly CRLF must come next.
    ChunkDataCrlf,
    /// After the last chunk: trailer field lines until an empty line. `read` is the size of the
    /// trailer section so far, in bytes.
    Trailers { read: usize },
    /// The body is complete.
    Done,
    /// The body was malformed; every later call returns the same error.
    Failed(BodyError),
}

/// The result of looking for the CRLF that ends a control line at the front of the buffer.
enum Line {
    /// The line is `buf[..len]`, and `buf[len..len + 2]` is its CRLF.
    Complete(usize),
    /// No CRLF yet, and the line is within its limit.
    Incomplete,
    /// The line is longer than its limit.
    TooLong,
}

/// Reads one request body off the front of a buffer, according to its framing.
///
/// Made with the [`BodyLength`] from [`body_length`] and the server's `max_body`; fed by
/// [`decode`](Self::decode) each time bytes arrive, until it answers [`Decoded::Done`].
#[derive(Debug)]
pub(crate) struct Decoder {
    /// What comes next.
    state: State,
    /// The most body bytes accepted; a chunked body that would pass it is a
    /// [`BodyError::TooLarge`] as soon as the chunk size that crosses it is read.
    max_body: u64,
    /// Body bytes handed out so far.
    received: u64,
    /// How far into the buffer the current control line has been scanned for its CRLF, so a line
    /// that arrives a byte at a time is not scanned again from its start on every call. Reset to
    /// 0 when a line is consumed.
    scanned: usize,
}

impl Decoder {
    /// A decoder for a body framed as `length`, refusing more than `max_body` bytes of it.
    pub(crate) fn new(length: BodyLength, max_body: u64) -> Self {
        let state = match length {
            BodyLength::Empty | BodyLength::Known(0) => State::Done,
            BodyLength::Known(n) => State::Length { remaining: n },
            BodyLength::Chunked => State::ChunkSize,
        };
        Decoder { state, max_body, received: 0, scanned: 0 }
    }

    /// Takes what it can from the front of `buf` (advancing it past what it consumed).
    ///
    /// [`Data(b)`](Decoded::Data): a piece of body (never empty). [`NeedMore`](Decoded::NeedMore):
    /// `buf` holds no complete unit; call again after appending more bytes.
    /// [`Done`](Decoded::Done): the body is complete (bytes after it in `buf` belong to the next
    /// request, and are left alone). After an error, every call returns the same error.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, BodyError> {
        if let State::Failed(error) = &self.state {
            return Err(error.clone());
        }
        self.step(buf).inspect_err(|error| self.state = State::Failed(error.clone()))
    }

    /// Whether the whole body has been read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    #[cfg(test)]
    /// Body bytes delivered so far.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// Moves through the grammar until it can hand out data, needs more bytes, reaches the end or
    /// finds an error. Each state's step returns `None` when it has moved on to the next state.
    fn step(&mut self, buf: &mut BytesMut) -> Result<Decoded, BodyError> {
        loop {
            let stopped = match self.state {
                State::Done => return Ok(Decoded::Done),
                State::Failed(ref error) => return Err(error.clone()),
                State::Length { remaining } => return self.length(buf, remaining),
                State::ChunkSize => self.chunk_size(buf)?,
                State::ChunkData { remaining } => return Ok(self.chunk_data(buf, remaining)),
                State::ChunkDataCrlf => self.chunk_data_crlf(buf)?,
                State::Trailers { read } => self.trailer_line(buf, read)?,
            };
            if let Some(decoded) = stopped {
                return Ok(decoded);
            }
        }
    }

    /// A `Content-Length` body with `remaining` bytes to come.
    fn length(&mut self, buf: &mut BytesMut, remaining: u64) -> Result<Decoded, BodyError> {
        // body_length refuses a Content-Length over max_body; this covers a decoder made without
        // it.
        if self.received.saturating_add(remaining) > self.max_body {
            return Err(BodyError::TooLarge { limit: self.max_body });
        }
        Ok(match self.take(buf, remaining) {
            Some((data, 0)) => {
                self.state = State::Done;
                Decoded::Data(data)
            }
            Some((data, left)) => {
                self.state = State::Length { remaining: left };
                Decoded::Data(data)
            }
            None => Decoded::NeedMore,
        })
    }

    /// A chunk's size line: on to its data, or (size 0) to the trailer section.
    fn chunk_size(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, BodyError> {
        let len = match self.find_line(buf, CHUNK_LINE_LIMIT, "the chunk size line")? {
            Line::Complete(len) => len,
            Line::Incomplete => return Ok(Some(Decoded::NeedMore)),
            Line::TooLong => return Err(BodyError::ChunkLineTooLong { limit: CHUNK_LINE_LIMIT }),
        };
        let size = parse_chunk_size_line(&buf[..len])?;
        buf.advance(len + 2);
        if self.received.saturating_add(size) > self.max_body {
            return Err(BodyError::TooLarge { limit: self.max_body });
        }
        // RFC 9112 §7.1: "The chunked encoding is ended by any chunk whose size is zero, followed
        // by the trailer section".
        self.state = if size == 0 { State::Trailers { read: 0 } } else { State::ChunkData { remaining: size } };
        Ok(None)
    }

    /// A chunk's data, `remaining` bytes of it still to come.
    fn chunk_data(&mut self, buf: &mut BytesMut, remaining: u64) -> Decoded {
        match self.take(buf, remaining) {
            Some((data, 0)) => {
                self.state = State::ChunkDataCrlf;
                Decoded::Data(data)
            }
            Some((data, left)) => {
                self.state = State::ChunkData { remaining: left };
                Decoded::Data(data)
            }
            None => Decoded::NeedMore,
        }
    }

    /// The CRLF after a chunk's data.
    fn chunk_data_crlf(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, BodyError> {
        // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (RFC 9112 §7.1)
        if buf.starts_with(b"\r\n") {
            buf.advance(2);
            self.state = State::ChunkSize;
            Ok(None)
        } else if buf.is_empty() || &buf[..] == b"\r" {
            Ok(Some(Decoded::NeedMore))
        } else {
            Err(BodyError::MissingCrlf { after: "the chunk data", found: escaped(buf) })
        }
    }

    /// A line of the trailer section, `read` bytes into it: a field (discarded), or the empty
    /// line that ends the body.
    fn trailer_line(&mut self, buf: &mut BytesMut, read: usize) -> Result<Option<Decoded>, BodyError> {
        // A field line of `len` bytes fits if it, its CRLF and the final CRLF do.
        let limit = TRAILER_LIMIT.saturating_sub(read + 4);
        let len = match self.find_line(buf, limit, "a trailer field line")? {
            Line::Complete(len) => len,
            Line::Incomplete => return Ok(Some(Decoded::NeedMore)),
            Line::TooLong => return Err(BodyError::TrailersTooLarge { limit: TRAILER_LIMIT }),
        };
        // trailer-section = *( field-line CRLF ), then CRLF (RFC 9112 §7.1). The fields are
        // discarded: nothing here uses them, and RFC 9110 §6.5.1 lets a recipient do so.
        if len == 0 {
            buf.advance(2);
            self.state = State::Done;
            return Ok(Some(Decoded::Done));
        }
        if !is_valid_field_line(&buf[..len]) {
            return Err(BodyError::InvalidTrailer { found: escaped(&buf[..len]) });
        }
        buf.advance(len + 2);
        self.state = State::Trailers { read: read + len + 2 };
        Ok(None)
    }

    /// Takes up to `remaining` bytes off the front of `buf`, without copying, and returns them
    /// with how many are still to come; `None` if `buf` is empty.
    fn take(&mut self, buf: &mut BytesMut, remaining: u64) -> Option<(Bytes, u64)> {
        if buf.is_empty() {
            return None;
        }
        let n = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
        let data = buf.split_to(n).freeze();
        self.received += n as u64;
        Some((data, remaining - n as u64))
    }

    /// Looks for the CRLF ending the control line at the front of `buf`, whose content may be at
    /// most `limit` bytes. A bare LF, or a CR followed by anything but LF, is an error as soon as
    /// it is seen (RFC 9112 §2.2 lets a recipient accept a bare LF; we do not, as it is one of
    /// the ways two parsers come to disagree). The limit is checked byte by byte, so the answer
    /// is the same however the line is split across calls.
    fn find_line(&mut self, buf: &[u8], limit: usize, after: &'static str) -> Result<Line, BodyError> {
        let mut i = self.scanned.min(buf.len());
        while i < buf.len() {
            match buf[i] {
                b'\r' => match buf.get(i + 1) {
                    Some(b'\n') => {
                        self.scanned = 0;
                        return Ok(Line::Complete(i));
                    }
                    Some(_) => return Err(BodyError::MissingCrlf { after, found: escaped(&buf[i..]) }),
                    // Scanned up to the CR; it is looked at again when more bytes arrive.
                    None => break,
                },
                b'\n' => return Err(BodyError::MissingCrlf { after, found: escaped(&buf[i..]) }),
                _ if i >= limit => return Ok(Line::TooLong),
                _ => i += 1,
            }
        }
        self.scanned = i;
        Ok(Line::Incomplete)
    }
}

/// Parses a chunk-size line without its CRLF (RFC 9112 §7.1.1):
///
/// ```text
/// chunk-size     = 1*HEXDIG
/// chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
/// chunk-ext-name = token
/// chunk-ext-val  = token / quoted-string
/// ```
///
/// and returns the size; extensions are checked and ignored ("A recipient MUST ignore
/// unrecognized chunk extensions").
fn parse_chunk_size_line(line: &[u8]) -> Result<u64, BodyError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let ends_well = matches!(line.get(digits), None | Some(b' ' | b'\t' | b';'));
    if digits == 0 || digits > MAX_CHUNK_SIZE_DIGITS || !ends_well {
        return Err(BodyError::InvalidChunkSize { found: escaped(line) });
    }
    // At most 16 hex digits: fits a u64.
    let size = line[..digits].iter().fold(0u64, |n, &b| (n << 4) | hex_value(b));
    let extensions = &line[digits..];
    if !are_valid_chunk_extensions(extensions) {
        return Err(BodyError::InvalidChunkExtension { found: escaped(extensions) });
    }
    Ok(size)
}

/// Whether `ext` is `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )`.
fn are_valid_chunk_extensions(ext: &[u8]) -> bool {
    let mut i = 0;
    while i < ext.len() {
        // BWS ";" BWS: whitespace is only allowed before a ";", not at the end of the line.
        i = skip_ows(ext, i);
        if ext.get(i) != Some(&b';') {
            return false;
        }
        i = skip_ows(ext, i + 1);
        let name_end = token_end(ext, i);
        if name_end == i {
            return false;
        }
        i = name_end;
        let eq = skip_ows(ext, i);
        if ext.get(eq) == Some(&b'=') {
            let start = skip_ows(ext, eq + 1);
            let end = if ext.get(start) == Some(&b'"') {
                match quoted_string_end(ext, start) {
                    Some(end) => end,
                    None => return false,
                }
            } else {
                token_end(ext, start)
            };
            if end == start {
                return false;
            }
            i = end;
        }
    }
    true
}

/// Whether `line` is a field line, `field-name ":" OWS field-value OWS` (RFC 9112 §5): a token
/// name with no whitespace before the colon (§5.1), and a value with no control characters but
/// HTAB (RFC 9110 §5.5). A line starting with whitespace (obsolete line folding) has no name, so
/// is refused.
fn is_valid_field_line(line: &[u8]) -> bool {
    let name_end = token_end(line, 0);
    name_end > 0
        && line.get(name_end) == Some(&b':')
        && line[name_end + 1..].iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// The end of the quoted-string starting at `s[start]` (a `"`), past its closing quote, or
/// `None` if it is not one (RFC 9110 §5.6.4).
fn quoted_string_end(s: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        match *s.get(i)? {
            b'"' => return Some(i + 1),
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            b'\\' => match *s.get(i + 1)? {
                b'\t' | b' '..=b'~' | 0x80..=0xff => i += 2,
                _ => return None,
            },
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            b'\t' | b' ' | b'!' | b'#'..=b'[' | b']'..=b'~' | 0x80..=0xff => i += 1,
            _ => return None,
        }
    }
}

/// The end of the run of token characters starting at `s[start]`.
fn token_end(s: &[u8], start: usize) -> usize {
    start + s.get(start..).unwrap_or_default().iter().take_while(|&&b| is_tchar(b)).count()
}

/// Whether `s` is a token: one or more tchar (RFC 9110 §5.6.2).
fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
/// "~" / DIGIT / ALPHA (RFC 9110 §5.6.2)
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// OWS = *( SP / HTAB ) (RFC 9110 §5.6.3)
fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_ows(s: &[u8], start: usize) -> usize {
    start + s.get(start..).unwrap_or_default().iter().take_while(|&&b| is_ows(b)).count()
}

fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().take_while(|&&b| is_ows(b)).count();
    let end = s.len() - s[start..].iter().rev().take_while(|&&b| is_ows(b)).count();
    &s[start..end]
}

/// The value of an ASCII hex digit (0 for anything else; callers check first).
fn hex_value(b: u8) -> u64 {
    u64::from(match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    })
}

/// Bytes from the network made safe to show: escaped, and cut to [`FOUND_LIMIT`] bytes.
fn escaped(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(FOUND_LIMIT)];
    let mut text = shown.escape_ascii().to_string();
    if bytes.len() > FOUND_LIMIT {
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const MAX: u64 = 1 << 20;

    fn headers(fields: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(
                http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    fn framing(fields: &[(&str, &[u8])]) -> Result<BodyLength, BadRequest> {
        body_length(Version::HTTP_11, &headers(fields), MAX)
    }

    fn refused(fields: &[(&str, &[u8])], status: StatusCode) -> String {
        match framing(fields) {
            Err(bad) => {
                assert_eq!(bad.status, status, "{bad}");
                bad.message
            }
            Ok(length) => panic!("{fields:?} was accepted as {length:?}"),
        }
    }

    /// Feeds `pieces` one after another, appending the next only when the decoder needs more,
    /// and returns the body and what was left in the buffer after `Done`.
    fn feed(length: BodyLength, max_body: u64, pieces: &[&[u8]]) -> Result<(Vec<u8>, BytesMut), BodyError> {
        let mut decoder = Decoder::new(length, max_body);
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut pieces = pieces.iter();
        loop {
            match decoder.decode(&mut buf)? {
                Decoded::Data(data) => {
                    assert!(!data.is_empty(), "Data is never empty");
                    body.extend_from_slice(&data);
                    assert_eq!(decoder.received(), body.len() as u64);
                }
                Decoded::Done => {
                    assert!(decoder.is_done());
                    return Ok((body, buf));
                }
                Decoded::NeedMore => match pieces.next() {
                    Some(piece) => buf.extend_from_slice(piece),
                    None => panic!("the input ended before the body did, after {:?}", body.escape_ascii().to_string()),
                },
            }
        }
    }

    fn chunked(input: &[u8]) -> Result<Vec<u8>, BodyError> {
        feed(BodyLength::Chunked, MAX, &[input]).map(|(body, _)| body)
    }

    fn chunked_bytewise(input: &[u8]) -> Result<Vec<u8>, BodyError> {
        let pieces: Vec<&[u8]> = input.chunks(1).collect();
        feed(BodyLength::Chunked, MAX, &pieces).map(|(body, _)| body)
    }

    // --- framing -------------------------------------------------------------------------

    #[test]
    fn a_request_with_neither_field_has_an_empty_body() {
        assert_eq!(framing(&[("host", b"a")]), Ok(BodyLength::Empty));
    }

    #[test]
    fn a_content_length_gives_a_known_length() {
        assert_eq!(framing(&[("content-length", b"5")]), Ok(BodyLength::Known(5)));
        assert_eq!(framing(&[("content-length", b"0")]), Ok(BodyLength::Known(0)));
        assert_eq!(framing(&[("content-length", b"007")]), Ok(BodyLength::Known(7)));
    }

    #[test]
    fn a_content_length_at_max_body_passes_and_one_over_is_413() {
        let fields = headers(&[("content-length", b"100")]);
        assert_eq!(body_length(Version::HTTP_11, &fields, 100), Ok(BodyLength::Known(100)));
        let bad = body_length(Version::HTTP_11, &fields, 99).unwrap_err();
        assert_eq!(bad.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(bad.message, "body of 100 bytes exceeds the limit of 99 bytes");
    }

    #[test]
    fn a_content_length_of_u64_max_fits_and_one_more_is_invalid() {
        let fields = headers(&[("content-length", b"18446744073709551615")]);
        assert_eq!(body_length(Version::HTTP_11, &fields, u64::MAX), Ok(BodyLength::Known(u64::MAX)));
        let message = refused(&[("content-length", b"18446744073709551616")], StatusCode::BAD_REQUEST);
        assert!(message.contains("18446744073709551616"), "{message}");
    }

    #[test]
    fn a_content_length_with_a_sign_space_or_nothing_is_refused() {
        for value in [&b"+5"[..], b"-5", b" 5", b"5 ", b"", b"5 5", b"0x5", b"5a", b"five", b"5,", b",5"] {
            let message = refused(&[("content-length", value)], StatusCode::BAD_REQUEST);
            assert!(message.starts_with("invalid Content-Length"), "{message}");
        }
    }

    #[test]
    fn an_invalid_content_length_is_named_escaped_and_cut_short() {
        let message = refused(&[("content-length", b"5\xff")], StatusCode::BAD_REQUEST);
        assert_eq!(message, "invalid Content-Length \"5\\xff\"");
        let long = [b'9'; 40];
        let message = refused(&[("content-length", &long[..])], StatusCode::BAD_REQUEST);
        assert_eq!(message, format!("invalid Content-Length \"{}...\"", "9".repeat(32)));
    }

    #[test]
    fn identical_content_lengths_count_as_one() {
        assert_eq!(framing(&[("content-length", b"5, 5")]), Ok(BodyLength::Known(5)));
        assert_eq!(framing(&[("content-length", b"5,5,\t5")]), Ok(BodyLength::Known(5)));
        assert_eq!(framing(&[("content-length", b"5"), ("content-length", b"5")]), Ok(BodyLength::Known(5)));
    }

    #[test]
    fn differing_content_lengths_are_refused_naming_both() {
        let message = refused(&[("content-length", b"5, 6")], StatusCode::BAD_REQUEST);
        assert_eq!(message, "conflicting Content-Length values 5 and 6");
        let message = refused(&[("content-length", b"5"), ("content-length", b"6")], StatusCode::BAD_REQUEST);
        assert_eq!(message, "conflicting Content-Length values 5 and 6");
    }

    #[test]
    fn transfer_encoding_chunked_gives_a_chunked_body() {
        assert_eq!(framing(&[("transfer-encoding", b"chunked")]), Ok(BodyLength::Chunked));
        assert_eq!(framing(&[("transfer-encoding", b"ChUnKeD")]), Ok(BodyLength::Chunked));
        assert_eq!(framing(&[("transfer-encoding", b" chunked\t")]), Ok(BodyLength::Chunked));
        assert_eq!(framing(&[("transfer-encoding", b", chunked,")]), Ok(BodyLength::Chunked));
    }

    #[test]
    fn another_coding_before_chunked_is_501() {
        let message = refused(&[("transfer-encoding", b"gzip, chunked")], StatusCode::NOT_IMPLEMENTED);
        assert_eq!(message, "transfer coding \"gzip\" not supported");
        let message =
            refused(&[("transfer-encoding", b"gzip"), ("transfer-encoding", b"chunked")], StatusCode::NOT_IMPLEMENTED);
        assert!(message.contains("gzip"), "{message}");
    }

    #[test]
    fn chunked_that_is_not_the_final_coding_is_400() {
        let message = refused(&[("transfer-encoding", b"chunked, gzip")], StatusCode::BAD_REQUEST);
        assert_eq!(message, "chunked is not the final coding in Transfer-Encoding \"chunked, gzip\"");
        refused(&[("transfer-encoding", b"chunked"), ("transfer-encoding", b"gzip")], StatusCode::BAD_REQUEST);
        refused(&[("transfer-encoding", b"gzip")], StatusCode::BAD_REQUEST);
        refused(&[("transfer-encoding", b"")], StatusCode::BAD_REQUEST);
    }

    #[test]
    fn chunked_twice_is_400() {
        let message = refused(&[("transfer-encoding", b"chunked, chunked")], StatusCode::BAD_REQUEST);
        assert!(message.contains("more than once"), "{message}");
        refused(&[("transfer-encoding", b"chunked"), ("transfer-encoding", b"chunked")], StatusCode::BAD_REQUEST);
    }

    #[test]
    fn an_invalid_or_parameterised_chunked_coding_is_400() {
        let message = refused(&[("transfer-encoding", b"chunked;q=1")], StatusCode::BAD_REQUEST);
        assert!(message.contains("no parameters"), "{message}");
        let message = refused(&[("transfer-encoding", b"g(zip, chunked")], StatusCode::BAD_REQUEST);
        assert_eq!(message, "invalid transfer coding \"g(zip\"");
    }

    #[test]
    fn transfer_encoding_in_http_1_0_is_400() {
        let fields = headers(&[("transfer-encoding", b"chunked")]);
        let bad = body_length(Version::HTTP_10, &fields, MAX).unwrap_err();
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.message.contains("HTTP/1.0"), "{bad}");
        assert_eq!(body_length(Version::HTTP_11, &fields, MAX), Ok(BodyLength::Chunked));
    }

    #[test]
    fn transfer_encoding_with_content_length_is_400() {
        let message = refused(&[("transfer-encoding", b"chunked"), ("content-length", b"5")], StatusCode::BAD_REQUEST);
        assert!(message.contains("both Transfer-Encoding and Content-Length"), "{message}");
    }

    // --- Content-Length bodies -------------------------------------------------------------

    #[test]
    fn an_empty_body_is_done_at_once_and_leaves_the_buffer_alone() {
        for length in [BodyLength::Empty, BodyLength::Known(0)] {
            let mut decoder = Decoder::new(length, MAX);
            assert!(decoder.is_done());
            let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\n"[..]);
            assert_eq!(decoder.decode(&mut buf), Ok(Decoded::Done));
            assert_eq!(&buf[..], b"GET / HTTP/1.1\r\n");
        }
    }

    #[test]
    fn a_known_length_body_is_handed_out_without_copying_and_the_rest_is_left() {
        let mut decoder = Decoder::new(BodyLength::Known(5), MAX);
        let mut buf = BytesMut::from(&b"helloGET / HTTP/1.1\r\n"[..]);
        let start = buf.as_ptr();
        match decoder.decode(&mut buf) {
            Ok(Decoded::Data(data)) => {
                assert_eq!(&data[..], b"hello");
                assert_eq!(data.as_ptr(), start, "the data is the buffer's own bytes");
            }
            other => panic!("{other:?}"),
        }
        assert!(decoder.is_done());
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::Done));
        assert_eq!(&buf[..], b"GET / HTTP/1.1\r\n");
        assert_eq!(decoder.received(), 5);
    }

    #[test]
    fn a_known_length_body_arrives_in_pieces() {
        let mut decoder = Decoder::new(BodyLength::Known(5), MAX);
        let mut buf = BytesMut::new();
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::NeedMore));
        buf.extend_from_slice(b"he");
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::Data(Bytes::from_static(b"he"))));
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::NeedMore));
        assert!(!decoder.is_done());
        buf.extend_from_slice(b"llo!");
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::Data(Bytes::from_static(b"llo"))));
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::Done));
        assert_eq!(&buf[..], b"!");
    }

    #[test]
    fn a_known_length_over_max_body_is_too_large_and_at_it_passes() {
        assert_eq!(feed(BodyLength::Known(5), 5, &[b"hello"]).map(|(b, _)| b), Ok(b"hello".to_vec()));
        let mut decoder = Decoder::new(BodyLength::Known(6), 5);
        let mut buf = BytesMut::from(&b"hello!"[..]);
        assert_eq!(decoder.decode(&mut buf), Err(BodyError::TooLarge { limit: 5 }));
    }

    // --- chunked bodies ----------------------------------------------------------------------

    #[test]
    fn a_chunked_body_is_decoded_and_pipelined_bytes_are_left_untouched() {
        let input = b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
        let (body, rest) = feed(BodyLength::Chunked, MAX, &[input]).unwrap();
        assert_eq!(body, b"hello, world");
        assert_eq!(&rest[..], b"GET / HTTP/1.1\r\n");
    }

    #[test]
    fn the_data_of_a_chunk_is_handed_out_before_the_whole_chunk_arrives() {
        let mut decoder = Decoder::new(BodyLength::Chunked, MAX);
        let mut buf = BytesMut::from(&b"a\r\nhel"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::Data(Bytes::from_static(b"hel"))));
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::NeedMore));
        buf.extend_from_slice(b"lo worl");
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::Data(Bytes::from_static(b"lo worl"))));
        assert_eq!(decoder.received(), 10);
    }

    const BODY_WITH_EVERYTHING: &[u8] = b"5;ext=1;q=\"a \\\"b\\\"\"\r\nhello\r\n0A ; n = v\r\n, world!!!\r\n\
        0;last\r\nExpires: never\r\nX-Sum:\t1 2 \r\n\r\nGET";

    #[test]
    fn feeding_a_chunked_body_split_anywhere_gives_the_same_data() {
        let whole = feed(BodyLength::Chunked, MAX, &[BODY_WITH_EVERYTHING]).unwrap();
        assert_eq!(whole.0, b"hello, world!!!");
        assert_eq!(&whole.1[..], b"GET");
        for split in 0..=BODY_WITH_EVERYTHING.len() {
            let (first, second) = BODY_WITH_EVERYTHING.split_at(split);
            let (body, _) = feed(BodyLength::Chunked, MAX, &[first, second]).unwrap();
            assert_eq!(body, whole.0, "split at {split}");
        }
    }

    #[test]
    fn feeding_a_chunked_body_one_byte_at_a_time_gives_the_same_data() {
        assert_eq!(chunked_bytewise(BODY_WITH_EVERYTHING), Ok(b"hello, world!!!".to_vec()));
    }

    #[test]
    fn a_chunked_body_at_max_body_passes_and_one_byte_over_is_too_large() {
        let input = b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
        assert_eq!(feed(BodyLength::Chunked, 6, &[input]).map(|(b, _)| b), Ok(b"abcdef".to_vec()));
        let mut decoder = Decoder::new(BodyLength::Chunked, 5);
        let mut buf = BytesMut::from(&input[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::Data(Bytes::from_static(b"abc"))));
        let error = decoder.decode(&mut buf).unwrap_err();
        assert_eq!(error, BodyError::TooLarge { limit: 5 });
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // and it stays failed
        assert_eq!(decoder.decode(&mut buf), Err(error));
    }

    #[test]
    fn a_chunk_size_of_16_hex_digits_passes_and_17_is_invalid() {
        assert_eq!(chunked(b"0000000000000005\r\nhello\r\n0\r\n\r\n"), Ok(b"hello".to_vec()));
        assert_eq!(
            chunked(b"00000000000000005\r\nhello\r\n0\r\n\r\n"),
            Err(BodyError::InvalidChunkSize { found: "00000000000000005".to_owned() })
        );
        // 16 f's is u64::MAX: a valid size, refused only for being too large.
        assert_eq!(chunked(b"ffffffffffffffff\r\n"), Err(BodyError::TooLarge { limit: MAX }));
    }

    #[test]
    fn malformed_chunk_sizes_are_invalid() {
        for line in [&b""[..], b"x", b"-5", b"+5", b"5x", b" 5", b"0x5"] {
            let mut input = line.to_vec();
            input.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
            assert!(matches!(chunked(&input), Err(BodyError::InvalidChunkSize { .. })), "{:?}", line.escape_ascii());
        }
    }

    #[test]
    fn chunk_extensions_are_accepted_and_ignored() {
        for line in [
            &b"5;a"[..],
            b"5;a=b",
            b"5 ; a = b",
            b"5\t;\ta\t=\tb",
            b"5;a=\"\"",
            b"5;a=\"x;y=z \\\" \\\\\"",
            b"5;a;b=c;d=\"e\"",
            b"5;a=\"\xff\"",
        ] {
            let mut input = line.to_vec();
            input.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
            assert_eq!(chunked(&input), Ok(b"hello".to_vec()), "{:?}", line.escape_ascii().to_string());
        }
    }

    #[test]
    fn malformed_chunk_extensions_are_invalid() {
        for line in
            [&b"5;"[..], b"5 ", b"5;a ", b"5;=b", b"5;a=", b"5;a=\"open", b"5;a=b c", b"5;a=(b)", b"5;a=\"\x01\""]
        {
            let mut input = line.to_vec();
            input.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
            let result = chunked(&input);
            assert!(
                matches!(result, Err(BodyError::InvalidChunkExtension { .. })),
                "{:?} gave {result:?}",
                line.escape_ascii().to_string()
            );
        }
        assert_eq!(
            chunked(b"5;a=\"open\r\nhello\r\n0\r\n\r\n"),
            Err(BodyError::InvalidChunkExtension { found: ";a=\\\"open".to_owned() })
        );
    }

    #[test]
    fn a_chunk_size_line_of_4096_bytes_passes_and_4097_is_too_long() {
        let mut at_limit = b"5;".to_vec();
        at_limit.resize(CHUNK_LINE_LIMIT, b'a');
        at_limit.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        assert_eq!(chunked(&at_limit), Ok(b"hello".to_vec()));
        assert_eq!(chunked_bytewise(&at_limit), Ok(b"hello".to_vec()));

        let mut over = b"5;".to_vec();
        over.resize(CHUNK_LINE_LIMIT + 1, b'a');
        over.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        let too_long = Err(BodyError::ChunkLineTooLong { limit: CHUNK_LINE_LIMIT });
        assert_eq!(chunked(&over), too_long);
        assert_eq!(chunked_bytewise(&over), too_long);
    }

    #[test]
    fn a_chunk_size_line_that_is_too_long_is_refused_before_its_end_arrives() {
        let mut decoder = Decoder::new(BodyLength::Chunked, MAX);
        let mut buf = BytesMut::from(&b"5;"[..]);
        buf.resize(CHUNK_LINE_LIMIT, b'a');
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::NeedMore));
        buf.extend_from_slice(b"\r");
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::NeedMore), "a CR may be the start of the CRLF");
        let mut buf = BytesMut::from(&b"5;"[..]);
        buf.resize(CHUNK_LINE_LIMIT + 1, b'a');
        let mut decoder = Decoder::new(BodyLength::Chunked, MAX);
        assert_eq!(decoder.decode(&mut buf), Err(BodyError::ChunkLineTooLong { limit: CHUNK_LINE_LIMIT }));
    }

    #[test]
    fn a_bare_lf_is_an_error_wherever_crlf_is_due() {
        assert_eq!(
            chunked(b"5\nhello\r\n0\r\n\r\n"),
            Err(BodyError::MissingCrlf {
                after: "the chunk size line",
                found: "\\nhello\\r\\n0\\r\\n\\r\\n".to_owned()
            })
        );
        assert!(matches!(
            chunked(b"5\r\nhello\n0\r\n\r\n"),
            Err(BodyError::MissingCrlf { after: "the chunk data", .. })
        ));
        assert!(matches!(
            chunked(b"5\r\nhello\r\n0\n\r\n"),
            Err(BodyError::MissingCrlf { after: "the chunk size line", .. })
        ));
        assert!(matches!(
            chunked(b"5\r\nhello\r\n0\r\nA: b\n\r\n"),
            Err(BodyError::MissingCrlf { after: "a trailer field line", .. })
        ));
        assert!(matches!(
            chunked(b"5\r\nhello\r\n0\r\n\n"),
            Err(BodyError::MissingCrlf { after: "a trailer field line", .. })
        ));
        assert!(matches!(chunked(b"5\rX\r\n"), Err(BodyError::MissingCrlf { after: "the chunk size line", .. })));
    }

    #[test]
    fn chunk_data_longer_than_its_size_is_refused_naming_what_followed() {
        let error = chunked(b"5\r\nhello world\r\n0\r\n\r\n").unwrap_err();
        assert_eq!(
            error,
            BodyError::MissingCrlf { after: "the chunk data", found: " world\\r\\n0\\r\\n\\r\\n".to_owned() }
        );
        assert_eq!(error.to_string(), "expected CRLF after the chunk data, found \" world\\r\\n0\\r\\n\\r\\n\"");
        assert!(matches!(
            chunked_bytewise(b"5\r\nhello\rX"),
            Err(BodyError::MissingCrlf { after: "the chunk data", .. })
        ));
    }

    #[test]
    fn an_incomplete_chunked_body_needs_more_and_is_not_an_error() {
        let input = b"5;a=b\r\nhello\r\n0\r\nA: b\r\n\r\n";
        for end in 0..input.len() {
            let mut decoder = Decoder::new(BodyLength::Chunked, MAX);
            let mut buf = BytesMut::from(&input[..end]);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Decoded::Data(_)) => {}
                    Ok(Decoded::NeedMore) => break,
                    other => panic!("{end} bytes gave {other:?}"),
                }
            }
            assert!(!decoder.is_done());
        }
    }

    #[test]
    fn valid_trailers_are_read_and_discarded() {
        assert_eq!(chunked(b"0\r\nExpires: never\r\nX-Empty:\r\nX-Tab:\tv\t\r\nX-Obs: \xe9\r\n\r\n"), Ok(Vec::new()));
    }

    #[test]
    fn malformed_trailers_are_refused() {
        for line in
            [&b"Name : v"[..], b"Name", b": v", b" folded: v", b"Na me: v", b"A: b\x01", b"A: \x7f", b"A\xe9: v"]
        {
            let mut input = b"0\r\n".to_vec();
            input.extend_from_slice(line);
            input.extend_from_slice(b"\r\n\r\n");
            assert_eq!(
                chunked(&input),
                Err(BodyError::InvalidTrailer { found: escaped(line) }),
                "{:?}",
                line.escape_ascii().to_string()
            );
        }
    }

    /// A last chunk followed by a trailer section of `size` bytes: a short field, then a padded
    /// one, then the final CRLF.
    fn with_trailer_section_of(size: usize) -> Vec<u8> {
        let mut input = b"0\r\n".to_vec();
        input.extend_from_slice(b"A: b\r\n");
        input.extend_from_slice(b"X-Pad: ");
        input.resize(input.len() + size - 6 - 7 - 2 - 2, b'p');
        input.extend_from_slice(b"\r\n\r\n");
        assert_eq!(input.len() - 3, size);
        input
    }

    #[test]
    fn a_trailer_section_at_16_kib_passes_and_one_byte_over_is_too_large() {
        let at_limit = with_trailer_section_of(TRAILER_LIMIT);
        assert_eq!(chunked(&at_limit), Ok(Vec::new()));
        assert_eq!(chunked_bytewise(&at_limit), Ok(Vec::new()));
        let over = with_trailer_section_of(TRAILER_LIMIT + 1);
        let too_large = Err(BodyError::TrailersTooLarge { limit: TRAILER_LIMIT });
        assert_eq!(chunked(&over), too_large);
        assert_eq!(chunked_bytewise(&over), too_large);
    }

    #[test]
    fn body_errors_map_to_statuses_and_bad_requests() {
        let error = BodyError::InvalidChunkSize { found: "x".to_owned() };
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        let bad = BadRequest::from(error);
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.message, "invalid chunk size in \"x\" (expected 1 to 16 hex digits)");
        let bad = BadRequest::from(BodyError::TooLarge { limit: 10 });
        assert_eq!(bad.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(bad.message, "body exceeds the limit of 10 bytes");
    }

    #[test]
    fn found_values_are_escaped_and_cut_to_32_bytes() {
        assert_eq!(escaped(b"a\r\n\x00\xff"), "a\\r\\n\\x00\\xff");
        assert_eq!(escaped(&[b'x'; 32]), "x".repeat(32));
        assert_eq!(escaped(&[b'x'; 33]), format!("{}...", "x".repeat(32)));
    }
}
