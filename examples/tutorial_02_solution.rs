//! Tutorial step 2, the exercise's solution (`docs/tutorial/02-linkages.md`): a `Shout` linked
//! between the `Counter` and the echoer, and a fan-out refused.
//!
//! ```text
//!  ┌─────────┐                ┌───────┐                ┌───────────────┐
//!  │ Counter │──outbox→inbox─▶│ Shout │──outbox→inbox─▶│ ConsoleEchoer │──▶ standard output
//!  └─────────┘                └───────┘                └───────────────┘
//! ```
//!
//! ```text
//! cargo run --example tutorial_02_solution
//! ```

use std::error::Error;
use std::io::Write;

use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Counts from 1 to `upto`, sending a line for each number.
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

/// Sends on each line it receives, in capitals (step 1's exercise).
struct Shout;

impl Component for Shout {
    type Inbox = String;
    type Outbox = String;

    async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
        while let Some(line) = ctx.inbox.recv().await {
            ctx.outbox.send(line.to_uppercase()).await;
        }
        Ok(())
    }
}

/// Counter → Shout → ConsoleEchoer writing to `out`, run to the end.
pub fn run(mut out: impl Write + Send + 'static) -> Result<(), Box<dyn Error>> {
    let scheduler = Scheduler::new();
    let counter = Instance::new(Counter { upto: 3 });
    let shout = Instance::new(Shout);
    scheduler.link((&counter, "outbox"), (&shout, "inbox"))?;

    // An outbox has one destination: a second linkage from it is refused (fan-out).
    let another = Instance::new(Shout);
    if let Err(refused) = scheduler.link((&counter, "outbox"), (&another, "inbox")) {
        writeln!(out, "refused: {refused}")?;
    }

    let echoer = Instance::new(ConsoleEchoer::<String>::default().writing_to(out));
    scheduler.link((&shout, "outbox"), (&echoer, "inbox"))?;
    counter.activate(&scheduler);
    shout.activate(&scheduler);
    echoer.activate(&scheduler);
    scheduler.run()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
