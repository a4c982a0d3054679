//! Function handlers end to end, over real sockets: an `async fn` on a route answers with the
//! same wire behaviour as a component (framing, keep-alive, HEAD without a body, error pages);
//! a body streams out at the client's pace and in at the handler's; a panic or a failure is a
//! 500 (before the head) or a close (after it), and the server serves on with nothing left
//! behind.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kamaelia_http::http_server::shared_factory;
use kamaelia_http::routes::{self, post, Routes};
use kamaelia_http::{
    BodyWriter, Bytes, HttpSettings, Request, RequestBody, Response, ResponseBody, ResponseHead, StatusCode,
};
use support::*;

async fn hello(_request: Request) -> Response {
    Response::html("<h1>Hello</h1>")
}

async fn item(request: Request) -> Response {
    Response::text(format!("item {}", request.param("key").unwrap_or("?")))
}

/// Counts to `n` (the route's parameter), one line a piece, chunked.
async fn count(request: Request) -> Response {
    let n: u32 = request.param("n").and_then(|n| n.parse().ok()).unwrap_or(0);
    let head = ResponseHead::new(StatusCode::OK).content_type("text/plain");
    Response::new(
        head,
        ResponseBody::from_writer(move |mut out: BodyWriter| async move {
            for i in 1..=n {
                out.send(format!("{i}\n")).await?;
            }
            Ok(())
        }),
    )
}

/// The body, upper-cased, if it is at most 16 bytes (413 otherwise).
async fn upper(_request: Request, body: RequestBody) -> Response {
    match body.to_bytes_limited(16).await {
        Ok(bytes) => Response::text(String::from_utf8_lossy(&bytes).to_uppercase()),
        Err(e) => e.into(),
    }
}

/// Counts the body's bytes as they arrive.
async fn length(_request: Request, mut body: RequestBody) -> Response {
    let mut n = 0;
    while let Some(piece) = body.piece().await {
        match piece {
            Ok(piece) => n += piece.len(),
            Err(e) => return e.into(),
        }
    }
    Response::text(n.to_string())
}

async fn panics_at_once(_request: Request) -> Response {
    panic!("the handler gave up");
}

async fn panics_mid_body(_request: Request) -> Response {
    let head = ResponseHead::new(StatusCode::OK).content_type("text/plain");
    Response::new(
        head,
        ResponseBody::from_writer(|mut out: BodyWriter| async move {
            out.send("first\n").await?;
            out.send("second\n").await?;
            panic!("the body gave up");
        }),
    )
}

fn table() -> Routes {
    Routes::new()
        .route("/hello", routes::get(hello))
        .unwrap()
        .route("/items/{key}", routes::get(item))
        .unwrap()
        .route("/count/{n}", routes::get(count))
        .unwrap()
        .route("/upper", post(upper))
        .unwrap()
        .route("/length", post(length))
        .unwrap()
        .route("/panic", routes::get(panics_at_once))
        .unwrap()
        .route("/panic-later", routes::get(panics_mid_body))
        .unwrap()
}

