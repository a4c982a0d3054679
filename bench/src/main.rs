//! The index of the workspace's benchmarks: `cargo run -p kamaelia-bench` lists them.
//!
//! Each benchmark is a binary of this crate, run in release mode, for example
//! `cargo run --release -p kamaelia-bench --bin axon_chain`; `bench/run.sh` runs the whole suite
//! against the named peers. Results and the machine they were measured on are written up in
//! `docs/benchmarks.md`.

/// `(name, what it measures)`: the binaries of this crate, and the suite's script.
const BENCHMARKS: &[(&str, &str)] = &[
    (
        "axon_chain",
        "axon-core vs plain tokio and actix: messages/s through a chain of 10 pass-through components \
         (vs tasks + bounded mpsc, vs actix actors), and bytes per idle component (vs an idle task)",
    ),
    (
        "lifecycle",
        "the cost of one short-lived child component (made, four boxes linked, run, removed: the \
         web server's per-request handler) vs a tokio task spawned with a oneshot",
    ),
    (
        "blocking_wake",
        "the boxes' blocking side (threaded components, a Handle driven from plain threads) vs \
         crossbeam-channel bounded channels and std's sync_channel: messages/s",
    ),
    (
        "bench/run.sh",
        "the whole suite, one command: HTTP (/hello vs hyper and actix-web, static files vs nginx, \
         with wrk, one thread each too), bytes per idle connection (vs hyper), axon_chain and lifecycle, \
         the handlers (a function, a tower service, a component vs hyper; 50 routes vs axum); prints \
         ours / peer",
    ),
    (
        "bench/callgrind_per_request.sh",
        "instructions per request of a server under callgrind (500 and 2,500 requests on one \
         connection, the difference): BINARY PORT PATH [ARGS]",
    ),
    (
        "bench/soak.sh",
        "the soak: wrk and the hostile clients below against the web server for SOAK_SECONDS (600), \
         RSS, descriptors, live components and requests every 30 s; passes if all come back when idle",
    ),
    (
        "soak_clients",
        "the soak's hostile clients: pipelined, aborted mid-request and mid-response, slow readers, \
         half-closes, bad requests",
    ),
    ("peer_hyper", "the suite's minimal hyper 1.x server (GET /hello), --port N --threads N --max-requests N"),
    ("peer_actix", "the suite's minimal actix-web 4 server (GET /hello), --port N --workers N --max-requests N"),
    (
        "peer_axum",
        "the suite's axum 0.8 server on the 50-route table (and GET /hello), --port N --threads N --max-requests N",
    ),
    (
        "handlers_server",
        "our server with /hello by --hello fn|tower|component, and the 50-route table, --port N --threads N \
         --max-requests N",
    ),
    ("routing", "routing alone, in-process: Routes::handler_for against axum's Router::call, 50 routes"),
    ("idle_conns", "the suite's client for bytes per idle keep-alive connection of a server process"),
    (
        "pipeline_hold",
        "bytes of a server's RSS per connection whose client pipelines requests and never reads \
         (issue 16); --port N --pid PID [--count 200] [--path /]",
    ),
    ("suite_report", "the suite's closing table, from its raw results (target/bench-results.tsv)"),
];

fn main() {
    println!("Benchmarks (binaries: `cargo run --release -p kamaelia-bench --bin <name>`; the suite: `bench/run.sh`):");
    for (name, what) in BENCHMARKS {
        println!("  {name:<13} {what}");
    }
    println!("Results: docs/benchmarks.md");
}
