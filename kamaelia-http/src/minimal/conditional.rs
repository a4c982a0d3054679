//! Validators and conditional requests (RFC 9110 §8.8, §13): the `ETag` and `Last-Modified` of a
//! file, and whether `If-Match`, `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since` or
//! `If-Range` match them.

use std::fs::Metadata;
use std::sync::{Mutex, TryLockError};
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{HeaderValue, ETAG, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE, LAST_MODIFIED};
use http::HeaderMap;

use super::value::short_value;
use crate::resource::ResponseHead;

/// The validators of a file.
pub(super) struct Validators {
    /// The modification time, if the platform gives one and it is after 1970.
    modified: Option<SystemTime>,
    /// The strong entity tag, quotes included.
    etag: Option<HeaderValue>,
    /// `Last-Modified`'s value.
    last_modified: Option<HeaderValue>,
}

/// What a file's validators are made from: its modification time (seconds and nanoseconds since
/// 1970) and its length.
type ValidatorKey = (u64, u32, u64);

/// Validators made, with what they were made from: `(key, ETag, Last-Modified)`.
type KeptValidators = (ValidatorKey, Option<HeaderValue>, Option<HeaderValue>);

/// The validators last made for one site, shared by the handlers of a
/// [`MinimalFactory`](crate::MinimalFactory): a site serves the same files again and again, and
/// formatting the two values costs more than the rest of the head. Both are made from the key
/// alone, so a file with the same key has the same values.
#[derive(Debug, Default)]
pub(super) struct ValidatorCache {
    last: Mutex<Option<KeptValidators>>,
}

impl ValidatorCache {
    /// The values for `key` (made at `time`): the last ones if they were made from the same key,
    /// else made now and kept. It never waits: while another handler holds the cache, the values
    /// are made without it.
    fn values(&self, key: ValidatorKey, time: SystemTime) -> (Option<HeaderValue>, Option<HeaderValue>) {
        let mut last = match self.last.try_lock() {
            Ok(last) => last,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return make_values(key, time),
        };
        if let Some((kept, etag, last_modified)) = last.as_ref() {
            if *kept == key {
                return (etag.clone(), last_modified.clone());
            }
        }
        let (etag, last_modified) = make_values(key, time);
        *last = Some((key, etag.clone(), last_modified.clone()));
        (etag, last_modified)
    }
}

/// `ETag` and `Last-Modified` for a file with `key`, modified at `time`.
fn make_values(key: ValidatorKey, time: SystemTime) -> (Option<HeaderValue>, Option<HeaderValue>) {
    let etag = short_value(format_args!("\"{:x}-{:x}-{:x}\"", key.0, key.1, key.2));
    let last_modified = short_value(format_args!("{}", httpdate::HttpDate::from(time)));
    (etag, last_modified)
}

impl Validators {
    /// The validators of the file `meta` describes, from `cache` if it has them.
    pub(super) fn of(meta: &Metadata, cache: Option<&ValidatorCache>) -> Self {
        let modified = meta.modified().ok().filter(|t| t.duration_since(UNIX_EPOCH).is_ok());
        let Some((time, since)) = modified.and_then(|t| Some((t, t.duration_since(UNIX_EPOCH).ok()?))) else {
            return Validators { modified: None, etag: None, last_modified: None };
        };
        let key: ValidatorKey = (since.as_secs(), since.subsec_nanos(), meta.len());
        let (etag, last_modified) = match cache {
            Some(cache) => cache.values(key, time),
            None => make_values(key, time),
        };
        Validators { modified, etag, last_modified }
    }

    /// The validators of a resource with an entity tag and no modification time (an embedded
    /// file: see [`EmbeddedFiles`](crate::EmbeddedFiles)).
    pub(super) fn tag_only(etag: HeaderValue) -> Self {
        Validators { modified: None, etag: Some(etag), last_modified: None }
    }

