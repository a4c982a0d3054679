//! Tutorial step 5, the exercise's solution (`docs/tutorial/05-shutdown.md`): `Take`, which passes
//! on the first `n` messages and then ends the stream itself, as Unix `head` does.
//!
//! ```text
//! Pipeline: Numbers (1 to 1000) ──▶ Take(3) ──outbox──▶ Handle (run writes each line)
//! ```
//!
//! ```text
//! cargo run --example tutorial_05_solution
//! ```

use std::io::Write;

use kamaelia::prelude::*;

/// Sends 1 to `upto`, then `ProducerFinished`.
struct Numbers {
    upto: u32,
}

impl Component for Numbers {
    type Inbox = ();
    type Outbox = u32;

    async fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
        for n in 1..=self.upto {
            ctx.outbox.send(n).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Passes on the first `self.0` messages, then sends `ProducerFinished` and ends (or passes on a
/// shutdown request that comes first).
struct Take(usize);

impl Component for Take {
    type Inbox = u32;
    type Outbox = u32;

    async fn main(self, mut ctx: Context<u32, u32>) -> ComponentResult {
        let mut taken = 0;
        while taken < self.0 {
            match ctx.next_event().await {
                Some(Event::Data(n)) => {
                    ctx.outbox.send(n).await;
                    taken += 1;
                }
                Some(Event::Control(msg)) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    return Ok(());
                }
                Some(Event::Control(_)) => {}
                None => break,
            }
        }
        // The end of *our* stream. What Numbers still sends is discarded: we have ended.
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Runs `Numbers → Take(3)` and writes what comes out to `out`.
pub fn run(mut out: impl Write) -> std::io::Result<()> {
    let mut head = Handle::new(pipeline![Numbers { upto: 1000 }, Take(3)], &Scheduler::new());
    while let Some(n) = head.recv_blocking() {
        writeln!(out, "{n}")?;
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
