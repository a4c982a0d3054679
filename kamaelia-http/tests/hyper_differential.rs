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
//! A second property does the same without sockets (`hyper_and_our_parser_frame_alike_whatever_the_split`):
//! our parser component fed the input split at random points, against hyper over an in-memory
//! pipe (its public `serve_connection`).
//!
//! `PROPTEST_CASES=N` runs more cases than the default (256).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axon_core::{from_fn, Context, Event, Scheduler};
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

mod differential;
mod parsing;
mod requests;
use differential::*;
use requests::*;

/// How long one exchange may take before the test fails (a server that neither answers nor
/// closes after the client's half-close).
const DEADLINE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// The two servers
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// The comparison (where the two may differ: tests/differential/mod.rs)
// ---------------------------------------------------------------------------------------------

/// Sends `input` to both servers and compares their answers ([`differential::check`]).
fn check(servers: &Servers, input: &[u8]) -> Result<(), TestCaseError> {
    differential::check(input, |input| {
        let (ours, theirs) = servers
            .runtime
            .block_on(async { tokio::join!(exchange(servers.ours, input), exchange(servers.hyper, input)) });
        (replies(&ours), replies(&theirs))
    })
    .map_err(TestCaseError::fail)
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

    /// The same at the parser, fed in pieces: our parser component given the input split at
    /// random points (as reads from a socket deliver it), against hyper over an in-memory pipe.
    /// Faster than the sockets, so it also tries HEAD.
    #[test]
    fn hyper_and_our_parser_frame_alike_whatever_the_split(
        messages in prop::collection::vec(message(), 1..4),
        mutations in prop_oneof![1 => Just(Vec::new()), 3 => prop::collection::vec(mutation(), 1..4)],
        picks in prop::collection::vec(any::<proptest::sample::Index>(), 0..8),
    ) {
        let mut input: Vec<u8> = messages.iter().flat_map(|m| m.bytes.iter().copied()).collect();
        for mutation in &mutations {
            mutate(&mut input, mutation);
        }
        let settings = HttpSettings::default();
        differential::check(&input, |input| {
            let ours = parsing::parse_raw(&settings, input, &cuts(input.len(), &picks));
            (replies_from_parser(&ours), replies(&parsing::block_on(hyper_in_memory(input))))
        })
        .map_err(TestCaseError::fail)?;
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
        // Found by the property at 10,000 cases: percent escapes in an absolute-form authority
        // (RFC 3986 allows them in a reg-name; http::Uri does not), a '%' with no digits.
        b"POST http://%41:000/a%?b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab",
        b"POST /a>b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: a\r\ncontent-length:3 ,3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        // Found by the property at 10,000 cases: a second Transfer-Encoding field, empty.
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: \r\n\r\n2\r\nab\r\n0\r\n\r\n",
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
