//! The edge middleware: request ids, one log line per request, metrics, security headers,
//! JSON bodies and `Cache-Control: no-store` for every error, and panic containment.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{ConnectionType, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::rt::time::{sleep, Sleep};
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::{FutureExt, Stream};
use rand::RngCore;

use crate::http::access_log;
use crate::http::error::{error_response, status_response};
use crate::http::route_label::RouteSlot;
use crate::state::AppState;

/// A request id for a request that brought none: a random per-process prefix and a counter, so ids
/// are unique within a run and unlikely to repeat across runs, for one atomic add per request.
fn new_request_id() -> HeaderValue {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let prefix = *PREFIX.get_or_init(|| rand::thread_rng().next_u32());
    let id = (u64::from(prefix) << 32) | u64::from(NEXT.fetch_add(1, Ordering::Relaxed));
    let mut hex = [0u8; 16];
    for (i, b) in hex.iter_mut().enumerate() {
        *b = b"0123456789abcdef"[((id >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&hex).expect("hex digits are header text")
}

/// An incoming id is kept when it is short and printable, so a proxy's id threads through our logs.
fn incoming_request_id(headers: &header::HeaderMap) -> Option<HeaderValue> {
    let v = headers.get(X_REQUEST_ID)?;
    let b = v.as_bytes();
    (!b.is_empty() && b.len() <= 64 && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')).then(|| v.clone())
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Headers every response carries, whatever it is.
static SECURITY_HEADERS: [(HeaderName, HeaderValue); 3] = [
    (header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains")),
    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
];

/// The policy of the dashboard's documents (and the scripts and styles they load), which its
/// route sets: what a page of ours may load and where its links may send a referrer.
pub static DOCUMENT_POLICY: [(HeaderName, HeaderValue); 2] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
             object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ),
    ),
    (header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin")),
];

/// The policy of everything else (JSON, images, redirects), added where a route set none: these are
/// never documents that load anything, so the strictest policy applies and costs the fewest bytes
/// (a warm image hit is mostly headers; see docs/performance.md).
static RESOURCE_POLICY: [(HeaderName, HeaderValue); 2] = [
    (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")),
    (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
];

fn stand_in_request() -> actix_web::HttpRequest {
    actix_web::test::TestRequest::default().to_http_request()
}

/// Longest request target (path and query) routed at all. Public ids stop at 255 bytes and
/// signed URLs add well under 200, so anything near this is not a client of ours; actix-http
/// itself would pass heads up to 128 KiB through to routing.
const MAX_URI_BYTES: usize = 8 * 1024;

pub async fn edge(mut req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let rid = incoming_request_id(req.headers()).unwrap_or_else(new_request_id);
    let route = RouteSlot::default();
    req.extensions_mut().insert(route.clone());
    let method = req.method().clone();
    // A handle on the target (a reference count, not a copy), for the log after the request is gone.
    let uri = req.uri().clone();
    let (gap, access_log) = req
        .app_data::<web::Data<AppState>>()
        .map_or((0, true), |s| (s.settings.server.body_read_timeout_secs, s.settings.server.access_log));
    let body_timed_out = time_body_reads(&mut req, gap);

    let uri_len = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    let mut res = if uri_len > MAX_URI_BYTES {
        let (r, _) = req.into_parts();
        let msg = format!("request URI is {uri_len} bytes; the limit is {MAX_URI_BYTES}");
        ServiceResponse::new(r, status_response(StatusCode::URI_TOO_LONG, Some(&msg)))
    } else {
        match AssertUnwindSafe(next.call(req)).catch_unwind().await {
            Ok(Ok(res)) => res.map_into_boxed_body(),
            // The original request was consumed (and cloning it beforehand would break routing),
            // so these responses carry a stand-in request; only its response half is sent.
            Ok(Err(e)) => ServiceResponse::new(stand_in_request(), e.error_response()),
            Err(_) => {
                let rid = String::from_utf8_lossy(rid.as_bytes());
                tracing::error!(request_id = %rid, %method, path = uri.path(), "handler panicked");
                ServiceResponse::new(stand_in_request(), error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal server error"))
            }
        }
    };

    if body_timed_out.is_some_and(|t| t.get()) {
        // Whatever the handler made of the failed read, the client is told why, and the
        // connection is not reused: its unread body would be taken as the next request.
        let (r, _) = res.into_parts();
        let mut timeout = status_response(StatusCode::REQUEST_TIMEOUT, Some("request body arrived too slowly"));
        timeout.head_mut().set_connection_type(ConnectionType::Close);
        res = ServiceResponse::new(r, timeout);
    }

    let status = res.status();
    let failed = status.is_client_error() || status.is_server_error();
    let is_json = || {
        res.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
    };
    if failed && !is_json() {
        // Framework-made errors (404, 405, payload errors) come as text; every error we send is JSON.
        // Their other headers (Allow, Retry-After, ...) are kept.
        let (req, r) = res.into_parts();
        let (r, body) = r.into_parts();
        let text = to_bytes(body).await.ok().map(|b| String::from_utf8_lossy(&b).into_owned());
        let mut json = status_response(status, text.as_deref());
        for (k, v) in r.headers() {
            if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                json.headers_mut().insert(k.clone(), v.clone());
            }
        }
        res = ServiceResponse::new(req, json);
    }

    let bytes = match res.response().body().size() {
        actix_web::body::BodySize::Sized(n) => n,
        _ => 0,
    };
    let headers = res.headers_mut();
    if failed && !headers.contains_key(header::CACHE_CONTROL) {
        // Behind a CDN an error must not outlive its cause (a 404 cached for a year hides the upload
        // that follows it); a handler that knows better sets its own Cache-Control.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    for (k, v) in &SECURITY_HEADERS {
        headers.insert(k.clone(), v.clone());
    }
    for (k, v) in &RESOURCE_POLICY {
        if !headers.contains_key(k) {
            headers.insert(k.clone(), v.clone());
        }
    }
    let elapsed = started.elapsed();
    if access_log && access_log::enabled() {
        access_log::record(method.as_str(), uri.path(), status.as_u16(), bytes, elapsed, rid.as_bytes());
    }
    headers.insert(X_REQUEST_ID, rid);
    // Metrics labels come only from fixed sets, never from request text (see `method_label`).
    request_series(route.label(), method_label(&method), status).record(elapsed);
    Ok(res)
}

/// The request counter and latency histogram of one (route, method, status): registered once per
/// worker thread and kept, since naming a series with labels per request meant building and
/// hashing its key (and allocating) on every request.
#[derive(Clone)]
struct RequestSeries {
    count: metrics::Counter,
    seconds: metrics::Histogram,
}

impl RequestSeries {
    fn record(&self, elapsed: Duration) {
        self.count.increment(1);
        self.seconds.record(elapsed.as_secs_f64());
    }
}

fn request_series(route: &'static str, method: &'static str, status: StatusCode) -> RequestSeries {
    thread_local! {
        // Keyed by the labels' addresses: each is a `'static` string from a fixed set, and two
        // spellings of one label at different addresses only register the same series twice.
        static SERIES: RefCell<HashMap<(usize, usize, u16), RequestSeries>> = RefCell::new(HashMap::new());
    }
    let key = (route.as_ptr() as usize, method.as_ptr() as usize, status.as_u16());
    SERIES.with_borrow_mut(|m| {
        m.entry(key)
            .or_insert_with(|| {
                let status = status_label(status);
                RequestSeries {
                    count: metrics::counter!("http_requests_total", "route" => route, "method" => method, "status" => status),
                    seconds: metrics::histogram!("http_request_duration_seconds", "route" => route, "status" => status),
                }
            })
            .clone()
    })
}

/// The method as a metrics label: the standard methods by name, anything else as "other",
/// since any token is a valid method and each distinct label value is a series kept forever.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The status as a metrics label, from a table made once rather than a string per request.
fn status_label(s: StatusCode) -> &'static str {
    static LABELS: OnceLock<Vec<String>> = OnceLock::new();
    let labels = LABELS.get_or_init(|| (100..600).map(|c: u16| c.to_string()).collect());
    labels.get(usize::from(s.as_u16()).wrapping_sub(100)).map_or("other", String::as_str)
}

/// Puts a read timeout on the request body, if it has one: a gap longer than
/// `server.body_read_timeout_secs` while the handler waits for the next chunk fails the read.
/// Returns the flag the failure sets, so the response can say 408 whatever the handler made of it.
fn time_body_reads(req: &mut ServiceRequest, gap: u64) -> Option<Rc<Cell<bool>>> {
    let payload = req.take_payload();
    if matches!(payload, Payload::None) || gap == 0 {
        req.set_payload(payload);
        return None;
    }
    let timed_out = Rc::new(Cell::new(false));
    let stream = TimedPayload { inner: payload, gap: Duration::from_secs(gap), timer: None, timed_out: timed_out.clone() };
    req.set_payload(Payload::Stream { payload: Box::pin(stream) });
    Some(timed_out)
}

/// A request body whose every wait for data is bounded. The clock starts when the reader asks
/// and nothing is buffered, so a slow handler never counts against the client.
struct TimedPayload {
    inner: Payload,
    gap: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    timed_out: Rc<Cell<bool>>,
}

impl Stream for TimedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Pending => {}
            ready => {
                this.timer = None;
                return ready;
            }
        }
        if this.timed_out.get() {
            return Poll::Ready(None);
        }
        let gap = this.gap;
        let timer = this.timer.get_or_insert_with(|| Box::pin(sleep(gap)));
        match timer.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                this.timed_out.set(true);
                let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body arrived too slowly");
                Poll::Ready(Some(Err(PayloadError::Io(e))))
            }
        }
    }
}
