//! Failing handlers are contained: a handler that panics, fails, ends or only signals without
//! answering gets its client a 500 page, and the same server goes on serving; a handler that
//! breaks after its head has gone out gets the connection closed (the body incomplete); a client
//! that vanishes mid-response tears down its connection's components, as introspection shows.

mod support;

use axon_core::ipc::ProducerFinished;
use axon_core::{from_fn, ComponentError, Context};
use http::StatusCode;
use kamaelia_http::{factory, Bytes, Factory, Minimal, Request, Resource, ResponseHead};
use support::*;

/// Panics, in a way the compiler does not see as diverging (so the body still returns a result).
fn explode(what: &str) {
    panic!("{what}");
}

fn panics_before_the_head() -> Factory {
    factory(|_r: Request| {
        from_fn("PanicsBeforeHead", |_ctx: Context<Bytes, Resource>| async move {
            explode("boom before the head");
            Ok(())
        })
    })
}

fn fails_before_the_head() -> Factory {
    factory(|_r: Request| {
        from_fn("FailsBeforeHead", |_ctx: Context<Bytes, Resource>| async move {
            Err(ComponentError::msg("the handler gave up"))
        })
    })
}

fn ends_without_answering() -> Factory {
    factory(|_r: Request| from_fn("EndsSilently", |_ctx: Context<Bytes, Resource>| async move { Ok(()) }))
}

/// Signals that it is done without sending anything, then stays alive until stopped.
fn only_signals() -> Factory {
    factory(|_r: Request| {
        from_fn("OnlySignals", |mut ctx: Context<Bytes, Resource>| async move {
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            while ctx.next_event().await.is_some() {}
            std::future::pending::<()>().await;
            Ok(())
        })
    })
}

