//! Tutorial step 1, a first component (`docs/tutorial/01-first-component.md`).
//!
//! ```text
//! ┌─────────┐
//! │ Counter │──outbox──▶ Handle ──▶ run writes each line to out
//! └─────────┘
//! ```
//!
//! `Counter` sends a line for each number up to its `upto`; ordinary code takes them from its
//! `outbox` through a `Handle` and prints them.
//!
//! ```text
//! cargo run --example tutorial_01_first_component
//! ```

use std::io::Write;

use kamaelia::prelude::*;

/// Counts from 1 to `upto`, sending a line of text for each number.
struct Counter {
    upto: u32,
}

impl Component for Counter {
    type Inbox = (); // it takes nothing in
    type Outbox = String; // it sends lines of text

    async fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        for n in 1..=self.upto {
            ctx.outbox.send(format!("{n} green bottle(s)")).await;
        }
        Ok(())
    }
}

/// Runs a `Counter` and writes each line it sends to `out`.
pub fn run(mut out: impl Write) -> std::io::Result<()> {
    let mut counter = Handle::new(Counter { upto: 3 }, &Scheduler::new());
    while let Some(line) = counter.recv_blocking() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
