//! Response framing (RFC 9112 §6.3, §7; RFC 9110 §6.6.1, §9.3.2, §15): `Content-Length` when the
//! handler gives a length, otherwise chunked on HTTP/1.1 and close-delimited on HTTP/1.0; no body
//! for HEAD, 204 and 304 whatever the handler sends; `Date`, `Server` and the handler's
//! `Content-Type` on every response.

mod support;

use axon_core::ipc::ProducerFinished;
use axon_core::{from_fn, Context};
use http::header::{HeaderName, HeaderValue};
use http::StatusCode;
use kamaelia_http::{factory, Bytes, Factory, FileIo, FileRegion, HttpSettings, Request, Resource, ResponseHead};
use support::*;

/// A handler sending `head`, then each of `pieces` as a data message.
fn answer(head: ResponseHead, pieces: &'static [&'static [u8]]) -> Factory {
    factory(move |_request: Request| {
        let head = head.clone();
        from_fn("Answer", move |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(head.into()).await;
            for piece in pieces {
                ctx.outbox.send(Resource::Data(Bytes::from_static(piece))).await;
            }
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

fn ok_text() -> ResponseHead {
    ResponseHead::new(StatusCode::OK).content_type("text/plain")
}

fn routes() -> Vec<(&'static str, Factory)> {
    vec![
        ("/length", answer(ok_text().length(11), &[b"hello", b" world"])),
        ("/nolength", answer(ok_text(), &[b"hello", b" world"])),
        ("/one", answer(ok_text(), &[b"hello"])),
        ("/empty", answer(ok_text(), &[])),
        ("/204", answer(ResponseHead::new(StatusCode::NO_CONTENT).content_type("text/plain"), &[b"oops"])),
        ("/204len", answer(ResponseHead::new(StatusCode::NO_CONTENT).length(4), &[b"oops"])),
        ("/304", answer(ResponseHead::new(StatusCode::NOT_MODIFIED).length(4), &[b"oops"])),
        ("/304nolen", answer(ResponseHead::new(StatusCode::NOT_MODIFIED), &[b"oops"])),
        (
            "/owned",
            answer(
                ok_text()
                    .length(2)
                    .header(HeaderName::from_static("content-length"), HeaderValue::from_static("999"))
                    .header(HeaderName::from_static("transfer-encoding"), HeaderValue::from_static("gzip"))
                    .header(HeaderName::from_static("connection"), HeaderValue::from_static("upgrade"))
                    .header(HeaderName::from_static("date"), HeaderValue::from_static("yesterday"))
                    .header(HeaderName::from_static("server"), HeaderValue::from_static("impostor"))
                    .header(HeaderName::from_static("set-cookie"), HeaderValue::from_static("a=1"))
                    .header(HeaderName::from_static("set-cookie"), HeaderValue::from_static("b=2")),
                &[b"ok"],
            ),
        ),
        ("/teapot", answer(ResponseHead::new(StatusCode::IM_A_TEAPOT).content_type("text/x-tea").length(3), &[b"tea"])),
        ("/599", answer(ResponseHead::new(StatusCode::from_u16(599).expect("599")).length(0), &[])),
    ]
}

/// A GET (or `method`) of `path` on HTTP/1.1 with `Connection: close`; checks the server then
/// closes without sending anything more, so nothing was sent after the response.
async fn one(server: &TestServer, method: &str, path: &str) -> Response {
    let mut client = server.connect().await;
    client.send(request(method, path, "Connection: close\r\n")).await;
    let response = client.response_to(method).await;
    response.assert_date_and_server();
    client.assert_closed().await;
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_giving_a_length_is_framed_by_content_length() {
    let server = serve_routes(routes()).await;
    let response = one(&server, "GET", "/length").await;
    response.assert_status(200);
    assert!(response.raw.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&response.raw));
    assert!(find(&response.raw, b"\r\nContent-Length: 11\r\n").is_some(), "{}", shown(&response.raw));
    assert_eq!(response.header("transfer-encoding"), None);
    assert!(response.raw.ends_with(b"\r\n\r\nhello world"), "{}", shown(&response.raw));
    assert_eq!(response.framing, Framing::Length(11));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_giving_no_length_is_chunked_on_http_1_1() {
    let server = serve_routes(routes()).await;
    let response = one(&server, "GET", "/one").await;
    response.assert_status(200);
    response.assert_header("transfer-encoding", "chunked");
    assert_eq!(response.header("content-length"), None);
    assert!(response.raw.ends_with(b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), "{}", shown(&response.raw));

    let response = one(&server, "GET", "/nolength").await;
    assert_eq!(response.framing, Framing::Chunked);
    assert_eq!(response.body, b"hello world");

    // No data at all: just the last chunk.
    let response = one(&server, "GET", "/empty").await;
    assert!(response.raw.ends_with(b"\r\n\r\n0\r\n\r\n"), "{}", shown(&response.raw));
    assert!(response.body.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_response_keeps_the_connection_open() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/nolength", "")).await;
    let response = client.response().await;
    assert_eq!(response.framing, Framing::Chunked);
    assert_eq!(response.header("connection"), None);
    let next = client.still_answers(request("GET", "/length", "")).await;
    assert_eq!(next.body, b"hello world", "after a chunked response: {}", shown(&next.raw));
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_giving_no_length_is_close_delimited_on_http_1_0() {
    let server = serve_routes(routes()).await;
    for extra in ["", "Connection: keep-alive\r\n"] {
        let mut client = server.connect().await;
        client.send(format!("GET /nolength HTTP/1.0\r\n{extra}\r\n")).await;
        let response = client.response().await;
        response.assert_status(200);
        assert_eq!(response.framing, Framing::Close, "{extra:?}: {}", shown(&response.raw));
        assert_eq!(response.header("content-length"), None);
        assert_eq!(response.header("transfer-encoding"), None);
        // Even when keep-alive was asked for: the close is what ends the body.
        response.assert_header("connection", "close");
        assert!(response.raw.ends_with(b"\r\n\r\nhello world"), "{}", shown(&response.raw));
        drop(client);
    }
    // With a length, a 1.0 keep-alive connection can stay open.
    let mut client = server.connect().await;
    client.send("GET /length HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    let response = client.response().await;
    response.assert_header("connection", "keep-alive");
    assert_eq!(response.framing, Framing::Length(11));
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_gets_the_same_fields_as_get_and_no_body() {
    let server = serve_routes(routes()).await;
    let without_date = |r: &Response| r.headers.iter().filter(|(n, _)| n != "date").cloned().collect::<Vec<_>>();

    let get = one(&server, "GET", "/length").await;
    let head = one(&server, "HEAD", "/length").await;
    head.assert_status(200);
    assert_eq!(without_date(&head), without_date(&get), "HEAD and GET fields differ");
    head.assert_header("content-length", "11");
    assert!(head.raw.ends_with(b"\r\n\r\n"), "{}", shown(&head.raw));

    // Without a length: no body, and no chunked framing either.
    let head = one(&server, "HEAD", "/nolength").await;
    head.assert_status(200);
    head.assert_header("content-type", "text/plain");
    assert!(head.body.is_empty());
    assert!(head.raw.ends_with(b"\r\n\r\n"), "{}", shown(&head.raw));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_204_has_no_body_even_if_the_handler_sends_one() {
    let server = serve_routes(routes()).await;
    for path in ["/204", "/204len"] {
        let response = one(&server, "GET", path).await;
        response.assert_status(204);
        assert!(response.raw.starts_with(b"HTTP/1.1 204 No Content\r\n"), "{}", shown(&response.raw));
        assert!(response.raw.ends_with(b"\r\n\r\n"), "{}", shown(&response.raw));
        // RFC 9110 §8.6: no Content-Length in a 204.
        assert_eq!(response.header("content-length"), None, "{path}");
        assert_eq!(response.header("transfer-encoding"), None, "{path}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_304_has_no_body_even_if_the_handler_sends_one() {
    let server = serve_routes(routes()).await;
    let response = one(&server, "GET", "/304").await;
    response.assert_status(304);
    assert!(response.raw.starts_with(b"HTTP/1.1 304 Not Modified\r\n"), "{}", shown(&response.raw));
    // A 304 may state the length the GET would have had; no body follows it.
    response.assert_header("content-length", "4");
    assert!(response.raw.ends_with(b"\r\n\r\n"), "{}", shown(&response.raw));

    let response = one(&server, "GET", "/304nolen").await;
    response.assert_status(304);
    assert_eq!(response.header("transfer-encoding"), None);
    assert!(response.raw.ends_with(b"\r\n\r\n"), "{}", shown(&response.raw));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodiless_responses_leave_a_pipelined_connection_in_step() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    let pipeline = [
        request("HEAD", "/length", ""),
        request("HEAD", "/nolength", ""),
        request("GET", "/204", ""),
        request("GET", "/304", ""),
        request("GET", "/one", ""),
    ]
    .concat();
    client.send(pipeline).await;
    client.response_to("HEAD").await.assert_status(200);
    client.response_to("HEAD").await.assert_status(200);
    client.response().await.assert_status(204);
    client.response().await.assert_status(304);
    let last = client.response().await;
    assert_eq!(last.body, b"hello", "stray bytes before the last response: {}", shown(&last.raw));
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_date_server_and_the_handlers_content_type() {
    let settings = HttpSettings { server_name: "TestServer/9".to_owned(), ..HttpSettings::default() };
    let server = serve(routes(), settings).await;
    let response = one(&server, "GET", "/teapot").await;
    assert!(response.raw.starts_with(b"HTTP/1.1 418 I'm a teapot\r\n"), "{}", shown(&response.raw));
    response.assert_header("server", "TestServer/9");
    response.assert_header("content-type", "text/x-tea");
    assert_eq!(response.body, b"tea");

    // Error pages and responses with no Content-Type too.
    let missing = one(&server, "GET", "/missing").await;
    missing.assert_status(404);
    missing.assert_header("server", "TestServer/9");
    let bad = exchange(server.addr, "GET / HTTP/1.1\r\n\r\n").await;
    bad.assert_status(400);
    bad.assert_date_and_server();
    bad.assert_header("server", "TestServer/9");
    let none = one(&server, "GET", "/204len").await;
    assert_eq!(none.header("content-type"), None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_the_server_owns_are_not_taken_from_the_handler() {
    let server = serve_routes(routes()).await;
    let response = one(&server, "GET", "/owned").await;
    response.assert_status(200);
    assert_eq!(response.headers_named("content-length"), ["2"]);
    assert_eq!(response.headers_named("transfer-encoding"), Vec::<&str>::new());
    assert_eq!(response.headers_named("connection"), ["close"]);
    assert_eq!(response.headers_named("server"), [kamaelia_http::settings::DEFAULT_SERVER_NAME]);
    assert_eq!(response.headers_named("date").len(), 1);
    assert_ne!(response.header("date"), Some("yesterday"));
    // Repeated fields the handler sets are all sent.
    assert_eq!(response.headers_named("set-cookie"), ["a=1", "b=2"]);
    assert_eq!(response.body, b"ok");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_without_a_reason_phrase_keeps_the_space_after_the_code() {
    let server = serve_routes(routes()).await;
    let response = one(&server, "GET", "/599").await;
    assert!(response.raw.starts_with(b"HTTP/1.1 599 \r\n"), "{}", shown(&response.raw));
    server.stop().await;
}

/// A handler's data sent just before its signal must go out: the server must not end the
/// response on the signal while the data still waits in its inbox. `Minimal` reading on the
/// blocking pool ([`FileIo::BlockingPool`], the binary's `--file-io pool`) shows it: with a chunk
/// smaller than the file, it sends the head, then reads each piece on the pool (the read's
/// completion wakes it, possibly on another thread) and sends it, the last one right before its
/// `ProducerFinished`. Before the fix, roughly one response in a few thousand ended after its
/// head ("the handler sent 0 of the 12 bytes it announced; closing").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_sent_just_before_the_signal_is_never_lost() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("small.txt"), "Hello, file!").expect("small.txt");
    let root = dir.path().to_path_buf();
    let minimal = factory(move |request| {
        let mut minimal = kamaelia_http::Minimal::new(request, root.clone(), "index.html");
        // Two pieces (8 and 4 bytes), each read on the blocking pool after the head has gone.
        minimal.file_io = FileIo::BlockingPool;
        minimal.chunk_size = 8;
        minimal
    });
    let server = serve_routes(vec![("/", minimal)]).await;
    for i in 0..3000 {
        let mut client = server.connect().await;
        client.send(request("GET", "/small.txt", "Connection: close\r\n")).await;
        match client.try_response_to("GET").await {
            Ok(response) => assert_eq!(response.body, b"Hello, file!", "request {i}: {}", shown(&response.raw)),
            Err(e) => panic!("request {i}: {}: {}", e.what, shown(&e.received)),
        }
    }
    server.stop().await;
}

/// A handler sending `head`, then bytes, a region of the file at `path` (`offset`, `len`), and
/// bytes again.
fn file_answer(head: ResponseHead, path: std::path::PathBuf, offset: u64, len: u64) -> Factory {
    factory(move |_request: Request| {
        let (head, path) = (head.clone(), path.clone());
        from_fn("FileAnswer", move |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(head.into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from_static(b"["))).await;
            let file = std::fs::File::open(&path)?;
            ctx.outbox.send(Resource::File(FileRegion::new(file, offset, len))).await;
            ctx.outbox.send(Resource::Data(Bytes::from_static(b"]"))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// A file region from a handler is framed as its bytes would be: counted in `Content-Length`,
/// one chunk of a chunked body, close-delimited on HTTP/1.0, nothing for HEAD.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_region_is_framed_like_data() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("digits.txt");
    std::fs::write(&path, "0123456789").expect("digits.txt");
    let server = serve_routes(vec![
        ("/length", file_answer(ok_text().length(7), path.clone(), 2, 5)),
        ("/chunked", file_answer(ok_text(), path.clone(), 2, 5)),
        ("/toolong", file_answer(ok_text().length(4), path.clone(), 2, 5)),
    ])
    .await;

    let response = one(&server, "GET", "/length").await;
    response.assert_header("content-length", "7");
    assert_eq!(response.body, b"[23456]");

    let mut client = server.connect().await;
    client.send(request("GET", "/chunked", "")).await;
    let response = client.response().await;
    assert!(matches!(response.framing, Framing::Chunked), "{}", shown(&response.raw));
    assert!(find(&response.raw, b"\r\n5\r\n23456\r\n").is_some(), "the region is one chunk: {}", shown(&response.raw));
    assert_eq!(response.body, b"[23456]");
    // HEAD: the same head, no region sent, and the connection goes on in step.
    client.send(request("HEAD", "/length", "")).await;
    let response = client.response_to("HEAD").await;
    response.assert_header("content-length", "7");
    assert!(response.body.is_empty());
    client.send(request("GET", "/length", "")).await;
    assert_eq!(client.response().await.body, b"[23456]");

    let mut client = server.connect().await;
    client.send("GET /chunked HTTP/1.0\r\n\r\n").await;
    let response = client.response().await;
    assert_eq!(response.body, b"[23456]");
    client.assert_closed().await;

    // A region past the announced length is cut to it, and the connection closed after.
    let mut client = server.connect().await;
    client.send(request("GET", "/toolong", "")).await;
    let response = client.response().await;
    assert_eq!(response.body, b"[234");
    client.assert_closed().await;
    server.stop().await;
}
