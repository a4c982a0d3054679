//! What the differential test (`tests/hyper_differential.rs`) and the differential fuzz target
//! (`fuzz/fuzz_targets/differential.rs`, which includes this file by path) share: how an answer
//! is read ([`Reply`], [`replies`]), where hyper and we may part ([`OUR_REFUSALS`],
//! [`TheirRefusal`]), the comparison ([`compare`]), and hyper's side: its service
//! ([`hyper_digest`]) and a hyper connection over an in-memory pipe ([`hyper_in_memory`]), which
//! uses hyper's public API only. A crate that includes this module includes `tests/parsing/` too
//! (as `mod parsing`), which drives our parser.
#![allow(dead_code)]

use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kamaelia_http::{Bytes, Parsed, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A 64-bit FNV-1a hash: enough to tell two bodies apart in a test.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// What both servers answer a request with, in the `x-body` field: `<length> <hash>` of the body.
pub fn digest(body: &[u8]) -> String {
    format!("{} {:016x}", body.len(), fnv1a(body))
}

/// Lower-case hex of `bytes`: any bytes as a field value.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2).filter_map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

/// What our server read of a request, which the exceptions look at: the method, the target,
/// the `Content-Length` and `Transfer-Encoding` values (each joined with `,`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seen {
    pub method: Vec<u8>,
    pub target: Vec<u8>,
    pub content_length: Vec<u8>,
    pub transfer_encoding: Vec<u8>,
}

impl Seen {
    pub fn of(request: &Request) -> Seen {
        let joined =
            |name| request.headers.get_all(name).iter().map(|v| v.as_bytes()).collect::<Vec<_>>().join(&b","[..]);
        Seen {
            method: request.method.as_str().as_bytes().to_vec(),
            target: request.raw_uri.as_bytes().to_vec(),
            content_length: joined(http::header::CONTENT_LENGTH),
            transfer_encoding: joined(http::header::TRANSFER_ENCODING),
        }
    }

    /// As the `x-request` field carries it: the four, hex, separated by spaces.
    pub fn to_field(&self) -> String {
        [&self.method, &self.target, &self.content_length, &self.transfer_encoding].map(|b| hex(b)).join(" ")
    }

    pub fn from_field(field: &str) -> Seen {
        let mut parts = field.split(' ').map(unhex);
        let mut next = || parts.next().unwrap_or_default();
        Seen { method: next(), target: next(), content_length: next(), transfer_encoding: next() }
    }
}

/// hyper's service: the same answer. A body that cannot be read is an error, on which hyper
/// closes the connection without a response.
pub async fn hyper_digest(request: hyper::Request<Incoming>) -> Result<hyper::Response<Empty<Bytes>>, hyper::Error> {
    let body = request.into_body().collect().await?.to_bytes();
    let mut response = hyper::Response::new(Empty::new());
    response.headers_mut().insert("x-body", http::HeaderValue::from_str(&digest(&body)).expect("a header value"));
    Ok(response)
}

/// A server's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// 200 with the body's digest, and what our server read of the request (hyper's answer
    /// says nothing of it).
    Accepted(String, Option<Seen>),
    /// Anything else, with its body (our error pages give the reason there).
    Refused(u16, String),
}

/// The replies in `received`, up to the first refusal (the connection closes after it) or the
/// end; interim 1xx responses are skipped.
pub fn replies(received: &[u8]) -> Vec<Reply> {
    let mut replies = Vec::new();
    let mut rest = received;
    loop {
        let mut fields = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut fields);
        let Ok(httparse::Status::Complete(head)) = response.parse(rest) else { return replies };
        let status = response.code.unwrap_or_default();
        let field =
            |name: &str| response.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.to_vec());
        let length = field("content-length").and_then(|v| String::from_utf8(v).ok()?.parse::<usize>().ok());
        let digest = field("x-body").map(|v| String::from_utf8_lossy(&v).into_owned());
        let seen = field("x-request").map(|v| Seen::from_field(&String::from_utf8_lossy(&v)));
        rest = &rest[head..];
        if (100..200).contains(&status) {
            continue;
        }
        match (status, digest) {
            (200, Some(digest)) => {
                replies.push(Reply::Accepted(digest, seen));
                rest = &rest[length.unwrap_or(0).min(rest.len())..];
            }
            _ => {
                let body = &rest[..length.unwrap_or(rest.len()).min(rest.len())];
                replies.push(Reply::Refused(status, String::from_utf8_lossy(body).into_owned()));
                return replies;
            }
        }
    }
}

