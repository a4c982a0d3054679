//! The differential test: our server's framing decisions against hyper's.
//!
//! Generated requests, valid and mutated (`tests/requests/mod.rs`), are sent byte for byte over
//! real TCP connections on 127.0.0.1 to two servers: ours, whose handler answers each request
//! with the length and a hash of the body it read, and a hyper 1 HTTP/1 server whose service
//! does the same. Each side's answer is the list of requests it accepted, each with its body
//! (length and hash), in order; after the last accepted request a server refuses the next (4xx,
//! 5xx, or a close without a response) or the input ends. The lists must be the same: the same
//! requests, the same split between pipelined messages, the same body bytes.
//!
//! Where the two part, the first request one accepts and the other refuses must be a case where
//! the RFCs let the two differ:
//!
//! - we refuse and hyper accepts: one of [`OUR_REFUSALS`], each with its RFC section, matched
//!   by our status and the reason our error page gives (mostly what RFC 9112 tells a server to
//!   refuse and hyper does not check). Where we are stricter than hyper:
//!   - `Host`: missing in HTTP/1.1, given twice, or not `uri-host [":" port]` (400; the same for
//!     the authority of an absolute-form target);
//!   - the target's form: `*` other than for OPTIONS, authority form other than for CONNECT, a
//!     scheme other than http(s), userinfo, an empty authority (400);
//!   - `Expect` other than `100-continue` (417);
//!   - a transfer coding other than `chunked` (501; hyper hands the service the body still
//!     coded), `chunked` twice or with parameters, a coding that is not a token, and both
//!     `Transfer-Encoding` and `Content-Length` (400);
//!   - chunk lines: malformed extensions or whitespace after the size, more than 16 hex digits
//!     (leading zeros), and a bare LF in the trailer section (400; hyper skips extensions and
//!     trailers unread);
//! - hyper refuses and we accept: one of [`TheirRefusal`], judged on what our server read of
//!   the request (a later minor version, a target `http::Uri` does not parse, a repeated
//!   `Content-Length` list, empty list elements in `Transfer-Encoding`), where the RFCs ask or
//!   let a server accept. None of these changes how a body is framed, and the test checks it:
//!   the input is sent again with that request in a form hyper takes ([`in_their_form`]: version
//!   1.1, the target percent-encoded, one `Content-Length` value, no empty codings), and there
//!   we must accept the same requests with the same bodies as before, and hyper must agree.
//!   So we never accept a message with a body or a boundary other than hyper's.
//!
//! Anything else fails the test with both sides' bytes. The same body bytes framed differently
//! is never an exception.
//!
//! `PROPTEST_CASES=N` runs more cases than the default (256).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axon_core::{from_fn, Context, Event, Scheduler};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kamaelia_chassis::{ConnectionInfo, ServerCore, ServerHandle, ServerSettings};
use kamaelia_http::http_server::shared_factory;
use kamaelia_http::{request_handlers, Bytes, Factory, HTTPServer, HttpSettings, Request, Resource, ResponseHead};
use proptest::prelude::*;
use proptest::test_runner::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod requests;
use requests::*;

/// How long one exchange may take before the test fails (a server that neither answers nor
/// closes after the client's half-close).
const DEADLINE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// The two servers
// ---------------------------------------------------------------------------------------------

/// A 64-bit FNV-1a hash: enough to tell two bodies apart in a test.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// What both servers answer a request with, in the `x-body` field: `<length> <hash>` of the body.
fn digest(body: &[u8]) -> String {
    format!("{} {:016x}", body.len(), fnv1a(body))
}

/// Lower-case hex of `bytes`: any bytes as a field value.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2).filter_map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

/// What our server read of a request, which the exceptions look at: the method, the target,
/// the `Content-Length` and `Transfer-Encoding` values (each joined with `,`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Seen {
    method: Vec<u8>,
    target: Vec<u8>,
    content_length: Vec<u8>,
    transfer_encoding: Vec<u8>,
}

