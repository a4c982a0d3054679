//! Routing and error pages: the first matching prefix wins, prefixes match whole path segments,
//! an unmatched URL gets the ErrorPages 404 page, and text reflected from a request into an error
//! page is HTML-escaped.

mod support;

use http::StatusCode;
use kamaelia_http::error_pages::{get_error_page, ERROR_PAGE_TYPE};
use kamaelia_http::{factory, EchoHandler, Factory, HelloHandler};
use support::*;

fn routes() -> Vec<(&'static str, Factory)> {
    vec![
        ("/hello", factory(HelloHandler::new)),
        ("/echo", factory(EchoHandler::new)),
        ("/a/b", fixed(200, "text/plain", b"a/b route", true)),
        ("/a", fixed(200, "text/plain", b"first a", true)),
        ("/a", fixed(200, "text/plain", b"second a", true)),
        ("/dir/", fixed(200, "text/plain", b"dir route", true)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_matching_prefix_wins() {
    let server = serve_routes(routes()).await;
    assert_eq!(get(server.addr, "/a").await.body, b"first a");
    assert_eq!(get(server.addr, "/a/x").await.body, b"first a");
    // A longer prefix listed first wins over a shorter one listed after it.
    assert_eq!(get(server.addr, "/a/b").await.body, b"a/b route");
    assert_eq!(get(server.addr, "/a/b/c").await.body, b"a/b route");
    // The query is not part of the path matched.
    assert_eq!(get(server.addr, "/a?b").await.body, b"first a");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_matches_whole_segments_only() {
    let server = serve_routes(routes()).await;
    let hello = get(server.addr, "/hello").await;
    hello.assert_status(200);
    assert_eq!(hello.text(), kamaelia_http::handlers::HELLO_PAGE);
    get(server.addr, "/hello/world").await.assert_status(200);
    get(server.addr, "/hello/").await.assert_status(200);
    // Not `/helloworld`, nor `/ab`.
    get(server.addr, "/helloworld").await.assert_status(404);
    get(server.addr, "/ab").await.assert_status(404);
    // A prefix ending in `/` matches what is under it, not the name without the slash.
    assert_eq!(get(server.addr, "/dir/x").await.body, b"dir route");
    get(server.addr, "/dir").await.assert_status(404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_url_gets_the_error_pages_404() {
    let server = serve_routes(routes()).await;
    let response = get(server.addr, "/nowhere").await;
    response.assert_status(404);
    assert!(response.raw.starts_with(b"HTTP/1.1 404 Not Found\r\n"), "{}", shown(&response.raw));
    response.assert_header("content-type", ERROR_PAGE_TYPE);
    assert!(ERROR_PAGE_TYPE.starts_with("text/html"));
    let (head, page) =
        get_error_page(StatusCode::NOT_FOUND, "No resource handlers could be found for the requested URL");
    assert_eq!(response.body, page, "the 404 is not the ErrorPages page");
    response.assert_header("content-length", &head.length.expect("a length").to_string());
    response.assert_date_and_server();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_reflected_into_a_400_page_is_html_escaped() {
    let server = serve_routes(routes()).await;
    // A request line that cannot be parsed; the page quotes it.
    let response = exchange(server.addr, "<script>alert('x')</script> / HTTP/1.1\r\nHost: test\r\n\r\n").await;
    response.assert_status(400);
    response.assert_header("content-type", ERROR_PAGE_TYPE);
    let text = response.text();
    assert!(!text.contains("<script>"), "markup reflected unescaped: {text}");
    assert!(text.contains("&lt;script&gt;"), "the offending text is not shown, escaped: {text}");

    // In the target of an otherwise valid line, too.
    let response = exchange(server.addr, "GET /<b>bold</b>\"' HTTP/1.1\r\nHost: test\r\nHost: twice\r\n\r\n").await;
    response.assert_status(400);
    assert!(!response.text().contains("<b>"), "markup reflected unescaped: {}", response.text());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_reflected_into_a_404_page_is_html_escaped() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().to_path_buf();
    let server = serve_routes(vec![(
        "/",
        factory(move |request| kamaelia_http::Minimal::new(request, root.clone(), "index.html")),
    )])
    .await;
    let response = get(server.addr, "/<img%20src=x%20onerror=alert(1)>").await;
    response.assert_status(404);
    let text = response.text();
    assert!(!text.contains("<img"), "markup reflected unescaped: {text}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_handler_shows_the_request_escaped() {
    let server = serve_routes(routes()).await;
    let response = exchange(
        server.addr,
        "GET /echo?q=<i>x</i> HTTP/1.1\r\nHost: test\r\nX-Evil: <script>\r\nConnection: close\r\n\r\n",
    )
    .await;
    response.assert_status(200);
    response.assert_header("content-type", "text/html; charset=utf-8");
    let text = response.text();
    assert!(text.starts_with("<html><body>") && text.ends_with("</body></html>"), "{text}");
    assert!(text.contains("'method': 'GET'"), "{text}");
    assert!(text.contains("'uri-prefix-trigger': '/echo'"), "{text}");
    assert!(!text.contains("<script>") && !text.contains("<i>"), "markup reflected unescaped: {text}");
    assert!(text.contains("&lt;script&gt;"), "{text}");
    server.stop().await;
}
