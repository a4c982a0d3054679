//! Property tests of the request parser and the chunked decoder, driven through the real
//! [`HTTPParser`] component (a [`Handle`] on a scheduler of its own): generated requests, valid
//! and mutated, fed in pieces split at random points, as a socket would deliver them.
//!
//! - **Valid requests** (`valid_requests_are_read_as_sent`): pipelined messages with random
//!   methods, targets, fields, `Content-Length` and chunked bodies (extensions, trailers) come out
//!   exactly as they were made, whatever the split.
//! - **Mutated requests** (`mutated_requests_give_the_same_answer_whatever_the_split`): the same
//!   messages with faults put in (duplicate or conflicting `Content-Length`, `Transfer-Encoding`
//!   lists, control characters, obs-fold, bad line ends, huge numbers, odd chunk lines) and random
//!   bytes inserted, deleted and replaced, with small limits so that the limits are reached too.
//!   Checked: no panic; the parser's answer (each request's fields, its body bytes, each error's
//!   status) is the same whole, split at random points and fed a byte at a time; every request is
//!   `Head`, `Body`..., then `End` or `Abort`; every refusal is a 4xx or 5xx with a reason; and a
//!   message cut short by the end of input is refused, never dropped.
//!
//! `PROPTEST_CASES=N` runs more cases than the default; a failure is shrunk to a small input
//! and printed, to be kept in `tests/corpus/` (replayed by `tests/corpus.rs`).

use axon_core::{Handle, Scheduler};
use kamaelia_http::{BadRequest, Bytes, HTTPParser, HttpSettings, Parsed, Request, StatusCode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;

mod requests;
use requests::*;

// ---------------------------------------------------------------------------------------------
// Driving the parser
// ---------------------------------------------------------------------------------------------

thread_local! {
    /// One runtime on one thread for every case of a test: the parser runs on the thread that
    /// feeds it, so a case costs no thread switch.
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
enum Event {
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
fn parse(settings: &HttpSettings, input: &[u8], cuts: &[usize]) -> Vec<Event> {
    RUNTIME.with(|(runtime, scheduler)| parse_on(runtime, scheduler, settings, input, cuts))
}

fn parse_on(
    runtime: &tokio::runtime::Runtime,
    scheduler: &Scheduler,
    settings: &HttpSettings,
    input: &[u8],
    cuts: &[usize],
) -> Vec<Event> {
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
    normalise(raw, input)
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

fn shown(bytes: &[u8]) -> String {
    format!("\"{}\" ({} bytes)", bytes.escape_ascii(), bytes.len())
}

/// Small limits, so that generated requests reach them: a 48-byte target, a 600-byte head, 10
/// fields, a 400-byte body.
fn small_limits() -> HttpSettings {
    HttpSettings {
        max_target_length: 48,
        max_head_bytes: 600,
        max_headers: 10,
        max_body: 400,
        ..HttpSettings::default()
    }
}

fn config() -> Config {
    // 256 cases unless PROPTEST_CASES says otherwise; no file of failures kept beside the test
    // (a failure prints its input, to be added to tests/corpus/ by hand).
    Config { failure_persistence: None, ..Config::default() }
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Valid pipelined requests are read exactly as they were sent, whatever the split; reading
    /// stops after the first that does not keep the connection.
    #[test]
    fn valid_requests_are_read_as_sent(
        messages in prop::collection::vec(message(), 1..4),
        picks in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        let input: Vec<u8> = messages.iter().flat_map(|m| m.bytes.iter().copied()).collect();
        let settings = HttpSettings::default();
        let events = parse(&settings, &input, &cuts(input.len(), &picks));
        let mut expected = messages.len();
        if let Some(last) = messages.iter().position(|m| !m.persistent) {
            expected = last + 1;
        }
        let mut events = events.into_iter();
        for message in &messages[..expected] {
            let Some(Event::Head(request)) = events.next() else {
                panic!("no head for {:?} in {}", message.target, shown(&input));
            };
            prop_assert_eq!(request.method.as_str(), message.method.as_str());
            prop_assert_eq!(&request.raw_uri, &message.target);
            prop_assert_eq!(request.version, message.version);
            prop_assert_eq!(request.headers.len(), message.fields);
            prop_assert_eq!(request.keep_alive, message.persistent);
            if !message.body.is_empty() {
                prop_assert_eq!(events.next(), Some(Event::Body(message.body.clone())));
            }
            prop_assert_eq!(events.next(), Some(Event::End));
        }
        prop_assert_eq!(events.next(), None);
    }

    /// A request cut short by the end of the input is refused (400 from its head, or an abort
    /// of its body with 400), never dropped; the requests before it are read.
    #[test]
    fn a_request_cut_short_is_refused(
        messages in prop::collection::vec(message(), 1..3),
        cut in any::<Index>(),
        picks in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        // Up to the first request that ends the connection: what follows it is never read.
        let end = messages.iter().position(|m| !m.persistent).map_or(messages.len(), |i| i + 1);
        let messages = &messages[..end];
        let (last, before) = messages.split_last().expect("one message");
        let mut input: Vec<u8> = before.iter().flat_map(|m| m.bytes.iter().copied()).collect();
        input.extend_from_slice(&last.bytes[..1 + cut.index(last.bytes.len() - 1)]);
        let events = parse(&HttpSettings::default(), &input, &cuts(input.len(), &picks));
        let requests = events.iter().filter(|e| matches!(e, Event::Head(_) | Event::Refused(_))).count();
        prop_assert_eq!(requests, messages.len(), "{:?} on {}", events, shown(&input));
        let refused = matches!(events.last(), Some(Event::Refused(s) | Event::Abort(s)) if *s == StatusCode::BAD_REQUEST)
            || matches!(events.as_slice(), [.., Event::Refused(s), Event::End] if *s == StatusCode::BAD_REQUEST);
        prop_assert!(refused, "{:?} on {}", events, shown(&input));
    }

    /// Mutated requests: no panic, and the same answer whole, split at random points, and a
    /// byte at a time; a message cut short by the end of input is refused, never dropped.
    #[test]
    fn mutated_requests_give_the_same_answer_whatever_the_split(
        messages in prop::collection::vec(message(), 1..3),
        mutations in prop::collection::vec(mutation(), 0..4),
        picks in prop::collection::vec(any::<Index>(), 1..8),
        truncate in prop::option::weighted(0.15, any::<Index>()),
    ) {
        let mut input: Vec<u8> = messages.iter().flat_map(|m| m.bytes.iter().copied()).collect();
        for mutation in &mutations {
            mutate(&mut input, mutation);
        }
        if let Some(at) = truncate {
            input.truncate(at.index(input.len() + 1));
        }
        let settings = small_limits();
        let whole = parse(&settings, &input, &[]);
        let split = parse(&settings, &input, &cuts(input.len(), &picks));
        prop_assert_eq!(&split, &whole, "split at {:?}: {}", cuts(input.len(), &picks), shown(&input));
        let bytewise: Vec<usize> = (1..input.len()).collect();
        let by_byte = parse(&settings, &input, &bytewise);
        prop_assert_eq!(&by_byte, &whole, "a byte at a time: {}", shown(&input));
    }
}
