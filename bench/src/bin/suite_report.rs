//! `suite_report`: the closing table of the suite (`bench/run.sh`), from its raw results.
//!
//! ```sh
//! suite_report target/bench-results.tsv        # prints the table (markdown) on stdout
//! ```
//!
//! The raw results are tab-separated rows, one per measurement:
//! `section figure side connections run value unit`, for example
//! `http hello_rps ours 16 2 31512.4 req/s`. `bench/run.sh` writes the `http`, `memory` and
//! `check` rows, `axon_chain --results` and `lifecycle --results` the `components` rows. A
//! figure's value is the median of its runs.
//!
//! The table has one row per figure and peer: our value, the peer's, the ratio ours / peer (for
//! latency and CPU time too, so lower is better there), the issue's target for that row, and
//! whether it is met. The server's CPU time per request (user and system, of the server's
//! processes over the measured seconds, divided by the requests served) says where a rate comes
//! from: on a machine whose two cores wrk shares, a server that needs less CPU per request serves
//! more. Rows without a target say `-`. Any run that reported errors (socket errors or non-2xx
//! responses, from wrk) is listed under the table, and so is a `/hello` response whose length
//! differs from ours (the peers are meant to send the same bytes).

use kamaelia_bench::median;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// `(section, figure, side, connections)`.
type Key = (String, String, String, String);

/// The raw results, each key with the values of its runs.
#[derive(Debug, Default)]
struct Results {
    runs: BTreeMap<Key, Vec<f64>>,
}

impl Results {
    fn parse(text: &str) -> Result<Self, String> {
        let mut results = Results::default();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            let [section, figure, side, conns, _run, value, _unit] = f.as_slice() else {
                return Err(format!(
                    "line {}: expected 7 tab-separated fields, got `{}`",
                    i + 1,
                    line.escape_default()
                ));
            };
            let value: f64 =
                value.parse().map_err(|_| format!("line {}: `{}` is not a number", i + 1, value.escape_default()))?;
            let key = (section.to_string(), figure.to_string(), side.to_string(), conns.to_string());
            results.runs.entry(key).or_default().push(value);
        }
        Ok(results)
    }

    fn median(&self, section: &str, figure: &str, side: &str, conns: &str) -> Option<f64> {
        let key = (section.to_string(), figure.to_string(), side.to_string(), conns.to_string());
        self.runs.get(&key).map(|v| median(v))
    }

    fn total(&self, section: &str, figure: &str, side: &str, conns: &str) -> f64 {
        let key = (section.to_string(), figure.to_string(), side.to_string(), conns.to_string());
        self.runs.get(&key).map_or(0.0, |v| v.iter().sum())
    }
}

/// How a figure is printed.
#[derive(Debug, Clone, Copy)]
enum Unit {
    /// Requests per second.
    Rps,
    /// Microseconds, printed as ms.
    Micros,
    /// Megabytes (10^6 bytes) per second.
    MBps,
    /// Messages per second, printed in millions.
    Msgs,
    /// Bytes.
    Bytes,
    /// Nanoseconds.
    Nanos,
    /// Microseconds of CPU time, printed as µs.
    CpuMicros,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::Rps => format!("{v:.0} req/s"),
            Unit::Micros => format!("{:.2} ms", v / 1000.0),
            Unit::MBps => format!("{v:.0} MB/s"),
            Unit::Msgs => format!("{:.2} M msg/s", v / 1e6),
            Unit::Bytes => format!("{v:.0} B"),
            Unit::Nanos => format!("{v:.0} ns"),
            Unit::CpuMicros => format!("{v:.2} µs"),
        }
    }
}

