//! The web server's command line (`cargo run --release -- --help`): [`Options`], what it asked
//! for, parsed by clap from [`Args`], the options as `--help` lists them.
//!
//! Every limit's default is read from the library's own defaults ([`HttpSettings::default`],
//! [`ServerSettings::default`]), so `--help` cannot drift from what the server does. A value that
//! does not fit its option is refused with a message naming both ("--port: `http` is not a port
//! number (0 to 65535)"), and the program exits with status 2; `--help` prints to standard error
//! and exits with status 0.

use std::error::Error;
use std::ffi::OsString;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgAction, Parser};
use kamaelia::chassis::{AdapterSettings, ServerSettings, WhenFull};
use kamaelia::http::http_server::busy_response;
use kamaelia::http::{FileIo, HttpSettings};
use kamaelia::live::LiveSettings;

/// The port the cookbook serves on: 8082.
pub const DEFAULT_PORT: u16 = 8082;

/// The index file of a directory: `index.html`, as in the cookbook.
pub const DEFAULT_INDEX: &str = "index.html";

/// The heading `--help` puts the limits under.
const LIMITS: &str = "Limits (past each, the client gets the status shown)";

/// What `--help` shows after the options.
const AFTER_HELP: &str = "\
Examples:
  kamaelia                                  the bundled site on http://127.0.0.1:8082/
  kamaelia --root /srv/www/htdocs           a directory instead, with its index.html
  kamaelia --bind 0.0.0.0 --port 8090       on every interface, on another port
  kamaelia --threads 2 --runtime shared     two threads taking work from each other
  kamaelia --max-body 1048576 --keep-alive-timeout 5
  curl -i http://127.0.0.1:8082/hello       Hello World
  curl -i 'http://127.0.0.1:8082/echo?x=1'  the request, shown as a page
  kamaelia --introspect                     and the running graph, live, on
                                            http://127.0.0.1:8082/_introspect

Logging: one access line per request at info level; RUST_LOG=debug for more.
On SIGUSR1 (kill -USR1 PID) one info line gives the live components, the open
connections and the connections accepted so far.";