impl Seen {
    fn of(request: &Request) -> Seen {
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
    fn to_field(&self) -> String {
        [&self.method, &self.target, &self.content_length, &self.transfer_encoding].map(|b| hex(b)).join(" ")
    }

    fn from_field(field: &str) -> Seen {
        let mut parts = field.split(' ').map(unhex);
        let mut next = || parts.next().unwrap_or_default();
        Seen { method: next(), target: next(), content_length: next(), transfer_encoding: next() }
    }
}

/// Our handler: reads the whole body, then answers 200 with its digest in `x-body`, what it was
/// asked in `x-request` ([`Seen`]), and no body (so that a response to HEAD reads the same).
fn digest_handler() -> Factory {
    kamaelia_http::factory(|request: Request| {
        let seen = Seen::of(&request).to_field();
        from_fn("Digest", move |mut ctx: Context<Bytes, Resource>| async move {
            let mut body = Vec::new();
            while let Some(event) = ctx.next_event().await {
                match event {
                    Event::Data(piece) => body.extend_from_slice(&piece),
                    Event::Control(_) => {
                        for piece in ctx.inbox.drain().collect::<Vec<_>>() {
                            body.extend_from_slice(&piece);
                        }
                        break;
                    }
                }
            }
            let field = |text: &str| http::HeaderValue::from_str(text).expect("a header value");
            let head = ResponseHead::new(http::StatusCode::OK)
                .header(http::HeaderName::from_static("x-body"), field(&digest(&body)))
                .header(http::HeaderName::from_static("x-request"), field(&seen))
                .length(0);
            ctx.outbox.send(head.into()).await;
            ctx.signal.send(axon_core::ipc::ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// hyper's service: the same answer. A body that cannot be read is an error, on which hyper
/// closes the connection without a response.
async fn hyper_digest(request: hyper::Request<Incoming>) -> Result<hyper::Response<Empty<Bytes>>, hyper::Error> {
    let body = request.into_body().collect().await?.to_bytes();
    let mut response = hyper::Response::new(Empty::new());
    response.headers_mut().insert("x-body", http::HeaderValue::from_str(&digest(&body)).expect("a header value"));
    Ok(response)
}

struct Servers {
    runtime: tokio::runtime::Runtime,
    ours: SocketAddr,
    hyper: SocketAddr,
    _scheduler: Scheduler,
    _handle: ServerHandle,
}

/// Both servers, started once for the whole test binary, with their default settings.
fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (ours, scheduler, handle) = runtime.block_on(async {
            let create = shared_factory(request_handlers(vec![("/", digest_handler())]));
            let settings = Arc::new(HttpSettings::default());
            let protocol = move |connection: &ConnectionInfo| {
                HTTPServer::with_settings(connection, create.clone(), settings.clone())
            };
            let server = ServerCore {
                settings: ServerSettings { shutdown_grace: Duration::from_secs(2), ..ServerSettings::default() },
                ..ServerCore::new(protocol, 0)
            };
            let bound = server.bind().await.expect("our server binds");
            let (addr, handle) = (bound.local_addr(), bound.handle());
            // As in tests/support: a runtime per thread unless KAMAELIA_TEST_RUNTIME=shared.
            let scheduler = match std::env::var("KAMAELIA_TEST_RUNTIME").as_deref() {
                Ok("shared") => Scheduler::new(),
                _ => Scheduler::per_thread(2),
            };
            scheduler.activate(bound);
            (addr, scheduler, handle)
        });
        let hyper = runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("hyper's listener binds");
            let addr = listener.local_addr().expect("an address");
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        // Half-closes kept: the client shuts its side down after the last byte and
                        // still reads every response (as our server does).
                        let _ = http1::Builder::new()
                            .half_close(true)
                            .serve_connection(TokioIo::new(stream), service_fn(hyper_digest))
                            .await;
                    });
                }
            });
            addr
        });
        Servers { runtime, ours, hyper, _scheduler: scheduler, _handle: handle }
    })
}

// ---------------------------------------------------------------------------------------------
// One exchange
// ---------------------------------------------------------------------------------------------

/// Sends `input` on a new connection to `addr`, closes the sending side, and reads until the
/// server closes.
async fn exchange(addr: SocketAddr, input: &[u8]) -> Vec<u8> {
    let stream = TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (mut reader, mut writer) = stream.into_split();
    let write = async {
        // A server that has refused a request may close before taking the rest.
        if writer.write_all(input).await.is_ok() {
            let _ = writer.shutdown().await;
        }
    };
    let read = async {
        let mut received = Vec::new();
        loop {
            match tokio::time::timeout(DEADLINE, reader.read_buf(&mut received)).await {
                Ok(Ok(0) | Err(_)) => return received,
                Ok(Ok(_)) => {}
                Err(_) => panic!(
                    "{addr} neither answered nor closed within {DEADLINE:?}; received \"{}\" for {}",
                    received.escape_ascii(),
                    shown(input)
                ),
            }
        }
    };
    tokio::join!(write, read).1
}

/// A server's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    /// 200 with the body's digest, and what our server read of the request (hyper's answer
    /// says nothing of it).
    Accepted(String, Option<Seen>),
    /// Anything else, with its body (our error pages give the reason there).
    Refused(u16, String),
}

