//! Tutorial step 4, back-pressure (`docs/tutorial/04-back-pressure.md`): a fast producer, a slow
//! printer whose inbox holds three messages, `try_send` and `NoSpaceInBox`.
//!
//! ```text
//! ┌──────────┐                ┌─────────────┐
//! │ Producer │──outbox→inbox─▶│ SlowPrinter │──outbox→inbox─┐
//! └──────────┘   (holds 3)    └─────────────┘               │
//!      │                                                    ▼
//!      └───notes→inbox──────────────────────────────▶ ConsoleEchoer ──▶ out
//! ```
//!
//! All of it runs on one thread (`Scheduler::per_thread(1)`), the components taking turns as
//! Kamaelia's scheduler made them do, so the output is the same every time.
//!
//! ```text
//! cargo run --example tutorial_04_back_pressure
//! ```

use std::error::Error;
use std::io::Write;
use std::time::Duration;

use kamaelia::axon::Declarations;
use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Sends the numbers 1 to `count`. It tries first; when the box is full, it says so out of its
/// `notes` outbox and waits for room.
struct Producer {
    count: u32,
}

impl Component for Producer {
    type Inbox = ();
    type Outbox = u32;

    fn declare(&self, boxes: &mut Declarations) {
        boxes.outbox::<String>("notes", "What the producer has to say, a line at a time");
    }

    async fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
        let mut notes = ctx.take_outbox::<String>("notes")?;
        for n in 1..=self.count {
            match ctx.outbox.try_send(n) {
                Ok(()) => notes.send(format!("producer: sent {n}\n")).await,
                Err(full) => {
                    notes.send(format!("producer: {full}\n")).await;
                    ctx.outbox.send(full.into_inner()).await; // waits for room
                    notes.send(format!("producer: sent {n} after waiting\n")).await;
                }
            }
        }
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

/// Runs a Producer of six numbers into a SlowPrinter, both writing to `out`.
pub fn run(out: impl Write + Send + 'static) -> Result<(), Box<dyn Error>> {
    let scheduler = Scheduler::per_thread(1); // one thread: components take turns
    let producer = Instance::new(Producer { count: 6 });
    let printer = Instance::new(SlowPrinter);
    let echoer = Instance::new(ConsoleEchoer::<String>::default().writing_to(out));
    scheduler.link((&producer, "outbox"), (&printer, "inbox"))?;
    scheduler.link((&printer, "outbox"), (&echoer, "inbox"))?;
    scheduler.link((&producer, "notes"), (&echoer, "inbox"))?; // fan-in: two senders, one inbox
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
