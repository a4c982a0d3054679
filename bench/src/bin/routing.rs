//! `routing`: what routing costs per request, in-process, ours against axum on the same table of
//! 50 routes with parameters ([`kamaelia_bench::route_table`]), the requests spread over them as
//! `bench/routes.lua` spreads wrk's.
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin routing [-- --results target/bench-results.tsv]
//! ```
//!
//! Ours: [`Routes::handler_for`] (match, parameters percent-decoded onto the request, the
//! handler of the call kind made, its boxed future included). axum's: `Router::call`, which
//! matches, puts the parameters in the request's extensions and returns the handler's future
//! (not polled: running the handler is not routing). The requests are made before the clock
//! starts, in batches of 10,000; each side takes turns, five rounds, and the median is printed:
//! nanoseconds of one thread's time per request.

use std::time::Instant;

use kamaelia_http::routes::{get, Routes};
use kamaelia_http::{Method, Request, Response};
use tower_service::Service;

const BATCH: usize = 10_000;
const BATCHES: usize = 50;

async fn answer(_request: Request) -> Response {
    Response::text("ok")
}

fn ours() -> f64 {
    let mut routes = Routes::new();
    for pattern in kamaelia_bench::route_table() {
        routes = routes.route(&pattern, get(answer)).expect("the table");
    }
    let mut spent = 0.0;
    for b in 0..BATCHES {
        let requests: Vec<Request> =
            (0..BATCH).map(|k| Request::new(Method::GET, &kamaelia_bench::route_path(k, b * BATCH + k))).collect();
        let start = Instant::now();
        for request in requests {
            let handler = routes.handler_for(request);
            std::hint::black_box(&handler);
        }
        spent += start.elapsed().as_nanos() as f64;
    }
    spent / (BATCH * BATCHES) as f64
}

fn axum() -> f64 {
    let mut app = axum::Router::new();
    for pattern in kamaelia_bench::route_table() {
        app = app.route(&pattern, axum::routing::get(|| async { "ok" }));
    }
    let mut spent = 0.0;
    for b in 0..BATCHES {
        let requests: Vec<http::Request<String>> = (0..BATCH)
            .map(|k| {
                http::Request::get(kamaelia_bench::route_path(k, b * BATCH + k)).body(String::new()).expect("a request")
            })
            .collect();
        let start = Instant::now();
        for request in requests {
            let future = app.call(request);
            std::hint::black_box(&future);
        }
        spent += start.elapsed().as_nanos() as f64;
    }
    spent / (BATCH * BATCHES) as f64
}

fn main() {
    let results = std::env::args().skip_while(|a| a != "--results").nth(1);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        a.push(ours());
        b.push(axum());
    }
    let (ours, axum) = (kamaelia_bench::median(&a), kamaelia_bench::median(&b));
    eprintln!(
        "routing, 50 routes with parameters: ours {ours:.0} ns/request, axum {axum:.0} ns/request ({:.2}x)",
        ours / axum
    );
    if let Some(file) = results {
        let rows = format!(
            "components\trouting_ns\tours\t-\t1\t{ours:.1}\tns\ncomponents\trouting_ns\taxum\t-\t1\t{axum:.1}\tns\n"
        );
        kamaelia_bench::append_results_or_exit("routing", &file, &rows);
    }
}