/// The replies in `received`, up to the first refusal (the connection closes after it) or the
/// end; interim 1xx responses are skipped.
fn replies(received: &[u8]) -> Vec<Reply> {
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

fn shown(bytes: &[u8]) -> String {
    format!("\"{}\" ({} bytes)", bytes.escape_ascii(), bytes.len())
}

// ---------------------------------------------------------------------------------------------
// Where the two may differ
// ---------------------------------------------------------------------------------------------

/// A request we refuse and hyper accepts, where the RFCs let (or tell) a server refuse it: our
/// status, a phrase of the reason we give (as our error page shows it), and why.
struct OurRefusal {
    status: u16,
    reason: &'static str,
    #[allow(dead_code)]
    why: &'static str,
}

/// The requests we may refuse where hyper accepts them. Nothing else we refuse may hyper accept.
const OUR_REFUSALS: &[OurRefusal] = &[
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
fn our_refusal_allowed(reply: Option<&Reply>) -> bool {
    let Some(Reply::Refused(status, body)) = reply else { return false };
    OUR_REFUSALS.iter().any(|e| e.status == *status && body.contains(&html_escaped(e.reason)))
}

/// `text` as our error pages show it.
fn html_escaped(text: &str) -> String {
    kamaelia_http::error_pages::escape_html(text)
}

/// Why hyper may refuse a request we accept: what RFC 9110 and 9112 allow or ask us to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TheirRefusal {
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
fn their_refusal_allowed(seen: &Seen, input: &[u8]) -> Option<TheirRefusal> {
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
fn in_their_form(input: &[u8], seen: &Seen, why: TheirRefusal) -> Option<Vec<u8>> {
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
                let encoded: Vec<u8> = seen
                    .target
                    .iter()
                    .flat_map(|&b| {
                        if b.is_ascii_alphanumeric() || b"-._~/?:@!$&'()*+,;=%".contains(&b) {
                            vec![b]
                        } else {
                            format!("%{b:02X}").into_bytes()
                        }
                    })
                    .collect();
                let rest = &head[line.len() - 1..];
                Some([&seen.method[..], b" ", &encoded, rest].concat())
            }
            TheirRefusal::ContentLengthList => edit_fields(head, b"content-length", |value| {
                let first = value.split(|&b| b == b',').next().unwrap_or_default();
                first.trim_ascii().to_vec()
            }),
            TheirRefusal::EmptyTransferCodings => edit_fields(head, b"transfer-encoding", |value| {
                let codings: Vec<&[u8]> =
                    value.split(|&b| b == b',').map(<[u8]>::trim_ascii).filter(|c| !c.is_empty()).collect();
                codings.join(&b", "[..])
            }),
        };
        if let Some(new_head) = changed.filter(|h| h[..] != *head) {
            return Some([&input[..start], &new_head, &input[end..]].concat());
        }
    }
    None
}

fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|i| from + i)
}

/// `head` with the value of each field named `name` rewritten by `edit`; `None` if none is.
fn edit_fields(head: &[u8], name: &[u8], edit: impl Fn(&[u8]) -> Vec<u8>) -> Option<Vec<u8>> {
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
        let value = &value[name.len() + 1..];
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(&edit(value));
        out.extend_from_slice(if line.ends_with(b"\n") { end } else { b"" });
        edited = true;
    }
    edited.then_some(out)
}

/// The digests of the requests in `replies` that were accepted.
fn accepted(replies: &[Reply]) -> Vec<String> {
    replies
        .iter()
        .filter_map(|r| match r {
            Reply::Accepted(d, _) => Some(d.clone()),
            Reply::Refused(..) => None,
        })
        .collect()
}

/// How the two answers to an input compare.
enum Verdict {
    /// The same accepted requests with the same bodies, or we refused one hyper accepted as
    /// [`OUR_REFUSALS`] allow.
    Agree,
    /// hyper refused a request we accepted, as [`TheirRefusal`] allows: the input with it in a
    /// form hyper accepts, on which hyper must frame it as we did.
    TheyRefused(TheirRefusal, Vec<u8>),
}

/// Compares the two answers to `input`: the same accepted requests with the same bodies, or
/// where they part, a refusal an exception allows.
fn compare(input: &[u8], ours: &[u8], theirs: &[u8]) -> Result<Verdict, TestCaseError> {
    let (our_replies, their_replies) = (replies(ours), replies(theirs));
    let (our_accepted, their_accepted) = (accepted(&our_replies), accepted(&their_replies));
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
                let Some(theirs) = in_their_form(input, seen, why) else {
                    return Err(TestCaseError::fail(format!(
                        "hyper refused {seen:?} ({why:?}) and it cannot be put in a form hyper takes, in {}",
                        shown(input)
                    )));
                };
                return Ok(Verdict::TheyRefused(why, theirs));
            }
        }
    }
    Err(TestCaseError::fail(format!(
        "hyper and we frame {} differently:\n  ours:  {:?}\n  hyper: {:?}\n  our bytes:   \"{}\"\n  hyper's bytes: \"{}\"",
        shown(input),
        our_replies,
        their_replies,
        ours.escape_ascii(),
        theirs.escape_ascii()
    )))
}

