//! Driving the real [`HTTPParser`] component by hand, for the property tests
//! (`tests/parser_properties.rs`), the corpus replay (`tests/corpus.rs`) and the coverage-guided
//! fuzz target (`fuzz/fuzz_targets/parser.rs`, which includes this file by path).
//!
//! [`parse`] feeds bytes to a new parser (a [`Handle`] on a scheduler of its own) in the pieces a
//! socket might deliver, ends the input as a client's close would, and returns what came out
//! normalised ([`Event`]), after checking its grammar: every request is `Head`, `Body`..., then
//! `End` or `Abort`; every refusal is a 4xx or 5xx with a reason; nothing follows a refusal. Any
//! breach of these, and a parser that ends with a failure, is a panic naming the input.
#![allow(dead_code)]

use axon_core::{Handle, Scheduler};
use kamaelia_http::{BadRequest, Bytes, HTTPParser, HttpSettings, Parsed, Request, StatusCode};

thread_local! {
    /// One runtime on one thread for every input: the parser runs on the thread that feeds it,
    /// so an input costs no thread switch.
    static RUNTIME: (tokio::runtime::Runtime, Scheduler) = {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        let scheduler = Scheduler::on_runtime(runtime.handle().clone());
        (runtime, scheduler)
    };
}

/// What the parser said about a request, with what may differ between splits taken out: body
/// pieces are joined, and a refusal is its status (its message may quote what was buffered when
/// the fault was seen, which depends on where the input was split).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A request that can be served.
    Head(Box<Request>),
    /// A request refused from its head: the status.
    Refused(StatusCode),
    Body(Vec<u8>),
    End,
    /// A body that broke off: the status.
    Abort(StatusCode),
}

/// Feeds `input` to a new parser in the pieces `cuts` makes (sorted offsets), then ends the
/// input; returns what came out, normalised, after checking the reasons for refusals.
pub fn parse(settings: &HttpSettings, input: &[u8], cuts: &[usize]) -> Vec<Event> {
    let raw = parse_raw(settings, input, cuts);
    normalise(raw, input)
}

/// As [`parse`], but what the parser sent as it sent it (checked as [`parse`] checks it).
pub fn parse_raw(settings: &HttpSettings, input: &[u8], cuts: &[usize]) -> Vec<Parsed> {
    let raw = RUNTIME.with(|(runtime, scheduler)| parse_on(runtime, scheduler, settings, input, cuts));
    normalise(raw.clone(), input);
    raw
}

/// Runs `future` to its end on the parser's runtime (the one thread's).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.with(|(runtime, _)| runtime.block_on(future))
}

/// [`parse`] fed whole, and a byte at a time.
pub fn bytewise(input: &[u8]) -> Vec<usize> {
    (1..input.len()).collect()
}

fn parse_on(
    runtime: &tokio::runtime::Runtime,
    scheduler: &Scheduler,
    settings: &HttpSettings,
    input: &[u8],
    cuts: &[usize],
) -> Vec<Parsed> {
    let _entered = runtime.enter();
    let mut handle = Handle::new(HTTPParser::new(settings.clone(), None, None), scheduler);
    let mut raw = Vec::new();
    runtime.block_on(async {
        let mut start = 0;
        let mut ended = false;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            if cut <= start {
                continue;
            }
            let mut piece = Bytes::copy_from_slice(&input[start..cut]);
            start = cut;
            // Put the piece in; while the parser's inbox is full, let it run (it may be taking a
            // line in, with nothing to send yet) and read what it sends. A parser that has
            // stopped (after a refusal) takes nothing more.
            while !ended {
                match handle.put(piece) {
                    Ok(()) => break,
                    Err(full) => {
                        piece = full.message;
                        tokio::select! {
                            biased;
                            event = handle.recv() => match event {
                                Some(event) => raw.push(event),
                                None => ended = true,
                            },
                            () = tokio::task::yield_now() => {}
                        }
                    }
                }
            }
            while let Ok(event) = handle.get() {
                raw.push(event);
            }
        }
        handle.close_input();
        while let Some(event) = handle.recv().await {
            raw.push(event);
        }
        let exit = handle.join().await;
        assert!(!exit.is_failure(), "the parser ended with {exit} on {}", shown(input));
    });
    raw
}