    /// The modification time in whole seconds since 1970, as `Last-Modified` shows it.
    pub(super) fn modified_secs(&self) -> Option<u64> {
        self.modified.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs())
    }

    /// The entity tag's bytes (with its quotes).
    pub(super) fn etag(&self) -> Option<&[u8]> {
        self.etag.as_ref().map(HeaderValue::as_bytes)
    }

    /// Adds `ETag` and `Last-Modified` to `head` (shared values, not copies).
    pub(super) fn add_to(self, mut head: ResponseHead) -> ResponseHead {
        if let Some(value) = self.etag {
            head = head.header(ETAG, value);
        }
        if let Some(value) = self.last_modified {
            head = head.header(LAST_MODIFIED, value);
        }
        head
    }
}

/// Whether the request's preconditions fail, making this a 412 Precondition Failed (RFC 9110
/// §13.2.2, steps 1 and 2, evaluated before the others): `If-Match` lists no tag that matches
/// the file's by strong comparison (`*` matches any file), or, without `If-Match`,
/// `If-Unmodified-Since` is a date before the file's modification time. A date that does not
/// parse, or a file with no modification time, leaves `If-Unmodified-Since` unevaluated
/// (§13.1.4).
pub(super) fn precondition_failed(headers: &HeaderMap, validators: &Validators) -> bool {
    let mut if_match = headers.get_all(IF_MATCH).iter().peekable();
    if if_match.peek().is_some() {
        let matches = if_match.any(|value| {
            entity_tags(value.as_bytes()).iter().any(|tag| match tag {
                EntityTag::Any => true,
                EntityTag::Tag { weak, opaque } => !weak && validators.etag().is_some_and(|ours| ours == *opaque),
            })
        });
        return !matches;
    }
    let Some(since) = headers.get(IF_UNMODIFIED_SINCE) else { return false };
    let since = since.to_str().ok().and_then(|v| httpdate::parse_http_date(v).ok());
    match (since.and_then(|t| t.duration_since(UNIX_EPOCH).ok()), validators.modified_secs()) {
        (Some(since), Some(modified)) => modified > since.as_secs(),
        _ => false,
    }
}

/// Whether the request's preconditions make this a 304 (RFC 9110 §13.2.2, steps 3 and 4, for
/// `GET` and `HEAD`).
pub(super) fn not_modified(headers: &HeaderMap, validators: &Validators) -> bool {
    let mut if_none_match = headers.get_all(IF_NONE_MATCH).iter().peekable();
    if if_none_match.peek().is_some() {
        return if_none_match.any(|value| {
            entity_tags(value.as_bytes()).iter().any(|tag| match tag {
                EntityTag::Any => true,
                EntityTag::Tag { opaque, .. } => validators.etag().is_some_and(|ours| ours == *opaque),
            })
        });
    }
    let since =
        headers.get(IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()).and_then(|v| httpdate::parse_http_date(v).ok());
    match (since.and_then(|t| t.duration_since(UNIX_EPOCH).ok()), validators.modified_secs()) {
        (Some(since), Some(modified)) => modified <= since.as_secs(),
        _ => false,
    }
}

/// Whether an `If-Range` value matches the file (RFC 9110 §13.1.5): an entity tag by strong
/// comparison, or a date equal to `Last-Modified`.
pub(super) fn if_range_matches(value: &[u8], validators: &Validators) -> bool {
    let value = value.trim_ascii();
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return match entity_tags(value).as_slice() {
            [EntityTag::Tag { weak: false, opaque }] => validators.etag().is_some_and(|ours| ours == *opaque),
            _ => false,
        };
    }
    let date = std::str::from_utf8(value).ok().and_then(|v| httpdate::parse_http_date(v).ok());
    match (date.and_then(|t| t.duration_since(UNIX_EPOCH).ok()), validators.modified_secs()) {
        (Some(date), Some(modified)) => date.as_secs() == modified,
        _ => false,
    }
}

/// One member of an entity-tag list.
#[derive(Debug, PartialEq, Eq)]
enum EntityTag<'a> {
    /// `*`.
    Any,
    /// A tag: `opaque` includes its quotes.
    Tag { weak: bool, opaque: &'a [u8] },
}

