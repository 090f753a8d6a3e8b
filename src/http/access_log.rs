//! The access log: one line per request, formatted on the worker thread into a batch of its own and
//! handed to the log writer at most every `FLUSH_EVERY` or `BATCH_BYTES`.
//!
//! Going through a `tracing` event per request cost a tenth of a cache hit's CPU (the formatter, a
//! channel message and a writer-thread wake-up for every line); a batch costs one message for
//! hundreds of lines. Lines keep the formatter's shape (`<time>  INFO imgcloud::access: ...`), and
//! the `IMGCLOUD_LOG` filter still decides whether the `imgcloud::access` target is written.
use std::cell::RefCell;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_appender::non_blocking::NonBlocking;

/// A batch is handed over when it reaches this size...
const BATCH_BYTES: usize = 16 * 1024;
/// ...or when it is this old, so a lone request's line shows up promptly.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

static WRITER: OnceLock<NonBlocking> = OnceLock::new();

/// Sends batches to the process's log writer (the one `tracing` writes to). Without it they go to stderr.
pub fn install(writer: NonBlocking) {
    let _ = WRITER.set(writer);
}

/// Whether lines for `imgcloud::access` pass the log filter (a cached per-callsite answer).
pub fn enabled() -> bool {
    tracing::enabled!(target: "imgcloud::access", tracing::Level::INFO)
}

struct Batch {
    buf: Vec<u8>,
    writer: Option<NonBlocking>,
    /// The flush timer of this worker thread is running.
    timer: bool,
    /// `YYYY-MM-DDTHH:MM:SS` of `second`, made once per second.
    stamp: (u64, [u8; 19]),
}

impl Batch {
    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let _ = match &mut self.writer {
            Some(w) => w.write_all(&self.buf),
            None => std::io::stderr().write_all(&self.buf),
        };
        self.buf.clear();
    }
}

impl Drop for Batch {
    fn drop(&mut self) { self.flush() }
}

thread_local! {
    static BATCH: RefCell<Batch> = RefCell::new(Batch {
        buf: Vec::with_capacity(BATCH_BYTES + 512),
        writer: WRITER.get().cloned(),
        timer: false,
        stamp: (u64::MAX, [0; 19]),
    });
}

/// Appends one line; must run on an actix worker (it starts that worker's flush timer).
pub fn record(method: &str, path: &str, status: u16, bytes: u64, elapsed: Duration, request_id: &[u8]) {
    let start_timer = BATCH.with_borrow_mut(|b| {
        write_line(b, SystemTime::now(), method, path, status, bytes, elapsed, request_id);
        if b.buf.len() >= BATCH_BYTES {
            b.flush();
        }
        !std::mem::replace(&mut b.timer, true)
    });
    if start_timer {
        actix_web::rt::spawn(async {
            let mut tick = actix_web::rt::time::interval(FLUSH_EVERY);
            loop {
                tick.tick().await;
                BATCH.with_borrow_mut(Batch::flush);
            }
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn write_line(b: &mut Batch, now: SystemTime, method: &str, path: &str, status: u16, bytes: u64, elapsed: Duration, request_id: &[u8]) {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let second = since.as_secs();
    if b.stamp.0 != second {
        b.stamp = (second, stamp(second));
    }
    b.buf.extend_from_slice(&b.stamp.1);
    let _ = write!(b.buf, ".{:06}Z  INFO imgcloud::access: {method} ", since.subsec_micros());
    escaped(&mut b.buf, path.as_bytes());
    // Tenths of a millisecond by integer rounding: float formatting was a visible share of a hit.
    let tenths = (elapsed.as_micros() + 50) / 100;
    let _ = write!(b.buf, " {status} {bytes}B {}.{}ms rid=", tenths / 10, tenths % 10);
    escaped(&mut b.buf, request_id);
    b.buf.push(b'\n');
}

/// A request line's bytes are printable ASCII once parsed, but a log line must never let anything
/// else through (a newline would forge a line, an escape sequence would reach a terminal).
fn escaped(out: &mut Vec<u8>, text: &[u8]) {
    for &c in text {
        if (0x21..0x7f).contains(&c) {
            out.push(c);
        } else {
            let _ = write!(out, "%{c:02X}");
        }
    }
}

fn stamp(second: u64) -> [u8; 19] {
    let mut s = [0u8; 19];
    let t = time::OffsetDateTime::from_unix_timestamp(second as i64).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let text = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second());
    s.copy_from_slice(&text.as_bytes()[..19]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(path: &str, rid: &[u8]) -> String {
        let mut b = Batch { buf: Vec::new(), writer: None, timer: true, stamp: (u64::MAX, [0; 19]) };
        let at = UNIX_EPOCH + Duration::from_micros(1_764_608_891_000_042);
        write_line(&mut b, at, "GET", path, 200, 3854, Duration::from_micros(412), rid);
        let text = String::from_utf8(b.buf.clone()).unwrap();
        b.buf.clear();
        text
    }

    #[test]
    fn a_line_has_the_formatters_shape() {
        assert_eq!(
            line("/v1/image/f_webp/a", b"abc-1"),
            "2025-12-01T17:08:11.000042Z  INFO imgcloud::access: GET /v1/image/f_webp/a 200 3854B 0.4ms rid=abc-1\n"
        );
    }

    #[test]
    fn nothing_unprintable_reaches_the_log() {
        let text = line("/a b\n\u{1b}[31mé", b"x\ny");
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("/a%20b%0A%1B[31m%C3%A9 "), "{text}");
        assert!(text.ends_with("rid=x%0Ay\n"), "{text}");
    }
}
