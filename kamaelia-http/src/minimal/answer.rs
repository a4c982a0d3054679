//! What [`Minimal`](crate::Minimal) answers: a page or a file ([`Answer`]), the head for a file
//! found ([`select`]), and the pages for what cannot be served.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT_RANGES, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use http::StatusCode;

use super::conditional::{not_modified, precondition_failed, Validators};
use super::content_type::{content_type, TypeCache};
use super::range::{requested_range, RangeRequest};
use super::value::digits_value;
use crate::error_pages::{escape_html, get_error_page, ERROR_PAGE_TYPE};
use crate::request::Request;
use crate::resource::ResponseHead;

/// What `Minimal` answers.
pub(super) enum Answer {
    /// A page (error, redirect, 304 with an empty body, or a file small enough to be read
    /// whole: at most `Minimal::read_whole` bytes): its head and body.
    Page(ResponseHead, Bytes),
    /// The file, or a slice of it: the head, then `length` bytes of `file` from `start` (where
    /// `file` is already positioned).
    File { head: ResponseHead, file: File, path: PathBuf, start: u64, length: u64 },
}

impl From<(ResponseHead, Bytes)> for Answer {
    fn from((head, body): (ResponseHead, Bytes)) -> Self {
        Answer::Page(head, body)
    }
}

/// What both sources answer once the file is found, from its name (for `Content-Type`), its
/// length and its validators: the head, and which bytes of the file follow it (`start` and
/// `length`), as the conditional fields (RFC 9110 §13.2.2) and `Range` (§14) ask. `Err` is an
/// answer that sends none of the file: 412 Precondition Failed, 304 Not Modified or 416 Range
/// Not Satisfiable.
#[allow(clippy::result_large_err)]
pub(super) fn select(
    request: &Request,
    name: &Path,
    len: u64,
    validators: Validators,
    types: Option<&TypeCache>,
) -> Result<(ResponseHead, u64, u64), Answer> {
    if precondition_failed(&request.headers, &validators) {
        let (head, body) = get_error_page(
            StatusCode::PRECONDITION_FAILED,
            &format!(
                "{} has changed since the version the request names (If-Match or If-Unmodified-Since).",
                request.path
            ),
        );
        return Err(Answer::Page(validators.add_to(head), body));
    }
    if not_modified(&request.headers, &validators) {
        let head = validators.add_to(ResponseHead::new(StatusCode::NOT_MODIFIED));
        return Err(Answer::Page(head, Bytes::new()));
    }

    let range = requested_range(request, len, &validators);
    let mut head = validators
        .add_to(ResponseHead::new(StatusCode::OK))
        .header(CONTENT_TYPE, content_type(name, types))
        .header(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let (start, length) = match range {
        RangeRequest::Ignore => (0, len),
        RangeRequest::Unsatisfiable => return Err(range_not_satisfiable(request, len)),
        RangeRequest::Satisfiable { start, end } => {
            head.status = StatusCode::PARTIAL_CONTENT;
            head.headers.insert(CONTENT_RANGE, digits_value(format!("bytes {start}-{end}/{len}")));
            (start, end - start + 1)
        }
    };
    Ok((head.length(length), start, length))
}

/// The page for a name that could not be looked up: 403 if not allowed, else 404 (no such
/// file, a file used as a directory, a name too long...).
pub(super) fn lookup_failed(request: &Request, path: &Path, error: &io::Error) -> Answer {
    log::debug!("looking up `{}` failed: {error}", path.display());
    match error.kind() {
        io::ErrorKind::PermissionDenied => forbidden(request),
        _ => not_found(request),
    }
}

/// The page for a failure to open or read a file found: 403, 404 (it has just gone) or 500.
pub(super) fn io_failed(request: &Request, error: &io::Error) -> Answer {
    match error.kind() {
        io::ErrorKind::PermissionDenied => forbidden(request),
        io::ErrorKind::NotFound => not_found(request),
        _ => {
            log::warn!("serving {} failed: {error}", request.path.as_bytes().escape_ascii());
            get_error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("The requested URL {} could not be read.", request.path),
            )
            .into()
        }
    }
}

pub(super) fn not_found(request: &Request) -> Answer {
    get_error_page(StatusCode::NOT_FOUND, &format!("The requested URL {} was not found on this server.", request.path))
        .into()
}

pub(super) fn forbidden(request: &Request) -> Answer {
    get_error_page(
        StatusCode::FORBIDDEN,
        &format!("You do not have permission to access {} on this server.", request.path),
    )
    .into()
}

/// A 301 to the request's path with a `/` added, and the query kept.
pub(super) fn redirect_to_slash(request: &Request) -> Answer {
    // Leading slashes collapsed: `//host/` would send the client to another host.
    let mut location = format!("/{}/", request.path.trim_start_matches('/'));
    if let Some(query) = &request.query {
        location.push('?');
        location.push_str(query);
    }
    let Ok(value) = HeaderValue::from_str(&location) else {
        log::warn!("cannot redirect to {}: not a valid Location", location.as_bytes().escape_ascii());
        return not_found(request);
    };
    let link = escape_html(&location);
    let body = format!(
        "<html>\n<title>301 Moved Permanently</title>\n<body>\n<h2>301 Moved Permanently</h2>\n<p>This is now at <a href=\"{link}\">{link}</a>.</p></body>\n</html>\n"
    );
    let head = ResponseHead::new(StatusCode::MOVED_PERMANENTLY)
        .header(CONTENT_TYPE, HeaderValue::from_static(ERROR_PAGE_TYPE))
        .header(LOCATION, value)
        .length(body.len() as u64);
    Answer::Page(head, Bytes::from(body))
}

pub(super) fn range_not_satisfiable(request: &Request, len: u64) -> Answer {
    let range = request.headers.get(RANGE).map(|v| v.as_bytes().escape_ascii().to_string()).unwrap_or_default();
    let (mut head, body) = get_error_page(
        StatusCode::RANGE_NOT_SATISFIABLE,
        &format!("The range {range} is not within the {len} bytes of {}.", request.path),
    );
    head.headers.insert(CONTENT_RANGE, digits_value(format!("bytes */{len}")));
    Answer::Page(head, body)
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::minimal::testing::request;

    #[test]
    fn permission_errors_are_403_and_other_failures_404_or_500() {
        // (`path.rs` tests a 403 from a real unreadable file, as `nobody` when the suite runs as root.)
        let request = request(Method::GET, "/f", &[]);
        let status = |answer: Answer| match answer {
            Answer::Page(head, _) => head.status,
            Answer::File { .. } => panic!("a file"),
        };
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let missing = io::Error::from(io::ErrorKind::NotFound);
        let other = io::Error::other("disk on fire");
        assert_eq!(status(lookup_failed(&request, Path::new("f"), &denied)), StatusCode::FORBIDDEN);
        assert_eq!(status(lookup_failed(&request, Path::new("f"), &other)), StatusCode::NOT_FOUND);
        assert_eq!(status(io_failed(&request, &denied)), StatusCode::FORBIDDEN);
        assert_eq!(status(io_failed(&request, &missing)), StatusCode::NOT_FOUND);
        assert_eq!(status(io_failed(&request, &other)), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