/// Parses `#entity-tag` or `*` (RFC 9110 §8.8.3). Stops at the first member that does not parse,
/// keeping those before it (a tag can contain `,`, so the list is read tag by tag, not split).
fn entity_tags(mut list: &[u8]) -> Vec<EntityTag<'_>> {
    let mut tags = Vec::new();
    loop {
        list = list.trim_ascii_start();
        while let Some(rest) = list.strip_prefix(b",") {
            list = rest.trim_ascii_start();
        }
        if list.is_empty() {
            return tags;
        }
        if let Some(rest) = list.strip_prefix(b"*") {
            tags.push(EntityTag::Any);
            list = rest;
            continue;
        }
        let (weak, rest) = match list.strip_prefix(b"W/") {
            Some(rest) => (true, rest),
            None => (false, list),
        };
        let Some(after_quote) = rest.strip_prefix(b"\"") else { return tags };
        let Some(end) = after_quote.iter().position(|&b| b == b'"') else { return tags };
        tags.push(EntityTag::Tag { weak, opaque: &rest[..end + 2] });
        list = &after_quote[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;
    use std::time::Duration;

    use http::StatusCode;

    use super::*;
    use crate::minimal::testing::{get_with, hello_etag, mtime, site, HELLO};

    #[test]
    fn validators_are_made_from_the_time_and_length_and_kept_only_for_those() {
        let tmp = tempfile::tempdir().unwrap();
        let [a, b] = ["a.txt", "b.txt"].map(|name| tmp.path().join(name));
        fs::write(&a, "one").unwrap();
        fs::write(&b, "four").unwrap();
        for path in [&a, &b] {
            fs::File::options().write(true).open(path).unwrap().set_modified(mtime()).unwrap();
        }
        let text = |v: &Option<HeaderValue>| v.as_ref().map(|v| v.to_str().unwrap().to_owned());
        let cache = ValidatorCache::default();
        let of = |path: &Path| Validators::of(&fs::metadata(path).unwrap(), Some(&cache));
        let first = of(&a);
        assert_eq!(text(&first.etag).as_deref(), Some("\"6553f100-1dcd6500-3\""));
        assert_eq!(text(&first.last_modified).as_deref(), Some("Tue, 14 Nov 2023 22:13:20 GMT"));
        // The same file again: the same values (kept in the cache, and shared).
        let again = of(&a);
        assert_eq!((text(&again.etag), text(&again.last_modified)), (text(&first.etag), text(&first.last_modified)));
        // Another length, the same time: another tag, the same date.
        let other = of(&b);
        assert_eq!(text(&other.etag).as_deref(), Some("\"6553f100-1dcd6500-4\""));
        assert_eq!(text(&other.last_modified), text(&first.last_modified));
        // The first file changed (another second): both values follow.
        fs::File::options().write(true).open(&a).unwrap().set_modified(mtime() + Duration::from_secs(86_400)).unwrap();
        let changed = of(&a);
        assert_eq!(text(&changed.etag).as_deref(), Some("\"65554280-1dcd6500-3\""));
        assert_eq!(text(&changed.last_modified).as_deref(), Some("Wed, 15 Nov 2023 22:13:20 GMT"));
    }

    #[test]
    fn if_none_match_with_the_etag_is_304_with_validators_and_no_body() {
        let (_tmp, root) = site();
        let seen = get_with(&root, "/hello.txt", &[("if-none-match", &hello_etag())]);
        assert_eq!(seen.head.status, StatusCode::NOT_MODIFIED);
        assert_eq!(seen.header("etag"), Some(hello_etag().as_str()));
        assert!(seen.header("last-modified").is_some());
        assert_eq!(seen.head.length, None);
        assert_eq!(seen.header("content-type"), None);
        assert!(seen.data.is_empty());
        assert!(seen.finished);
    }

    #[test]
    fn if_none_match_star_weak_and_lists_match_but_another_tag_does_not() {
        let (_tmp, root) = site();
        let etag = hello_etag();
        for value in ["*".to_owned(), format!("W/{etag}"), format!("\"a,b\", {etag}"), format!("\"x\",W/{etag}")] {
            assert_eq!(
                get_with(&root, "/hello.txt", &[("if-none-match", &value)]).head.status,
                StatusCode::NOT_MODIFIED,
                "{value}"
            );
        }
        for value in ["\"other\"", "W/\"other\"", "garbage", ""] {
            let seen = get_with(&root, "/hello.txt", &[("if-none-match", value)]);
            assert_eq!(seen.head.status, StatusCode::OK, "{value}");
            assert_eq!(seen.body(), HELLO.as_bytes());
        }
    }

    #[test]
    fn if_modified_since_at_or_after_the_mtime_is_304_and_before_it_200() {
        let (_tmp, root) = site();
        let at = "Tue, 14 Nov 2023 22:13:20 GMT";
        let before = "Tue, 14 Nov 2023 22:13:19 GMT";
        assert_eq!(get_with(&root, "/hello.txt", &[("if-modified-since", at)]).head.status, StatusCode::NOT_MODIFIED);
        assert_eq!(get_with(&root, "/hello.txt", &[("if-modified-since", before)]).head.status, StatusCode::OK);
        assert_eq!(get_with(&root, "/hello.txt", &[("if-modified-since", "yesterday")]).head.status, StatusCode::OK);
    }

    #[test]
    fn if_none_match_takes_precedence_over_if_modified_since() {
        let (_tmp, root) = site();
        let headers = [("if-none-match", "\"other\""), ("if-modified-since", "Tue, 14 Nov 2023 22:13:20 GMT")];
        assert_eq!(get_with(&root, "/hello.txt", &headers).head.status, StatusCode::OK);
    }

    #[test]
    fn if_match_and_if_unmodified_since_that_fail_are_412_before_anything_else() {
        let (_tmp, root) = site();
        let etag = hello_etag();
        let status = |headers: &[(&'static str, &str)]| get_with(&root, "/hello.txt", headers).head.status;
        // If-Match: the tag (strong), `*`, or a list holding it pass; another tag, or the tag
        // weak, fail.
        for pass in [etag.clone(), "*".to_owned(), format!("\"x\", {etag}")] {
            assert_eq!(status(&[("if-match", &pass)]), StatusCode::OK, "{pass}");
        }
        for fail in ["\"other\"".to_owned(), format!("W/{etag}"), "".to_owned()] {
            assert_eq!(status(&[("if-match", &fail)]), StatusCode::PRECONDITION_FAILED, "{fail}");
        }
        // If-Unmodified-Since: at or after the mtime passes, before it fails; not a date: ignored.
        assert_eq!(status(&[("if-unmodified-since", "Tue, 14 Nov 2023 22:13:20 GMT")]), StatusCode::OK);
        let before = "Tue, 14 Nov 2023 22:13:19 GMT";
        assert_eq!(status(&[("if-unmodified-since", before)]), StatusCode::PRECONDITION_FAILED);
        assert_eq!(status(&[("if-unmodified-since", "soon")]), StatusCode::OK);
        // If-Match is evaluated instead of If-Unmodified-Since when both are sent (step 2).
        assert_eq!(status(&[("if-match", &etag), ("if-unmodified-since", before)]), StatusCode::OK);
        // Steps 1 and 2 come before 3: a failing If-Match is 412 even if If-None-Match would 304.
        assert_eq!(status(&[("if-match", "\"other\""), ("if-none-match", &etag)]), StatusCode::PRECONDITION_FAILED);
        // A range request is held to them too: 412, not 206.
        assert_eq!(status(&[("if-match", "\"other\""), ("range", "bytes=0-1")]), StatusCode::PRECONDITION_FAILED);
        assert_eq!(status(&[("if-match", &etag), ("range", "bytes=0-1")]), StatusCode::PARTIAL_CONTENT);
        // A failing If-Range sends the whole file (RFC 9110 §13.1.5), not a 412.
        assert_eq!(status(&[("if-range", "\"other\""), ("range", "bytes=0-1")]), StatusCode::OK);
    }

    #[test]
    fn entity_tag_lists_are_read_tag_by_tag() {
        assert_eq!(
            entity_tags(b" \"a,b\" , W/\"c\",*"),
            vec![
                EntityTag::Tag { weak: false, opaque: b"\"a,b\"" },
                EntityTag::Tag { weak: true, opaque: b"\"c\"" },
                EntityTag::Any
            ]
        );
        assert_eq!(entity_tags(b"\"unterminated"), vec![]);
    }
}
