//! Tutorial step 3, a Pipeline (`docs/tutorial/03-pipeline.md`): Kamaelia's
//! `Pipeline(Numbers(), Filter(...), PureTransformer(...), ConsoleEchoer())`.
//!
//! ```text
//!  ┌───────────────────────────────── Pipeline ─────────────────────────────────┐
//!  │ Numbers ──▶ Filter (evens) ──▶ PureTransformer (to text) ──▶ ConsoleEchoer │
//!  └────────────────────────────────────────────────────────────────────────────┘
//!  each ──▶ is two linkages: outbox → inbox (data) and signal → control (shutdown)
//! ```
//!
//! ```text
//! cargo run --example tutorial_03_pipeline
//! ```

use std::io::Write;

use kamaelia::axon::RunError;
use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Sends the numbers from 1 to `upto`.
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
        // "That was all": travels down the pipeline after the numbers (step 5 says more).
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// The pipeline, writing to `out`, run to the end.
pub fn run(out: impl Write + Send + 'static) -> Result<(), RunError> {
    pipeline![
        Numbers { upto: 10 },
        Filter::new(|n: &u32| n % 2 == 0),
        PureTransformer::new(|n: u32| format!("{n} squared is {}\n", n * n)),
        ConsoleEchoer::default().writing_to(out),
    ]
    .run()
}

fn main() -> Result<(), RunError> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
