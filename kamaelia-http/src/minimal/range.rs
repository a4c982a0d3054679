//! Byte ranges (RFC 9110 §14): which part of a file a `Range` field asks for, if any.

use std::cmp::min;

use http::header::{IF_RANGE, RANGE};
use http::Method;

use super::conditional::{if_range_matches, Validators};
use crate::request::Request;

/// A `Range` field, judged against a file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RangeRequest {
    /// Serve the whole file: several ranges, or a field that does not parse.
    Ignore,
    /// No byte of the range is in the file (416).
    Unsatisfiable,
    /// Bytes `start..=end` (206).
    Satisfiable { start: u64, end: u64 },
}

/// The `Range` field of a `GET`, judged against the file (`If-Range` included).
pub(super) fn requested_range(request: &Request, len: u64, validators: &Validators) -> RangeRequest {
    let headers = &request.headers;
    if request.method != Method::GET {
        return RangeRequest::Ignore;
    }
    let Some(range) = headers.get(RANGE) else { return RangeRequest::Ignore };
    if let Some(if_range) = headers.get(IF_RANGE) {
        if !if_range_matches(if_range.as_bytes(), validators) {
            return RangeRequest::Ignore;
        }
    }
    parse_range(range.as_bytes(), len)
}

/// Judges a `Range` value against a file of `len` bytes (RFC 9110 §14.1.2, §14.2): only one
/// `bytes` range is served.
fn parse_range(value: &[u8], len: u64) -> RangeRequest {
    let Ok(value) = std::str::from_utf8(value) else { return RangeRequest::Ignore };
    let Some((unit, set)) = value.split_once('=') else { return RangeRequest::Ignore };
    if !unit.eq_ignore_ascii_case("bytes") {
        return RangeRequest::Ignore;
    }
    let mut specs = set.split(',').map(|s| s.trim_matches([' ', '\t'])).filter(|s| !s.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else { return RangeRequest::Ignore };
    let Some((first, last)) = spec.split_once('-') else { return RangeRequest::Ignore };
    let (start, end) = match (first, last) {
        ("", "") => return RangeRequest::Ignore,
        ("", suffix) => {
            let Some(suffix) = position(suffix) else { return RangeRequest::Ignore };
            (len - min(suffix, len), len.saturating_sub(1))
        }
        (first, "") => {
            let Some(first) = position(first) else { return RangeRequest::Ignore };
            (first, len.saturating_sub(1))
        }
        (first, last) => {
            let (Some(first), Some(last)) = (position(first), position(last)) else { return RangeRequest::Ignore };
            if last < first {
                return RangeRequest::Ignore;
            }
            (first, min(last, len.saturating_sub(1)))
        }
    };
    // `bytes=-0`, and any range of an empty file, start at the end.
    if start >= len {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Satisfiable { start, end }
}

/// A byte position: ASCII digits only; a number too large for `u64` counts as `u64::MAX`
/// (past the end of any file).
fn position(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use http::{Method, StatusCode};

    use crate::minimal::testing::{get_with, hello_etag, request, run, site, HELLO};
    use crate::minimal::Minimal;

    #[test]
    fn a_range_gets_206_with_just_that_slice() {
        let (_tmp, root) = site();
        let seen = get_with(&root, "/hello.txt", &[("range", "bytes=0-4")]);
        assert_eq!(seen.head.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(seen.header("content-range"), Some("bytes 0-4/12"));
        assert_eq!(seen.head.length, Some(5));
        assert_eq!(seen.header("accept-ranges"), Some("bytes"));
        assert_eq!(seen.body(), b"Hello");
        assert!(seen.finished);
    }

    #[test]
    fn open_and_suffix_ranges_and_their_limits() {
        let (_tmp, root) = site();
        let cases = [
            ("bytes=7-", "bytes 7-11/12", "world"),
            ("bytes=11-", "bytes 11-11/12", "d"),
            ("bytes=-3", "bytes 9-11/12", "rld"),
            ("bytes=-12", "bytes 0-11/12", HELLO),
            ("bytes=-100", "bytes 0-11/12", HELLO),
            ("bytes=5-100", "bytes 5-11/12", ", world"),
            ("Bytes=0-0", "bytes 0-0/12", "H"),
        ];
        for (range, content_range, body) in cases {
            let seen = get_with(&root, "/hello.txt", &[("range", range)]);
            assert_eq!(seen.head.status, StatusCode::PARTIAL_CONTENT, "{range}");
            assert_eq!(seen.header("content-range"), Some(content_range), "{range}");
            assert_eq!(seen.body(), body.as_bytes(), "{range}");
        }
    }

    #[test]
    fn a_range_past_the_end_is_416() {
        let (_tmp, root) = site();
        for range in ["bytes=12-", "bytes=100-", "bytes=12-20", "bytes=-0", "bytes=99999999999999999999999-"] {
            let seen = get_with(&root, "/hello.txt", &[("range", range)]);
            assert_eq!(seen.head.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
            assert_eq!(seen.header("content-range"), Some("bytes */12"), "{range}");
            assert!(seen.finished);
        }
    }

    #[test]
    fn several_ranges_or_an_invalid_range_get_the_whole_file() {
        let (_tmp, root) = site();
        for range in [
            "bytes=0-1,3-4",
            "bytes=0-1, -2",
            "bytes=5-2",
            "bytes=a-b",
            "bytes=-",
            "items=0-1",
            "bytes 0-1",
            "bytes=+1-2",
        ] {
            let seen = get_with(&root, "/hello.txt", &[("range", range)]);
            assert_eq!(seen.head.status, StatusCode::OK, "{range}");
            assert_eq!(seen.body(), HELLO.as_bytes(), "{range}");
        }
    }

    #[test]
    fn head_ignores_range() {
        let (_tmp, root) = site();
        let seen =
            run(Minimal::new(request(Method::HEAD, "/hello.txt", &[("range", "bytes=0-4")]), &root, "index.html"));
        assert_eq!(seen.head.status, StatusCode::OK);
        assert_eq!(seen.head.length, Some(12));
        assert!(seen.data.is_empty());
    }

    #[test]
    fn if_range_that_matches_keeps_the_range_and_a_mismatch_gets_the_whole_file() {
        let (_tmp, root) = site();
        let etag = hello_etag();
        let matching = [etag.clone(), "Tue, 14 Nov 2023 22:13:20 GMT".to_owned()];
        for if_range in &matching {
            let seen = get_with(&root, "/hello.txt", &[("range", "bytes=0-4"), ("if-range", if_range)]);
            assert_eq!(seen.head.status, StatusCode::PARTIAL_CONTENT, "{if_range}");
        }
        let mismatching = [
            "\"other\"".to_owned(),
            format!("W/{etag}"),
            "Tue, 14 Nov 2023 22:13:21 GMT".to_owned(),
            "junk".to_owned(),
        ];
        for if_range in &mismatching {
            let seen = get_with(&root, "/hello.txt", &[("range", "bytes=0-4"), ("if-range", if_range)]);
            assert_eq!(seen.head.status, StatusCode::OK, "{if_range}");
            assert_eq!(seen.body(), HELLO.as_bytes(), "{if_range}");
        }
    }
}