pub fn shown(bytes: &[u8]) -> String {
    format!("\"{}\" ({} bytes)", bytes.escape_ascii(), bytes.len())
}

/// A request we refuse and hyper accepts, where the RFCs let (or tell) a server refuse it: our
/// status, a phrase of the reason we give (as our error page shows it), and why.
pub struct OurRefusal {
    pub status: u16,
    pub reason: &'static str,
    pub why: &'static str,
}

/// The requests we may refuse where hyper accepts them. Nothing else we refuse may hyper accept.
pub const OUR_REFUSALS: &[OurRefusal] = &[
    OurRefusal {
        status: 400,
        reason: "Host header required.",
        why: "RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host; hyper does not check",
    },
    OurRefusal {
        status: 400,
        reason: "more than one Host header field",
        why: "RFC 9112 §3.2: a server MUST answer 400 to a request with more than one Host field line",
    },
    OurRefusal {
        status: 400,
        reason: "invalid Host",
        why: "RFC 9112 §3.2: a server MUST answer 400 to a Host field with an invalid value",
    },
    OurRefusal {
        status: 400,
        reason: "in the request target",
        why: "RFC 9112 §3.2.2: the authority of an absolute-form target stands for Host, held to the same rule \
              (a port above 65535 is no port: RFC 9112 §3.2 invalid Host value)",
    },
    OurRefusal {
        status: 400,
        reason: "invalid request target",
        why: "RFC 9112 §3.2: the asterisk form is for OPTIONS only (§3.2.4), the authority form for CONNECT only \
              (§3.2.3), and an origin server serves http and https targets (§3.2.2); RFC 9112 §3: an invalid \
              request-line SHOULD be answered 400",
    },
    OurRefusal {
        status: 400,
        reason: "invalid absolute-form target",
        why: "RFC 9110 §4.2.4: a recipient SHOULD treat userinfo in an http(s) target URI as an error; an empty \
              authority is no http URI (RFC 9110 §4.2.1)",
    },
    OurRefusal {
        status: 417,
        reason: "unsupported expectation",
        why: "RFC 9110 §10.1.1: a server that receives an Expect other than 100-continue MAY answer 417; hyper \
              ignores it",
    },
    OurRefusal {
        status: 501,
        reason: "not supported",
        why: "RFC 9112 §6.1: a server that receives a transfer coding it does not understand SHOULD answer 501; \
              hyper removes the chunked coding and hands the service what is left coded (gzip)",
    },
    OurRefusal {
        status: 400,
        reason: "both Transfer-Encoding and Content-Length",
        why: "RFC 9112 §6.1: a server MAY reject a request that contains both Content-Length and \
              Transfer-Encoding (hyper uses Transfer-Encoding)",
    },
    OurRefusal {
        status: 400,
        reason: "chunked applied more than once",
        why: "RFC 9112 §7: a sender MUST NOT apply chunked more than once; a body whose framing two parsers can \
              read differently is refused, not guessed at (RFC 9112 §11.2); hyper decodes it once",
    },
    OurRefusal {
        status: 400,
        reason: "invalid chunk extension",
        why: "RFC 9112 §7.1.1: chunk-ext = *( BWS \";\" BWS name [ BWS \"=\" BWS value ] ); a chunk line that does \
              not follow it (whitespace after the size, an empty name, a control character) is malformed syntax \
              (RFC 9110 §15.5.1), not an unrecognized extension; hyper skips extensions unread",
    },
    OurRefusal {
        status: 400,
        reason: "(expected 1 to 16 hex digits)",
        why: "a limit: a chunk size of more than 16 hex digits (leading zeros) is refused; RFC 9112 §7.1 asks \
              recipients to guard against large numerals, and parsers that truncate them disagree on framing",
    },
    OurRefusal {
        status: 400,
        reason: "expected CRLF after a trailer field line",
        why: "RFC 9112 §2.2: a recipient MAY take a bare LF for a line end; we do not, as parsers that disagree \
              on line ends disagree on framing (RFC 9112 §11.2); hyper reads trailer lines unchecked, up to a \
              CRLF, even when they are the next request's",
    },
    OurRefusal {
        status: 400,
        reason: "invalid transfer coding",
        why: "RFC 9112 §6.1: transfer-coding = token *( OWS \";\" OWS transfer-parameter ); a value that is \
              not one (a quoted \"chunked\") is malformed (RFC 9110 §15.5.1); hyper looks at the final coding only",
    },
    OurRefusal {
        status: 400,
        reason: "the chunked transfer coding takes no parameters",
        why: "RFC 9112 §7: chunked has no parameters, so `chunked;q=1` before a final chunked is chunked applied \
              twice, or a coding no one knows: framing two parsers may read differently (RFC 9112 §11.2)",
    },
];

