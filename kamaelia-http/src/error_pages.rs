//! [`ErrorPages`]: status pages (Kamaelia's `Kamaelia.Protocol.HTTP.ErrorPages`).
//!
//! `ErrorPages::website_error_page(status, message)` is the handler the cookbook's router returns
//! for a bad request (400) or an unmatched URL (404); [`get_error_page`] gives the head and body
//! for handlers that answer with an error themselves.
//!
//! # Example
//!
//! The page a router answers an unknown URL with (driven by hand, as a test would):
//!
//! ```
//! use axon_core::{Handle, Scheduler};
//! use kamaelia_http::{ErrorPages, Resource, StatusCode};
//!
//! let scheduler = Scheduler::new();
//! let handler = ErrorPages::website_error_page(StatusCode::NOT_FOUND, "No <such> page.");
//! let mut page = Handle::new(handler, &scheduler);
//! let Some(Resource::Head(head)) = page.recv_blocking() else { panic!("a head") };
//! assert_eq!(head.status, StatusCode::NOT_FOUND);
//! assert_eq!(head.headers["content-type"], "text/html; charset=utf-8");
//! let Some(Resource::Data(body)) = page.recv_blocking() else { panic!("a body") };
//! assert!(String::from_utf8_lossy(&body).contains("<p>No &lt;such&gt; page.</p>"));
//! assert_eq!(page.recv_blocking(), None); // and it has ended
//! ```
//!
//! # How it works
//!
//! [`get_error_page`] makes the page: Kamaelia's look (white on black, the status as title and
//! heading), the message HTML-escaped in a paragraph, and a head with the status,
//! `Content-Type` and `Content-Length`. The [`ErrorPages`] component sends that head and body at
//! once, whatever arrives on its boxes, then `ProducerFinished`, and ends; a 405 adds the
//! `Allow` field it was made with.
//!
//! # Porting from Kamaelia
//!
//! Differences from Kamaelia, on purpose: every status gets a page (Kamaelia's had bodies for
//! five codes only, and one of them returned its status as an integer where the others used
//! strings; here the status is a [`StatusCode`]); the message is HTML-escaped, so text reflected
//! from a request cannot inject markup; the page is sent with `Content-Type` and `Content-Length`.
//! Kamaelia's cookbook called `ErrorPages.websiteErrorPage`, which its `ErrorPages` module never
//! defined (the server crashed); here it exists.

use axon_core::ipc::ProducerFinished;
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations};
use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, StatusCode};

use crate::resource::{Resource, ResponseHead};

/// The `Content-Type` of every error page.
pub const ERROR_PAGE_TYPE: &str = "text/html; charset=utf-8";

/// Escapes `text` for HTML element content (`& < >`): what a page shows as text. Quotes are
/// left alone, so text reads as it was; use [`escape_html`] inside attribute values.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `text` for HTML element content and attribute values (`& < > " '`).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The reason phrase sent after `status` on the status line: RFC 9110's (`413 Content Too Large`,
/// `422 Unprocessable Content`) where it renamed one, else the `http` crate's; empty for codes
/// without one (the status line then ends `HTTP/1.1 599 `, with the space RFC 9112 §4 requires).
pub fn reason_phrase(status: StatusCode) -> &'static str {
    match status.as_u16() {
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        _ => status.canonical_reason().unwrap_or(""),
    }
}

/// The page for `status` explaining `message` (Kamaelia's `getErrorPage(code, msg)`): its head
/// (status, `Content-Type`, length) and body. The page's look is Kamaelia's: white on black,
/// the status as the title and heading, the message, HTML-escaped, in a paragraph.
pub fn get_error_page(status: StatusCode, message: &str) -> (ResponseHead, Bytes) {
    let title = match reason_phrase(status) {
        "" => status.as_u16().to_string(),
        reason => format!("{} {reason}", status.as_u16()),
    };
    let body = format!(
        "<html>\n<title>{title}</title>\n<body style='background-color: black; color: white;'>\n<h2>{title}</h2>\n<p>{}</p></body>\n</html>\n\n",
        escape_html(message)
    );
    let head = ResponseHead::new(status)
        .header(CONTENT_TYPE, HeaderValue::from_static(ERROR_PAGE_TYPE))
        .length(body.len() as u64);
    (head, Bytes::from(body))
}

