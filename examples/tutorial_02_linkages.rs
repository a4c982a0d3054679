//! Tutorial step 2, two components linked (`docs/tutorial/02-linkages.md`).
//!
//! ```text
//!  ┌─────────┐                ┌───────────────┐
//!  │ Counter │──outbox→inbox─▶│ ConsoleEchoer │──▶ standard output
//!  └─────────┘                └───────────────┘
//! ```
//!
//! Neither component knows the other: the program links `Counter`'s `outbox` to the echoer's
//! `inbox`, and the scheduler runs both until both have ended. A linkage between boxes of
//! different types is refused when it is made, before anything runs.
//!
//! ```text
//! cargo run --example tutorial_02_linkages
//! ```

use std::error::Error;
use std::io::Write;

use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Counts from 1 to `upto`, sending a line for each number (with its newline: a
/// `ConsoleEchoer` writes what it gets as it is).
struct Counter {
    upto: u32,
}

impl Component for Counter {
    type Inbox = ();
    type Outbox = String;

    async fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        for n in 1..=self.upto {
            ctx.outbox.send(format!("{n} green bottle(s)\n")).await;
        }
        Ok(())
    }
}

/// Adds up numbers (it is here to show a linkage refused).
struct Total;

impl Component for Total {
    type Inbox = u32;
    type Outbox = u32;

    async fn main(self, mut ctx: Context<u32, u32>) -> ComponentResult {
        let mut total = 0;
        while let Some(n) = ctx.inbox.recv().await {
            total += n;
        }
        ctx.outbox.send(total).await;
        Ok(())
    }
}

/// Links a `Counter` to a `ConsoleEchoer` writing to `out`, and runs them to the end.
pub fn run(mut out: impl Write + Send + 'static) -> Result<(), Box<dyn Error>> {
    let scheduler = Scheduler::new();
    let counter = Instance::new(Counter { upto: 3 });
    let total = Instance::new(Total);

    // Lines of text cannot go into a box of numbers: refused, with both types named.
    if let Err(refused) = scheduler.link((&counter, "outbox"), (&total, "inbox")) {
        writeln!(out, "refused: {refused}")?;
    }

    let echoer = Instance::new(ConsoleEchoer::<String>::default().writing_to(out));
    scheduler.link((&counter, "outbox"), (&echoer, "inbox"))?;
    counter.activate(&scheduler);
    echoer.activate(&scheduler);
    scheduler.run()?; // returns once every component activated on it has ended
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