/// Whether our refusal `reply`, where hyper accepted the request, is one of [`OUR_REFUSALS`].
pub fn our_refusal_allowed(reply: Option<&Reply>) -> bool {
    let Some(Reply::Refused(status, body)) = reply else { return false };
    OUR_REFUSALS.iter().any(|e| e.status == *status && body.contains(&html_escaped(e.reason)))
}

/// `text` as our error pages show it.
pub fn html_escaped(text: &str) -> String {
    kamaelia_http::error_pages::escape_html(text)
}

/// Why hyper may refuse a request we accept: what RFC 9110 and 9112 allow or ask us to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TheirRefusal {
    /// RFC 9110 §2.5: a recipient SHOULD process a later minor version (HTTP/1.2) as the highest
    /// it implements (1.1); hyper answers 400.
    LaterMinorVersion,
    /// RFC 9112 §3: an invalid request-line SHOULD (not MUST) be answered 400. httparse accepts
    /// every visible ASCII byte but space in a target, and UTF-8; hyper then refuses what
    /// http::Uri does not parse (`<`, `>`, a backquote, `"` in a query...). We serve what
    /// httparse accepts (the path is the handler's to judge), as browsers send `|`, `^` and `{`
    /// raw.
    Target,
    /// RFC 9110 §8.6: a Content-Length list of one value repeated ("3, 3") MAY be read as that
    /// value or refused; hyper refuses it.
    ContentLengthList,
    /// RFC 9110 §5.6.1: a recipient MUST accept (and ignore) empty list elements, as in
    /// `Transfer-Encoding: chunked,`; hyper refuses them.
    EmptyTransferCodings,
}

/// Why hyper may refuse a request we accept, judged on what our server read of the request
/// (`seen`) and the input; `None` if it may not.
pub fn their_refusal_allowed(seen: &Seen, input: &[u8]) -> Option<TheirRefusal> {
    let line = [&seen.method[..], b" ", &seen.target, b" HTTP/1."].concat();
    let later_minor =
        input.windows(line.len() + 1).any(|w| w.starts_with(&line) && matches!(w[line.len()], b'2'..=b'9'));
    if later_minor {
        return Some(TheirRefusal::LaterMinorVersion);
    }
    if std::str::from_utf8(&seen.target).map_or(true, |t| t.parse::<http::Uri>().is_err()) {
        return Some(TheirRefusal::Target);
    }
    if seen.content_length.contains(&b',') {
        return Some(TheirRefusal::ContentLengthList);
    }
    let te = String::from_utf8_lossy(&seen.transfer_encoding);
    if !te.is_empty() && te.split(',').any(|element| element.trim_matches([' ', '\t']).is_empty()) {
        return Some(TheirRefusal::EmptyTransferCodings);
    }
    None
}

/// `input` with the request `seen` put in the form hyper accepts, `why` it refused it being
/// undone: its version made 1.1, its target percent-encoded, its Content-Length list made one
/// value, the empty elements of its Transfer-Encoding dropped. Nothing that frames a body
/// changes, so hyper must then frame the request as we did. `None` if the request is not found,
/// or nothing changed.
pub fn in_their_form(input: &[u8], seen: &Seen, why: TheirRefusal) -> Option<Vec<u8>> {
    let line = [&seen.method[..], b" ", &seen.target, b" "].concat();
    // Each place the request line is found (a request starts where the one before it ends, not
    // always after a line end), and the end of the head it begins.
    let starts = (0..input.len()).filter(|&i| input[i..].starts_with(&line)).map(|i| {
        (i, find_from(input, i, b"\n\r\n").or_else(|| find_from(input, i, b"\n\n")).map_or(input.len(), |e| e + 1))
    });
    for (start, end) in starts {
        let head = &input[start..end];
        let changed: Option<Vec<u8>> = match why {
            TheirRefusal::LaterMinorVersion => {
                let v = line.len() + b"HTTP/1.".len();
                (head.len() > v && head[..v].ends_with(b"HTTP/1.") && matches!(head[v], b'2'..=b'9')).then(|| {
                    let mut h = head.to_vec();
                    h[v] = b'1';
                    h
                })
            }
            TheirRefusal::Target => {
                let rest = &head[line.len() - 1..];
                Some([&seen.method[..], b" ", &in_uri_form(&seen.target), rest].concat())
            }
            TheirRefusal::ContentLengthList => edit_fields(head, b"content-length", |value| {
                let first = value.split(|&b| b == b',').next().unwrap_or_default();
                Some(first.trim_ascii().to_vec())
            }),
            TheirRefusal::EmptyTransferCodings => edit_fields(head, b"transfer-encoding", |value| {
                let codings: Vec<&[u8]> =
                    value.split(|&b| b == b',').map(<[u8]>::trim_ascii).filter(|c| !c.is_empty()).collect();
                // A field of empty elements only is dropped: it adds nothing to the list.
                (!codings.is_empty()).then(|| codings.join(&b", "[..]))
            }),
        };
        if let Some(new_head) = changed.filter(|h| h[..] != *head) {
            return Some([&input[..start], &new_head, &input[end..]].concat());
        }
    }
    None
}

