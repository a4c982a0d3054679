//! The Rust web ecosystem both ways, over real sockets. A tower service as a route target (an
//! axum `Router` with a tower-http layer, a hand-written service that is not ready at once, one
//! that fails, one that panics), served by our server; and our handlers (components, a function,
//! `Minimal`) as a tower service ([`KamaeliaService`]) served by hyper and mounted in axum, with
//! bodies streaming both ways.

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use axum::extract::Path;
use kamaelia_http::http_server::shared_factory;
use kamaelia_http::routes::{self, Routes};
use kamaelia_http::{
    BodyEcho, HelloHandler, HttpSettings, KamaeliaService, MinimalFactory, Request, RequestBody, Response,
};
use support::*;

/// The axum application of the tests: `/health`, `/echo/{word}`, and `POST /upper` (the whole
/// body, upper-cased), under gzip compression when the client accepts it.
fn axum_app() -> axum::Router {
    axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/echo/{word}", axum::routing::get(|Path(word): Path<String>| async move { word }))
        .route("/upper", axum::routing::post(|body: String| async move { body.to_uppercase() }))
        .route("/big", axum::routing::get(|| async { "kamaelia ".repeat(1000) }))
        .layer(tower_http::compression::CompressionLayer::new())
}

/// A service that is not ready until `open` is set; `poll_ready` leaves its waker in `waiting`.
#[derive(Clone)]
struct Gate {
    open: Arc<AtomicBool>,
    waiting: Arc<Mutex<Option<Waker>>>,
}

impl tower_service::Service<http::Request<RequestBody>> for Gate {
    type Response = http::Response<String>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if self.open.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(()));
        }
        *self.waiting.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }

    fn call(&mut self, _request: http::Request<RequestBody>) -> Self::Future {
        assert!(self.open.load(Ordering::SeqCst), "called before it was ready");
        std::future::ready(Ok(http::Response::new("through the gate".to_owned())))
    }
}

/// A service that fails, or panics, as its path says.
#[derive(Clone)]
struct Troubled;

impl tower_service::Service<http::Request<RequestBody>> for Troubled {
    type Response = http::Response<String>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, std::io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        if request.uri().path() == "/panic" {
            panic!("the service gave up");
        }
        std::future::ready(Err(std::io::Error::other("the disk is on fire")))
    }
}

