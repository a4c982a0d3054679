//! Tutorial step 1, the exercise's solution (`docs/tutorial/01-first-component.md`): `Shout`, a
//! component with an inbox.
//!
//! ```text
//!                  ┌───────┐
//! Handle ──inbox──▶│ Shout │──outbox──▶ Handle ──▶ run writes each line to out
//!                  └───────┘
//! ```
//!
//! ```text
//! cargo run --example tutorial_01_solution
//! ```

use std::io::Write;

use kamaelia::prelude::*;

/// Sends on each line it receives, in capitals; ends when its `inbox` closes.
struct Shout;

impl Component for Shout {
    type Inbox = String;
    type Outbox = String;

    async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
        // `recv` gives `None` once every sender has gone and the inbox is empty.
        while let Some(line) = ctx.inbox.recv().await {
            ctx.outbox.send(line.to_uppercase()).await;
        }
        Ok(())
    }
}

/// Sends two lines to a `Shout` and writes what comes back to `out`.
pub fn run(mut out: impl Write) -> std::io::Result<()> {
    let mut shout = Handle::new(Shout, &Scheduler::new());
    shout.send_blocking("hello".to_owned());
    shout.send_blocking("components".to_owned());
    shout.close_input(); // nothing more: Shout's inbox closes once it has taken both
    while let Some(line) = shout.recv_blocking() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