/// How the server's components are spread over threads (`--runtime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `per-thread`: a single-threaded tokio runtime on each thread; each connection stays on
    /// the thread it was given ([`Scheduler::per_thread`](kamaelia::axon::Scheduler::per_thread)).
    PerThread,
    /// `shared`: one multi-threaded tokio runtime whose threads take work from each other.
    Shared,
}

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--port`: the port to listen on ([`DEFAULT_PORT`]; 0 picks a free one).
    pub port: u16,
    /// `--bind`: the address to listen on (127.0.0.1; `0.0.0.0` for every interface).
    pub bind: IpAddr,
    /// `--root`: the directory static files are served from; `None` (the default) for the
    /// bundled site, compiled into the program ([`kamaelia::site::bundled_site`]).
    pub root: Option<PathBuf>,
    /// `--index`: a directory's index file ([`DEFAULT_INDEX`]).
    pub index: String,
    /// `--file-io inline|pool`: where static files are read ([`FileIo::Inline`]).
    pub file_io: FileIo,
    /// `--introspect`: the live page, the running graph drawn in a browser, at
    /// [`kamaelia::live::DEFAULT_PATH`] (off); its settings from `--introspect-interval`,
    /// `--introspect-heartbeat` and `--introspect-viewers`.
    pub introspect: Option<LiveSettings>,
    /// `--sendfile on|off`: whether large static files are sent by the kernel (`sendfile`) or read
    /// and written in pieces (on).
    pub sendfile: bool,
    /// `--threads N`: how many threads serve connections (0, the default: one per core).
    pub threads: usize,
    /// `--runtime per-thread|shared`: how connections are spread over those threads
    /// ([`RuntimeKind::PerThread`]).
    pub runtime: RuntimeKind,
    /// The HTTP limits: `--max-target-length`, `--max-head-bytes`, `--max-headers`,
    /// `--max-body`, `--keep-alive-timeout`, `--header-read-timeout`, `--body-read-timeout`,
    /// `--handler-host-idle`, `--write-behind`.
    pub http: HttpSettings,
    /// The server's limits: `--max-connections`, `--when-full` (with `--retry-after`),
    /// `--shutdown-grace`, `--read-buffer`.
    pub server: ServerSettings,
}

/// The options as `--help` lists them; [`Options::parse_from`] turns them into [`Options`].
#[derive(Debug, Parser)]
#[command(
    name = "kamaelia",
    version,
    about = "Serves the Kamaelia cookbook web server: /echo, /hello, and static files (the bundled site,\n\
             compiled into this program, unless --root names a directory).",
    after_help = AFTER_HELP
)]
pub struct Args {
    /// port to listen on; 0 picks a free one
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_PORT, value_parser = port)]
    port: u16,
    /// address to listen on; 0.0.0.0 for every interface
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1", value_parser = ip_address)]
    bind: IpAddr,
    /// directory of static files (default: the bundled site, site/ of the
    /// source tree, compiled into this program: served wherever it runs)
    #[arg(long, value_name = "DIR", verbatim_doc_comment)]
    root: Option<PathBuf>,
    /// index file of a directory
    #[arg(long, value_name = "NAME", default_value = DEFAULT_INDEX)]
    index: String,
    /// where static files are read: on the connection's own task
    /// (inline, as nginx does; fastest from a local disk or the page
    /// cache) or on a pool of blocking threads (pool: for NFS and
    /// other slow file systems)
    #[arg(long, value_name = "inline|pool", default_value = "inline", value_parser = file_io, verbatim_doc_comment)]
    file_io: FileIo,
    /// send files larger than 16 KiB with sendfile, the
    /// kernel copying from the page cache to the socket (never with
    /// --file-io pool); off: read and write them in pieces
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = on_off, action = ArgAction::Set,
          verbatim_doc_comment)]
    sendfile: bool,
    /// serve the running graph, drawn live, at /_introspect (answering only
    /// on the address the server listens on)
    #[arg(long, verbatim_doc_comment)]
    introspect: bool,
    /// threads serving connections; 0: one per core
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = thread_count)]
    threads: usize,
    /// a runtime on each thread, each connection staying on the thread it
    /// was given, as nginx's workers (per-thread); or one runtime whose
    /// threads take work from each other (shared: better when a few
    /// connections carry most of the load)
    #[arg(long, value_name = "per-thread|shared", default_value = "per-thread", value_parser = runtime,
          verbatim_doc_comment)]
    runtime: RuntimeKind,

    /// connections served at once; more wait to be accepted, or get a
    /// 503 (see --when-full)
    #[arg(long, value_name = "N", help_heading = LIMITS, verbatim_doc_comment,
          default_value_t = ServerSettings::default().max_connections, value_parser = size)]
    max_connections: usize,
    /// what clients past --max-connections get: wait (in the kernel's
    /// listen queue, to be served when a connection ends) or refuse
    /// (503 Service Unavailable with Retry-After, at once; no component
    /// is made for them)
    #[arg(long, value_name = "wait|refuse", help_heading = LIMITS, default_value = "wait", value_parser = when_full,
          verbatim_doc_comment)]
    when_full: Refusing,
    /// with --when-full refuse, the Retry-After a refused client is
    /// given, in seconds
    #[arg(long, value_name = "SECS", help_heading = LIMITS, default_value_t = 1, value_parser = above_zero,
          verbatim_doc_comment)]
    retry_after: u64,
    /// request target length, in bytes; 414
    #[arg(long, value_name = "BYTES", help_heading = LIMITS,
          default_value_t = HttpSettings::default().max_target_length, value_parser = size)]
    max_target_length: usize,
    /// request line and header fields, in bytes; 431
    #[arg(long, value_name = "BYTES", help_heading = LIMITS,
          default_value_t = HttpSettings::default().max_head_bytes, value_parser = size)]
    max_head_bytes: usize,
    /// header fields per request; 431
    #[arg(long, value_name = "N", help_heading = LIMITS,
          default_value_t = HttpSettings::default().max_headers, value_parser = size)]
    max_headers: usize,
    /// request body, in bytes; 413
    #[arg(long, value_name = "BYTES", help_heading = LIMITS,
          default_value_t = HttpSettings::default().max_body, value_parser = whole_number)]
    max_body: u64,
    /// requests one connection may make; the last is answered with
    /// Connection: close
    #[arg(long, value_name = "N", help_heading = LIMITS, verbatim_doc_comment,
          default_value_t = HttpSettings::default().max_requests_per_connection, value_parser = size)]
    max_requests_per_connection: usize,
    /// idle time after a response before closing, in seconds
    #[arg(long, value_name = "SECS", help_heading = LIMITS,
          default_value_t = HttpSettings::default().keep_alive_timeout.as_secs(), value_parser = above_zero)]
    keep_alive_timeout: u64,
    /// time to send a request head, in seconds; 408
    #[arg(long, value_name = "SECS", help_heading = LIMITS,
          default_value_t = HttpSettings::default().header_read_timeout.as_secs(), value_parser = above_zero)]
    header_read_timeout: u64,
    /// time a request body may go without a byte, in seconds; 408
    #[arg(long, value_name = "SECS", help_heading = LIMITS,
          default_value_t = HttpSettings::default().body_read_timeout.as_secs(), value_parser = above_zero)]
    body_read_timeout: u64,
    /// on Ctrl-C/SIGTERM, time open connections get to finish, in seconds
    #[arg(long, value_name = "SECS", help_heading = LIMITS,
          default_value_t = ServerSettings::default().shutdown_grace.as_secs(), value_parser = whole_number)]
    shutdown_grace: u64,
    /// bytes of responses a connection may hand its socket and not yet
    /// written; then it waits, and pipelined requests wait, unread, in
    /// the kernel; 0: each response waits until it is written
    #[arg(long, value_name = "BYTES", help_heading = LIMITS, verbatim_doc_comment,
          default_value_t = HttpSettings::default().write_behind, value_parser = size_or_zero)]
    write_behind: usize,
    /// most bytes read from a client at once; a connection reads at most
    /// two such buffers ahead of the request it is parsing
    #[arg(long, value_name = "BYTES", help_heading = LIMITS, verbatim_doc_comment,
          default_value_t = ServerSettings::default().connection.read_buffer_size, value_parser = size)]
    read_buffer: usize,
    /// how long an idle connection keeps the component that runs its
    /// handlers, and its buffers, in milliseconds; 0: a new handler
    /// component per request, buffers freed after each response
    #[arg(long, value_name = "MS", help_heading = LIMITS, allow_hyphen_values = true, verbatim_doc_comment,
          default_value_t = HttpSettings::default().handler_host_idle.map_or(0, |d| d.as_millis() as u64),
          value_parser = whole_number)]
    handler_host_idle: u64,
    /// with --introspect, how often each viewer's stream looks at the
    /// graph, in milliseconds (at least 10)
    #[arg(long, value_name = "MS", help_heading = LIMITS, verbatim_doc_comment, requires = "introspect",
          default_value_t = LiveSettings::default().interval.as_millis() as u64, value_parser = interval)]
    introspect_interval: u64,
    /// with --introspect, how long a quiet stream waits before writing a
    /// comment line, in seconds: a viewer that has gone is noticed at the
    /// next write, and its components end
    #[arg(long, value_name = "SECS", help_heading = LIMITS, verbatim_doc_comment, requires = "introspect",
          default_value_t = LiveSettings::default().heartbeat.as_secs(), value_parser = above_zero)]
    introspect_heartbeat: u64,
    /// with --introspect, viewers of the live page at once; 503
    #[arg(long, value_name = "N", help_heading = LIMITS, requires = "introspect",
          default_value_t = LiveSettings::default().max_viewers, value_parser = size)]
    introspect_viewers: usize,
}

impl From<Args> for Options {
    fn from(args: Args) -> Options {
        let http = HttpSettings {
            max_target_length: args.max_target_length,
            max_head_bytes: args.max_head_bytes,
            max_headers: args.max_headers,
            max_body: args.max_body,
            max_requests_per_connection: args.max_requests_per_connection,
            keep_alive_timeout: Duration::from_secs(args.keep_alive_timeout),
            header_read_timeout: Duration::from_secs(args.header_read_timeout),
            body_read_timeout: Duration::from_secs(args.body_read_timeout),
            handler_host_idle: (args.handler_host_idle > 0).then(|| Duration::from_millis(args.handler_host_idle)),
            write_behind: args.write_behind,
            ..HttpSettings::default()
        };
        let when_full = match args.when_full {
            Refusing::Wait => WhenFull::Wait,
            Refusing::Refuse => WhenFull::Refuse(busy_response(Duration::from_secs(args.retry_after))),
        };
        let server = ServerSettings {
            max_connections: args.max_connections,
            when_full,
            shutdown_grace: Duration::from_secs(args.shutdown_grace),
            connection: AdapterSettings { read_buffer_size: args.read_buffer, ..ServerSettings::default().connection },
            ..ServerSettings::default()
        };
        Options {
            port: args.port,
            bind: args.bind,
            root: args.root,
            index: args.index,
            file_io: args.file_io,
            introspect: args.introspect.then(|| LiveSettings {
                interval: Duration::from_millis(args.introspect_interval),
                max_viewers: args.introspect_viewers,
                heartbeat: Duration::from_secs(args.introspect_heartbeat),
            }),
            sendfile: args.sendfile,
            threads: args.threads,
            runtime: args.runtime,
            http,
            server,
        }
    }
}

impl Options {
    /// Parses `args`, the program's name first: `--name value` or `--name=value`.
    pub fn parse_from<I, T>(args: I) -> Result<Options, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Args::try_parse_from(args).map(Options::from)
    }

    /// Parses the process's arguments; on an error or `--help`, prints to standard error and
    /// exits (status 0 for help and `--version`, 2 otherwise), as command-line programs do.
    pub fn from_env_or_exit() -> Options {
        match Options::parse_from(std::env::args_os()) {
            Ok(options) => options,
            Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
                eprint!("{}", e.render());
                std::process::exit(0)
            }
            Err(e) => {
                eprintln!("{}", message(&e));
                std::process::exit(2)
            }
        }
    }
}

/// What to print for `e`: for a value that does not fit its option, one line naming the option,
/// the value and what was expected (`kamaelia: --port: `http` is not a port number (0 to 65535)`);
/// for anything else (an unknown option, a missing value), clap's own message, which names the
/// option, with the usage line.
pub fn message(e: &clap::Error) -> String {
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let option = context(ContextKind::InvalidArg).and_then(|arg| arg.split(' ').next());
    let value = context(ContextKind::InvalidValue);
    let expected = e.source().and_then(|s| s.downcast_ref::<Expected>());
    match (e.kind(), option, value, expected) {
        (ErrorKind::ValueValidation, Some(option), Some(value), Some(expected)) => {
            format!("kamaelia: {option}: `{value}` is not {expected}")
        }
        _ => e.render().to_string().trim_end().to_owned(),
    }
}

/// What a value should have been: the reason a value parser gives clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected(&'static str);

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Error for Expected {}

fn port(value: &str) -> Result<u16, Expected> {
    value.parse().map_err(|_| Expected("a port number (0 to 65535)"))
}

fn ip_address(value: &str) -> Result<IpAddr, Expected> {
    value.parse().map_err(|_| Expected("an IP address"))
}

fn whole_number(value: &str) -> Result<u64, Expected> {
    value.parse().map_err(|_| Expected("a whole number"))
}

fn above_zero(value: &str) -> Result<u64, Expected> {
    whole_number(value).and_then(|n| if n == 0 { Err(Expected("a number above 0")) } else { Ok(n) })
}

fn interval(value: &str) -> Result<u64, Expected> {
    let least = kamaelia::axon::introspector::MIN_INTERVAL.as_millis() as u64;
    whole_number(value)
        .and_then(|n| if n < least { Err(Expected("a number of milliseconds, 10 or more")) } else { Ok(n) })
}

fn size(value: &str) -> Result<usize, Expected> {
    above_zero(value).and_then(|n| usize::try_from(n).map_err(|_| Expected("a size this machine can hold")))
}

fn size_or_zero(value: &str) -> Result<usize, Expected> {
    whole_number(value).and_then(|n| usize::try_from(n).map_err(|_| Expected("a size this machine can hold")))
}

fn thread_count(value: &str) -> Result<usize, Expected> {
    whole_number(value).and_then(|n| usize::try_from(n).map_err(|_| Expected("a thread count")))
}

/// `--when-full`: what clients past `--max-connections` get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusing {
    /// `wait`: they wait to be accepted.
    Wait,
    /// `refuse`: 503 with `Retry-After`, at once.
    Refuse,
}

fn when_full(value: &str) -> Result<Refusing, Expected> {
    match value {
        "wait" => Ok(Refusing::Wait),
        "refuse" => Ok(Refusing::Refuse),
        _ => Err(Expected("`wait` or `refuse`")),
    }
}

fn file_io(value: &str) -> Result<FileIo, Expected> {
    match value {
        "inline" => Ok(FileIo::Inline),
        "pool" => Ok(FileIo::BlockingPool),
        _ => Err(Expected("`inline` or `pool`")),
    }
}

fn on_off(value: &str) -> Result<bool, Expected> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(Expected("`on` or `off`")),
    }
}

fn runtime(value: &str) -> Result<RuntimeKind, Expected> {
    match value {
        "per-thread" => Ok(RuntimeKind::PerThread),
        "shared" => Ok(RuntimeKind::Shared),
        _ => Err(Expected("`per-thread` or `shared`")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Options::parse_from(std::iter::once("kamaelia").chain(args.iter().copied()))
    }

    /// The message printed for the error `args` cause.
    fn refusal(args: &[&str]) -> String {
        message(&parse(args).unwrap_err())
    }

    #[test]
    fn the_definition_is_sound() {
        Args::command().debug_assert();
    }

    #[test]
    fn no_arguments_give_the_defaults() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.port, 8082);
        assert_eq!(o.bind.to_string(), "127.0.0.1");
        assert_eq!(o.root, None);
        assert_eq!(o.index, "index.html");
        assert_eq!(o.http, HttpSettings::default());
        assert_eq!(o.server, ServerSettings::default());
        assert_eq!(parse(&["--root", "/srv/www"]).unwrap().root, Some(PathBuf::from("/srv/www")));
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
        assert_eq!(refusal(&["--port", "http"]), "kamaelia: --port: `http` is not a port number (0 to 65535)");
        assert_eq!(refusal(&["--max-headers", "0"]), "kamaelia: --max-headers: `0` is not a number above 0");
        let unknown = parse(&["--frobnicate", "1"]).unwrap_err();
        assert_eq!(unknown.kind(), ErrorKind::UnknownArgument);
        assert!(message(&unknown).contains("'--frobnicate'"), "{}", message(&unknown));
        let missing = parse(&["--root"]).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::InvalidValue);
        assert!(message(&missing).contains("'--root <DIR>'"), "{}", message(&missing));
        assert_eq!(refusal(&["--file-io", "aio"]), "kamaelia: --file-io: `aio` is not `inline` or `pool`");
        assert_eq!(parse(&["--file-io=pool"]).unwrap().file_io, FileIo::BlockingPool);
        assert!(parse(&[]).unwrap().sendfile);
        assert!(!parse(&["--sendfile", "off"]).unwrap().sendfile);
        assert!(parse(&["--sendfile=on"]).unwrap().sendfile);
        assert_eq!(refusal(&["--sendfile", "yes"]), "kamaelia: --sendfile: `yes` is not `on` or `off`");
    }

    #[test]
    fn threads_and_runtime_are_read_and_checked() {
        let o = parse(&[]).unwrap();
        assert_eq!((o.threads, o.runtime), (0, RuntimeKind::PerThread));
        let o = parse(&["--threads", "3", "--runtime=shared"]).unwrap();
        assert_eq!((o.threads, o.runtime), (3, RuntimeKind::Shared));
        assert_eq!(parse(&["--runtime", "per-thread"]).unwrap().runtime, RuntimeKind::PerThread);
        assert_eq!(refusal(&["--runtime", "green"]), "kamaelia: --runtime: `green` is not `per-thread` or `shared`");
        assert_eq!(refusal(&["--threads", "two"]), "kamaelia: --threads: `two` is not a whole number");
    }

    #[test]
    fn every_limit_is_read_into_the_settings() {
        let o = parse(&[
            "--max-connections=7",
            "--max-target-length=100",
            "--max-head-bytes=200",
            "--max-headers=3",
            "--keep-alive-timeout=4",
            "--header-read-timeout=5",
            "--body-read-timeout=6",
            "--shutdown-grace=0",
            "--max-requests-per-connection=8",
            "--write-behind=0",
            "--read-buffer=4096",
        ])
        .unwrap();
        assert_eq!(o.server.max_connections, 7);
        assert_eq!(o.http.write_behind, 0);
        assert_eq!(o.server.connection.read_buffer_size, 4096);
        assert_eq!(refusal(&["--read-buffer", "0"]), "kamaelia: --read-buffer: `0` is not a number above 0");
        assert_eq!((o.http.max_target_length, o.http.max_head_bytes, o.http.max_headers), (100, 200, 3));
        assert_eq!(o.http.keep_alive_timeout, Duration::from_secs(4));
        assert_eq!(o.http.header_read_timeout, Duration::from_secs(5));
        assert_eq!(o.http.body_read_timeout, Duration::from_secs(6));
        assert_eq!(o.server.shutdown_grace, Duration::ZERO);
        assert_eq!(o.http.max_requests_per_connection, 8);
        assert_eq!(
            refusal(&["--keep-alive-timeout", "0"]),
            "kamaelia: --keep-alive-timeout: `0` is not a number above 0"
        );
    }

    #[test]
    fn the_live_page_is_off_unless_asked_for() {
        assert_eq!(parse(&[]).unwrap().introspect, None);
        let live = parse(&["--introspect"]).unwrap().introspect.unwrap();
        assert_eq!(live, LiveSettings::default());
        let live = parse(&[
            "--introspect",
            "--introspect-interval=50",
            "--introspect-viewers",
            "2",
            "--introspect-heartbeat=1",
        ])
        .unwrap();
        let live = live.introspect.unwrap();
        assert_eq!((live.interval, live.max_viewers), (Duration::from_millis(50), 2));
        assert_eq!(live.heartbeat, Duration::from_secs(1));
        assert_eq!(
            refusal(&["--introspect", "--introspect-interval", "5"]),
            "kamaelia: --introspect-interval: `5` is not a number of milliseconds, 10 or more"
        );
        assert_eq!(
            refusal(&["--introspect", "--introspect-viewers", "0"]),
            "kamaelia: --introspect-viewers: `0` is not a number above 0"
        );
        // Without --introspect they would do nothing: refused, naming what they need.
        let alone = parse(&["--introspect-viewers", "2"]).unwrap_err();
        assert_eq!(alone.kind(), ErrorKind::MissingRequiredArgument);
        assert!(message(&alone).contains("--introspect"), "{}", message(&alone));
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
            refusal(&["--handler-host-idle", "-1"]),
            "kamaelia: --handler-host-idle: `-1` is not a whole number"
        );
    }

    #[test]
    fn the_help_lists_every_option_with_its_default_and_unit() {
        let help = Args::command().render_help().to_string();
        assert!(help.contains("directory of static files (default: the bundled site, site/ of the"), "{help}");
        assert!(help.contains("compiled into this program: served wherever it runs)"), "{help}");
        for argument in Args::command().get_arguments() {
            let long = argument.get_long().map(|l| format!("--{l}"));
            assert!(long.as_ref().is_some_and(|l| help.contains(l.as_str())), "{long:?} missing:\n{help}");
        }
        let h = HttpSettings::default();
        for (option, unit, default) in [
            ("--max-body", "BYTES", h.max_body.to_string()),
            ("--max-target-length", "BYTES", h.max_target_length.to_string()),
            ("--keep-alive-timeout", "SECS", h.keep_alive_timeout.as_secs().to_string()),
            ("--handler-host-idle", "MS", "100".to_owned()),
            ("--write-behind", "BYTES", h.write_behind.to_string()),
            ("--read-buffer", "BYTES", ServerSettings::default().connection.read_buffer_size.to_string()),
            ("--max-connections", "N", ServerSettings::default().max_connections.to_string()),
            ("--introspect-interval", "MS", "250".to_owned()),
            ("--introspect-viewers", "N", LiveSettings::default().max_viewers.to_string()),
            ("--introspect-heartbeat", "SECS", LiveSettings::default().heartbeat.as_secs().to_string()),
        ] {
            let line = help.lines().skip_while(|l| !l.contains(option)).take(4).collect::<Vec<_>>().join("\n");
            assert!(line.contains(&format!("{option} <{unit}>")), "{option}: no unit in\n{line}");
            assert!(line.contains(&format!("[default: {default}]")), "{option}: no default in\n{line}");
        }
        assert!(help.contains("Examples:"), "{help}");
    }
}
