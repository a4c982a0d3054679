//! The command line of the web server (`cargo run --release -- --help`) and of the cookbook
//! examples: [`Options`] parses it, [`usage`] describes it.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use include_dir::{include_dir, Dir};
use kamaelia_chassis::ServerSettings;
use kamaelia_http::{EmbeddedFiles, FileIo, HttpSettings};

/// The port the cookbook serves on: 8082.
pub const DEFAULT_PORT: u16 = 8082;

/// The index file of a directory: `index.html`, as in the cookbook.
pub const DEFAULT_INDEX: &str = "index.html";

/// The small site kept in the repository (`site/`), compiled into the program: served when no
/// `--root` is given, wherever the program runs (a copied or `cargo install`ed binary too).
///
/// ```
/// let site = kamaelia::cli::bundled_site();
/// assert!(site.get("index.html").is_some_and(|page| page.starts_with(b"<!")));
/// ```
///
/// `include_dir!` compiles each file of `site/` in as an `include_bytes!`; the first call lists
/// them in an [`EmbeddedFiles`] (and makes their entity tags), which
/// [`Minimal::embedded`](kamaelia_http::Minimal::embedded) serves. The package's build script
/// rebuilds it when a file in `site/` changes, is added or is removed.
pub fn bundled_site() -> &'static EmbeddedFiles {
    static SITE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/site");
    static FILES: LazyLock<EmbeddedFiles> = LazyLock::new(|| {
        let mut files = Vec::new();
        list_files(&SITE, &mut files);
        EmbeddedFiles::new(files).expect("the names of site/'s files are plain names")
    });
    &FILES
}

/// Adds the files of `dir` and of the directories below it to `files`: each path (relative to
/// the site, `/` between names) and its bytes.
fn list_files(dir: &'static Dir<'static>, files: &mut Vec<(&'static str, &'static [u8])>) {
    for file in dir.files() {
        // (include_dir keeps its paths as `str`: never `None`.)
        if let Some(path) = file.path().to_str() {
            files.push((path, file.contents()));
        }
    }
    for below in dir.dirs() {
        list_files(below, files);
    }
}

/// How the server's components are spread over threads (`--runtime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `per-thread`: a single-threaded tokio runtime on each thread; each connection stays on
    /// the thread it was given ([`Scheduler::per_thread`](crate::axon::Scheduler::per_thread)).
    PerThread,
    /// `shared`: one multi-threaded tokio runtime whose threads take work from each other.
    Shared,
}

/// What the command line asked for. [`Default`] is what no arguments give.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--port`: the port to listen on ([`DEFAULT_PORT`]; 0 picks a free one).
    pub port: u16,
    /// `--bind`: the address to listen on (127.0.0.1; `0.0.0.0` for every interface).
    pub bind: IpAddr,
    /// `--root`: the directory static files are served from; `None` (the default) for the
    /// [`bundled_site`], compiled into the program.
    pub root: Option<PathBuf>,
    /// `--index`: a directory's index file ([`DEFAULT_INDEX`]).
    pub index: String,
    /// `--file-io inline|pool`: where static files are read ([`FileIo::Inline`]).
    pub file_io: FileIo,
    /// `--sendfile on|off`: whether large static files are sent by the kernel (`sendfile`) or read
    /// and written in pieces ([`Minimal::sendfile`](kamaelia_http::Minimal::sendfile); on).
    pub sendfile: bool,
    /// `--threads N`: how many threads serve connections (0, the default: one per core).
    pub threads: usize,
    /// `--runtime per-thread|shared`: how connections are spread over those threads
    /// ([`RuntimeKind::PerThread`]).
    pub runtime: RuntimeKind,
    /// The HTTP limits: `--max-target-length`, `--max-head-bytes`, `--max-headers`,
    /// `--max-body`, `--keep-alive-timeout`, `--header-read-timeout`, `--body-read-timeout`.
    pub http: HttpSettings,
    /// The server's limits: `--max-connections`, `--shutdown-grace`.
    pub server: ServerSettings,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: DEFAULT_PORT,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            root: None,
            index: DEFAULT_INDEX.to_owned(),
            file_io: FileIo::Inline,
            sendfile: true,
            threads: 0,
            runtime: RuntimeKind::PerThread,
            http: HttpSettings::default(),
            server: ServerSettings::default(),
        }
    }
}