/// `target` as `http::Uri` takes it, naming the same kind of resource: every byte it refuses
/// percent-encoded (a `%` too, unless two hex digits follow), and in an absolute-form authority,
/// where it takes no percent escape at all, each `%` made a `p` (another host name, which frames
/// nothing).
pub fn in_uri_form(target: &[u8]) -> Vec<u8> {
    let authority = target
        .windows(3)
        .position(|w| w == b"://")
        .map(|i| i + 3)
        .map(|start| (start, target[start..].iter().position(|&b| b == b'/').map_or(target.len(), |e| start + e)));
    let mut out = Vec::with_capacity(target.len());
    for (i, &b) in target.iter().enumerate() {
        let in_authority = authority.is_some_and(|(start, end)| (start..end).contains(&i));
        let escape = b == b'%' && target.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if in_authority && b == b'%' {
            out.push(b'p');
        } else if b.is_ascii_alphanumeric() || b"-._~/?:@!$&'()*+,;=".contains(&b) || escape {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

pub fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|i| from + i)
}

/// `head` with the value of each field named `name` rewritten by `edit` (a field whose new value
/// is `None` is dropped); `None` if there is no such field.
pub fn edit_fields(head: &[u8], name: &[u8], edit: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(head.len());
    let mut edited = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        let named =
            line.len() > name.len() && line[..name.len()].eq_ignore_ascii_case(name) && line[name.len()] == b':';
        if !named {
            out.extend_from_slice(line);
            continue;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let (value, end) = match body.strip_suffix(b"\r") {
            Some(v) => (v, &b"\r\n"[..]),
            None => (body, &b"\n"[..]),
        };
        edited = true;
        let Some(value) = edit(&value[name.len() + 1..]) else { continue };
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(&value);
        out.extend_from_slice(if line.ends_with(b"\n") { end } else { b"" });
    }
    edited.then_some(out)
}

/// The digests of the requests in `replies` that were accepted.
pub fn accepted(replies: &[Reply]) -> Vec<String> {
    replies
        .iter()
        .filter_map(|r| match r {
            Reply::Accepted(d, _) => Some(d.clone()),
            Reply::Refused(..) => None,
        })
        .collect()
}

/// How the two answers to an input compare.
pub enum Verdict {
    /// The same accepted requests with the same bodies, or we refused one hyper accepted as
    /// [`OUR_REFUSALS`] allow.
    Agree,
    /// hyper refused a request we accepted, as [`TheirRefusal`] allows: the input with it in a
    /// form hyper accepts, on which hyper must frame it as we did.
    TheyRefused(TheirRefusal, Vec<u8>),
}

/// Compares the answers to `input`, ours and hyper's: the same accepted requests with the same
/// bodies, or where they part, a refusal an exception allows; else what differs.
pub fn compare(input: &[u8], our_replies: &[Reply], their_replies: &[Reply]) -> Result<Verdict, String> {
    let (our_accepted, their_accepted) = (accepted(our_replies), accepted(their_replies));
    if our_accepted == their_accepted {
        return Ok(Verdict::Agree);
    }
    let agreed = our_accepted.iter().zip(&their_accepted).take_while(|(a, b)| a == b).count();
    // We refused the next request and hyper accepted it.
    if agreed == our_accepted.len() && our_refusal_allowed(our_replies.get(agreed)) {
        return Ok(Verdict::Agree);
    }
    // hyper refused the next request (or closed) and we accepted it.
    if agreed == their_accepted.len() {
        if let Some(Reply::Accepted(_, Some(seen))) = our_replies.get(agreed) {
            if let Some(why) = their_refusal_allowed(seen, input) {
                return match in_their_form(input, seen, why) {
                    Some(theirs) => Ok(Verdict::TheyRefused(why, theirs)),
                    None => Err(format!(
                        "hyper refused {seen:?} ({why:?}) and it cannot be put in a form hyper takes, in {}",
                        shown(input)
                    )),
                };
            }
        }
    }
    Err(format!(
        "hyper and we frame {} differently:\n  ours:  {our_replies:?}\n  hyper: {their_replies:?}",
        shown(input)
    ))
}

/// Follows [`compare`] to the end: where hyper refused a request as [`TheirRefusal`] allows,
/// answers the input with that request in a form hyper takes ([`Verdict::TheyRefused`]), on
/// which we must accept what we accepted before and hyper must agree. `answer` gives both sides'
/// replies to an input.
pub fn check(input: &[u8], mut answer: impl FnMut(&[u8]) -> (Vec<Reply>, Vec<Reply>)) -> Result<(), String> {
    let (mut ours, theirs) = answer(input);
    let mut verdict = compare(input, &ours, &theirs)?;
    // Each round undoes one refusal; an input holds a few.
    for _ in 0..16 {
        let Verdict::TheyRefused(why, their_form) = verdict else { return Ok(()) };
        let (our_answer, their_answer) = answer(&their_form);
        let (before, after) = (accepted(&ours), accepted(&our_answer));
        if !after.starts_with(&before) {
            return Err(format!(
                "put in hyper's form ({why:?}), {} is read differently by us: {before:?}, then {after:?}",
                shown(&their_form)
            ));
        }
        verdict = compare(&their_form, &our_answer, &their_answer)?;
        ours = our_answer;
    }
    Err(format!("hyper refuses too much of {}", shown(input)))
}

/// What a hyper 1 HTTP/1 server with [`hyper_digest`] as its service sends in answer to `input`,
/// over an in-memory pipe (hyper's public API: `serve_connection` on any reader and writer): the
/// client half-closes after the input, as on a socket.
pub async fn hyper_in_memory(input: &[u8]) -> Vec<u8> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let connection =
        http1::Builder::new().half_close(true).serve_connection(TokioIo::new(server), service_fn(hyper_digest));
    let (mut reader, mut writer) = tokio::io::split(client);
    let write = async {
        // hyper may close before it has taken everything, after a refusal.
        if writer.write_all(input).await.is_ok() {
            let _ = writer.shutdown().await;
        }
    };
    let read = async {
        let mut received = Vec::new();
        let _ = reader.read_to_end(&mut received).await;
        received
    };
    let (_, _, received) = tokio::join!(
        async {
            let _ = connection.await;
        },
        write,
        read
    );
    received
}

