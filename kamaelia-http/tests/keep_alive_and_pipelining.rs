//! Persistent connections (RFC 9112 §9.3): an HTTP/1.1 connection serves request after request;
//! HTTP/1.0 closes unless it asks for `keep-alive`; `Connection: close` is honoured; pipelined
//! requests are answered in order; the status line always says HTTP/1.1.

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_requests_are_served_on_one_http_1_1_connection() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;

    client.send(request("GET", "/first", "")).await;
    let first = client.response().await;
    first.assert_status(200);
    assert!(first.raw.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&first.raw));
    assert_eq!(first.body, b"GET /first");
    assert_eq!(first.header("connection"), None, "a persistent 1.1 response needs no Connection field");

    client.send(request("GET", "/second", "")).await;
    let second = client.response().await;
    second.assert_status(200);
    assert_eq!(second.body, b"GET /second");
    let third = client.still_answers(request("GET", "/third", "")).await;
    assert_eq!(third.body, b"GET /third", "{}", shown(&third.raw));

    // Both went over one connection.
    assert_eq!(server.handle.stats().accepted, 1);
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_http_1_1_connection_stays_open_after_a_response() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/first", "")).await;
    let first = client.response().await;
    first.assert_status(200);
    assert_eq!(first.header("connection"), None, "a persistent 1.1 response needs no Connection field");
    // The response is complete; the connection stays open: the server still counts it open,
    // and it answers the next request.
    assert_eq!(server.handle.stats().open, 1);
    let second = client.still_answers(request("GET", "/second", "")).await;
    second.assert_status(200);
    assert_eq!(second.body, b"GET /second");
    assert_eq!(server.handle.stats().accepted, 1);
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_0_closes_after_its_response_and_the_status_line_says_http_1_1() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client.send("GET /old HTTP/1.0\r\n\r\n").await;
    let response = client.response().await;
    assert!(response.raw.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&response.raw));
    response.assert_header("connection", "close");
    assert_eq!(response.body, b"GET /old");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_0_with_keep_alive_is_answered_with_keep_alive() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    let first = client.response().await;
    first.assert_status(200);
    first.assert_header("connection", "keep-alive");
    assert_eq!(first.body, b"GET /a");
    let second = client.still_answers("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    assert_eq!(second.body, b"GET /b", "the server closed a 1.0 keep-alive connection: {}", shown(&second.raw));
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_0_with_keep_alive_stays_open_until_a_request_without_it() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    let first = client.response().await;
    first.assert_header("connection", "keep-alive");
    assert_eq!(first.body, b"GET /a");

    client.send("GET /b HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").await;
    let second = client.response().await;
    second.assert_header("connection", "keep-alive");
    assert_eq!(second.body, b"GET /b");

    // Without it, the third is the last.
    client.send("GET /c HTTP/1.0\r\n\r\n").await;
    let third = client.response().await;
    third.assert_header("connection", "close");
    assert_eq!(third.body, b"GET /c");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_close_is_honoured_and_said() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/bye", "Connection: close\r\n")).await;
    let response = client.response().await;
    response.assert_status(200);
    response.assert_header("connection", "close");
    assert_eq!(response.body, b"GET /bye");
    client.assert_closed().await;
    drop(client);

    // A close token among others counts too.
    let mut client = server.connect().await;
    client.send(request("GET", "/bye2", "Connection: foo, Close\r\n")).await;
    client.response().await.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_pipelined_after_connection_close_is_not_answered() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client.send([request("GET", "/last", "Connection: close\r\n"), request("GET", "/ignored", "")].concat()).await;
    let response = client.response().await;
    assert_eq!(response.body, b"GET /last");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order() {
    let server = serve_routes(vec![("/echo", body_echo()), ("/", describe())]).await;
    let mut client = server.connect().await;
    // Three requests (GET, HEAD, POST with a body) and a fourth, in one write.
    let pipeline = [
        request("GET", "/one", ""),
        request("HEAD", "/two", ""),
        "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/x-three\r\nContent-Length: 5\r\n\r\nthree".to_owned(),
        request("GET", "/four", ""),
    ]
    .concat();
    client.send(pipeline).await;

    let one = client.response_to("GET").await;
    one.assert_status(200);
    assert_eq!(one.body, b"GET /one");
    let two = client.response_to("HEAD").await;
    two.assert_status(200);
    two.assert_header("content-length", "9"); // the length of "HEAD /two"
    assert!(two.body.is_empty());
    let three = client.response_to("POST").await;
    three.assert_status(200);
    three.assert_header("content-type", "text/x-three");
    assert_eq!(three.body, b"three");
    let four = client.response_to("GET").await;
    four.assert_status(200);
    assert_eq!(four.body, b"GET /four");

    // Nothing else came, and the connection is still usable.
    client.send(request("GET", "/five", "")).await;
    let five = client.response().await;
    assert_eq!(five.body, b"GET /five", "no stray bytes before the fifth response");
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_ending_with_connection_close_are_all_answered() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client
        .send(
            [request("GET", "/a", ""), request("GET", "/b", ""), request("GET", "/c", "Connection: close\r\n")]
                .concat(),
        )
        .await;
    let a = client.response().await;
    assert_eq!(a.body, b"GET /a", "{}", shown(&a.raw));
    assert_eq!(a.header("connection"), None, "only the last response closes: {}", a.head_text());
    let b = client.response().await;
    assert_eq!(b.body, b"GET /b", "{}", shown(&b.raw));
    let c = client.response().await;
    assert_eq!(c.body, b"GET /c", "{}", shown(&c.raw));
    c.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_after_pipelining_gets_every_response() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client.send([request("GET", "/a", ""), request("GET", "/b", ""), request("GET", "/c", "")].concat()).await;
    client.shutdown_write().await;
    for path in ["/a", "/b", "/c"] {
        let response = client.response().await;
        assert_eq!(response.text(), format!("GET {path}"), "{}", shown(&response.raw));
    }
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

/// `printf 'GET /a HTTP/1.1\r\nHost: test\r\n\r\n' | nc -N host port`. Guards against the end of
/// the client's input (`ProducerFinished`) being taken for a server shutdown, which left the
/// request unanswered in most runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_after_one_request_gets_its_response() {
    let server = serve_routes(describe_everything()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/a", "")).await;
    client.shutdown_write().await;
    let response = client.response().await;
    response.assert_status(200);
    assert_eq!(response.body, b"GET /a");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

/// Fifty pipelined GETs, five times over. Guards against a handler's exit reported after the
/// server let it go being taken for the end of the next request's handler (which answered
/// `500 ... The request handler ended without answering.` and closed, losing the rest).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_pipelined_requests_are_all_answered_in_order() {
    let server = serve_routes(describe_everything()).await;
    for _ in 0..5 {
        let mut client = server.connect().await;
        let all: String = (0..50).map(|i| request("GET", &format!("/n{i}"), "")).collect();
        client.send(all).await;
        for i in 0..50 {
            let response = client.response().await;
            assert_eq!(response.text(), format!("GET /n{i}"), "response {i} was:\n{}", shown(&response.raw));
        }
    }
    server.stop().await;
}

/// Issue 16, defect 3: clients that pipeline requests as fast as the kernel takes them and never
/// read a response cost each connection a few boxes' worth, not 64-deep queues of read chunks
/// and parsed requests (2 MiB a connection). Once their requests have backed up, each
/// connection's boxes hold at most: one chunk read ahead for the parser, a head and an end for
/// the request handler, and what the socket adapter may queue (its write queue, holding at most
/// `write_behind` bytes of responses and one flush more). The rest waits in the kernel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_pipelining_without_reading_are_held_back_in_the_kernel_not_in_memory() {
    const CONNECTIONS: usize = 8;
    // (No limit to the requests of a connection: these clients send tens of thousands.)
    let settings = kamaelia_http::HttpSettings { max_requests_per_connection: usize::MAX, ..Default::default() };
    let server = serve(describe_everything(), settings).await;
    let requests: String = (0..200).map(|i| request("GET", &format!("/{i}"), "")).collect();
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        // Small buffers, so that the kernel holds little of what either side sends.
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        socket.set_send_buffer_size(4096).expect("SO_SNDBUF");
        let stream = within("a connection", socket.connect(server.addr)).await.expect("connect");
        clients.push(stream);
    }
    // Each writes requests until the kernel takes no more (its buffers, and the server's, full).
    let mut written = vec![0usize; CONNECTIONS];
    let mut backed_up = 0;
    wait_until("every connection's requests to back up through the server into the kernel", || {
        for (client, written) in clients.iter().zip(&mut written) {
            loop {
                // (Where a partial write left off: the requests go on whole, back to back.)
                let at = *written % requests.len();
                match client.try_write(&requests.as_bytes()[at..]) {
                    Ok(n) => *written += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("a pipelining client could not write: {e}"),
                }
            }
        }
        let snapshot = server.scheduler.introspect();
        let full = |name: &str| {
            snapshot
                .components
                .iter()
                .filter(|c| c.name.contains(name))
                .filter(|c| c.boxes.iter().any(|b| b.name == "inbox" && b.depth > 0 && Some(b.depth) == b.capacity))
                .count()
        };
        backed_up = full("HTTPParser").min(full("HTTPRequestHandler"));
        backed_up == CONNECTIONS
    })
    .await;
    let snapshot = server.scheduler.introspect();
    for c in &snapshot.components {
        let inbox = c.boxes.iter().find(|b| b.name == "inbox");
        let (depth, capacity) = inbox.map_or((0, None), |b| (b.depth, b.capacity));
        if c.name.contains("HTTPParser") {
            assert_eq!(capacity, Some(kamaelia_http::parser::READ_AHEAD_CHUNKS), "{}", c.name);
            assert!(depth <= 1, "{} holds {depth} chunks read ahead", c.name);
        } else if c.name.contains("HTTPRequestHandler") {
            assert_eq!(capacity, Some(kamaelia_http::request_handler::PARSED_AHEAD), "{}", c.name);
            assert!(depth <= 2, "{} holds {depth} parts of requests", c.name);
        } else if c.name.contains("ConnectedSocketAdapter") {
            assert!(depth <= kamaelia_chassis::socket::DEFAULT_WRITE_QUEUE, "{} holds {depth} payloads", c.name);
        }
    }
    // Each client wrote far more than the server holds: the rest is in the kernel's buffers.
    assert!(written.iter().all(|&n| n > 64 * 1024), "{written:?}");
    // A client that reads at last gets every response, in order.
    let mut reader = Client::connect(server.addr).await;
    reader.send(requests.repeat(5)).await;
    for round in 0..5 {
        for i in 0..200 {
            let response = reader.response().await;
            assert_eq!(response.text(), format!("GET /{i}"), "round {round}");
        }
    }
    drop(clients);
    drop(reader);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_reuses_one_connection_for_two_urls() {
    let server = serve_routes(describe_everything()).await;
    let (a, b) = (server.url("/a"), server.url("/b"));
    let out = curl_ok(&["-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects} %{http_code}\n", &a, &b]).await;
    assert_eq!(String::from_utf8_lossy(&out), "1 200\n0 200\n", "curl made a new connection for the second URL");
    assert_eq!(server.handle.stats().accepted, 1);
    server.stop().await;
}