/// Why the command line was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// `-h` or `--help`: print [`usage`] and exit successfully.
    #[error("help requested")]
    Help,
    /// An option this program does not have.
    #[error("unknown option `{0}` (see --help)")]
    Unknown(String),
    /// An option given without its value.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// A value that does not fit its option.
    #[error("{option}: `{value}` is not {expected}")]
    Invalid {
        /// The option.
        option: String,
        /// The value given.
        value: String,
        /// What it should have been.
        expected: &'static str,
    },
}

/// The text `--help` prints for `program`.
pub fn usage(program: &str) -> String {
    let h = HttpSettings::default();
    let s = ServerSettings::default();
    format!(
        "usage: {program} [OPTIONS]

Serves the Kamaelia cookbook web server: /echo, /hello, and static files (the bundled site,
compiled into this program, unless --root names a directory).

  --port PORT                  port to listen on (default {DEFAULT_PORT}; 0 picks a free one)
  --bind ADDRESS               address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --root DIR                   directory of static files (default: the bundled site, site/ of the
                               source tree, compiled into this program: served wherever it runs)
  --index NAME                 index file of a directory (default {DEFAULT_INDEX})
  --file-io inline|pool        where static files are read: on the connection's own task (default,
                               as nginx does; fastest from a local disk or the page cache) or on a
                               pool of blocking threads (for NFS and other slow file systems)
  --sendfile on|off            send files larger than a piece (64 KiB) with sendfile, the kernel
                               copying from the page cache to the socket (default on; never with
                               --file-io pool), or read and write them in pieces
  --threads N                  threads serving connections (default 0: one per core)
  --runtime per-thread|shared  a runtime on each thread, each connection staying on the thread
                               it was given, as nginx's workers (default); or one runtime whose
                               threads take work from each other (better when a few connections
                               carry most of the load)

limits (past each, the client gets the status shown):
  --max-connections N          connections served at once (default {}); more wait to be accepted
  --max-target-length BYTES    request target length (default {}); 414
  --max-head-bytes BYTES       request line and header fields (default {}); 431
  --max-headers N              header fields per request (default {}); 431
  --max-body BYTES             request body (default {}); 413
  --keep-alive-timeout SECS    idle time between requests before closing (default {})
  --header-read-timeout SECS   time to send a request head (default {}); 408
  --body-read-timeout SECS     time a request body may go without a byte (default {}); 408
  --shutdown-grace SECS        on Ctrl-C/SIGTERM, time open connections get to finish (default {})
  --handler-host-idle MS       how long an idle connection keeps the component that runs its
                               handlers (default {}); 0: a new handler component per request
  -h, --help                   this text

Logging: one access line per request at info level; RUST_LOG=debug for more.",
        s.max_connections,
        h.max_target_length,
        h.max_head_bytes,
        h.max_headers,
        h.max_body,
        h.keep_alive_timeout.as_secs(),
        h.header_read_timeout.as_secs(),
        h.body_read_timeout.as_secs(),
        s.shutdown_grace.as_secs(),
        h.handler_host_idle.map_or(0, |d| d.as_millis()),
    )
}