/// Sends `input` to both servers and compares their answers; where hyper refused a request as
/// [`TheirRefusal`] allows, sends the input with that request in a form hyper takes, on which we
/// must accept what we accepted before and hyper must agree.
fn check(servers: &Servers, input: &[u8]) -> Result<(), TestCaseError> {
    let exchange_both = |input: &[u8]| {
        servers.runtime.block_on(async { tokio::join!(exchange(servers.ours, input), exchange(servers.hyper, input)) })
    };
    let (mut ours, theirs) = exchange_both(input);
    let mut verdict = compare(input, &ours, &theirs)?;
    // Each round undoes one refusal; a request has at most one of each kind, a few per input.
    for _ in 0..16 {
        let Verdict::TheyRefused(why, their_form) = verdict else { return Ok(()) };
        let (our_answer, their_answer) = exchange_both(&their_form);
        let before = accepted(&replies(&ours));
        let after = accepted(&replies(&our_answer));
        prop_assert!(
            after.starts_with(&before),
            "put in hyper's form ({why:?}), {} is read differently by us: {before:?}, then {after:?}",
            shown(&their_form)
        );
        verdict = compare(&their_form, &our_answer, &their_answer)?;
        ours = our_answer;
    }
    Err(TestCaseError::fail(format!("hyper refuses too much of {}", shown(input))))
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(Config { failure_persistence: None, ..Config::default() })]

    /// Pipelined requests, valid or mutated: hyper and we accept the same requests with the same
    /// bodies, or we refuse one that hyper accepts as an exception allows.
    #[test]
    fn hyper_and_we_frame_requests_alike(
        // Not HEAD: the answer to HEAD has no body, so the reason our error page gives for a
        // refusal could not be read (HEAD's request framing is any other method's).
        messages in prop::collection::vec(message().prop_filter("not HEAD", |m| m.method != "HEAD"), 1..4),
        mutations in prop_oneof![1 => Just(Vec::new()), 3 => prop::collection::vec(mutation(), 1..4)],
    ) {
        let mut input: Vec<u8> = messages.iter().flat_map(|m| m.bytes.iter().copied()).collect();
        for mutation in &mutations {
            mutate(&mut input, mutation);
        }
        check(servers(), &input)?;
    }
}

/// Each exception names a reason our server gives: a request that hits each one is refused with
/// it, and one hyper refuses where we accept is matched by the right rule.
#[test]
fn the_exceptions_match_what_they_are_for() {
    let ours: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        b"GET http://a:99999/ HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000003\r\nabc\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET / HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1, chunked\r\n\r\n0\r\n\r\n",
    ];
    let servers = servers();
    assert_eq!(ours.len(), OUR_REFUSALS.len(), "a request for each of OUR_REFUSALS");
    for (request, exception) in ours.iter().zip(OUR_REFUSALS) {
        let (mine, theirs) = servers
            .runtime
            .block_on(async { tokio::join!(exchange(servers.ours, request), exchange(servers.hyper, request)) });
        let replies = replies(&mine);
        assert!(
            matches!(replies.first(), Some(Reply::Refused(status, body))
                if *status == exception.status && body.contains(&html_escaped(exception.reason))),
            "{:?}: {replies:?}",
            exception.reason
        );
        assert!(
            matches!(self::replies(&theirs).first(), Some(Reply::Accepted(..))),
            "hyper accepts {}",
            shown(request)
        );
    }
    let theirs: &[&[u8]] = &[
        b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
        b"GET /a<b HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /a>b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: a\r\ncontent-length:3 ,3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ];
    for request in theirs {
        let (mine, theirs) = servers
            .runtime
            .block_on(async { tokio::join!(exchange(servers.ours, request), exchange(servers.hyper, request)) });
        let Some(Reply::Accepted(digest, Some(seen))) = replies(&mine).first().cloned() else {
            panic!("we refuse {}", shown(request))
        };
        let why =
            their_refusal_allowed(&seen, request).unwrap_or_else(|| panic!("no exception for {}", shown(request)));
        assert!(!matches!(replies(&theirs).first(), Some(Reply::Accepted(..))), "hyper accepts {}", shown(request));
        // In the form hyper takes, it reads the same body.
        let their_form = in_their_form(request, &seen, why).expect("a form hyper takes");
        let theirs = servers.runtime.block_on(exchange(servers.hyper, &their_form));
        assert!(
            matches!(replies(&theirs).first(), Some(Reply::Accepted(d, _)) if *d == digest),
            "hyper's answer to {}: \"{}\"",
            shown(&their_form),
            theirs.escape_ascii()
        );
    }
    // And an ordinary request is no exception.
    let plain = Seen { method: b"GET".to_vec(), target: b"/".to_vec(), ..Seen::default() };
    assert_eq!(their_refusal_allowed(&plain, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), None);
}
