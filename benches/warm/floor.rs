//! The framework's floor for a warm hit: actix-http alone (no actix-web, no routing, no caches),
//! answering every request with the bytes and headers imgcloud sent for one cache hit.
//!
//! `benches/warm/run.sh` with `FLOOR=1` times it beside imgcloud and nginx in the same rounds, so
//! the gap between imgcloud and nginx splits into what our code costs (imgcloud against this) and
//! what the HTTP stack the server is built on costs (this against nginx).
//!
//!   cargo run --release --example warm_floor -- PORT BODY_FILE HEADERS_FILE
//!
//! HEADERS_FILE is a `curl -D` dump of imgcloud's response; its status line and the headers
//! actix-http writes itself (`content-length`, `date`) are skipped.
use std::convert::Infallible;

use actix_http::{HttpService, Request, Response, StatusCode};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, body, heads] = args.as_slice() else {
        eprintln!("usage: warm_floor PORT BODY_FILE HEADERS_FILE");
        std::process::exit(2);
    };
    let port: u16 = port.parse().map_err(|e| std::io::Error::other(format!("port: {e}")))?;
    let body = Bytes::from(std::fs::read(body)?);
    let mut headers = Vec::new();
    for line in std::fs::read_to_string(heads)?.lines().skip(1) {
        let Some((k, v)) = line.split_once(':') else { continue };
        let k = k.trim().to_ascii_lowercase();
        if k == "content-length" || k == "date" {
            continue;
        }
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(std::io::Error::other)?;
        headers.push((name, HeaderValue::from_str(v.trim()).map_err(std::io::Error::other)?));
    }
    actix_web::rt::System::new().block_on(async move {
        actix_server::Server::build()
            .bind("warm-floor", ("127.0.0.1", port), move || {
                let (body, headers) = (body.clone(), headers.clone());
                HttpService::build()
                    .h1(move |_req: Request| {
                        let mut r = Response::build(StatusCode::OK);
                        for h in &headers {
                            r.insert_header(h.clone());
                        }
                        let res = r.body(body.clone());
                        async move { Ok::<_, Infallible>(res) }
                    })
                    .tcp()
            })?
            .run()
            .await
    })
}