impl Options {
    /// Parses `args` (without the program name): `--name value` or `--name=value`.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, CliError> {
        let mut options = Options::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (arg, None),
            };
            if name == "-h" || name == "--help" {
                return Err(CliError::Help);
            }
            let value = inline.or_else(|| args.next()).ok_or_else(|| CliError::MissingValue(name.clone()))?;
            let invalid = |expected| CliError::Invalid { option: name.clone(), value: value.clone(), expected };
            let number = || value.parse::<u64>().map_err(|_| invalid("a whole number"));
            let positive = || number().and_then(|n| if n == 0 { Err(invalid("a number above 0")) } else { Ok(n) });
            let size =
                || positive().and_then(|n| usize::try_from(n).map_err(|_| invalid("a size this machine can hold")));
            match name.as_str() {
                "--port" => options.port = value.parse().map_err(|_| invalid("a port number (0 to 65535)"))?,
                "--bind" => options.bind = value.parse().map_err(|_| invalid("an IP address"))?,
                "--root" => options.root = Some(PathBuf::from(&value)),
                "--index" => options.index = value.clone(),
                "--file-io" => {
                    options.file_io = match value.as_str() {
                        "inline" => FileIo::Inline,
                        "pool" => FileIo::BlockingPool,
                        _ => return Err(invalid("`inline` or `pool`")),
                    }
                }
                "--sendfile" => {
                    options.sendfile = match value.as_str() {
                        "on" => true,
                        "off" => false,
                        _ => return Err(invalid("`on` or `off`")),
                    }
                }
                "--threads" => {
                    options.threads = usize::try_from(number()?).map_err(|_| invalid("a thread count"))?;
                }
                "--runtime" => {
                    options.runtime = match value.as_str() {
                        "per-thread" => RuntimeKind::PerThread,
                        "shared" => RuntimeKind::Shared,
                        _ => return Err(invalid("`per-thread` or `shared`")),
                    }
                }
                "--max-connections" => options.server.max_connections = size()?,
                "--max-target-length" => options.http.max_target_length = size()?,
                "--max-head-bytes" => options.http.max_head_bytes = size()?,
                "--max-headers" => options.http.max_headers = size()?,
                "--max-body" => options.http.max_body = number()?,
                "--keep-alive-timeout" => options.http.keep_alive_timeout = Duration::from_secs(positive()?),
                "--header-read-timeout" => options.http.header_read_timeout = Duration::from_secs(positive()?),
                "--body-read-timeout" => options.http.body_read_timeout = Duration::from_secs(positive()?),
                "--shutdown-grace" => options.server.shutdown_grace = Duration::from_secs(number()?),
                "--handler-host-idle" => {
                    let ms = number()?;
                    options.http.handler_host_idle = (ms > 0).then(|| Duration::from_millis(ms));
                }
                _ => return Err(CliError::Unknown(name)),
            }
        }
        Ok(options)
    }

    /// Parses the process's arguments; on an error or `--help`, prints to stderr and exits
    /// (status 0 for help, 2 otherwise), as command-line programs do.
    pub fn from_env_or_exit() -> Options {
        let program = std::env::args().next().unwrap_or_else(|| "kamaelia".to_owned());
        match Options::parse(std::env::args().skip(1)) {
            Ok(options) => options,
            Err(CliError::Help) => {
                eprintln!("{}", usage(&program));
                std::process::exit(0)
            }
            Err(e) => {
                eprintln!("{program}: {e}");
                std::process::exit(2)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, CliError> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn no_arguments_give_the_defaults() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.port, 8082);
        assert_eq!(o.root, None);
        assert_eq!(parse(&["--root", "/srv/www"]).unwrap().root, Some(PathBuf::from("/srv/www")));
    }

    #[test]
    fn the_bundled_site_is_site_byte_for_byte() {
        // Walks site/ as it is now: a file added, changed or removed since the build would fail
        // here (the build script rebuilds the package when site/ changes).
        fn walk(dir: &std::path::Path, below: &str, found: &mut Vec<(String, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).expect("site/ is readable") {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().expect("UTF-8 names");
                let path = if below.is_empty() { name } else { format!("{below}/{name}") };
                if entry.file_type().unwrap().is_dir() {
                    walk(&entry.path(), &path, found);
                } else {
                    found.push((path, std::fs::read(entry.path()).unwrap()));
                }
            }
        }
        let mut on_disk = Vec::new();
        walk(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/site")), "", &mut on_disk);
        on_disk.sort();
        let site = bundled_site();
        let mut embedded: Vec<(String, Vec<u8>)> =
            site.paths().map(|path| (path.to_owned(), site.get(path).unwrap().to_vec())).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        for page in ["index.html", "style.css", "hello.txt", "docs/index.html"] {
            assert!(embedded.iter().any(|(path, _)| path == page), "{page} is missing");
        }
    }

    #[test]
    fn both_spellings_of_a_value_are_read() {
        let o = parse(&["--port", "9000", "--max-body=10", "--bind", "0.0.0.0"]).unwrap();
        assert_eq!(o.port, 9000);
        assert_eq!(o.http.max_body, 10);
        assert_eq!(o.bind.to_string(), "0.0.0.0");
    }

    #[test]
    fn a_bad_value_names_the_option_and_the_value() {
        let e = parse(&["--port", "http"]).unwrap_err();
        assert_eq!(e.to_string(), "--port: `http` is not a port number (0 to 65535)");
        assert!(matches!(parse(&["--max-headers", "0"]), Err(CliError::Invalid { .. })));
        assert_eq!(parse(&["--frobnicate", "1"]).unwrap_err(), CliError::Unknown("--frobnicate".into()));
        assert_eq!(parse(&["--root"]).unwrap_err(), CliError::MissingValue("--root".into()));
        assert_eq!(parse(&["--file-io", "aio"]).unwrap_err().to_string(), "--file-io: `aio` is not `inline` or `pool`");
        assert_eq!(parse(&["--file-io=pool"]).unwrap().file_io, FileIo::BlockingPool);
        assert!(parse(&[]).unwrap().sendfile);
        assert!(!parse(&["--sendfile", "off"]).unwrap().sendfile);
        assert!(parse(&["--sendfile=on"]).unwrap().sendfile);
        assert_eq!(parse(&["--sendfile", "yes"]).unwrap_err().to_string(), "--sendfile: `yes` is not `on` or `off`");
    }

    #[test]
    fn threads_and_runtime_are_read_and_checked() {
        let o = parse(&[]).unwrap();
        assert_eq!((o.threads, o.runtime), (0, RuntimeKind::PerThread));
        let o = parse(&["--threads", "3", "--runtime=shared"]).unwrap();
        assert_eq!((o.threads, o.runtime), (3, RuntimeKind::Shared));
        assert_eq!(parse(&["--runtime", "per-thread"]).unwrap().runtime, RuntimeKind::PerThread);
        assert_eq!(
            parse(&["--runtime", "green"]).unwrap_err().to_string(),
            "--runtime: `green` is not `per-thread` or `shared`"
        );
        assert_eq!(parse(&["--threads", "two"]).unwrap_err().to_string(), "--threads: `two` is not a whole number");
    }

    #[test]
    fn a_handler_host_idle_of_zero_means_no_host() {
        assert_eq!(parse(&[]).unwrap().http.handler_host_idle, Some(Duration::from_millis(100)));
        assert_eq!(
            parse(&["--handler-host-idle", "250"]).unwrap().http.handler_host_idle,
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse(&["--handler-host-idle=0"]).unwrap().http.handler_host_idle, None);
        assert_eq!(
            parse(&["--handler-host-idle", "-1"]).unwrap_err().to_string(),
            "--handler-host-idle: `-1` is not a whole number"
        );
    }

    #[test]
    fn the_usage_lists_every_option() {
        let text = usage("kamaelia");
        assert!(text.contains("--root DIR                   directory of static files (default: the bundled site"));
        for option in [
            "--port",
            "--bind",
            "--root",
            "--file-io",
            "--threads",
            "--runtime",
            "--max-connections",
            "--max-body",
            "--max-headers",
            "--handler-host-idle",
        ] {
            assert!(text.contains(option), "{option} missing");
        }
    }
}
