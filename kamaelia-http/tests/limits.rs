//! Limits and timeouts, each with small settings and checked on both sides: the request target
//! (414), the head's size and field count (431), the idle keep-alive timeout (the connection
//! closes; each request starts the wait again), the head and body read timeouts (408), and the
//! requests one connection may make.

mod support;

use std::time::Duration;

use kamaelia_http::HttpSettings;
use support::*;

/// A GET of `target` whose head is exactly `size` bytes, padded with an `X-Pad` field.
fn head_of_size(target: &str, size: usize) -> String {
    let without_pad = format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-Pad: \r\n\r\n");
    assert!(size >= without_pad.len(), "a head of {size} bytes cannot hold {without_pad:?}");
    let head = format!(
        "GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(size - without_pad.len())
    );
    assert_eq!(head.len(), size);
    head
}

/// Asserts that a timeout of `timeout` took effect no sooner than `timeout` after the client's
/// last move (each `waited` is measured from before something the server's wait starts after,
/// so it cannot be shorter, less a few milliseconds of timer rounding). That it took effect at
/// all is the caller's deadline on the answer or the close; how soon after is not asserted (a
/// timing, on a loaded machine).
#[track_caller]
fn assert_took_the_timeout(what: &str, waited: Duration, timeout: Duration) {
    let early = timeout.saturating_sub(Duration::from_millis(20));
    assert!(
        early <= waited,
        "{what} came {waited:?} after the client's last move; the timeout is {timeout:?}, so not before {early:?} \
         was expected"
    );
}