/// Joins body pieces and reduces refusals to their statuses, checking that each refusal has an
/// error status and a reason, and that the parts come in order.
fn normalise(raw: Vec<Parsed>, input: &[u8]) -> Vec<Event> {
    let check = |bad: &BadRequest| {
        assert!(
            bad.status.is_client_error() || bad.status.is_server_error(),
            "refused with {} on {}",
            bad.status,
            shown(input)
        );
        assert!(!bad.message.trim().is_empty(), "refused with {} and no reason on {}", bad.status, shown(input));
        bad.status
    };
    let mut events: Vec<Event> = Vec::new();
    for part in raw {
        let event = match part {
            Parsed::Head(request) => match &request.bad {
                Some(bad) => Event::Refused(check(bad)),
                None => Event::Head(request),
            },
            Parsed::Body(piece) => {
                assert!(!piece.is_empty(), "an empty body piece on {}", shown(input));
                if let Some(Event::Body(body)) = events.last_mut() {
                    body.extend_from_slice(&piece);
                    continue;
                }
                Event::Body(piece.to_vec())
            }
            Parsed::End => Event::End,
            Parsed::Abort(bad) => Event::Abort(check(&bad)),
        };
        events.push(event);
    }
    // The grammar of the parser's output: ( Head Body* (End | Abort) | Refused End )*, and
    // nothing after an Abort or a refusal.
    let mut in_request = false;
    let mut stopped = false;
    for (i, event) in events.iter().enumerate() {
        assert!(!stopped, "{event:?} after the parser stopped, in {events:?} on {}", shown(input));
        let ok = match event {
            Event::Head(_) | Event::Refused(_) => !std::mem::replace(&mut in_request, true),
            Event::Body(_) => in_request && matches!(events[i - 1], Event::Head(_)),
            Event::End => std::mem::replace(&mut in_request, false),
            Event::Abort(_) => {
                stopped = true;
                std::mem::replace(&mut in_request, false) && !matches!(events[i - 1], Event::Refused(_))
            }
        };
        if let (Event::End, Some(Event::Refused(_))) = (event, i.checked_sub(1).map(|j| &events[j])) {
            stopped = true;
        }
        assert!(ok, "{event:?} out of order in {events:?} on {}", shown(input));
    }
    assert!(!in_request, "the output stops inside a request: {events:?} on {}", shown(input));
    events
}

pub fn shown(bytes: &[u8]) -> String {
    format!("\"{}\" ({} bytes)", bytes.escape_ascii(), bytes.len())
}

/// Small limits, so that generated requests reach them: a 48-byte target, a 600-byte head, 10
/// fields, a 400-byte body.
pub fn small_limits() -> HttpSettings {
    HttpSettings {
        max_target_length: 48,
        max_head_bytes: 600,
        max_headers: 10,
        max_body: 400,
        ..HttpSettings::default()
    }
}

/// Checks that `input` gets the same answer whole, in the pieces `cuts` makes, and a byte at a
/// time; returns the answer.
pub fn same_whatever_the_split(settings: &HttpSettings, input: &[u8], cuts: &[usize]) -> Vec<Event> {
    let whole = parse(settings, input, &[]);
    let split = parse(settings, input, cuts);
    assert_eq!(split, whole, "split at {cuts:?}: {}", shown(input));
    let by_byte = parse(settings, input, &bytewise(input));
    assert_eq!(by_byte, whole, "a byte at a time: {}", shown(input));
    whole
}

/// Tiny limits, so that short inputs reach every limit: an 8-byte target, a 64-byte head, 3
/// fields, a 16-byte body.
pub fn tiny_limits() -> HttpSettings {
    HttpSettings { max_target_length: 8, max_head_bytes: 64, max_headers: 3, max_body: 16, ..HttpSettings::default() }
}

/// One input of the fuzz target (`fuzz/fuzz_targets/parser.rs`), also replayed by
/// `tests/corpus.rs` from `fuzz/seeds/`: the first byte chooses the settings (its value modulo 3:
/// the defaults, [`small_limits`], [`tiny_limits`]) and seeds where the rest is cut; the rest is
/// what a client sends. Checks that the answer is the same whole, in those pieces and a byte at a
/// time (and everything [`parse`] checks); panics if not.
pub fn fuzz_one(data: &[u8]) {
    let Some((&choice, input)) = data.split_first() else { return };
    let settings = match choice % 3 {
        0 => HttpSettings::default(),
        1 => small_limits(),
        _ => tiny_limits(),
    };
    // Up to 8 cuts from a xorshift seeded by the first byte (never zero).
    let mut state = u32::from(choice) | 0x100;
    let mut cuts: Vec<usize> = (0..1 + choice % 8)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as usize % (input.len() + 1)
        })
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    same_whatever_the_split(&settings, input, &cuts);
}