fn sends_data_before_a_head() -> Factory {
    factory(|_r: Request| {
        from_fn("DataFirst", |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(Resource::Data(Bytes::from_static(b"headless"))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// Sends a head (with `length`, if given) and 10 bytes, then panics.
fn panics_after_the_head(length: Option<u64>) -> Factory {
    factory(move |_r: Request| {
        from_fn("PanicsAfterHead", move |mut ctx: Context<Bytes, Resource>| async move {
            let mut head = ResponseHead::new(StatusCode::OK).content_type("text/plain");
            if let Some(n) = length {
                head = head.length(n);
            }
            ctx.outbox.send(head.into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from_static(b"0123456789"))).await;
            explode("boom after the head");
            Ok(())
        })
    })
}

/// Announces `length` bytes and sends `body`.
fn announces(length: u64, body: &'static [u8]) -> Factory {
    factory(move |_r: Request| {
        from_fn("Announces", move |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(length).into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from_static(body))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// Streams 1 KiB pieces for ever (chunked), ignoring its control.
fn streams_for_ever() -> Factory {
    factory(|_r: Request| {
        from_fn("StreamsForEver", |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(ResponseHead::new(StatusCode::OK).content_type("text/plain").into()).await;
            let piece = Bytes::from(vec![b'x'; 1024]);
            loop {
                ctx.outbox.send(Resource::Data(piece.clone())).await;
            }
        })
    })
}

/// Never answers and never ends on its own.
fn hangs() -> Factory {
    factory(|_r: Request| {
        from_fn("Hangs", |_ctx: Context<Bytes, Resource>| async move {
            std::future::pending::<()>().await;
            Ok(())
        })
    })
}

fn routes() -> Vec<(&'static str, Factory)> {
    let factory_panics: Factory = factory(|_r: Request| -> kamaelia_http::Handler {
        explode("boom in the factory");
        unreachable!()
    });
    let root = std::env::temp_dir();
    vec![
        ("/panic-before", panics_before_the_head()),
        ("/fail-before", fails_before_the_head()),
        ("/end-silently", ends_without_answering()),
        ("/only-signal", only_signals()),
        ("/data-first", sends_data_before_a_head()),
        ("/panic-after-length", panics_after_the_head(Some(100))),
        ("/panic-after-chunked", panics_after_the_head(None)),
        ("/too-long", announces(5, b"0123456789")),
        ("/too-short", announces(10, b"01234")),
        ("/factory-panics", factory_panics),
        ("/forever", streams_for_ever()),
        ("/hangs", hangs()),
        ("/static", factory(move |request| Minimal::new(request, root.clone(), "index.html"))),
        ("/ok", describe()),
    ]
}

/// Asserts that the server still serves, on a new connection.
async fn still_serving(server: &TestServer) {
    let response = get(server.addr, "/ok").await;
    response.assert_status(200);
    assert_eq!(response.body, b"GET /ok");
}

/// Expects a 500 page for `path`, the close, and the server still serving.
async fn expect_500(server: &TestServer, path: &str) {
    expect_500_then(server, path, true).await;
}

/// Expects a 500 page for `path` (and, if `closes`, the close), and the server still serving.
async fn expect_500_then(server: &TestServer, path: &str, closes: bool) {
    let mut client = server.connect().await;
    client.send(request("GET", path, "")).await;
    let response = client.response().await;
    assert_eq!(response.status, 500, "{path}: {}", shown(&response.raw));
    assert!(response.raw.starts_with(b"HTTP/1.1 500 Internal Server Error\r\n"));
    response.assert_header("content-type", "text/html; charset=utf-8");
    response.assert_date_and_server();
    assert!(response.text().contains("<h2>500 Internal Server Error</h2>"), "{}", response.text());
    if closes {
        response.assert_header("connection", "close");
        client.assert_closed().await;
    }
    drop(client);
    still_serving(server).await;
    server.wait_idle(&format!("the connections of {path} to end")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_panics_before_its_head_gets_the_client_a_500() {
    let server = serve_routes(routes()).await;
    expect_500(&server, "/panic-before").await;
    let failures = server.scheduler.failures();
    assert!(
        failures.iter().any(|f| f.name.starts_with("PanicsBeforeHead")),
        "the panic was not reported: {failures:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_fails_before_its_head_gets_the_client_a_500() {
    let server = serve_routes(routes()).await;
    expect_500(&server, "/fail-before").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_ends_without_answering_gets_the_client_a_500() {
    let server = serve_routes(routes()).await;
    expect_500(&server, "/end-silently").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_only_signals_gets_the_client_a_500_and_is_stopped() {
    let server = serve_routes(routes()).await;
    expect_500(&server, "/only-signal").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_sends_data_before_a_head_gets_the_client_a_500() {
    let server = serve_routes(routes()).await;
    expect_500(&server, "/data-first").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_factory_that_panics_gets_the_client_a_500() {
    let server = serve_routes(routes()).await;
    // The request itself was fine: the connection may stay open.
    expect_500_then(&server, "/factory-panics", false).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_panics_after_its_head_gets_the_connection_closed() {
    let server = serve_routes(routes()).await;
    // Framed by length: the body stops short of it, and the connection closes.
    let mut client = server.connect().await;
    client.send(request("GET", "/panic-after-length", "")).await;
    let incomplete = client.try_response_to("GET").await.expect_err("a complete response from a panicking handler");
    assert!(incomplete.received.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&incomplete.received));
    assert!(find(&incomplete.received, b"Content-Length: 100\r\n").is_some());
    assert!(incomplete.received.ends_with(b"\r\n\r\n0123456789"), "{}", shown(&incomplete.received));
    drop(client);

    // Chunked: no last chunk, and the connection closes.
    let mut client = server.connect().await;
    client.send(request("GET", "/panic-after-chunked", "")).await;
    let incomplete = client.try_response_to("GET").await.expect_err("a complete response from a panicking handler");
    assert!(incomplete.received.ends_with(b"\r\n\r\nA\r\n0123456789\r\n"), "{}", shown(&incomplete.received));
    drop(client);

    still_serving(&server).await;
    server.wait_idle("the connections to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_sending_more_than_its_length_is_cut_and_the_connection_closed() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/too-long", "")).await;
    let response = client.response().await;
    response.assert_header("content-length", "5");
    assert_eq!(response.body, b"01234");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

/// A file region past the end of its file (the file shrank between the head and the send): what
/// the file holds goes out, then the connection is dropped, so the client sees a body shorter than
/// its `Content-Length`, never a complete-looking one; the server goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_region_longer_than_its_file_gets_the_connection_dropped() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("short.bin");
    std::fs::write(&path, vec![b'x'; 1000]).expect("short.bin");
    let mut routes = routes();
    routes.push((
        "/shrunk",
        factory(move |_r: Request| {
            let path = path.clone();
            from_fn("Shrunk", move |mut ctx: Context<Bytes, Resource>| async move {
                ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(5000).into()).await;
                let file = std::fs::File::open(&path)?;
                ctx.outbox.send(Resource::File(kamaelia_http::FileRegion::new(file, 0, 5000))).await;
                ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
                Ok(())
            })
        }),
    ));
    let server = serve_routes(routes).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/shrunk", "")).await;
    let incomplete = client.try_response_to("GET").await.expect_err("a complete response from a short file");
    let body_start = find(&incomplete.received, b"\r\n\r\n").expect("a head") + 4;
    assert_eq!(incomplete.received.len() - body_start, 1000, "{}", shown(&incomplete.received));
    assert!(incomplete.received.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&incomplete.received));
    drop(client);
    server.wait_idle("the connection's components to end").await;
    still_serving(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_sending_less_than_its_length_gets_the_connection_closed() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/too-short", "")).await;
    let incomplete = client.try_response_to("GET").await.expect_err("a complete response from a short handler");
    assert!(incomplete.received.ends_with(b"\r\n\r\n01234"), "{}", shown(&incomplete.received));
    drop(client);
    still_serving(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_vanishing_mid_response_leave_no_components_behind() {
    let server = serve_routes(routes()).await;
    // Idle: the server alone.
    assert_eq!(server.scheduler.live(), 1);
    let mut clients = Vec::new();
    for _ in 0..8 {
        let addr = server.addr;
        clients.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            client.send(request("GET", "/forever", "")).await;
            let head = client.read_until(b"\r\n\r\n").await;
            assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&head));
            client.read_exact(20_000).await;
            // And goes, with the handler still streaming.
        }));
    }
    for c in clients {
        within("a client", c).await.expect("a client task");
    }
    server.wait_idle("every connection's components to end").await;
    let snapshot = server.scheduler.introspect();
    assert_eq!(
        snapshot.components.len(),
        1,
        "left behind: {:?}",
        snapshot.components.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    assert!(snapshot.linkages.is_empty(), "linkages left behind: {}", snapshot.linkages.len());
    still_serving(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_vanishing_mid_file_leaves_no_components_behind() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 4 * 1024 * 1024]).expect("big.bin");
    let root = dir.path().to_path_buf();
    let server =
        serve_routes(vec![("/", factory(move |request| Minimal::new(request, root.clone(), "index.html")))]).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/big.bin", "")).await;
    client.read_until(b"\r\n\r\n").await;
    client.read_exact(100_000).await;
    drop(client);
    server.wait_idle("the connection's components to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_vanishing_from_a_handler_that_never_answers_leaves_no_components_behind() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/hangs", "")).await;
    // Wait until the handler runs: the server, the adapter, the Graphline, its three children
    // and the handler.
    let scheduler = server.scheduler.clone();
    wait_until("the handler to be running", || scheduler.live() == 7).await;
    client.reset();
    server.wait_idle("the connection's components to end").await;
    still_serving(&server).await;
    server.stop().await;
}
