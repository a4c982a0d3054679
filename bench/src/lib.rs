//! What the benchmark binaries of `kamaelia-bench` share.

/// Appends `rows` (tab-separated raw results, see `suite_report`) to `file`; on failure says so
/// on stderr, naming `bench`, and exits with status 1 (a suite missing figures must not pass
/// for complete).
pub fn append_results_or_exit(bench: &str, file: &str, rows: &str) {
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| std::io::Write::write_all(&mut f, rows.as_bytes()));
    if let Err(e) = appended {
        eprintln!("{bench}: cannot append the results to {file}: {e}");
        std::process::exit(1);
    }
}
