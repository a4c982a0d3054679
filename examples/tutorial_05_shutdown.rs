//! Tutorial step 5, shutdown in band (`docs/tutorial/05-shutdown.md`): `ProducerFinished` ("that
//! was all") comes after the data; `ShutdownMicroprocess` ("stop now") comes first.
//!
//! ```text
//! Pipeline: Numbers ──outbox→inbox────▶ Square ──outbox──▶ Handle (run writes each line)
//!                   ──signal→control──▶        ──signal──▶ Handle
//! ```
//!
//! Run twice: once ending with `ProducerFinished`, once with `ShutdownMicroprocess`. Each run is on
//! one thread (`Scheduler::per_thread(1)`), so `Numbers` has sent everything before `Square` runs,
//! and the output is the same every time.
//!
//! ```text
//! cargo run --example tutorial_05_shutdown
//! ```

use std::io::Write;

use kamaelia::prelude::*;

/// Sends 1 to 5, then `end` out of its `signal`.
struct Numbers {
    end: Ipc,
}

impl Component for Numbers {
    type Inbox = ();
    type Outbox = u32;

    async fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
        for n in 1..=5 {
            ctx.outbox.send(n).await;
        }
        ctx.signal.send(self.end).await;
        Ok(())
    }
}

/// Squares numbers. On a shutdown request it says how many numbers it leaves unread, passes the
/// request on, and ends.
struct Square;

impl Component for Square {
    type Inbox = u32;
    type Outbox = String;

    async fn main(self, mut ctx: Context<u32, String>) -> ComponentResult {
        // next_event: data before a ProducerFinished, a ShutdownMicroprocess before data.
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(n) => ctx.outbox.send(format!("{}", n * n)).await,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    let unread = ctx.inbox.data_ready();
                    ctx.outbox.send(format!("square: {} with {unread} unread", name(&msg))).await;
                    ctx.signal.send(msg).await; // pass it on, then end
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

fn name(msg: &Ipc) -> &'static str {
    if msg.is_producer_finished() {
        "ProducerFinished"
    } else {
        "ShutdownMicroprocess"
    }
}

/// Runs `Numbers → Square` twice, ending each way, and writes what comes out to `out`.
pub fn run(mut out: impl Write) -> std::io::Result<()> {
    let ends: [Ipc; 2] = [ProducerFinished::new().into(), ShutdownMicroprocess::new().into()];
    for end in ends {
        writeln!(out, "-- ending with {}", name(&end))?;
        let scheduler = Scheduler::per_thread(1);
        let mut squares = Handle::new(pipeline![Numbers { end }, Square], &scheduler);
        while let Some(line) = squares.recv_blocking() {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
