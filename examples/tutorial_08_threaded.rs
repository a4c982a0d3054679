//! Tutorial step 8, a threaded component (`docs/tutorial/08-threaded-component.md`): a body that
//! blocks runs on a thread of its own, with the same boxes as any component.
//!
//! ```text
//! Pipeline: Threaded(Ticker) ──▶ Threaded(Stamp) ──▶ ConsoleEchoer
//!           its own thread       its own thread      a task
//! ```
//!
//! ```text
//! cargo run --example tutorial_08_threaded
//! ```

use std::io::Write;
use std::thread;
use std::time::Duration;

use kamaelia::axon::{RunError, Threaded, ThreadedComponent};
use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Sends `ticks` numbers, sleeping `every` before each: `thread::sleep` blocks its thread, which
/// is fine on a thread of its own.
struct Ticker {
    ticks: u32,
    every: Duration,
}

impl ThreadedComponent for Ticker {
    type Inbox = ();
    type Outbox = u32;

    fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
        for tick in 1..=self.ticks {
            thread::sleep(self.every); // blocking: never do this in an async body
            ctx.outbox.send_blocking(tick);
        }
        ctx.signal.send_blocking(ProducerFinished::from(ctx.id()).into());
        Ok(())
    }
}

/// Turns each tick into a line naming the thread it was written on; passes the end on.
struct Stamp;

impl ThreadedComponent for Stamp {
    type Inbox = u32;
    type Outbox = String;

    fn main(self, mut ctx: Context<u32, String>) -> ComponentResult {
        let me = thread::current().name().unwrap_or("?").to_owned();
        while let Some(tick) = ctx.inbox.recv_blocking() {
            ctx.outbox.send_blocking(format!("tick {tick}, stamped on thread {me}\n"));
        }
        ctx.signal.send_blocking(ProducerFinished::from(ctx.id()).into());
        Ok(())
    }
}

/// The pipeline, writing to `out`, run to the end.
pub fn run(out: impl Write + Send + 'static) -> Result<(), RunError> {
    pipeline![
        Threaded(Ticker { ticks: 3, every: Duration::from_millis(100) }),
        Threaded(Stamp),
        ConsoleEchoer::default().writing_to(out),
    ]
    .run()
}

fn main() -> Result<(), RunError> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
