//! What the log says about a request: its request line, kept from the request (which goes to
//! the handler), and the access log line written after its response.

use std::net::SocketAddr;

use http::{Method, StatusCode, Version};

use crate::request::{version_number, Request};

/// The log's target for access lines (one per request, at info level).
const ACCESS: &str = "kamaelia_http::access";

/// The request line of the request being answered, and who sent it: what the warnings and the
/// access line name, and what the framing depends on (the method and the version).
pub(super) struct RequestLine {
    pub(super) method: Method,
    pub(super) version: Version,
    pub(super) target: LogTarget,
    pub(super) peer: Option<SocketAddr>,
}

impl RequestLine {
    #[inline]
    pub(super) fn of(request: &Request) -> Self {
        RequestLine {
            method: request.method.clone(),
            version: request.version,
            target: LogTarget::new(&request.raw_uri),
            peer: request.peer,
        }
    }

    /// Writes the access line for a response with `status` and `sent` body bytes.
    pub(super) fn access_log(&self, status: StatusCode, sent: u64) {
        // Nothing is formatted unless the line is wanted (the peer's address is slow to format).
        if !log::log_enabled!(target: ACCESS, log::Level::Info) {
            return;
        }
        let peer = self.peer.map_or_else(|| "-".to_owned(), |p| p.to_string());
        log::info!(
            target: ACCESS,
            "{peer} \"{} {} HTTP/{}\" {} {sent}",
            self.method,
            self.target,
            version_number(self.version),
            status.as_u16(),
        );
    }
}

/// The request target as the log shows it (the request itself goes to the handler): copied into
/// the exchange when short, as nearly all are, so that keeping it costs no allocation a request.
pub(super) enum LogTarget {
    Short { len: u8, bytes: [u8; LogTarget::INLINE] },
    Long(Box<str>),
}

impl LogTarget {
    /// The longest target kept inline.
    const INLINE: usize = 62;

    fn new(target: &str) -> Self {
        let target = if target.is_empty() { "-" } else { target };
        match u8::try_from(target.len()) {
            Ok(len) if target.len() <= Self::INLINE => {
                let mut bytes = [0; Self::INLINE];
                bytes[..target.len()].copy_from_slice(target.as_bytes());
                LogTarget::Short { len, bytes }
            }
            _ => LogTarget::Long(target.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // All of a `str`'s bytes are a `str`: this cannot fail.
            LogTarget::Short { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or("-"),
            LogTarget::Long(target) => target,
        }
    }
}

impl std::fmt::Display for LogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::LogTarget;

    #[test]
    fn the_log_target_is_the_request_target_whatever_its_length() {
        assert_eq!(LogTarget::new("").to_string(), "-");
        assert_eq!(LogTarget::new("/hello").to_string(), "/hello");
        let longest_inline = "/".repeat(LogTarget::INLINE);
        assert!(matches!(LogTarget::new(&longest_inline), LogTarget::Short { .. }));
        assert_eq!(LogTarget::new(&longest_inline).to_string(), longest_inline);
        let long = format!("/{}", "é".repeat(100));
        assert!(matches!(LogTarget::new(&long), LogTarget::Long(_)));
        assert_eq!(LogTarget::new(&long).to_string(), long);
        // Multi-byte characters up to the inline limit stay whole.
        let accents = "é".repeat(LogTarget::INLINE / 2);
        assert_eq!(LogTarget::new(&accents).to_string(), accents);
    }
}
