//! Writing responses: the status line and header section, and the body's framing.
//!
//! The request handler decides the [`Framing`] from the head the handler sent, the request's
//! method and version, and whether the connection stays open (RFC 9112 §6.3, §7):
//! `Content-Length` when the handler gave a length, otherwise chunked for HTTP/1.1 and
//! close-delimited for HTTP/1.0; no body at all for HEAD, 1xx, 204 and 304.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, SERVER, TRANSFER_ENCODING};
use http::{Method, StatusCode, Version};

use crate::error_pages::reason_phrase;
use crate::resource::ResponseHead;

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length: n`: exactly `n` bytes follow.
    Length(u64),
    /// `Transfer-Encoding: chunked` (HTTP/1.1 only).
    Chunked,
    /// The body ends when the connection closes (HTTP/1.0 without a length).
    Close,
    /// No body may be sent (HEAD, 1xx, 204, 304); `Content-Length`, if given, describes the
    /// body a GET would have had.
    None(Option<u64>),
}

impl Framing {
    /// Chooses the framing for a response to `method` in `version` with `head`.
    pub(crate) fn choose(method: &Method, version: Version, head: &ResponseHead) -> Framing {
        let status = head.status;
        if status.is_informational() || status == StatusCode::NO_CONTENT {
            return Framing::None(None);
        }
        if status == StatusCode::NOT_MODIFIED || *method == Method::HEAD {
            return Framing::None(head.length);
        }
        match head.length {
            Some(n) => Framing::Length(n),
            None if version == Version::HTTP_11 => Framing::Chunked,
            None => Framing::Close,
        }
    }

    /// Whether the connection must close after this body to delimit it.
    pub(crate) fn needs_close(self) -> bool {
        self == Framing::Close
    }
}

/// Writes the status line and header section for `head` into `out`.
pub(crate) fn write_head(
    out: &mut BytesMut,
    head: &ResponseHead,
    framing: Framing,
    version: Version,
    keep_alive: bool,
    server_name: &str,
) {
    out.reserve(256);
    put_head_start(out, head.status, server_name);
    match framing {
        Framing::Length(n) | Framing::None(Some(n)) => {
            out.put_slice(b"Content-Length: ");
            let mut digits = itoa_buf(n);
            out.put_slice(digits.as_bytes_mut());
            out.put_slice(b"\r\n");
        }
        Framing::Chunked => out.put_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::Close | Framing::None(None) => {}
    }
    if !keep_alive || framing.needs_close() {
        out.put_slice(b"Connection: close\r\n");
    } else if version == Version::HTTP_10 {
        out.put_slice(b"Connection: keep-alive\r\n");
    }
    for (name, value) in &head.headers {
        if [&DATE, &SERVER, &CONTENT_LENGTH, &TRANSFER_ENCODING, &CONNECTION].contains(&name) {
            continue;
        }
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"\r\n");
}

/// The head of a chunk of `len` bytes: its size in hex and CRLF.
pub(crate) fn chunk_head(out: &mut BytesMut, len: u64) {
    // Straight into the buffer (`BytesMut` is a `fmt::Write`, which cannot fail): no `String`.
    let _ = std::fmt::Write::write_fmt(out, format_args!("{len:X}\r\n"));
}

/// The last chunk and the end of the (empty) trailer section.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// `100 Continue` (RFC 9110 §15.2.1).
pub(crate) const CONTINUE: Bytes = Bytes::from_static(b"HTTP/1.1 100 Continue\r\n\r\n");

/// A small decimal formatter, so that writing a length does not allocate.
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn as_bytes_mut(&mut self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn itoa_buf(mut n: u64) -> Digits {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    Digits { buf, start: i }
}

/// The start of a head (status line, `Date`, `Server`): the same for every response with one
/// status from one server within a second, so kept, per thread, for the last status and server.
/// The `Date` (RFC 9110 §6.6.1 needs no finer than a second) is formatted once a second.
struct HeadStart {
    /// The second `date` was formatted for (`u64::MAX`: none yet).
    secs: u64,
    date: String,
    status: u16,
    server: String,
    bytes: Vec<u8>,
}

thread_local! {
    // Per thread, like hyper's cached date: a memo of the clock and of its own arguments, set by no caller.
    static HEAD_START: RefCell<HeadStart> = const {
        RefCell::new(HeadStart {
            secs: u64::MAX,
            date: String::new(),
            status: 0,
            server: String::new(),
            bytes: Vec::new(),
        })
    };
}

/// Writes the status line, `Date` and `Server` (one copy, rather than nine small ones).
fn put_head_start(out: &mut BytesMut, status: StatusCode, server_name: &str) {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    HEAD_START.with(|cache| {
        let start = &mut *cache.borrow_mut();
        let new_second = start.secs != secs;
        if new_second {
            start.date = httpdate::fmt_http_date(now);
            start.secs = secs;
        }
        if new_second || start.status != status.as_u16() || start.server != server_name {
            start.bytes.clear();
            start.bytes.extend_from_slice(b"HTTP/1.1 ");
            start.bytes.extend_from_slice(status.as_str().as_bytes());
            start.bytes.push(b' ');
            start.bytes.extend_from_slice(reason_phrase(status).as_bytes());
            start.bytes.extend_from_slice(b"\r\nDate: ");
            start.bytes.extend_from_slice(start.date.as_bytes());
            start.bytes.extend_from_slice(b"\r\nServer: ");
            start.bytes.extend_from_slice(server_name.as_bytes());
            start.bytes.extend_from_slice(b"\r\n");
            start.status = status.as_u16();
            start.server.clear();
            start.server.push_str(server_name);
        }
        out.put_slice(&start.bytes);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{HeaderValue, CONTENT_TYPE};

    fn head_text(head: &ResponseHead, framing: Framing, keep_alive: bool) -> String {
        let mut out = BytesMut::new();
        write_head(&mut out, head, framing, Version::HTTP_11, keep_alive, "Test/1");
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn the_kept_start_of_a_head_follows_the_status_and_the_server() {
        let cases = [
            (StatusCode::OK, "A/1"),
            (StatusCode::NOT_FOUND, "A/1"),
            (StatusCode::NOT_FOUND, "B/2"),
            (StatusCode::OK, "A/1"),
        ];
        for (status, server) in cases.into_iter().cycle().take(8) {
            let mut out = BytesMut::new();
            write_head(&mut out, &ResponseHead::new(status), Framing::Length(0), Version::HTTP_11, true, server);
            let text = String::from_utf8(out.to_vec()).unwrap();
            let line = format!("HTTP/1.1 {} {}\r\nDate: ", status.as_str(), reason_phrase(status));
            assert!(text.starts_with(&line), "{text}");
            assert!(text.contains(&format!(" GMT\r\nServer: {server}\r\nContent-Length: 0\r\n")), "{text}");
        }
    }

    #[test]
    fn a_head_has_the_status_line_date_server_and_length() {
        let head = ResponseHead::new(StatusCode::OK).content_type("text/html").length(5);
        let text = head_text(&head, Framing::Length(5), true);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nDate: "), "{text}");
        assert!(text.contains("\r\nServer: Test/1\r\nContent-Length: 5\r\n"), "{text}");
        assert!(text.contains("\r\ncontent-type: text/html\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n"));
        assert!(!text.contains("Connection"));
    }

    #[test]
    fn renamed_statuses_use_rfc_9110s_phrase() {
        let head = ResponseHead::new(StatusCode::PAYLOAD_TOO_LARGE);
        assert!(head_text(&head, Framing::Chunked, false).starts_with("HTTP/1.1 413 Content Too Large\r\n"));
    }

    #[test]
    fn an_unknown_status_still_has_the_space_after_the_code() {
        let head = ResponseHead::new(StatusCode::from_u16(599).unwrap());
        assert!(head_text(&head, Framing::Chunked, true).starts_with("HTTP/1.1 599 \r\n"));
    }

    #[test]
    fn fields_the_server_owns_are_not_taken_from_the_handler() {
        let head = ResponseHead::new(StatusCode::OK)
            .header(CONTENT_LENGTH, HeaderValue::from_static("999"))
            .header(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let text = head_text(&head, Framing::Length(3), false);
        assert!(!text.contains("999"), "{text}");
        assert!(text.contains("Connection: close\r\n"));
    }

    #[test]
    fn framing_follows_method_status_length_and_version() {
        let with_len = ResponseHead::new(StatusCode::OK).length(3);
        let without = ResponseHead::new(StatusCode::OK);
        assert_eq!(Framing::choose(&Method::GET, Version::HTTP_11, &with_len), Framing::Length(3));
        assert_eq!(Framing::choose(&Method::GET, Version::HTTP_11, &without), Framing::Chunked);
        assert_eq!(Framing::choose(&Method::GET, Version::HTTP_10, &without), Framing::Close);
        assert_eq!(Framing::choose(&Method::HEAD, Version::HTTP_11, &with_len), Framing::None(Some(3)));
        let no_content = ResponseHead::new(StatusCode::NO_CONTENT).length(3);
        assert_eq!(Framing::choose(&Method::GET, Version::HTTP_11, &no_content), Framing::None(None));
        let not_modified = ResponseHead::new(StatusCode::NOT_MODIFIED);
        assert_eq!(Framing::choose(&Method::GET, Version::HTTP_11, &not_modified), Framing::None(None));
    }

    #[test]
    fn digits_are_written_without_allocating() {
        assert_eq!(itoa_buf(0).as_bytes_mut(), b"0");
        assert_eq!(itoa_buf(u64::MAX).as_bytes_mut(), u64::MAX.to_string().as_bytes());
    }
}