/// Sends `bytes`; expects `status`, `Connection: close` and the close.
async fn refused(server: &TestServer, bytes: &[u8], status: u16) {
    let mut client = server.connect().await;
    client.send(bytes).await;
    let response = client.response().await;
    assert_eq!(response.status, status, "for {} bytes: {}", bytes.len(), shown(&response.raw));
    response.assert_header("connection", "close");
    response.assert_date_and_server();
    client.assert_closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_at_the_limit_is_served_and_one_byte_over_is_414() {
    let settings = HttpSettings { max_target_length: 64, ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    let at = format!("/{}", "a".repeat(63));
    assert_eq!(at.len(), 64);
    let response = get(server.addr, &at).await;
    response.assert_status(200);
    assert_eq!(response.text(), format!("GET {at}"));

    let over = format!("/{}", "a".repeat(64));
    refused(&server, request("GET", &over, "").as_bytes(), 414).await;
    // A query counts as part of the target.
    refused(&server, request("GET", &format!("/a?{}", "q".repeat(62)), "").as_bytes(), 414).await;
    // A target far too long is refused before its line ends.
    let mut client = server.connect().await;
    client.send(format!("GET /{}", "a".repeat(1000))).await;
    client.response().await.assert_status(414);
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_target_with_a_character_across_the_kept_prefix_is_414() {
    // The parser keeps the first 64 bytes of a refused target for the log; here byte 64 falls
    // inside the two bytes of 'é'. This once panicked the parser: the client got a bare close.
    let server = serve(describe_everything(), HttpSettings::default()).await;
    let target = format!("/{}é{}", "a".repeat(62), "a".repeat(9000));
    for _ in 0..3 {
        refused(&server, request("GET", &target, "").as_bytes(), 414).await;
    }
    // The server serves on.
    let response = get(server.addr, "/after").await;
    response.assert_status(200);
    assert_eq!(response.text(), "GET /after");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_at_the_size_limit_is_served_and_one_byte_over_is_431() {
    let settings = HttpSettings { max_head_bytes: 256, ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    let response = exchange(server.addr, head_of_size("/at", 256)).await;
    response.assert_status(200);
    assert_eq!(response.body, b"GET /at");
    refused(&server, head_of_size("/over", 257).as_bytes(), 431).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_growing_past_the_size_limit_is_431_before_it_ends() {
    let settings = HttpSettings { max_head_bytes: 256, ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    let mut client = server.connect().await;
    // No end in sight: the server must not wait for one.
    client.send(format!("GET / HTTP/1.1\r\nHost: test\r\nX-Pad: {}", "p".repeat(300))).await;
    let response = client.response().await;
    response.assert_status(431);
    response.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_many_fields_as_the_limit_are_served_and_one_more_is_431() {
    let settings = HttpSettings { max_headers: 5, ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    // Host, Connection and three more: five.
    let five = request("GET", "/five", "Connection: close\r\nX-1: 1\r\nX-2: 2\r\nX-3: 3\r\n");
    let response = exchange(server.addr, five).await;
    response.assert_status(200);
    assert_eq!(response.body, b"GET /five");
    let six = request("GET", "/six", "Connection: close\r\nX-1: 1\r\nX-2: 2\r\nX-3: 3\r\nX-4: 4\r\n");
    refused(&server, six.as_bytes(), 431).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_more_fields_than_the_default_limit_are_431() {
    let server = serve_routes(describe_everything()).await;
    let fields: String =
        (0..=kamaelia_http::settings::DEFAULT_MAX_HEADERS).map(|i| format!("X-{i}: {i}\r\n")).collect();
    refused(&server, request("GET", "/", &fields).as_bytes(), 431).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let timeout = Duration::from_secs(1);
    let settings = HttpSettings { keep_alive_timeout: timeout, ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    let mut client = server.connect().await;
    // (The wait starts once the response has gone, after this.)
    let sent = std::time::Instant::now();
    client.send(request("GET", "/a", "")).await;
    let response = client.response().await;
    response.assert_status(200);
    assert_eq!(response.header("connection"), None);
    // Then nothing: the server closes the connection, without a word, after the timeout.
    client.assert_closed().await;
    assert_took_the_timeout("the close of an idle connection", sent.elapsed(), timeout);
    drop(client);

    // A connection that never sends anything is closed the same way.
    let connecting = std::time::Instant::now();
    let mut client = server.connect().await;
    client.assert_closed().await;
    assert_took_the_timeout("the close of a silent connection", connecting.elapsed(), timeout);
    drop(client);
    server.wait_idle("both connections to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_starts_the_keep_alive_wait_again() {
    // The connection's timer is armed for the first wait's deadline; later requests move the
    // deadline on, and the timer going off at the old one must not close the connection.
    let timeout = Duration::from_secs(2);
    let settings = HttpSettings { keep_alive_timeout: timeout, ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    let mut client = server.connect().await;
    let started = std::time::Instant::now();
    let mut last_sent = started;
    for (n, at) in [(1, 0), (2, 1200), (3, 2500)] {
        // Each request comes less than the timeout after the one before, the last one after the
        // first wait's deadline (2 s): answering it shows the connection outlived that deadline.
        tokio::time::sleep_until(tokio::time::Instant::from_std(started + Duration::from_millis(at))).await;
        last_sent = std::time::Instant::now();
        client.send(request("GET", &format!("/{n}"), "")).await;
        let response = client.response().await;
        response.assert_status(200);
        assert_eq!(response.body, format!("GET /{n}").as_bytes(), "request {n} was sent {at} ms in");
    }
    // Then the keep-alive wait after the last request ends it: a whole timeout after it, not at
    // an earlier request's deadline.
    client.assert_closed().await;
    assert_took_the_timeout("the close after the last request", last_sent.elapsed(), timeout);
    drop(client);
    server.stop().await;
}

/// Issue 16, defect 5: idle time counts from the end of the response (its last byte handed to
/// the kernel), not from the end of the request. A client that stops reading a large response
/// for longer than the keep-alive timeout, then reads the rest, can make its next request on the
/// same connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_slower_to_read_than_the_keep_alive_timeout_is_followed_by_a_working_request() {
    let timeout = Duration::from_secs(1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    // More than the socket buffers hold (Linux lets a send buffer grow to 4 MiB; the client's
    // receive buffer is kept small): the server is still sending when the client pauses.
    let big: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), &big).expect("big.bin");
    let root = dir.path().to_owned();
    let settings = HttpSettings { keep_alive_timeout: timeout, ..HttpSettings::default() };
    let site = kamaelia_http::factory(move |request| kamaelia_http::Minimal::new(request, root.clone(), "index.html"));
    let server = serve(vec![("/", site)], settings).await;
    let mut client = Client::connect_slow(server.addr, 64 * 1024).await;
    client.send(request("GET", "/big.bin", "")).await;
    client.read_until(b"\r\n\r\n").await;
    // The client reads nothing for twice the timeout (the server's writes wait meanwhile), then
    // the rest as fast as it can.
    tokio::time::sleep(2 * timeout).await;
    let body = client.read_exact(big.len()).await;
    assert!(body == big, "the file arrived changed");
    client.send(request("GET", "/big.bin", "Range: bytes=0-9\r\n")).await;
    let second = client.response().await;
    second.assert_status(206);
    assert_eq!(second.body, &big[..10]);
    // Idle after that response, the connection is closed after the timeout, as ever.
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

/// The same for a response slower to make than the timeout: a handler that takes longer to
/// answer than the keep-alive timeout does not get its connection closed behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_slower_to_make_than_the_keep_alive_timeout_is_followed_by_a_working_request() {
    let timeout = Duration::from_millis(500);
    let slow = kamaelia_http::factory(move |_request| {
        axon_core::from_fn(
            "Slow",
            move |mut ctx: axon_core::Context<kamaelia_http::Bytes, kamaelia_http::Resource>| async move {
                // The handler's own pace: three times the keep-alive timeout to answer.
                tokio::time::sleep(3 * timeout).await;
                let head = kamaelia_http::ResponseHead::new(http::StatusCode::OK).length(4);
                ctx.outbox.send(head.into()).await;
                ctx.outbox.send(kamaelia_http::Resource::Data("slow".into())).await;
                ctx.signal.send(axon_core::ipc::ProducerFinished::from(ctx.id()).into()).await;
                Ok(())
            },
        )
    });
    let settings = HttpSettings { keep_alive_timeout: timeout, ..HttpSettings::default() };
    let server = serve(vec![("/slow", slow), ("/", describe())], settings).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/slow", "")).await;
    let first = client.response().await;
    first.assert_status(200);
    assert_eq!(first.body, b"slow");
    client.send(request("GET", "/after", "")).await;
    assert_eq!(client.response().await.body, b"GET /after");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_gets_408() {
    let settings = HttpSettings {
        body_read_timeout: Duration::from_secs(1),
        keep_alive_timeout: Duration::from_secs(60),
        header_read_timeout: Duration::from_secs(60),
        ..HttpSettings::default()
    };
    let server = serve(vec![("/buffered", buffered_echo())], settings).await;
    let mut client = server.connect().await;
    client.send(request("POST", "/buffered", "Content-Length: 10\r\n")).await;
    let sent = std::time::Instant::now();
    client.send("12345").await;
    let response = client.response_to("POST").await;
    assert_took_the_timeout("the 408 for a stalled body", sent.elapsed(), Duration::from_secs(1));
    response.assert_status(408);
    response.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_not_complete_within_the_read_timeout_gets_408() {
    let settings = HttpSettings {
        header_read_timeout: Duration::from_secs(1),
        // Longer than the test's deadline: only the head timeout can end this connection.
        keep_alive_timeout: Duration::from_secs(60),
        ..HttpSettings::default()
    };
    let server = serve(describe_everything(), settings).await;
    let mut client = server.connect().await;
    let sent = std::time::Instant::now();
    client.send("GET /slow HTTP/1.1\r\nHost: te").await;
    let response = client.response().await;
    assert_took_the_timeout("the 408 for a slow head", sent.elapsed(), Duration::from_secs(1));
    response.assert_status(408);
    assert!(response.raw.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"), "{}", shown(&response.raw));
    response.assert_header("connection", "close");
    response.assert_date_and_server();
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_request_a_connection_may_make_is_answered_with_close() {
    let settings = HttpSettings { max_requests_per_connection: 2, ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/1", "")).await;
    let first = client.response().await;
    assert_eq!(first.body, b"GET /1");
    assert_eq!(first.header("connection"), None);
    client.send(request("GET", "/2", "")).await;
    let second = client.response().await;
    assert_eq!(second.body, b"GET /2");
    second.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_request_per_connection_the_first_response_closes() {
    let settings = HttpSettings { max_requests_per_connection: 1, ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/1", "")).await;
    let first = client.response().await;
    assert_eq!(first.body, b"GET /1");
    first.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}
