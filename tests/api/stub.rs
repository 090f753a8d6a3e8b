//! A tiny HTTP/1.1 server standing in for third parties (a webhook receiver, a CDN purge endpoint, Cloudflare's API):
//! it records every request and answers with the status and body the test sets, or holds it unanswered.
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// The status this request was answered with; 0 for one held unanswered (`hold`).
    pub status: u16,
}

impl Recorded {
    pub fn header(&self, name: &str) -> &str { self.headers.get(name).map(String::as_str).unwrap_or_default() }
    pub fn json(&self) -> serde_json::Value { serde_json::from_slice(&self.body).unwrap_or_default() }
}

#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    /// Read and record requests but never answer them, until `answer` is called.
    hold: bool,
}

pub struct Stub {
    pub port: u16,
    reply: Arc<Mutex<Reply>>,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

impl Stub {
    pub fn start() -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reply = Arc::new(Mutex::new(Reply { status: 200, body: "{}".into(), hold: false }));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (r, s) = (reply.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (r, s) = (r.clone(), s.clone());
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    // One request per connection; we answer with Connection: close.
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let (method, path) = (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string());
                    let mut headers = HashMap::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                        }
                    }
                    let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                    let mut body = vec![0u8; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let reply = r.lock().unwrap().clone();
                    if reply.hold {
                        // A delivery in progress: the sender waits for an answer that comes only if it
                        // outlives the hold, and then is no answer at all (the connection just closes).
                        s.lock().unwrap().push(Recorded { method, path, headers, body, status: 0 });
                        while r.lock().unwrap().hold {
                            std::thread::sleep(Duration::from_millis(25));
                        }
                        return;
                    }
                    s.lock().unwrap().push(Recorded { method, path, headers, body, status: reply.status });
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                        reply.status,
                        reply.body.len(),
                        reply.body
                    );
                });
            }
        });
        Stub { port, reply, seen }
    }

    pub fn url(&self, path: &str) -> String { format!("http://127.0.0.1:{}{}", self.port, path) }

    /// How later requests are answered; also ends a hold (held connections then close unanswered).
    pub fn answer(&self, status: u16, body: &str) { *self.reply.lock().unwrap() = Reply { status, body: body.to_string(), hold: false }; }

    /// Later requests are read and recorded (status 0) but never answered, their connections kept
    /// open until `answer` is called: a delivery caught in flight.
    pub fn hold(&self) { self.reply.lock().unwrap().hold = true; }

    pub fn seen(&self) -> Vec<Recorded> { self.seen.lock().unwrap().clone() }

    /// Waits (up to `secs`) until `pred` holds over what was recorded; returns the record then.
    pub fn wait_for(&self, secs: u64, what: &str, pred: impl Fn(&[Recorded]) -> bool) -> Vec<Recorded> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let seen = self.seen();
            if pred(&seen) {
                return seen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; saw {:#?}", seen.iter().map(|r| (&r.method, &r.path, r.status)).collect::<Vec<_>>());
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}