/// A target of the issue, on one row.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// No target on this row.
    None,
    /// ours / peer at least this.
    RatioAtLeast(f64),
    /// ours / peer at most this.
    RatioAtMost(f64),
    /// ours below this many bytes, whatever the peer.
    Below(f64),
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::None => "-".into(),
            Target::RatioAtLeast(r) => format!(">= {r}x"),
            Target::RatioAtMost(r) => format!("<= {r}x"),
            Target::Below(b) => format!("< {b:.0} B"),
        }
    }

    fn verdict(self, ours: f64, ratio: f64) -> &'static str {
        let met = match self {
            Target::None => return "-",
            Target::RatioAtLeast(r) => ratio >= r,
            Target::RatioAtMost(r) => ratio <= r,
            Target::Below(b) => ours < b,
        };
        if met {
            "met"
        } else {
            "**NOT met**"
        }
    }
}

/// One row of the table.
#[derive(Debug)]
struct Row {
    figure: String,
    section: &'static str,
    key: String,
    conns: String,
    peer: &'static str,
    peer_name: &'static str,
    unit: Unit,
    target: Target,
}

/// The rows, in the order of the issue.
fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let conns = ["1", "16", "64"];
    let row = |figure: String, section, key: &str, conns: &str, peer, peer_name, unit, target| Row {
        figure,
        section,
        key: key.into(),
        conns: conns.into(),
        peer,
        peer_name,
        unit,
        target,
    };
    for (key, what, unit) in [
        ("hello_rps", "requests/s", Unit::Rps),
        ("hello_p99_us", "p99 latency", Unit::Micros),
        ("hello_cpu_us", "server CPU per request", Unit::CpuMicros),
        ("hello_cpu_user_us", "server user CPU per request", Unit::CpuMicros),
    ] {
        for c in conns {
            for (peer, peer_name) in [("hyper", "hyper 1.x"), ("actix", "actix-web 4")] {
                let target = match (key, c, peer) {
                    ("hello_rps", "16" | "64", "hyper") => Target::RatioAtLeast(1.0),
                    ("hello_p99_us", "16" | "64", "hyper") => Target::RatioAtMost(1.2),
                    _ => Target::None,
                };
                rows.push(row(format!("`/hello`, {c} conn, {what}"), "http", key, c, peer, peer_name, unit, target));
            }
        }
    }
    for (file, name, min_ratio) in [("small", "1 KiB file", 1.0), ("big", "8 MiB file", 0.9)] {
        for c in conns {
            let mut figures = vec![(format!("{file}_rps"), "requests/s", Unit::Rps, Target::RatioAtLeast(min_ratio))];
            if file == "big" {
                figures[0].3 = Target::None;
                figures.push((format!("{file}_mbps"), "MB/s", Unit::MBps, Target::RatioAtLeast(min_ratio)));
            }
            figures.push((format!("{file}_p99_us"), "p99 latency", Unit::Micros, Target::None));
            figures.push((format!("{file}_cpu_us"), "server CPU per request", Unit::CpuMicros, Target::None));
            for (key, what, unit, target) in figures {
                rows.push(row(format!("{name}, {c} conn, {what}"), "http", &key, c, "nginx", "nginx", unit, target));
            }
        }
    }
    // Issue 15: /hello by each kind of handler against hyper, and a table of 50 routes against
    // axum.
    for (kind, name, rps_target, cpu_target) in [
        ("fn", "a function", 1.0, 1.0),
        ("tower", "a tower service", 1.0, 1.0),
        ("component", "the cookbook's HelloHandler", 0.9, 1.2),
    ] {
        for c in ["16", "64"] {
            for (key, what, unit, target) in [
                (format!("hello_{kind}_rps"), "requests/s", Unit::Rps, Target::RatioAtLeast(rps_target)),
                (
                    format!("hello_{kind}_cpu_us"),
                    "server CPU per request",
                    Unit::CpuMicros,
                    Target::RatioAtMost(cpu_target),
                ),
            ] {
                let figure = format!("`/hello` by {name}, {c} conn, {what}");
                rows.push(row(figure, "http", &key, c, "hyper", "hyper 1.x", unit, target));
            }
        }
    }
    for c in ["16", "64"] {
        for (key, what, unit, target) in [
            ("routes_rps", "requests/s", Unit::Rps, Target::None),
            ("routes_cpu_us", "server CPU per request", Unit::CpuMicros, Target::RatioAtMost(1.1)),
        ] {
            let figure = format!("50 routes with parameters, {c} conn, {what}");
            rows.push(row(figure, "http", key, c, "axum", "axum 0.8", unit, target));
        }
    }
    rows.push(row(
        "routing alone, 50 routes with parameters, time per request (in-process)".into(),
        "components",
        "routing_ns",
        "-",
        "axum",
        "axum 0.8 Router::call",
        Unit::Nanos,
        Target::RatioAtMost(1.1),
    ));
    rows.push(row(
        "10-stage pipeline, messages/s".into(),
        "components",
        "pipeline_msgs_per_s",
        "-",
        "tokio_mpsc",
        "10 tokio tasks + mpsc(64)",
        Unit::Msgs,
        Target::RatioAtLeast(0.8),
    ));
    rows.push(row(
        "10-stage pipeline, messages/s".into(),
        "components",
        "pipeline_msgs_per_s",
        "-",
        "actix",
        "10 actix 0.13 actors",
        Unit::Msgs,
        Target::RatioAtLeast(2.0),
    ));
    for (key, what) in [("idle_component_heap_bytes", "heap (allocator)"), ("idle_component_rss_bytes", "RSS")] {
        rows.push(row(
            format!("bytes per idle component, {what}"),
            "components",
            key,
            "-",
            "tokio_task",
            "idle tokio task + mpsc",
            Unit::Bytes,
            Target::Below(2048.0),
        ));
    }
    rows.push(row(
        "short-lived child component (made, linked, run, removed), time per child".into(),
        "components",
        "child_lifecycle_ns",
        "-",
        "tokio_task",
        "tokio task + oneshot",
        Unit::Nanos,
        Target::None,
    ));
    rows.push(row(
        "bytes per idle keep-alive connection (RSS)".into(),
        "memory",
        "idle_conn_bytes",
        "-",
        "hyper",
        "hyper 1.x",
        Unit::Bytes,
        Target::RatioAtMost(1.5),
    ));
    rows
}

