//! Tutorial step 4, the exercise's solution (`docs/tutorial/04-back-pressure.md`): a producer
//! that sheds load, dropping what does not fit instead of waiting.
//!
//! ```text
//! ┌──────────┐                ┌─────────────┐
//! │ Shedding │──outbox→inbox─▶│ SlowPrinter │──outbox→inbox─┐
//! └──────────┘   (holds 3)    └─────────────┘               │
//!      │                                                    ▼
//!      └───notes→inbox──────────────────────────────▶ ConsoleEchoer ──▶ out
//! ```
//!
//! ```text
//! cargo run --example tutorial_04_solution
//! ```

use std::error::Error;
use std::io::Write;
use std::time::Duration;

use kamaelia::axon::Declarations;
use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Offers the numbers 1 to `count`, never waiting: what does not fit is dropped and counted.
struct Shedding {
    count: u32,
}

impl Component for Shedding {
    type Inbox = ();
    type Outbox = u32;

    fn declare(&self, boxes: &mut Declarations) {
        boxes.outbox::<String>("notes", "What the producer has to say, a line at a time");
    }

    async fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
        let mut notes = ctx.take_outbox::<String>("notes")?;
        let mut dropped = Vec::new();
        for n in 1..=self.count {
            if let Err(full) = ctx.outbox.try_send(n) {
                dropped.push(full.into_inner()); // the message comes back: we choose to drop it
            }
        }
        notes.send(format!("producer: dropped {dropped:?}\n")).await;
        Ok(())
    }
}

/// Prints numbers, taking its time over each; its inbox holds three.
struct SlowPrinter;

impl Component for SlowPrinter {
    type Inbox = u32;
    type Outbox = String;

    fn declare(&self, boxes: &mut Declarations) {
        boxes.capacity("inbox", Some(3));
    }

    async fn main(self, mut ctx: Context<u32, String>) -> ComponentResult {
        while let Some(n) = ctx.inbox.recv().await {
            tokio::time::sleep(Duration::from_millis(10)).await; // slow work
            ctx.outbox.send(format!("printer: {n}\n")).await;
        }
        Ok(())
    }
}

/// Offers ten numbers to a SlowPrinter, both writing to `out`.
pub fn run(out: impl Write + Send + 'static) -> Result<(), Box<dyn Error>> {
    let scheduler = Scheduler::per_thread(1);
    let producer = Instance::new(Shedding { count: 10 });
    let printer = Instance::new(SlowPrinter);
    let echoer = Instance::new(ConsoleEchoer::<String>::default().writing_to(out));
    scheduler.link((&producer, "outbox"), (&printer, "inbox"))?;
    scheduler.link((&printer, "outbox"), (&echoer, "inbox"))?;
    scheduler.link((&producer, "notes"), (&echoer, "inbox"))?;
    producer.activate(&scheduler);
    printer.activate(&scheduler);
    echoer.activate(&scheduler);
    scheduler.run()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
