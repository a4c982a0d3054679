//! Header values that [`Minimal`](crate::Minimal) formats itself: validators, `Content-Range`.

use bytes::Bytes;
use http::HeaderValue;

/// A text of up to 64 bytes, formatted on the stack.
struct ShortText {
    buf: [u8; 64],
    len: usize,
}

impl std::fmt::Write for ShortText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A header value formatted from `args` (64 bytes at most) with one allocation, its own size.
pub(super) fn short_value(args: std::fmt::Arguments<'_>) -> Option<HeaderValue> {
    let mut text = ShortText { buf: [0; 64], len: 0 };
    std::fmt::write(&mut text, args).ok()?;
    HeaderValue::from_maybe_shared(Bytes::copy_from_slice(&text.buf[..text.len])).ok()
}

/// A header value made of digits, spaces and ASCII punctuation that we formatted ourselves.
pub(super) fn digits_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).expect("formatted numbers are a valid header value")
}