fn table(results: &Results) -> String {
    let mut out = String::new();
    out += "| figure | ours | peer | peer's | ours / peer | target | verdict |\n";
    out += "|---|---:|---|---:|---:|---|---|\n";
    let mut missing = Vec::new();
    for r in rows() {
        let ours = results.median(r.section, &r.key, "ours", &r.conns);
        let peer = results.median(r.section, &r.key, r.peer, &r.conns);
        let (Some(ours), Some(peer)) = (ours, peer) else {
            missing.push(format!("{} vs {}", r.figure, r.peer_name));
            continue;
        };
        let ratio = ours / peer;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2}x | {} | {} |",
            r.figure,
            r.unit.show(ours),
            r.peer_name,
            r.unit.show(peer),
            ratio,
            r.target.describe(),
            r.target.verdict(ours, ratio)
        );
    }
    let mut notes = Vec::new();
    for m in missing {
        notes.push(format!("not measured in this run: {m}"));
    }
    for ((section, figure, side, conns), runs) in &results.runs {
        if section == "http" && figure.ends_with("_errors") && runs.iter().any(|&e| e > 0.0) {
            let scenario = figure.trim_end_matches("_errors");
            notes.push(format!(
                "{side}, {scenario}, {conns} conn: {} errors in {} runs, of which {} non-2xx responses \
                 (the rest socket errors); see the server's log",
                results.total(section, figure, side, conns),
                runs.len(),
                results.total(section, &format!("{scenario}_non2xx"), side, conns),
            ));
        }
    }
    if let Some(ours) = results.median("check", "hello_response_bytes", "ours", "-") {
        for peer in ["hyper", "actix"] {
            match results.median("check", "hello_response_bytes", peer, "-") {
                Some(theirs) if theirs != ours => notes.push(format!(
                    "the `/hello` response of {peer} is {theirs:.0} bytes, ours {ours:.0}: the peers no longer send \
                     the same bytes as our server; update bench/src/bin/peer_{peer}.rs"
                )),
                _ => {}
            }
        }
    }
    if !notes.is_empty() {
        out += "\n";
        for n in notes {
            let _ = writeln!(out, "* {n}");
        }
    }
    out
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file] = args.as_slice() else {
        eprintln!("usage: suite_report RESULTS.tsv");
        return std::process::ExitCode::from(2);
    };
    let parsed = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}")).and_then(|t| Results::parse(&t));
    match parsed {
        Ok(results) => {
            print!("{}", table(&results));
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("suite_report: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn a_row_with_the_wrong_number_of_fields_is_refused_with_its_line_number() {
        let err = Results::parse("http\thello_rps\tours\t16\t1\t100.0\treq/s\nhttp\thello_rps\n").unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
    }

    #[test]
    fn a_ratio_target_is_met_at_its_bound_and_not_just_below_it() {
        assert_eq!(Target::RatioAtLeast(1.0).verdict(0.0, 1.0), "met");
        assert_eq!(Target::RatioAtLeast(1.0).verdict(0.0, 0.99), "**NOT met**");
        assert_eq!(Target::RatioAtMost(1.2).verdict(0.0, 1.2), "met");
        assert_eq!(Target::RatioAtMost(1.2).verdict(0.0, 1.21), "**NOT met**");
        assert_eq!(Target::Below(2048.0).verdict(2047.0, 9.0), "met");
        assert_eq!(Target::Below(2048.0).verdict(2048.0, 0.1), "**NOT met**");
    }

    #[test]
    fn the_table_takes_the_median_of_the_runs_and_divides_ours_by_the_peer() {
        let tsv = "http\thello_rps\tours\t16\t1\t100\treq/s\n\
                   http\thello_rps\tours\t16\t2\t300\treq/s\n\
                   http\thello_rps\thyper\t16\t1\t100\treq/s\n";
        let t = table(&Results::parse(tsv).unwrap());
        assert!(
            t.contains("| `/hello`, 16 conn, requests/s | 200 req/s | hyper 1.x | 100 req/s | 2.00x | >= 1x | met |"),
            "{t}"
        );
    }

    #[test]
    fn cpu_per_request_is_shown_in_microseconds_with_its_ratio_and_no_target() {
        let tsv = "http\thello_cpu_us\tours\t16\t1\t9.5\tus\n\
                   http\thello_cpu_us\thyper\t16\t1\t5.0\tus\n\
                   http\tsmall_cpu_us\tours\t64\t1\t12\tus\n\
                   http\tsmall_cpu_us\tnginx\t64\t1\t8\tus\n";
        let t = table(&Results::parse(tsv).unwrap());
        assert!(
            t.contains("| `/hello`, 16 conn, server CPU per request | 9.50 µs | hyper 1.x | 5.00 µs | 1.90x | - | - |"),
            "{t}"
        );
        assert!(
            t.contains("| 1 KiB file, 64 conn, server CPU per request | 12.00 µs | nginx | 8.00 µs | 1.50x | - | - |"),
            "{t}"
        );
    }

    #[test]
    fn errors_and_a_response_of_another_length_are_listed_under_the_table() {
        let tsv = "http\thello_errors\tours\t64\t1\t3\tcount\n\
                   check\thello_response_bytes\tours\t-\t1\t201\tB\n\
                   check\thello_response_bytes\thyper\t-\t1\t202\tB\n\
                   check\thello_response_bytes\tactix\t-\t1\t201\tB\n";
        let t = table(&Results::parse(tsv).unwrap());
        assert!(t.contains("ours, hello, 64 conn: 3 errors in 1 runs, of which 0 non-2xx"), "{t}");
        assert!(t.contains("hyper is 202 bytes, ours 201"), "{t}");
        assert!(!t.contains("actix is"), "{t}");
    }
}
