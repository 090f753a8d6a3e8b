//! The `imgcloud` binary: `serve` (default), `user add`, and `render` for local files.
use std::io::{BufRead, Write};
use std::process::ExitCode;

use imgcloud::config::Settings;
use imgcloud::startup;
use imgcloud_actors::domain::Role;

const USAGE: &str = "usage:
  imgcloud [serve]                              run the server
  imgcloud user add --email E [--admin]         add a user (password from IMGCLOUD_NEW_PASSWORD or a prompt)
  imgcloud render INPUT TRANSFORM OUTPUT        run the engine on a local file ('-' or '' for no transform)
  imgcloud --version                            print the version";

fn main() -> ExitCode {
    tune_malloc();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        [] | ["serve"] => serve(),
        ["user", "add", rest @ ..] => user_add(rest),
        ["render", input, transform, output] => render(input, transform, output),
        ["-V" | "--version"] => {
            println!("imgcloud {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imgcloud: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Fixes glibc's mmap threshold before any thread starts (docs/performance.md "Memory: the
/// allocator"). glibc raises the threshold to the size of every mmapped block freed, up to 32 MiB, so
/// after the first large render the decode and resize buffers of a few MB came from the heap arenas
/// instead, and freed arena pages stay in RSS: the worst peak RSS under the cold load was 247 MiB
/// with glibc as is and 178 MiB with a fixed 1 MiB threshold (jemalloc 197, mimalloc 222, in the same
/// runs). The price is throughput: large buffers are mapped and faulted per render (glibc as is
/// served ~1.17x the cold req/s). Escape hatch: `IMGCLOUD_MALLOC=off` leaves glibc as it is, and
/// glibc's own settings (`MALLOC_MMAP_THRESHOLD_`, `GLIBC_TUNABLES`) win over ours.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // Bytes from which glibc serves an allocation by its own mmap (unmapped again on free).
        const MMAP_THRESHOLD: libc::c_int = 1 << 20;
        let env = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        if std::env::var_os("IMGCLOUD_MALLOC").is_some_and(|v| v == "off") || env("MALLOC_MMAP_THRESHOLD_") || env("GLIBC_TUNABLES") {
            return;
        }
        // SAFETY: mallopt only changes allocator parameters; called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}

fn settings() -> Result<Settings, String> {
    Settings::load().map_err(|e| format!("configuration: {e}"))
}

fn serve() -> Result<(), String> {
    startup::private_umask();
    // Log lines are written by a background thread in batches: a blocking write to stderr per
    // request was a syscall on every cache hit. The worker flushes its buffer each time its queue
    // drains, so lines are never held back when traffic is light; dropping `_log_guard` at the end
    // of `serve` flushes the rest. If the queue (128k messages: a line, or a batch of access-log
    // lines) ever fills, they are dropped rather than slowing requests down.
    let (log_writer, _log_guard) = tracing_appender::non_blocking(std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr()));
    // Access-log lines reach the same writer, but in batches made on each worker (http/access_log.rs).
    imgcloud::http::access_log::install(log_writer.clone());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("IMGCLOUD_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(log_writer)
        // Colour codes only help a person at a terminal; in a file or a log collector they are noise.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let settings = settings()?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok();
    let sys = actix_web::rt::System::new();
    sys.block_on(async move {
        let app = startup::build(settings, metrics)?;
        app.server.await.map_err(|e| e.to_string())
    })
}

fn user_add(rest: &[&str]) -> Result<(), String> {
    let mut email = None;
    let mut role = Role::User;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match *a {
            "--email" => email = it.next().map(|s| s.to_string()),
            "--admin" => role = Role::Admin,
            other => return Err(format!("unknown option '{other}'\n{USAGE}")),
        }
    }
    let email = email.ok_or_else(|| format!("--email is required\n{USAGE}"))?;
    let password = match std::env::var("IMGCLOUD_NEW_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            print!("password for {email}: ");
            std::io::stdout().flush().ok();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    startup::private_umask();
    let data = startup::open_data_dir(&settings()?)?;
    let user = data.auth.create_user(&email, &password, role).map_err(|e| e.to_string())?;
    println!("created {} {} (id {})", user.role.as_str(), user.email, user.id);
    Ok(())
}

/// The output file's extension names the format, as with vipsthumbnail; an explicit `f_` that
/// names another format is a mistake worth stopping for, and `f_auto` (nothing to negotiate with
/// here) defers to the extension. Without a known extension, `f_` must say it.
fn with_output_format(mut t: imgcloud_engine::Transform, output: &str) -> Result<imgcloud_engine::Transform, String> {
    use imgcloud_engine::OutputFormat;
    let ext = std::path::Path::new(output).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let by_ext = match ext.as_deref() {
        Some("jpeg") => Some(OutputFormat::Jpg),
        Some(e) => OutputFormat::from_name(e).filter(|f| *f != OutputFormat::Auto),
        None => None,
    };
    match (t.f, by_ext) {
        (None | Some(OutputFormat::Auto), Some(f)) => t.f = Some(f),
        (Some(asked), Some(f)) if asked != f => {
            return Err(format!("the transform asks for f_{} but {output} is a .{} file", asked.as_str(), ext.unwrap_or_default()))
        }
        (None | Some(OutputFormat::Auto), None) => {
            return Err(format!("cannot tell the output format from {output:?}: end it in .jpg, .png, .webp, .avif or .gif, or add f_<format>"))
        }
        _ => {}
    }
    Ok(t)
}

fn render(input: &str, transform: &str, output: &str) -> Result<(), String> {
    let t = match transform {
        "" | "-" => imgcloud_engine::Transform::default(),
        s => imgcloud_engine::Transform::parse(s).map_err(|e| format!("invalid transform: {e}"))?,
    };
    let t = with_output_format(t, output)?;
    let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let out = imgcloud_engine::render(&bytes, &t, &imgcloud_engine::RenderOptions::default()).map_err(|e| e.to_string())?;
    std::fs::write(output, &out.bytes).map_err(|e| format!("{output}: {e}"))?;
    println!("{} {}x{} {} bytes", out.content_type(), out.width, out.height, out.bytes.len());
    Ok(())
}
