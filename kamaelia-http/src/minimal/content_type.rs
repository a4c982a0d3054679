//! The `Content-Type` of a file that [`Minimal`](crate::Minimal) serves, from its name's extension.

use std::path::Path;
use std::sync::{Mutex, TryLockError};

use http::HeaderValue;

/// The longest extension a [`TypeCache`] remembers.
const KEPT: usize = 15;

/// The last extension looked up for one site, and its type, shared by the handlers of a
/// [`MinimalFactory`](crate::MinimalFactory): a site serves runs of the same type (its pages,
/// its images), and a lookup in the table costs more than the rest of the head.
#[derive(Debug)]
pub(super) struct TypeCache {
    /// The extension's bytes, how many there are (`usize::MAX`: none yet), and its type.
    last: Mutex<([u8; KEPT], usize, HeaderValue)>,
}

impl Default for TypeCache {
    fn default() -> Self {
        TypeCache { last: Mutex::new(([0; KEPT], usize::MAX, HeaderValue::from_static(""))) }
    }
}

impl TypeCache {
    /// The type of `ext` (at most [`KEPT`] bytes): the last one if it is the same extension, else
    /// looked up and kept. It never waits: while another handler holds the cache, the type is
    /// looked up without it.
    fn type_of(&self, ext: &[u8]) -> HeaderValue {
        let mut last = match self.last.try_lock() {
            Ok(last) => last,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return type_of_extension(ext),
        };
        if last.1 != ext.len() || last.0[..ext.len()] != *ext {
            last.0[..ext.len()].copy_from_slice(ext);
            last.1 = ext.len();
            last.2 = type_of_extension(ext);
        }
        last.2.clone()
    }
}

/// The `Content-Type` for `path`, from its extension (through `cache`, if given); UTF-8 for
/// text, JavaScript and JSON.
pub(super) fn content_type(path: &Path, cache: Option<&TypeCache>) -> HeaderValue {
    let Some(ext) = path.extension() else { return OCTET_STREAM };
    let ext = ext.as_encoded_bytes();
    match cache {
        Some(cache) if ext.len() <= KEPT => cache.type_of(ext),
        _ => type_of_extension(ext),
    }
}

/// `application/octet-stream`, for files of unknown type.
const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

/// The `Content-Type` for a file name extension (see [`content_type`]).
fn type_of_extension(ext: &[u8]) -> HeaderValue {
    let Ok(ext) = std::str::from_utf8(ext) else { return OCTET_STREAM };
    // The table's own `&'static str`: no `Mime` parsed, and nothing allocated for most types.
    let Some(essence) = mime_guess::from_ext(ext).first_raw() else { return OCTET_STREAM };
    if !essence.bytes().all(|b| b.is_ascii_graphic()) {
        return OCTET_STREAM;
    }
    let text = essence.starts_with("text/") || matches!(essence, "application/javascript" | "application/json");
    match essence {
        _ if !text => HeaderValue::from_static(essence),
        "text/html" => HeaderValue::from_static("text/html; charset=utf-8"),
        "text/css" => HeaderValue::from_static("text/css; charset=utf-8"),
        "text/plain" => HeaderValue::from_static("text/plain; charset=utf-8"),
        "application/javascript" => HeaderValue::from_static("application/javascript; charset=utf-8"),
        "application/json" => HeaderValue::from_static("application/json; charset=utf-8"),
        _ => HeaderValue::from_str(&format!("{essence}; charset=utf-8")).unwrap_or(OCTET_STREAM),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minimal::testing::{get, site};

    #[test]
    fn content_types_come_from_the_extension_with_utf8_for_text_and_json_only() {
        let (_tmp, root) = site();
        assert_eq!(get(&root, "/page.html").header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(get(&root, "/data.json").header("content-type"), Some("application/json; charset=utf-8"));
        assert_eq!(get(&root, "/blob.unknownext").header("content-type"), Some("application/octet-stream"));
        assert_eq!(content_type(Path::new("a.PNG"), None), "image/png");
    }

    #[test]
    fn content_types_of_common_extensions_and_case() {
        let cache = TypeCache::default();
        let of = |name: &str| content_type(Path::new(name), Some(&cache));
        assert_eq!(of("a.css"), "text/css; charset=utf-8");
        assert_eq!(of("a.TXT"), "text/plain; charset=utf-8");
        assert_eq!(of("a.md"), "text/markdown; charset=utf-8");
        assert!(of("a.js").to_str().unwrap().ends_with("javascript; charset=utf-8"));
        assert_eq!(of("a.svg"), "image/svg+xml");
        assert_eq!(of("a.PNG"), "image/png");
        assert_eq!(of("noextension"), "application/octet-stream");
        // The type remembered for the last extension is only ever that extension's.
        for name in ["a.css", "b.css", "c.PNG", "d.png", "e.css", ".css", "f.averyveryverylongextension", "g.css"] {
            let expected = match name {
                "a.css" | "b.css" | "e.css" | "g.css" => "text/css; charset=utf-8",
                "c.PNG" | "d.png" => "image/png",
                _ => "application/octet-stream",
            };
            assert_eq!(of(name), expected, "{name}");
        }
    }
}
