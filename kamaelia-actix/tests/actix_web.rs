//! actix-web handlers forwarding to a component graph through a [`ComponentAddr`], served over
//! TCP and asked with raw HTTP/1.1: requests waiting on a slow graph are held back by its bounded
//! inbox and all answered once it moves; a graph that fails makes the handler answer 503 with the
//! reason, and the server goes on.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use axon_core::prelude::*;
use axon_core::DEFAULT_CAPACITY;
use kamaelia_actix::ComponentAddr;
use tokio::sync::oneshot;

/// How long anything here may take before the test fails (never reached when things work).
const DEADLINE: Duration = Duration::from_secs(30);

type Graph = ComponentAddr<String, String>;

async fn ask(graph: web::Data<Graph>, body: String) -> HttpResponse {
    match graph.send(body).await {
        Ok(answer) => HttpResponse::Ok().body(answer),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

/// An actix-web server on a free port, in an actix System on a thread of its own; stopped when
/// the returned handle is dropped.
struct Server {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)));
    }
}

fn serve(graph: Graph) -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new().app_data(web::Data::new(graph.clone())).route("/ask", web::post().to(ask))
            })
            .workers(2)
            .bind(("127.0.0.1", 0))
            .unwrap();
            let addr = server.addrs()[0];
            let server = server.run();
            tx.send((addr, server.handle())).unwrap();
            server.await
        })
    });
    let (addr, handle) = rx.recv_timeout(DEADLINE).expect("the server starts");
    Server { addr, handle }
}

/// Answers each question upper-cased once `gate` opens; panics on "13".
fn graph(gate: oneshot::Receiver<()>) -> impl Component<Inbox = String, Outbox = String> {
    from_fn("Upper", move |mut ctx: Context<String, String>| async move {
        let _ = gate.await;
        while let Some(text) = ctx.inbox.recv().await {
            assert_ne!(text, "13", "unlucky request");
            ctx.outbox.send(text.to_uppercase()).await;
        }
        Ok(())
    })
}

#[test]
fn requests_wait_on_a_slow_graph_within_its_bound_and_are_all_answered() {
    let scheduler = Scheduler::new();
    let (open, gate) = oneshot::channel();
    let addr = ComponentAddr::new(graph(gate), &scheduler);
    let component = addr.component().clone();
    let server = serve(addr);
    let at = server.addr;
    // More requests than the inbox holds, each from a client of its own.
    let count = DEFAULT_CAPACITY + 8;
    let clients: Vec<_> = (0..count)
        .map(|i| std::thread::spawn(move || common::request(at, "POST", "/ask", format!("question {i}").as_bytes())))
        .collect();
    // The graph's inbox fills to its bound, and no further: the other handlers wait.
    let end = std::time::Instant::now() + DEADLINE;
    while component.data_ready("inbox") < DEFAULT_CAPACITY {
        assert!(std::time::Instant::now() < end, "the inbox never filled");
        std::thread::yield_now();
    }
    assert_eq!(component.data_ready("inbox"), DEFAULT_CAPACITY);
    open.send(()).unwrap();
    for (i, client) in clients.into_iter().enumerate() {
        let (status, body) = client.join().unwrap();
        assert_eq!((status, String::from_utf8_lossy(&body).into_owned()), (200, format!("QUESTION {i}")));
    }
}

#[test]
fn a_graph_that_fails_is_a_503_with_the_reason_and_the_server_goes_on() {
    let scheduler = Scheduler::new();
    let (open, gate) = oneshot::channel();
    open.send(()).unwrap();
    let server = serve(ComponentAddr::new(graph(gate), &scheduler));
    let (status, body) = common::request(server.addr, "POST", "/ask", b"fine");
    assert_eq!((status, body.as_slice()), (200, &b"FINE"[..]));
    let (status, body) = common::request(server.addr, "POST", "/ask", b"13");
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("`Upper_") && body.contains("ended (panicked: assertion"), "{body}");
    // The server still answers, with the same reason.
    let (status, body) = common::request(server.addr, "POST", "/ask", b"again");
    assert_eq!(status, 503);
    assert!(String::from_utf8_lossy(&body).contains("before it answered"));
}