async fn serve_table(routes: Routes) -> TestServer {
    serve_create(shared_factory(routes.into_factory()), HttpSettings::default()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_router_with_a_tower_http_layer_answers_under_a_prefix_beside_components() {
    let routes = Routes::new()
        .route("/hello", routes::get(HelloHandler::new))
        .unwrap()
        .route(
            "/items/{key}",
            routes::get(|r: Request| async move { Response::text(r.param("key").unwrap().to_owned()) }),
        )
        .unwrap()
        .mount("/api", axum_app())
        .unwrap();
    let server = serve_table(routes).await;
    let mut client = server.connect().await;
    for (target, expected) in [("/api/health", "ok"), ("/api/echo/kamaelia", "kamaelia"), ("/items/k", "k")] {
        client.send(request("GET", target, "")).await;
        let response = client.response_to("GET").await;
        response.assert_status(200);
        response.assert_date_and_server();
        assert_eq!(response.text(), expected, "{target}");
    }
    // The request body reaches the router as it arrives (chunked here), and its answer comes back.
    client.send(request("POST", "/api/upper", "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n")).await;
    client.send("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").await;
    assert_eq!(client.response_to("POST").await.text(), "HELLO WORLD");
    // The router's own 404, and the component beside it, on the same connection.
    client.send(request("GET", "/api/nothing", "")).await;
    client.response_to("GET").await.assert_status(404);
    client.send(request("GET", "/hello", "")).await;
    assert!(client.response_to("GET").await.text().contains("Hello World"));
    // HEAD through the router: the head, no body.
    client.send(request("HEAD", "/api/health", "")).await;
    let head = client.response_to("HEAD").await;
    head.assert_status(200);
    assert!(head.body.is_empty());
    drop(client);
    // tower-http's compression, seen by curl (which decompresses with --compressed).
    let plain = curl_ok(&["-s", &server.url("/api/big")]).await;
    let compressed = curl(&["-s", "-i", "-H", "Accept-Encoding: gzip", &server.url("/api/big")]).await;
    let compressed = String::from_utf8_lossy(&compressed.stdout).to_ascii_lowercase();
    assert!(compressed.contains("content-encoding: gzip"), "{compressed}");
    let decompressed = curl_ok(&["-s", "--compressed", &server.url("/api/big")]).await;
    assert_eq!(plain, decompressed);
    assert_eq!(plain.len(), 9000);
    server.wait_idle("every connection has closed").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_is_not_ready_is_waited_for_and_errors_and_panics_are_500s() {
    let gate = Gate { open: Arc::new(AtomicBool::new(false)), waiting: Arc::default() };
    let routes = Routes::new()
        .route("/gate", routes::get(gate.clone()))
        .unwrap()
        .route("/fail", routes::get(Troubled))
        .unwrap()
        .route("/panic", routes::get(Troubled))
        .unwrap();
    let server = serve_table(routes).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/gate", "")).await;
    let waiting = gate.waiting.clone();
    wait_until("poll_ready has been asked", || waiting.lock().unwrap().is_some()).await;
    // Meanwhile the server answers other connections.
    assert_eq!(get(server.addr, "/fail").await.status, 500);
    gate.open.store(true, Ordering::SeqCst);
    gate.waiting.lock().unwrap().take().expect("a waker").wake();
    let through = client.response_to("GET").await;
    through.assert_status(200);
    assert_eq!(through.text(), "through the gate");

    let failed = get(server.addr, "/fail").await;
    failed.assert_status(500);
    assert!(failed.text().contains("the disk is on fire"), "{}", failed.text());
    let panicked = get(server.addr, "/panic").await;
    panicked.assert_status(500);
    assert!(panicked.text().contains("panicked: the service gave up"), "{}", panicked.text());
    drop(client);
    server.wait_idle("every connection has closed").await;
    server.stop().await;
}

// ----- the other way -----

/// Our handlers as one table: components, a function, and Minimal over the bundled site.
fn kamaelia_table() -> Routes {
    let site = std::env::current_dir().unwrap().join("../site");
    let minimal = MinimalFactory::new("index.html", site);
    Routes::new()
        .route("/hello", routes::get(HelloHandler::new))
        .unwrap()
        .route("/echo", routes::post(BodyEcho::new))
        .unwrap()
        .route(
            "/length",
            routes::post(|_r: Request, body: RequestBody| async move {
                match body.to_bytes().await {
                    Ok(bytes) => Response::text(bytes.len().to_string()),
                    Err(e) => e.into(),
                }
            }),
        )
        .unwrap()
        .route(
            "/broken",
            routes::get(|_r: Request| {
                axon_core::from_fn(
                    "Broken",
                    |_ctx: axon_core::Context<kamaelia_http::Bytes, kamaelia_http::Resource>| async move {
                        panic!("the component gave up")
                    },
                )
            }),
        )
        .unwrap()
        .mount("/site", move |r| minimal.make(r))
        .unwrap()
}

/// Serves `service` with hyper on a free port, one task per connection; the address.
async fn serve_with_hyper(service: KamaeliaService) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let service = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_and_functions_answer_as_a_tower_service_served_by_hyper() {
    let scheduler = axon_core::Scheduler::new();
    let service = kamaelia_table().into_service().on(scheduler.clone()).max_body(4 * 1024 * 1024);
    let addr = serve_with_hyper(service).await;
    let url = |path: &str| format!("http://{addr}{path}");

    let hello = curl_ok(&["-s", &url("/hello")]).await;
    assert_eq!(hello, kamaelia_http::handlers::HELLO_PAGE.as_bytes());
    // Minimal's file, as it is on disk (a file region read for the ecosystem's body).
    let css = curl_ok(&["-s", &url("/site/style.css")]).await;
    assert_eq!(css, std::fs::read("../site/style.css").unwrap());
    let missing = curl(&["-s", "-o", "/dev/null", "-w", "%{http_code}", &url("/nothing")]).await;
    assert_eq!(missing.stdout, b"404");

    // 3 MiB through BodyEcho, a component streaming the body back as it arrives.
    let body: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body");
    std::fs::write(&file, &body).unwrap();
    let data = format!("@{}", file.display());
    let echoed =
        curl_ok(&["-s", "-H", "Content-Type: application/octet-stream", "--data-binary", &data, &url("/echo")]).await;
    assert!(echoed == body, "the echo differs: {} bytes back of {}", echoed.len(), body.len());
    // And through a function reading it whole.
    let length = curl_ok(&["-s", "--data-binary", &data, &url("/length")]).await;
    assert_eq!(length, b"3145728");
    // Over the service's limit: 413.
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'z'; 4 * 1024 * 1024 + 1]).unwrap();
    let too_big = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--data-binary",
        &format!("@{}", big.display()),
        &url("/length"),
    ])
    .await;
    assert_eq!(too_big.stdout, b"413");
    // A component that panics: 500.
    let broken = curl(&["-s", "-w", "%{http_code}", &url("/broken")]).await;
    let broken = String::from_utf8_lossy(&broken.stdout).into_owned();
    assert!(broken.ends_with("500") && broken.contains("panicked: the component gave up"), "{broken}");
    // Every handler's component has ended.
    wait_until("the handlers' components have ended", || scheduler.live() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookbook_prefix_list_is_a_tower_service_too() {
    let list = kamaelia_http::request_handlers([
        ("/hello", kamaelia_http::factory(HelloHandler::new)),
        ("/echo", kamaelia_http::factory(kamaelia_http::EchoHandler::new)),
    ]);
    let addr = serve_with_hyper(KamaeliaService::new(list)).await;
    let hello = curl_ok(&["-s", &format!("http://{addr}/hello")]).await;
    assert_eq!(hello, kamaelia_http::handlers::HELLO_PAGE.as_bytes());
    // EchoHandler (a Pipeline) shows the request it was made for, as the cookbook's does.
    let echo = curl_ok(&["-s", &format!("http://{addr}/echo?x=1")]).await;
    let echo = String::from_utf8_lossy(&echo).into_owned();
    assert!(echo.contains("'query': 'x=1'") && echo.contains("'uri-prefix-trigger': '/echo'"), "{echo}");
    let missing = curl(&["-s", "-o", "/dev/null", "-w", "%{http_code}", &format!("http://{addr}/nothing")]).await;
    assert_eq!(missing.stdout, b"404");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_table_mounts_in_axum_with_nest_service_beside_axums_own_routes() {
    let service = kamaelia_table().into_service();
    let app =
        axum::Router::new().route("/health", axum::routing::get(|| async { "ok" })).nest_service("/kamaelia", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(DEADLINE)).build().into();
    let read = |path: &str| {
        let agent = agent.clone();
        let url = format!("http://{addr}{path}");
        move || {
            let mut response = agent.get(&url).call().expect("a response");
            (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
        }
    };
    let health = tokio::task::spawn_blocking(read("/health")).await.unwrap();
    assert_eq!(health, (200, "ok".to_owned()));
    let hello = tokio::task::spawn_blocking(read("/kamaelia/hello")).await.unwrap();
    assert_eq!(hello, (200, kamaelia_http::handlers::HELLO_PAGE.to_owned()));
    let index = tokio::task::spawn_blocking(read("/kamaelia/site/")).await.unwrap();
    assert_eq!(index.1.as_bytes(), std::fs::read("../site/index.html").unwrap());
    let missing = tokio::task::spawn_blocking(read("/kamaelia/nothing")).await.unwrap();
    assert_eq!(missing.0, 404);
}
