//! `Routes` end to end, over real sockets with raw clients and curl: handlers per method,
//! parameters decoded on the request, 405 with exactly the methods a route answers, OPTIONS as 204
//! with `Allow`, HEAD by the GET handler without its body, 404 and 501 for unknown paths, a
//! cookbook prefix list and `Minimal` mounted under prefixes, all on one keep-alive connection.

mod support;

use axon_core::prelude::*;
use kamaelia_http::http_server::shared_factory;
use kamaelia_http::routes::{self, on, put, Routes};
use kamaelia_http::{
    factory, request_handlers, Bytes, HelloHandler, HttpSettings, Method, MinimalFactory, Request, Resource,
    ResponseHead, StatusCode,
};
use support::*;

/// Answers 200 with what it was routed by: method, pattern, parameters, prefix and suffix.
fn show(tag: &'static str) -> impl Fn(Request) -> kamaelia_http::Handler + Send + Sync + 'static {
    move |r: Request| {
        let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let text = format!(
            "{tag} {} {} [{}] {} {}",
            r.method,
            r.route.as_deref().unwrap_or("-"),
            params.join(","),
            r.uri_prefix_trigger,
            r.uri_suffix
        );
        from_fn("Show", move |mut ctx: Context<Bytes, Resource>| async move {
            let head = ResponseHead::new(StatusCode::OK).content_type("text/plain").length(text.len() as u64);
            ctx.outbox.send(head.into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from(text))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
        .into()
    }
}

async fn serve_table(routes: Routes) -> TestServer {
    serve_create(shared_factory(routes.into_factory()), HttpSettings::default()).await
}

fn table() -> Routes {
    let site = std::env::current_dir().unwrap().join("../site");
    let minimal = MinimalFactory::new("index.html", site);
    Routes::new()
        .route("/items/{key}", routes::get(show("get")).put(show("put")).delete(show("delete")))
        .unwrap()
        .route("/items", routes::get(show("list")))
        .unwrap()
        .route("/purge/{key}", on(Method::from_bytes(b"PURGE").unwrap(), show("purge")))
        .unwrap()
        .route("/files/{*path}", routes::get(show("files")))
        .unwrap()
        .mount("/old", request_handlers([("/hello", factory(HelloHandler::new))]))
        .unwrap()
        .mount("/static", move |r| minimal.make(r))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_method_reaches_its_handler_with_its_parameters() {
    let server = serve_table(table()).await;
    let mut client = server.connect().await;
    for (method, target, expected) in [
        ("GET", "/items/a%20b", "get GET /items/{key} [key=a b] /items/a%20b "),
        ("PUT", "/items/k", "put PUT /items/{key} [key=k] /items/k "),
        ("DELETE", "/items/k?x=1", "delete DELETE /items/{key} [key=k] /items/k "),
        ("GET", "/items", "list GET /items [] /items "),
        ("PURGE", "/purge/z", "purge PURGE /purge/{key} [key=z] /purge/z "),
        ("GET", "/files/a/b%2Fc.txt", "files GET /files/{*path} [path=a/b/c.txt] /files /a/b%2Fc.txt"),
    ] {
        client.send(request(method, target, "")).await;
        let response = client.response_to(method).await;
        response.assert_status(200);
        assert_eq!(response.text(), expected, "{method} {target}");
    }
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_route_lacks_gets_405_with_allow_and_options_gets_204() {
    let server = serve_table(table()).await;
    let mut client = server.connect().await;
    client.send(request("POST", "/items/x", "Content-Length: 3\r\n")).await;
    client.send("abc").await;
    let refused = client.response_to("POST").await;
    refused.assert_status(405);
    refused.assert_header("allow", "GET, PUT, DELETE, HEAD, OPTIONS");
    // The connection stays usable: the body was read and dropped.
    client.send(request("OPTIONS", "/items/x", "")).await;
    let options = client.response_to("OPTIONS").await;
    options.assert_status(204);
    options.assert_header("allow", "GET, PUT, DELETE, HEAD, OPTIONS");
    assert!(options.header("content-length").is_none() && options.body.is_empty(), "{}", shown(&options.raw));
    client.send(request("OPTIONS", "/items", "")).await;
    client.response_to("OPTIONS").await.assert_header("allow", "GET, HEAD, OPTIONS");
    client.send(request("GET", "/purge/x", "")).await;
    client.response_to("GET").await.assert_header("allow", "PURGE, OPTIONS");
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_is_answered_by_the_get_handler_without_a_body() {
    let server = serve_table(table()).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/old/hello", "")).await;
    let get = client.response_to("GET").await;
    client.send(request("HEAD", "/old/hello", "")).await;
    let head = client.response_to("HEAD").await;
    head.assert_status(200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), get.header("content-length"));
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_get_404_and_unknown_methods_501_and_bad_parameters_400() {
    let server = serve_table(table()).await;
    get(server.addr, "/nothing/here").await.assert_status(404);
    exchange(server.addr, request("BREW", "/nothing", "Connection: close\r\n")).await.assert_status(501);
    exchange(server.addr, request("GET", "/items/%FF", "Connection: close\r\n")).await.assert_status(400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_list_and_minimal_mount_under_prefixes() {
    let server = serve_table(table()).await;
    let hello = get(server.addr, "/old/hello").await;
    hello.assert_status(200);
    assert!(hello.text().contains("Hello"), "{}", hello.text());
    get(server.addr, "/old/other").await.assert_status(404);
    // Minimal serves the bundled site's files from under /static (curl, a real client).
    let css = curl_ok(&["-s", &server.url("/static/style.css")]).await;
    assert_eq!(css, std::fs::read("../site/style.css").unwrap());
    get(server.addr, "/static/nope.txt").await.assert_status(404);
    server.stop().await;
}

#[test]
fn routes_that_conflict_are_refused_when_built() {
    let err = Routes::new().route("/items/{key}", routes::get(show("a"))).unwrap().route("/items/{id}", put(show("b")));
    let err = err.unwrap_err().to_string();
    assert!(err.contains("/items/{id}") && err.contains("/items/{key}"), "{err}");
}
