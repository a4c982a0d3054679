//! The index of the workspace's benchmarks: `cargo run -p kamaelia-bench` lists them.
//!
//! Each benchmark is a binary of this crate, run in release mode, for example
//! `cargo run --release -p kamaelia-bench --bin axon_chain`. Results and the machine they were
//! measured on are written up in `docs/benchmarks.md`.

/// `(binary, what it measures)`.
const BENCHMARKS: &[(&str, &str)] = &[(
    "axon_chain",
    "axon-core vs plain tokio: messages/s through a chain of 10 pass-through components \
     (vs tasks + bounded mpsc), and bytes per idle component (vs an idle task)",
)];

fn main() {
    println!("Benchmarks (run each with `cargo run --release -p kamaelia-bench --bin <name>`):");
    for (name, what) in BENCHMARKS {
        println!("  {name:<12} {what}");
    }
    println!("Results: docs/benchmarks.md");
}
