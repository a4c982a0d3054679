//! `examples/line_filter.rs`, a grep built from components and driven as a file, run as a user
//! runs it: its standard input piped in (written while its output is read, more than the boxes
//! hold), its standard output compared with the lines expected.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a run may take before the test fails (never reached when things work).
const DEADLINE: Duration = Duration::from_secs(60);

fn example(name: &str) -> PathBuf {
    // Integration tests run from target/<profile>/deps; cargo builds examples next door.
    let deps = std::env::current_exe().expect("test binary path");
    let profile = deps.parent().and_then(|p| p.parent()).expect("target/<profile>");
    profile.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Runs `line_filter ARGS` with `input` on its standard input, within [`DEADLINE`].
fn run(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = Command::new(example("line_filter"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example runs");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The program may stop reading (a refused line): a broken pipe here is its answer.
        let _ = stdin.write_all(&input);
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
        child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
        let status = child.wait().unwrap();
        let _ = tx.send(Output { status, stdout, stderr });
    });
    let output = rx.recv_timeout(DEADLINE).expect("line_filter ended");
    writer.join().unwrap();
    output
}

#[test]
fn it_keeps_the_lines_that_contain_the_pattern_through_megabytes_of_input() {
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for i in 0..100_000 {
        let line = format!("line {i} {}\n", if i % 7 == 0 { "has a needle" } else { "has hay" });
        if i % 7 == 0 {
            expected.extend_from_slice(line.as_bytes());
        }
        input.extend_from_slice(line.as_bytes());
    }
    // A last line without its newline, that matches.
    input.extend_from_slice(b"the last needle");
    expected.extend_from_slice(b"the last needle");
    let output = run(&["needle"], input);
    assert!(output.status.success(), "{}: {}", output.status, String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.stdout.len(), expected.len());
    assert!(output.stdout == expected, "the lines kept differ");
}

#[test]
fn invert_keeps_the_others_and_bytes_that_are_not_utf8_pass_as_they_are() {
    let input = b"apple\nban\xffana\ncherry\n\xfe\xfd\n".to_vec();
    let output = run(&["--invert", "an"], input);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.stdout, b"apple\ncherry\n\xfe\xfd\n");
}

#[test]
fn a_line_longer_than_the_limit_ends_it_with_an_error_naming_the_line_and_the_setting() {
    let mut input = b"short\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.push(b'\n');
    let output = run(&["--max-line", "1000", "x"], input);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2 is longer than 1000 bytes (--max-line)"), "{stderr}");
}

#[test]
fn no_pattern_is_a_usage_error() {
    let output = run(&[], Vec::new());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("<PATTERN>"));
}
