//! Strict request syntax (RFC 9112 §2-§5, RFC 9110 §9, §15): a malformed request line,
//! whitespace before a colon, control characters in a field, obs-fold, a missing or repeated
//! `Host` on HTTP/1.1 are each a 400; another major version is a 505; an unknown method nobody
//! claims is a 501; static files answer other methods with 405 and `Allow`. Every syntax error
//! is answered with `Connection: close`, and the connection closes.

mod support;

use kamaelia_http::{factory, Minimal};
use support::*;

/// `/static` serves files (GET and HEAD only); `/hello` describes the request.
fn routes(root: &std::path::Path) -> Vec<(&'static str, kamaelia_http::Factory)> {
    let root = root.to_path_buf();
    vec![("/static", factory(move |request| Minimal::new(request, root.clone(), "index.html"))), ("/hello", describe())]
}

/// Sends `bytes` on a fresh connection; expects `status`, `Connection: close`, `Date`, `Server`
/// and an HTML error page, then the close.
async fn refused(server: &TestServer, bytes: &[u8], status: u16) -> Response {
    let mut client = server.connect().await;
    client.send(bytes).await;
    let response = client.response().await;
    assert_eq!(response.status, status, "for \"{}\" the response was:\n{}", shown(bytes), shown(&response.raw));
    assert_eq!(response.header("connection"), Some("close"), "for \"{}\": {}", shown(bytes), response.head_text());
    response.assert_date_and_server();
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    client.assert_closed().await;
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_request_lines_are_400() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    let cases: &[&[u8]] = &[
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /hello\r\nHost: test\r\n\r\n",
        b"GET  /hello HTTP/1.1\r\nHost: test\r\n\r\n",
        b"GET /hello  HTTP/1.1\r\nHost: test\r\n\r\n",
        b"GET /hello HTTP/1.1 extra\r\nHost: test\r\n\r\n",
        b"GET /hello HTTP/1.x\r\nHost: test\r\n\r\n",
        b"GET /hel lo HTTP/1.1\r\nHost: test\r\n\r\n",
        b"GET hello HTTP/1.1\r\nHost: test\r\n\r\n",
        b"G(T /hello HTTP/1.1\r\nHost: test\r\n\r\n",
        b"\x00GET /hello HTTP/1.1\r\nHost: test\r\n\r\n",
    ];
    for case in cases {
        refused(&server, case, 400).await;
    }
    // The other side: a well-formed line is served.
    get(server.addr, "/hello").await.assert_status(200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitespace_before_a_colon_is_400() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    refused(&server, b"GET /hello HTTP/1.1\r\nHost : test\r\n\r\n", 400).await;
    refused(&server, b"GET /hello HTTP/1.1\r\nHost: test\r\nX-A\t: 1\r\n\r\n", 400).await;
    // Whitespace after the colon is fine.
    let ok = exchange(server.addr, "GET /hello HTTP/1.1\r\nHost:   test  \r\nConnection: close\r\n\r\n").await;
    ok.assert_status(200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_a_field_are_400() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    for control in [0x00u8, 0x01, 0x08, 0x0b, 0x0c, 0x1f, 0x7f, b'\r'] {
        let mut bytes = b"GET /hello HTTP/1.1\r\nHost: test\r\nX-Field: a".to_vec();
        bytes.push(control);
        bytes.extend_from_slice(b"b\r\n\r\n");
        refused(&server, &bytes, 400).await;
    }
    // In a name too.
    refused(&server, b"GET /hello HTTP/1.1\r\nHost: test\r\nX-\x01: a\r\n\r\n", 400).await;
    // The other side: a tab inside a value is allowed (RFC 9110 §5.5).
    let ok =
        exchange(server.addr, "GET /hello HTTP/1.1\r\nHost: test\r\nX-Field: a\tb\r\nConnection: close\r\n\r\n").await;
    ok.assert_status(200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_fold_is_400() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    refused(&server, b"GET /hello HTTP/1.1\r\nHost: test\r\nX-Folded: one\r\n two\r\n\r\n", 400).await;
    refused(&server, b"GET /hello HTTP/1.1\r\nHost: test\r\nX-Folded: one\r\n\ttwo\r\n\r\n", 400).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_1_without_host_or_with_two_is_400() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    refused(&server, b"GET /hello HTTP/1.1\r\n\r\n", 400).await;
    refused(&server, b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400).await;
    refused(&server, b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400).await;
    // The other sides: one Host on 1.1, none on 1.0.
    exchange(server.addr, "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").await.assert_status(200);
    exchange(server.addr, "GET /hello HTTP/1.0\r\n\r\n").await.assert_status(200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_major_version_is_505() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    let response = refused(&server, b"GET /hello HTTP/2.0\r\nHost: test\r\n\r\n", 505).await;
    assert!(response.raw.starts_with(b"HTTP/1.1 505 HTTP Version Not Supported\r\n"), "{}", shown(&response.raw));
    refused(&server, b"GET /hello HTTP/3.0\r\nHost: test\r\n\r\n", 505).await;
    refused(&server, b"GET /hello HTTP/0.9\r\nHost: test\r\n\r\n", 505).await;
    server.stop().await;
}

/// RFC 9110 §2.5: "A recipient that receives a message with a major version number that it
/// implements and a minor version number higher than what it implements SHOULD process the
/// message as if it were in the highest minor version within that major version".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_higher_minor_version_is_served_as_http_1_1() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    let response = exchange(server.addr, "GET /hello HTTP/1.2\r\nHost: test\r\nConnection: close\r\n\r\n").await;
    response.assert_status(200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_method_no_route_claims_is_501() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    let response = exchange(server.addr, "BREW /pot HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await;
    response.assert_status(501);
    response.assert_date_and_server();
    assert!(response.text().contains("BREW"), "{}", response.text());
    // The other side: a known method with no route is 404.
    let response = exchange(server.addr, "GET /pot HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await;
    response.assert_status(404);
    // And an unknown method a route claims reaches its handler.
    let response = exchange(server.addr, "BREW /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await;
    response.assert_status(200);
    assert_eq!(response.body, b"BREW /hello");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_answer_other_known_methods_with_405_and_allow() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("a.txt"), "file").expect("a file");
    let server = serve_routes(routes(dir.path())).await;
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let response = exchange(
            server.addr,
            format!("{method} /static/a.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(response.status, 405, "{method}: {}", shown(&response.raw));
        assert!(response.raw.starts_with(b"HTTP/1.1 405 Method Not Allowed\r\n"));
        response.assert_header("allow", "GET, HEAD");
        response.assert_date_and_server();
    }
    // An unknown method on a static route is 501.
    let response =
        exchange(server.addr, "BREW /static/a.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await;
    response.assert_status(501);
    // GET and HEAD are served.
    let response = exchange(server.addr, "GET /static/a.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await;
    response.assert_status(200);
    assert_eq!(response.body, b"file");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_are_case_sensitive() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    // `get` is not GET (RFC 9110 §9.1): an unknown method, on a route nobody claims.
    let response = exchange(server.addr, "get /nowhere HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await;
    response.assert_status(501);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_request_pipelined_after_a_good_one_gets_its_400_and_the_close() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    let mut client = server.connect().await;
    client.send([request("GET", "/hello", ""), "GET /hello HTTP/1.1\r\nHost : x\r\n\r\n".to_owned()].concat()).await;
    let first = client.response().await;
    first.assert_status(200);
    assert_eq!(first.body, b"GET /hello");
    assert_eq!(first.header("connection"), None, "{}", first.head_text());
    let second = client.response().await;
    second.assert_status(400);
    second.assert_header("connection", "close");
    client.assert_closed().await;
    drop(client);
    server.stop().await;
}

/// RFC 9112 §3.2: a `Host` whose value is not `uri-host [ ":" port ]` is a 400 (these were
/// served with 200), with the value named on the page; valid ones are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_host_value_is_400_naming_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_routes(routes(dir.path())).await;
    for bad in ["bad host", "a/b", "../../etc", "a@b", "[::1", "x:99999999"] {
        let response = refused(&server, format!("GET /hello HTTP/1.1\r\nHost: {bad}\r\n\r\n").as_bytes(), 400).await;
        assert!(response.text().contains("invalid Host"), "{bad}: {}", response.text());
    }
    for good in ["example.org", "example.org:8080", "[::1]:8080", "127.0.0.1"] {
        let response =
            exchange(server.addr, format!("GET /hello HTTP/1.1\r\nHost: {good}\r\nConnection: close\r\n\r\n")).await;
        response.assert_status(200);
    }
    server.stop().await;
}