/// Our parser's answer to an input, as our server with the digest handler would give it: each
/// request served (`Head`, `Body`..., `End`) is accepted with its body's digest; a refusal, or a
/// body cut off (`Abort`), is refused with its status and reason, and ends the answer.
pub fn replies_from_parser(parts: &[Parsed]) -> Vec<Reply> {
    let mut replies = Vec::new();
    let mut current: Option<(Seen, Vec<u8>)> = None;
    for part in parts {
        match part {
            Parsed::Head(request) => match &request.bad {
                Some(bad) => {
                    replies.push(Reply::Refused(bad.status.as_u16(), html_escaped(&bad.message)));
                    return replies;
                }
                None => current = Some((Seen::of(request), Vec::new())),
            },
            Parsed::Body(piece) => {
                if let Some((_, body)) = current.as_mut() {
                    body.extend_from_slice(piece);
                }
            }
            Parsed::End => {
                if let Some((seen, body)) = current.take() {
                    replies.push(Reply::Accepted(digest(&body), Some(seen)));
                }
            }
            Parsed::Abort(bad) => {
                replies.push(Reply::Refused(bad.status.as_u16(), html_escaped(&bad.message)));
                return replies;
            }
        }
    }
    replies
}

/// One input of the differential fuzz target (`fuzz/fuzz_targets/differential.rs`), also replayed
/// by `tests/corpus.rs` from `fuzz/seeds/`: the input (without the fuzz target's settings byte,
/// which `parsing::fuzz_one` uses) is read by our parser, with the default settings, and by
/// hyper in memory; the two must frame it alike, as [`check`] says. Panics if not.
pub fn fuzz_differential(data: &[u8]) {
    let Some((_, input)) = data.split_first() else { return };
    let answers = |input: &[u8]| {
        let settings = kamaelia_http::HttpSettings::default();
        let ours = replies_from_parser(&crate::parsing::parse_raw(&settings, input, &[]));
        let theirs = replies(&crate::parsing::block_on(hyper_in_memory(input)));
        (ours, theirs)
    };
    if let Err(difference) = check(input, answers) {
        panic!("{difference}");
    }
}
