//! What the module docs promise and no other test showed, each on a real socket: a shutdown
//! while a request is in flight (the response finishes, with `Connection: close` when its head
//! has not gone yet); a handler that sends a second head (the response is broken off and the
//! connection closed); a client that stops sending mid-head or mid-body (the 400 page, or the
//! abort); the request-target forms (RFC 9112 §3.2); and a file that shrinks after it was opened
//! (the connection is closed, never a body other than the file's).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axon_core::ipc::ProducerFinished;
use axon_core::{from_fn, Context};
use http::StatusCode;
use kamaelia_http::{factory, Bytes, Factory, FileIo, Minimal, Request, Resource, ResponseHead};
use support::*;
use tokio::sync::Semaphore;

// ---------------------------------------------------------------------------------------------
// Shutdown while a request is in flight
// ---------------------------------------------------------------------------------------------

/// A handler held at a gate: it counts itself in `started`, sends `before` (a head and data, if
/// any), waits for a permit of `gate`, then sends `after` and its `ProducerFinished`.
fn gated(started: Arc<AtomicUsize>, gate: Arc<Semaphore>, before: Vec<Resource>, after: Vec<Resource>) -> Factory {
    factory(move |_request: Request| {
        let (started, gate, before, after) = (started.clone(), gate.clone(), before.clone(), after.clone());
        from_fn("Gated", move |mut ctx: Context<Bytes, Resource>| async move {
            for message in before {
                ctx.outbox.send(message).await;
            }
            started.fetch_add(1, Ordering::SeqCst);
            gate.acquire().await.expect("the gate stays open").forget();
            for message in after {
                ctx.outbox.send(message).await;
            }
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// Whether the server's stop has reached the connection's request handler: the parser, told to
/// stop at the same moment, has ended, and the request handler has taken every message from its
/// `control`.
fn stop_has_reached_the_request_handler(server: &TestServer) -> bool {
    let snapshot = server.scheduler.introspect();
    let parser_gone = !snapshot.components.iter().any(|c| c.name.contains("HTTPParser"));
    let handlers: Vec<_> = snapshot.components.iter().filter(|c| c.name.contains("HTTPRequestHandler")).collect();
    assert_eq!(
        handlers.len(),
        1,
        "one connection's request handler; the components:\n{}",
        server.describe_components()
    );
    let control_read = handlers[0].boxes.iter().all(|b| b.name != "control" || b.depth == 0);
    parser_gone && control_read
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_before_the_head_lets_the_response_finish_with_connection_close() {
    let (started, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    let head = ResponseHead::new(StatusCode::OK).content_type("text/plain").length(9);
    let after = vec![Resource::Head(head), Resource::Data(Bytes::from_static(b"in flight"))];
    let server = serve_routes(vec![("/", gated(started.clone(), gate.clone(), vec![], after))]).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/slow", "")).await;
    wait_until("the handler to be running", || started.load(Ordering::SeqCst) == 1).await;

    server.handle.shutdown();
    wait_until("the stop to reach the request handler", || stop_has_reached_the_request_handler(&server)).await;
    gate.add_permits(1);

    let response = client.response().await;
    response.assert_status(200);
    response.assert_header("connection", "close");
    assert_eq!(response.body, b"in flight", "{}", shown(&response.raw));
    client.assert_closed().await;
    within("the server to end", server.server.join()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_after_the_head_lets_the_body_finish_then_closes() {
    let (started, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    // No length: chunked, so the body's end is the last chunk, which must still come.
    let head = ResponseHead::new(StatusCode::OK).content_type("text/plain");
    let before = vec![Resource::Head(head), Resource::Data(Bytes::from_static(b"first "))];
    let after = vec![Resource::Data(Bytes::from_static(b"second"))];
    let server = serve_routes(vec![("/", gated(started.clone(), gate.clone(), before, after))]).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/slow", "")).await;
    // The head and the first piece arrive before the shutdown.
    let head = client.read_until(b"\r\n\r\n").await;
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&head));
    assert!(find(&head, b"\r\nTransfer-Encoding: chunked\r\n").is_some(), "{}", shown(&head));
    assert_eq!(client.read_until(b"first \r\n").await, b"6\r\nfirst \r\n");
    wait_until("the handler to be waiting", || started.load(Ordering::SeqCst) == 1).await;

    server.handle.shutdown();
    wait_until("the stop to reach the request handler", || stop_has_reached_the_request_handler(&server)).await;
    gate.add_permits(1);

    // The rest of the body, its last chunk, and then the close.
    assert_eq!(client.read_until(b"0\r\n\r\n").await, b"6\r\nsecond\r\n0\r\n\r\n");
    client.assert_closed().await;
    within("the server to end", server.server.join()).await;
}

// ---------------------------------------------------------------------------------------------
// A handler that sends a second head
// ---------------------------------------------------------------------------------------------

/// A handler sending `messages`, then its `ProducerFinished`.
fn sends(messages: Vec<Resource>) -> Factory {
    factory(move |_request: Request| {
        let messages = messages.clone();
        from_fn("Sends", move |mut ctx: Context<Bytes, Resource>| async move {
            for message in messages {
                ctx.outbox.send(message).await;
            }
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

fn text_head(length: Option<u64>) -> Resource {
    let head = ResponseHead::new(StatusCode::OK).content_type("text/plain");
    Resource::Head(match length {
        Some(n) => head.length(n),
        None => head,
    })
}

fn data(bytes: &'static [u8]) -> Resource {
    Resource::Data(Bytes::from_static(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_head_breaks_the_response_off_and_closes_the_connection() {
    let second = || Resource::Head(ResponseHead::new(StatusCode::IM_A_TEAPOT).length(3));
    let server = serve_routes(vec![
        // The whole body announced, then a second head (and more data): what was sent stands, and
        // nothing of the second head reaches the client.
        ("/whole", sends(vec![text_head(Some(5)), data(b"hello"), second(), data(b"tea")])),
        // A chunked body broken off: no last chunk, so the client can tell it is incomplete.
        ("/chunked", sends(vec![text_head(None), data(b"part"), second(), data(b"tea")])),
        ("/", describe()),
    ])
    .await;

    let mut client = server.connect().await;
    // A second request pipelined behind: it is not answered, as the connection closes.
    client.send([request("GET", "/whole", ""), request("GET", "/next", "")].concat()).await;
    let response = client.response().await;
    response.assert_status(200);
    assert_eq!(response.body, b"hello");
    client.assert_closed().await;
    drop(client);

    let mut client = server.connect().await;
    client.send(request("GET", "/chunked", "")).await;
    let broken = client.try_response_to("GET").await.expect_err("a chunked body without its last chunk");
    assert!(broken.what.contains("chunked body"), "{}: {}", broken.what, shown(&broken.received));
    assert!(broken.received.ends_with(b"\r\n\r\n4\r\npart\r\n"), "{}", shown(&broken.received));
    drop(client);

    // Each was the handler's fault, not the server's: it serves on.
    assert_eq!(get(server.addr, "/after").await.body, b"GET /after");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// A client that stops sending mid-head or mid-body
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_sending_mid_head_gets_a_400_page_and_the_close() {
    let server = serve_routes(describe_everything()).await;
    for partial in ["GET /x HTTP/1.1\r\nHost: te", "GET /x HTT", "G"] {
        let mut client = server.connect().await;
        client.send(partial).await;
        client.shutdown_write().await;
        let response = client.response().await;
        assert_eq!(response.status, 400, "{partial:?}: {}", shown(&response.raw));
        response.assert_header("connection", "close");
        assert!(response.text().contains("mid-head"), "{partial:?}: {}", response.text());
        client.assert_closed().await;
    }
    // One that vanishes mid-head (a reset) leaves nothing behind.
    let mut client = server.connect().await;
    client.send("GET /x HTTP/1.1\r\nHo").await;
    client.reset();
    server.wait_idle("the reset connection's components to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_sending_mid_body_gets_a_400_page_or_the_abort() {
    let server = serve_routes(vec![("/buffered", buffered_echo()), ("/echo", body_echo())]).await;
    // The handler answers only once the body is whole: nothing was sent, so the 400 page.
    let mut client = server.connect().await;
    client.send(request("POST", "/buffered", "Content-Length: 10\r\n")).await;
    client.send("12345").await;
    client.shutdown_write().await;
    let response = client.response_to("POST").await;
    response.assert_status(400);
    response.assert_header("connection", "close");
    assert!(response.text().contains("mid-body"), "{}", response.text());
    client.assert_closed().await;
    drop(client);

    // The handler echoes as the body comes: its response has begun, so it is broken off (the
    // connection closes before the announced length) rather than finished as if whole.
    let mut client = server.connect().await;
    client.send(request("POST", "/echo", "Content-Length: 10\r\nContent-Type: text/plain\r\n")).await;
    client.send("12345").await;
    let head = client.read_until(b"\r\n\r\n").await;
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&head));
    client.shutdown_write().await;
    let rest = client.read_to_eof().await;
    assert!(rest.len() < 10 + 20, "a body the client never finished came back whole: {}", shown(&rest));
    assert!(!rest.windows(3).any(|w| w == b"400"), "a 400 page after the response began: {}", shown(&rest));
    drop(client);
    server.wait_idle("both connections' components to end").await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Request-target forms (RFC 9112 §3.2)
// ---------------------------------------------------------------------------------------------

/// Answers 200 with `path|query|uri_server` as the request has them.
fn target_parts() -> Factory {
    factory(|request: Request| {
        let text = format!(
            "{}|{}|{}",
            request.path,
            request.query.unwrap_or_default(),
            request.uri_server.unwrap_or_default()
        );
        from_fn("TargetParts", move |mut ctx: Context<Bytes, Resource>| async move {
            let head = ResponseHead::new(StatusCode::OK).content_type("text/plain").length(text.len() as u64);
            ctx.outbox.send(head.into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from(text))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// `method target` on HTTP/1.1 with `Host: test` and `Connection: close`, on a fresh connection.
async fn target(server: &TestServer, method: &str, target: &str) -> Response {
    let mut client = server.connect().await;
    client.send(request(method, target, "Connection: close\r\n")).await;
    let response = client.response_to(method).await;
    client.assert_closed().await;
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_absolute_form_gives_its_path_query_and_authority() {
    let server = serve_routes(vec![("/", target_parts())]).await;
    for (form, parts) in [
        ("http://example.com/a/b?x=1", "/a/b|x=1|example.com"),
        // No path: the path is `/` (RFC 9112 §3.2.2), with or without a query.
        ("http://example.com", "/||example.com"),
        ("http://example.com?q", "/|q|example.com"),
        ("http://example.com?q/x", "/|q/x|example.com"),
        ("http://example.com:8080?q=1", "/|q=1|example.com:8080"),
        // The scheme is case-insensitive, and https is taken too.
        ("HTTP://example.com/up", "/up||example.com"),
        ("https://example.com/s", "/s||example.com"),
        ("http://[::1]:80/six", "/six||[::1]:80"),
    ] {
        let response = target(&server, "GET", form).await;
        assert_eq!(response.status, 200, "{form}: {}", shown(&response.raw));
        assert_eq!(response.text(), parts, "{form}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_an_empty_authority_other_schemes_and_other_forms_are_400_naming_the_target() {
    let server = serve_routes(vec![("/", target_parts())]).await;
    for (form, says) in [
        ("http://user@example.com/", "invalid absolute-form target"),
        ("http://user:pw@example.com/x", "invalid absolute-form target"),
        ("http:///x", "invalid absolute-form target"),
        ("http://", "invalid absolute-form target"),
        ("http://?q", "invalid absolute-form target"),
        ("http://bad host/", "invalid"),
        ("ftp://example.com/x", "invalid request target"),
        ("file:///etc/passwd", "invalid request target"),
        ("example.com/x", "invalid request target"),
        ("*", "invalid request target"),
    ] {
        let response = target(&server, "GET", form).await;
        assert_eq!(response.status, 400, "{form}: {}", shown(&response.raw));
        response.assert_header("connection", "close");
        assert!(response.text().contains(says), "{form}: {}", response.text());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_authority_form_and_options_asterisk_reach_no_route_and_get_501() {
    let server = serve_routes(vec![("/", target_parts())]).await;
    // Well formed, but about the server rather than a resource: this server is not a proxy and
    // has no server-wide options.
    for (method, form) in [("CONNECT", "example.com:443"), ("CONNECT", "[::1]:8443"), ("OPTIONS", "*")] {
        let response = target(&server, method, form).await;
        assert_eq!(response.status, 501, "{method} {form}: {}", shown(&response.raw));
        assert!(response.text().contains("not implemented"), "{method} {form}: {}", response.text());
    }
    // CONNECT needs host and port, and nothing else.
    for form in ["example.com", "example.com:443/x", "/x", "user@example.com:443"] {
        let response = target(&server, "CONNECT", form).await;
        assert_eq!(response.status, 400, "CONNECT {form}: {}", shown(&response.raw));
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// A file that shrinks after it was opened
// ---------------------------------------------------------------------------------------------

/// 8 MiB that repeat no short pattern: more than the socket buffers take before a slow reader
/// reads.
fn file_bytes() -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..8 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_shrinks_while_it_is_sent_gets_its_connection_closed_not_a_wrong_body() {
    let bytes = file_bytes();
    // Sent by the kernel (inline, sendfile), read in pieces inline, read in pieces on the pool.
    for (file_io, sendfile) in [(FileIo::Inline, true), (FileIo::Inline, false), (FileIo::BlockingPool, false)] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("big.bin");
        std::fs::write(&path, &bytes).expect("big.bin");
        let root = dir.path().to_path_buf();
        let server = serve_routes(vec![(
            "/",
            factory(move |request| {
                let mut minimal = Minimal::new(request, root.clone(), "index.html");
                (minimal.file_io, minimal.sendfile) = (file_io, sendfile);
                minimal
            }),
        )])
        .await;
        let mode = format!("{file_io:?}, sendfile {sendfile}");
        // A slow reader: the server can send only what the buffers hold before it must wait.
        let mut client = Client::connect_slow(server.addr, 1024).await;
        client.send(request("GET", "/big.bin", "")).await;
        let head = client.read_until(b"\r\n\r\n").await;
        assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{mode}: {}", shown(&head));
        assert!(find(&head, format!("\r\nContent-Length: {}\r\n", bytes.len()).as_bytes()).is_some(), "{mode}");
        let mut body = client.read_exact(16 * 1024).await;
        // The file shrinks to a tenth while the rest of it is still to be read.
        let cut = bytes.len() / 10;
        let file = std::fs::File::options().write(true).open(&path).expect("big.bin to write");
        file.set_len(cut as u64).expect("truncated");
        drop(file);
        body.extend(client.read_to_eof().await);
        assert!(body.len() < bytes.len(), "{mode}: the whole length arrived from a file that shrank");
        // What arrived is the file's, up to where it now ends. (Past that point, the bytes sent
        // by the kernel are those of pages it was handed before the file shrank, as they are
        // when it sends them: zeros, once truncated. A copy, read in pieces, is the file's.)
        let kept = if sendfile { body.len().min(cut) } else { body.len() };
        let first_wrong = body[..kept].iter().zip(&bytes).position(|(a, b)| a != b);
        assert_eq!(first_wrong, None, "{mode}: of the {} bytes that arrived, not all are the file's", body.len());
        drop(client);
        server.wait_idle("the connection's components to end").await;
        server.stop().await;
    }
}