async fn serve_table(routes: Routes, settings: HttpSettings) -> TestServer {
    serve_create(shared_factory(routes.into_factory()), settings).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_answer_with_the_servers_framing_on_one_keep_alive_connection() {
    let server = serve_table(table(), HttpSettings::default()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/hello", "")).await;
    let hello = client.response_to("GET").await;
    hello.assert_status(200);
    hello.assert_date_and_server();
    hello.assert_header("content-type", "text/html; charset=utf-8");
    assert_eq!(hello.framing, Framing::Length(14));
    assert_eq!(hello.text(), "<h1>Hello</h1>");

    client.send(request("GET", "/items/a%20b", "")).await;
    assert_eq!(client.response_to("GET").await.text(), "item a b");

    // No length: chunked, each line as the writer sent it.
    client.send(request("GET", "/count/5", "")).await;
    let counted = client.response_to("GET").await;
    assert_eq!(counted.framing, Framing::Chunked);
    assert_eq!(counted.text(), "1\n2\n3\n4\n5\n");

    // HEAD: the GET function's head, no body.
    client.send(request("HEAD", "/hello", "")).await;
    let head = client.response_to("HEAD").await;
    head.assert_status(200);
    head.assert_header("content-length", "14");
    assert!(head.body.is_empty());
    client.send(request("HEAD", "/count/1000000", "")).await;
    let head = client.response_to("HEAD").await;
    head.assert_status(200);
    assert!(head.body.is_empty());

    // 405 and OPTIONS are the table's, whatever kind the handlers are.
    client.send(request("DELETE", "/hello", "")).await;
    let refused = client.response_to("DELETE").await;
    refused.assert_status(405);
    refused.assert_header("allow", "GET, HEAD, OPTIONS");

    // The same bytes again, and by curl (a real client) too.
    client.send(request("GET", "/hello", "Connection: close\r\n")).await;
    let again = client.response_to("GET").await;
    assert_eq!(again.text(), "<h1>Hello</h1>");
    assert_eq!(curl_ok(&["-s", &server.url("/count/3")]).await, b"1\n2\n3\n");
    drop(client);
    server.wait_idle("every connection has closed").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_read_bodies_whole_or_as_they_arrive_within_limits() {
    let settings = HttpSettings { max_body: 100_000, ..HttpSettings::default() };
    let server = serve_table(table(), settings).await;
    let mut client = server.connect().await;
    client.send(request("POST", "/upper", "Content-Length: 5\r\n")).await;
    client.send("hello").await;
    assert_eq!(client.response_to("POST").await.text(), "HELLO");
    // Chunked, at the function's own limit exactly and one past it.
    client.send(request("POST", "/upper", "Transfer-Encoding: chunked\r\n")).await;
    client.send("8\r\nabcdefgh\r\n8\r\nijklmnop\r\n0\r\n\r\n").await;
    assert_eq!(client.response_to("POST").await.text(), "ABCDEFGHIJKLMNOP");
    client.send(request("POST", "/upper", "Transfer-Encoding: chunked\r\n")).await;
    client.send("8\r\nabcdefgh\r\n9\r\nijklmnopq\r\n0\r\n\r\n").await;
    let too_large = client.response_to("POST").await;
    too_large.assert_status(413);
    assert!(too_large.text().contains("larger than 16 bytes"), "{}", too_large.text());
    // The rest of that body was read and dropped: the connection goes on.
    client.send(request("POST", "/length", "Content-Length: 3\r\n")).await;
    client.send("abc").await;
    assert_eq!(client.response_to("POST").await.text(), "3");
    // A body over the server's limit never reaches the function: 413 from the server.
    client.send(request("POST", "/length", "Content-Length: 100001\r\n")).await;
    client.response_to("POST").await.assert_status(413);
    drop(client);
    // 90,000 bytes in small chunks, counted as they arrive.
    let mut client = server.connect().await;
    client.send(request("POST", "/length", "Transfer-Encoding: chunked\r\n")).await;
    for _ in 0..90 {
        client.send(format!("3E8\r\n{}\r\n", "x".repeat(1000))).await;
    }
    client.send("0\r\n\r\n").await;
    assert_eq!(client.response_to("POST").await.text(), "90000");
    drop(client);
    server.wait_idle("every connection has closed").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_500_before_the_head_and_a_close_after_it_and_the_server_serves_on() {
    let server = serve_table(table(), HttpSettings::default()).await;
    let failed = get(server.addr, "/panic").await;
    failed.assert_status(500);
    assert!(failed.text().contains("panicked: the handler gave up"), "{}", failed.text());
    failed.assert_header("connection", "close");

    // After the head: the body is cut off, the connection closed without the last chunk.
    let mut client = server.connect().await;
    client.send(request("GET", "/panic-later", "")).await;
    let cut = client.try_response_to("GET").await;
    assert!(cut.is_err(), "a complete response after a panic mid-body: {cut:?}");

    // Nothing is left behind, and the next request is served.
    server.wait_idle("the failed connections have closed").await;
    assert_eq!(get(server.addr, "/hello").await.text(), "<h1>Hello</h1>");
    server.stop().await;
}

/// A piece of a streamed body: 64 KiB.
const PIECE: usize = 64 * 1024;
/// What may lie between the writer and the client reading: the kernel's socket buffers (a few
/// MiB on loopback) and the server's (a few pieces). Generous; without back-pressure the writer
/// would be gigabytes ahead.
const IN_FLIGHT: u64 = 32 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_goes_out_at_the_clients_pace() {
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    let endless = move |_request: Request| {
        let counter = counter.clone();
        async move {
            let head = ResponseHead::new(StatusCode::OK).content_type("application/octet-stream");
            Response::new(
                head,
                ResponseBody::from_writer(move |mut out: BodyWriter| async move {
                    let piece = Bytes::from(vec![b'x'; PIECE]);
                    // 16 GiB, far more than the test reads.
                    for _ in 0..(1 << 18) {
                        out.send(piece.clone()).await?;
                        counter.fetch_add(PIECE as u64, Ordering::SeqCst);
                    }
                    Ok(())
                }),
            )
        }
    };
    let routes = Routes::new().route("/endless", routes::get(endless)).unwrap();
    let server = serve_table(routes, HttpSettings::default()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/endless", "")).await;
    let mut read = 0u64;
    while read < 64 * 1024 * 1024 {
        read += client.read_some().await.len() as u64;
        let ahead = written.load(Ordering::SeqCst).saturating_sub(read);
        assert!(ahead <= IN_FLIGHT, "the writer is {ahead} bytes ahead of the client, which has read {read}");
    }
    // The client goes: the writer is told, and the connection's components end.
    drop(client);
    server.wait_idle("the abandoned response has been let go").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_comes_in_at_the_functions_pace() {
    let read = Arc::new(AtomicU64::new(0));
    let (permits, permit) = tokio::sync::mpsc::unbounded_channel::<()>();
    let permit = Arc::new(tokio::sync::Mutex::new(permit));
    let (counter, gate) = (read.clone(), permit.clone());
    let slow = move |_request: Request, mut body: RequestBody| {
        let (counter, gate) = (counter.clone(), gate.clone());
        async move {
            let mut gate = gate.lock().await;
            // One piece per permit.
            while gate.recv().await.is_some() {
                match body.piece().await {
                    Some(Ok(piece)) => counter.fetch_add(piece.len() as u64, Ordering::SeqCst),
                    Some(Err(e)) => return Response::from(e),
                    None => break,
                };
            }
            while let Some(Ok(piece)) = body.piece().await {
                counter.fetch_add(piece.len() as u64, Ordering::SeqCst);
            }
            Response::text(counter.load(Ordering::SeqCst).to_string())
        }
    };
    let routes = Routes::new().route("/slow", post(slow)).unwrap();
    let settings = HttpSettings { max_body: 1 << 30, ..HttpSettings::default() };
    let server = serve_table(routes, settings).await;
    let total: u64 = 256 * 1024 * 1024;
    let sent = Arc::new(AtomicU64::new(0));
    let stream = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let sending = {
        let sent = sent.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let head = request("POST", "/slow", &format!("Content-Length: {total}\r\nConnection: close\r\n"));
            writer.write_all(head.as_bytes()).await.expect("the server reads the head");
            let piece = vec![b'y'; PIECE];
            let mut left = total;
            while left > 0 {
                let n = left.min(PIECE as u64) as usize;
                writer.write_all(&piece[..n]).await.expect("the server reads the body");
                sent.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
            }
            writer
        })
    };
    for _ in 0..200 {
        permits.send(()).unwrap();
        let ahead = sent.load(Ordering::SeqCst).saturating_sub(read.load(Ordering::SeqCst));
        assert!(ahead <= IN_FLIGHT, "the client is {ahead} bytes ahead of the function");
        tokio::task::yield_now().await;
    }
    drop(permits);
    let writer = within("the whole body to be sent", sending).await.expect("the sending task");
    let mut response = Vec::new();
    use tokio::io::AsyncReadExt;
    within("the response", reader.read_to_end(&mut response)).await.expect("read the response");
    let response = String::from_utf8_lossy(&response).into_owned();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with(&format!("\r\n\r\n{total}")), "{response}");
    drop((reader, writer));
    server.wait_idle("the connection has closed").await;
    server.stop().await;
}