/// A handler that answers with a status page, then finishes (Kamaelia's `ErrorPageHandler`, a
/// `OneShot` of `getErrorPage`): see the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries    | what arrives                      |
/// |-----------|------------|-----------------------------------|
/// | `inbox`   | `Bytes`    | The request body: ignored         |
/// | `control` | `Ipc`      | Ignored: the page is sent at once |
///
/// # Outboxes
///
/// | box      | carries    | what leaves                       |
/// |----------|------------|-----------------------------------|
/// | `outbox` | `Resource` | The page: its head, then its body |
/// | `signal` | `Ipc`      | `ProducerFinished` after the page |
///
/// # Shutdown
///
/// It ends as soon as the page is sent: there is nothing to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPages {
    /// The status to answer with.
    pub status: StatusCode,
    /// The explanation shown on the page (plain text; escaped when shown).
    pub message: String,
    /// Methods to list in an `Allow` field (for a 405), empty otherwise.
    pub allow: Vec<Method>,
}

impl ErrorPages {
    /// The handler answering `status` with `message` (the cookbook's
    /// `ErrorPages.websiteErrorPage(code, msg)`).
    pub fn website_error_page(status: StatusCode, message: impl Into<String>) -> Self {
        ErrorPages { status, message: message.into(), allow: Vec::new() }
    }

    /// A 405 Method Not Allowed for `method`, listing the methods `allow`ed (RFC 9110 §15.5.6
    /// requires the `Allow` field).
    pub fn method_not_allowed(method: &Method, allow: &[Method]) -> Self {
        ErrorPages {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: format!("The method {method} is not allowed here."),
            allow: allow.to_vec(),
        }
    }

    /// A 501 Not Implemented for an unknown `method`.
    pub fn not_implemented(method: &Method) -> Self {
        ErrorPages::website_error_page(
            StatusCode::NOT_IMPLEMENTED,
            format!("The method {method} is not implemented by this server."),
        )
    }

    /// The page's head and body, as sent.
    pub fn page(&self) -> (ResponseHead, Bytes) {
        let (mut head, body) = get_error_page(self.status, &self.message);
        if !self.allow.is_empty() {
            let list = self.allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
            if let Ok(value) = HeaderValue::from_str(&list) {
                head.headers.insert(http::header::ALLOW, value);
            }
        }
        (head, body)
    }
}

impl Component for ErrorPages {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "The request body: ignored")
            .describe(BoxKind::Inbox, "control", "Ignored: the page is sent at once")
            .describe(BoxKind::Outbox, "outbox", "The page: its head, then its body")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished after the page");
    }

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let (head, body) = self.page();
        ctx.outbox.send(Resource::Head(head)).await;
        ctx.outbox.send(Resource::Data(body)).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reflected_message_cannot_inject_markup() {
        let (_, body) = get_error_page(StatusCode::NOT_FOUND, "<script>alert('x')</script>");
        let body = std::str::from_utf8(&body).unwrap();
        assert!(body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "{body}");
        assert!(!body.contains("<script>"));
    }

    #[test]
    fn the_page_keeps_kamaelias_look_and_states_its_length() {
        let (head, body) = get_error_page(StatusCode::NOT_FOUND, "");
        let expected = "<html>\n<title>404 Not Found</title>\n<body style='background-color: black; color: white;'>\n<h2>404 Not Found</h2>\n<p></p></body>\n</html>\n\n";
        assert_eq!(body, expected.as_bytes());
        assert_eq!(head.length, Some(expected.len() as u64));
        assert_eq!(head.headers[CONTENT_TYPE], ERROR_PAGE_TYPE);
    }

    #[test]
    fn a_405_lists_the_allowed_methods() {
        let (head, _) = ErrorPages::method_not_allowed(&Method::POST, &[Method::GET, Method::HEAD]).page();
        assert_eq!(head.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(head.headers[http::header::ALLOW], "GET, HEAD");
    }
}
