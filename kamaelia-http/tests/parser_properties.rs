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

use kamaelia_http::{HttpSettings, StatusCode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;

mod parsing;
mod requests;
use parsing::*;
use requests::*;

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
        same_whatever_the_split(&small_limits(), &input, &cuts(input.len(), &picks));
    }
}
