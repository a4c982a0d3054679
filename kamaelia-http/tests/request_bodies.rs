//! Request bodies (RFC 9112 §6, §7; RFC 9110 §10.1.1): framed by one valid `Content-Length` or
//! by strict chunked coding, for any method; both framings at once, or conflicting lengths, are a
//! 400 and a close; `Expect: 100-continue` is answered before the body; a body over `max_body`
//! is refused with 413 (by `Content-Length`, before the body is sent).

mod support;

use kamaelia_http::HttpSettings;
use support::*;

/// `/echo` streams the body back as it comes (BodyEcho: its head goes out at once); `/buffered`
/// answers only once the whole body has arrived; anything else describes the request.
fn routes() -> Vec<(&'static str, kamaelia_http::Factory)> {
    vec![("/echo", body_echo()), ("/buffered", buffered_echo()), ("/", describe())]
}

fn small_body_limit(max_body: u64) -> HttpSettings {
    HttpSettings { max_body, ..HttpSettings::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_body_reaches_the_handler() {
    let server = serve_routes(routes()).await;
    let response = exchange(
        server.addr,
        "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
    )
    .await;
    response.assert_status(200);
    response.assert_header("content-length", "11");
    response.assert_header("content-type", "text/plain");
    assert_eq!(response.body, b"hello world");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_content_length_body_streams_through_intact() {
    let server = serve_routes(routes()).await;
    let body: Vec<u8> = (0..600_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut client = server.connect().await;
    let head =
        format!("PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    // Write and read at once: the echo comes back while the body is still going out.
    let mut request = head.into_bytes();
    request.extend_from_slice(&body);
    let response = client.send_and_read(&request, "PUT").await;
    response.assert_status(200);
    response.assert_header("content-type", "application/octet-stream");
    assert_eq!(response.body.len(), body.len());
    assert!(response.body == body, "the echoed body differs from the one sent");
    drop(client);
    server.stop().await;
}

/// The socket's reads start small and grow while a body streams in, and the parser lets go of
/// its buffer between requests: a large body and then small requests on one keep-alive
/// connection all arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_body_then_small_requests_on_one_connection_all_arrive_whole() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    let body: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 253) as u8).collect();
    let mut request =
        format!("POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    request.extend_from_slice(&body);
    let response = client.send_and_read(&request, "POST").await;
    response.assert_status(200);
    assert!(response.body == body, "the large body arrived changed");
    for text in ["small", "smaller", "x"] {
        client.send(format!("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n{text}", text.len())).await;
        let response = client.response_to("POST").await;
        response.assert_status(200);
        assert_eq!(response.text(), text);
    }
    assert_eq!(server.handle.stats().accepted, 1, "every request went over one connection");
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_with_extensions_and_trailers_is_dechunked() {
    let server = serve_routes(routes()).await;
    let chunked = "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                   5;name=value\r\nhello\r\n\
                   6;a;b=\"quoted;value\"\r\n world\r\n\
                   A\r\n, chunked!\r\n\
                   0;last\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n";
    let response = exchange(server.addr, chunked).await;
    response.assert_status(200);
    response.assert_header("content-type", "text/plain");
    // BodyEcho has no length for a chunked body: the response is chunked in turn.
    assert_eq!(response.framing, Framing::Chunked);
    assert_eq!(response.text(), "hello world, chunked!");

    // The same body, answered once it is complete.
    let buffered = chunked.replace("/echo", "/buffered");
    let response = exchange(server.addr, buffered).await;
    response.assert_status(200);
    response.assert_header("content-length", "21");
    assert_eq!(response.text(), "hello world, chunked!");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_chunk_size_is_a_400_and_a_close() {
    let server = serve_routes(routes()).await;
    for size_line in ["zz", "-5", " 5", "5 ", "0x5", ""] {
        let mut client = server.connect().await;
        client
            .send(format!(
                "POST /buffered HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n{size_line}\r\nhello\r\n0\r\n\r\n"
            ))
            .await;
        let response = client.response().await;
        assert_eq!(response.status, 400, "chunk size line {size_line:?}: {}", shown(&response.raw));
        response.assert_header("connection", "close");
        response.assert_date_and_server();
        client.assert_closed().await;
    }
    // The other side: hex sizes in either case are fine.
    let response = exchange(
        server.addr,
        "POST /buffered HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\na\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n",
    )
    .await;
    response.assert_status(200);
    assert_eq!(response.text(), "0123456789abcdefghijk");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_chunked_body_after_the_response_began_closes_the_connection() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    // BodyEcho sends its head at once, and echoes the first chunk: the response has begun, so
    // a 400 can no longer be sent when the next chunk line turns out broken.
    client.send("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n").await;
    let begun = client.read_until(b"5\r\nhello\r\n").await;
    assert!(begun.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&begun));
    client.send("zz\r\n").await;
    // The connection is closed, with the chunked response left unterminated.
    let rest = client.read_to_eof().await;
    assert!(find(&rest, b"0\r\n\r\n").is_none(), "the chunked body was terminated as if complete: {}", shown(&rest));
    drop(client);
    server.wait_idle("the connection's components to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_encoding_with_content_length_is_a_400_and_a_close() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    client
        .send("POST /buffered HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        .await;
    let response = client.response().await;
    response.assert_status(400);
    response.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);

    // In the other order too.
    let mut client = server.connect().await;
    client
        .send("POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        .await;
    client.response().await.assert_status(400);
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_different_content_lengths_are_a_400_and_two_equal_ones_are_not() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    client.send("POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd").await;
    let response = client.response().await;
    response.assert_status(400);
    response.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);

    for lengths in ["Content-Length: 3, 4\r\n", "Content-Length: +3\r\n", "Content-Length: 3x\r\n"] {
        let response =
            exchange(server.addr, format!("POST /buffered HTTP/1.1\r\nHost: test\r\n{lengths}\r\nabcd")).await;
        assert_eq!(response.status, 400, "{lengths:?}: {}", shown(&response.raw));
    }

    let response = exchange(
        server.addr,
        "POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    )
    .await;
    response.assert_status(200);
    assert_eq!(response.body, b"abc");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    client
        .send("POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
        .await;
    // Only the head has been sent: the interim response comes first, byte for byte.
    let interim = client.read_exact(25).await;
    assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n", "{}", shown(&interim));
    client.send("hello").await;
    let response = client.response_to("POST").await;
    response.assert_status(200);
    assert_eq!(response.body, b"hello");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expect_100_continue_on_a_body_over_the_limit_gets_413_and_no_100() {
    let server = serve(routes(), small_body_limit(10)).await;
    let mut client = server.connect().await;
    client.send("POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n").await;
    let response = client.response_to("POST").await;
    response.assert_status(413);
    response.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expectation_other_than_100_continue_is_417() {
    let server = serve_routes(routes()).await;
    let response =
        exchange(server.addr, "POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\nExpect: tea\r\n\r\nx")
            .await;
    response.assert_status(417);
    response.assert_header("connection", "close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_on_get_and_on_delete_reaches_the_handler() {
    let server = serve_routes(routes()).await;
    for method in ["GET", "DELETE", "OPTIONS"] {
        let response = exchange(
            server.addr,
            format!("{method} /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody"),
        )
        .await;
        response.assert_status(200);
        assert_eq!(response.body, b"body", "the body of a {method}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_on_get_and_delete_do_not_break_the_next_pipelined_request() {
    let server = serve_routes(routes()).await;
    let mut client = server.connect().await;
    let pipeline = [
        // A body on a GET whose handler reads it...
        "GET /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc".to_owned(),
        // ...on a DELETE...
        "DELETE /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nxyz".to_owned(),
        // ...on a GET whose handler ignores it (the server reads and drops it)...
        "GET /ignored HTTP/1.1\r\nHost: test\r\nContent-Length: 22\r\n\r\nGET /smuggled HTTP/1.1".to_owned(),
        // ...a chunked one with trailers...
        "DELETE /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n"
            .to_owned(),
        // ...and a plain request after them.
        request("GET", "/after", ""),
    ]
    .concat();
    client.send(pipeline).await;
    assert_eq!(client.response().await.body, b"abc");
    assert_eq!(client.response().await.body, b"xyz");
    assert_eq!(client.response().await.body, b"GET /ignored");
    assert_eq!(client.response().await.body, b"hi");
    assert_eq!(client.response().await.body, b"GET /after");
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_over_the_limit_is_refused_with_413_before_the_body_is_sent() {
    let server = serve(routes(), small_body_limit(10)).await;
    let mut client = server.connect().await;
    // Only the head: the answer must not wait for the body.
    client.send("POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\n").await;
    let response = client.response_to("POST").await;
    response.assert_status(413);
    response.assert_header("connection", "close");
    response.assert_date_and_server();
    client.assert_closed().await;
    drop(client);

    // The other side of the limit.
    let response = exchange(
        server.addr,
        "POST /buffered HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
    )
    .await;
    response.assert_status(200);
    assert_eq!(response.body, b"0123456789");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_growing_past_the_limit_is_refused_with_413() {
    let server = serve(routes(), small_body_limit(10)).await;
    let mut client = server.connect().await;
    client
        .send("POST /buffered HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        .await;
    let response = client.response_to("POST").await;
    response.assert_status(413);
    response.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);

    // Exactly at the limit, in two chunks.
    let response = exchange(
        server.addr,
        "POST /buffered HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
    )
    .await;
    response.assert_status(200);
    assert_eq!(response.body, b"helloworld");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_past_the_limit_after_the_response_began_closes_the_connection() {
    let server = serve(routes(), small_body_limit(10)).await;
    let mut client = server.connect().await;
    // BodyEcho answers at once and echoes the first chunk; the second takes the body past the
    // limit, when a 413 can no longer be sent: the response is cut off.
    client.send("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n").await;
    let begun = client.read_until(b"5\r\nhello\r\n").await;
    assert!(begun.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&begun));
    client.send("6\r\n world\r\n0\r\n\r\n").await;
    let rest = client.read_to_eof().await;
    assert!(find(&rest, b"0\r\n\r\n").is_none(), "the chunked body was terminated as if complete: {}", shown(&rest));
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_codings_other_than_chunked_are_refused() {
    let server = serve_routes(routes()).await;
    let response = exchange(
        server.addr,
        "POST /buffered HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    )
    .await;
    response.assert_status(501);
    response.assert_header("connection", "close");
    let response =
        exchange(server.addr, "POST /buffered HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n").await;
    response.assert_status(400);
    let response =
        exchange(server.addr, "POST /buffered HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").await;
    response.assert_status(400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_uploads_a_chunked_body() {
    let server = serve_routes(routes()).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("upload.bin");
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&file, &body).expect("the upload file");
    let data = format!("@{}", file.display());
    let url = server.url("/buffered");
    let out = curl_ok(&[
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Content-Type: application/x-test",
        "--data-binary",
        &data,
        &url,
    ])
    .await;
    assert_eq!(out.len(), body.len());
    assert!(out == body, "the echoed upload differs");
    server.stop().await;
}
