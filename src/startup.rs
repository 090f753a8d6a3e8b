//! Builds the application: data directory, database, secrets, first admin, actors, HTTP server.
use std::net::TcpListener;
use std::sync::Arc;

use actix::{Actor, SyncArbiter};
use actix_web::{middleware::from_fn, web, App, HttpServer};
use imgcloud_actors::auth::{AuthActor, AuthSettings, AuthStore};
use imgcloud_actors::catalog::{CatalogActor, CatalogSettings, CatalogStore};
use imgcloud_actors::ratelimit::RateLimiter;
use imgcloud_actors::render::{RenderSettings, RenderSupervisor, RenditionCache};
use imgcloud_actors::signing::UrlSigner;
use imgcloud_actors::usage::UsageMeter;
use imgcloud_actors::{db, secrets};

use crate::config::Settings;
use crate::http::{error::status_response, middleware::edge, routes};
use crate::state::AppState;

/// Everything derived from the data directory, shared by `serve` and the CLI subcommands.
pub struct DataDir {
    pub pool: db::Pool,
    pub auth: AuthStore,
    pub catalog: CatalogStore,
}

/// Creates the directory layout and the database (with migrations applied).
pub fn open_data_dir(settings: &Settings) -> anyhow_like::Result<DataDir> {
    let dir = &settings.server.data_dir;
    for sub in ["", "originals", "cache", "tmp", "secrets"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("cannot create {}: {e}", dir.join(sub).display()))?;
    }
    let pool = db::open(&dir.join("imgcloud.sqlite"), (settings.server.db_threads as u32 + 2).max(4)).map_err(|e| e.to_string())?;
    let auth = AuthStore::new(
        pool.clone(),
        AuthSettings { bcrypt_cost: settings.auth.bcrypt_cost, session_ttl_secs: settings.auth.session_ttl_hours * 3600 },
    );
    let catalog = CatalogStore::new(pool.clone(), CatalogSettings { data_dir: dir.clone(), max_pixels: settings.upload.max_pixels });
    Ok(DataDir { pool, auth, catalog })
}

/// Tiny string-error result so startup failures print a sentence, not a debug dump.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}

pub struct Application {
    pub server: actix_web::dev::Server,
    pub port: u16,
}

/// Builds and binds the server; must be called inside an actix System (actix_web::main).
pub fn build(mut settings: Settings, metrics: Option<metrics_exporter_prometheus::PrometheusHandle>) -> anyhow_like::Result<Application> {
    let data = open_data_dir(&settings)?;
    let secrets_dir = settings.server.data_dir.join("secrets");
    let _session_key = secrets::load_or_create(&secrets_dir, "session").map_err(|e| e.to_string())?;
    let signer = UrlSigner::new(secrets::load_or_create(&secrets_dir, "url_signing").map_err(|e| e.to_string())?);
    match data.catalog.sweep_orphans() {
        Ok(0) => {}
        Ok(n) => tracing::warn!("removed {n} orphaned files left by an interrupted write"),
        Err(e) => return Err(format!("sweeping orphans: {e}")),
    }

    match data.auth.ensure_first_admin(&settings.admin.email, Some(&settings.admin.password)).map_err(|e| e.to_string())? {
        Some((user, Some(pw))) => println!("created first admin {} with generated password: {pw}  (shown once; change it)", user.email),
        Some((user, None)) => println!("created first admin {}", user.email),
        None => {}
    }

    let listener = TcpListener::bind(&settings.server.listen).map_err(|e| format!("cannot bind {}: {e}", settings.server.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let metrics_listener = match settings.server.metrics_listen.as_str() {
        "" => None,
        a => Some(TcpListener::bind(a).map_err(|e| format!("cannot bind metrics listener {a}: {e}"))?),
    };
    if settings.server.public_url.is_empty() {
        settings.server.public_url = format!("http://{addr}");
    }
    let settings = Arc::new(settings);

    let threads = settings.server.db_threads.max(1);
    let auth_store = data.auth.clone();
    let auth = SyncArbiter::start(threads, move || AuthActor(auth_store.clone()));
    let catalog_store = data.catalog.clone();
    let catalog = SyncArbiter::start(threads, move || CatalogActor(catalog_store.clone()));
    let limiter = RateLimiter::default().start();
    let r = &settings.render;
    let renditions = RenditionCache::new(settings.server.data_dir.join("cache"), settings.cache.memory_bytes, settings.cache.disk_bytes);
    let render = RenderSupervisor::new(
        RenderSettings {
            threads: r.threads,
            queue: r.queue,
            timeout: std::time::Duration::from_millis(r.timeout_ms),
            max_work_pixels: r.max_work_pixels,
            max_input_pixels: settings.upload.max_pixels,
            avif_speed: r.avif_speed,
        },
        renditions.clone(),
    )
    .map_err(|e| e.to_string())?
    .start();

    let state = web::Data::new(AppState {
        settings: settings.clone(),
        auth,
        catalog,
        catalog_view: data.catalog.clone(),
        limiter,
        render,
        renditions,
        signer,
        usage: std::sync::Arc::new(UsageMeter::default()),
        metrics,
    });
    // Delivery counters reach the database every 2 s: a crash loses at most that much.
    let flusher = state.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(2));
        loop {
            tick.tick().await;
            flusher.flush_usage().await;
        }
    });
    let debug_routes = settings.server.debug_routes;
    let json_cfg = web::JsonConfig::default().limit(64 * 1024).error_handler(|err, _| {
        use actix_web::{error::JsonPayloadError, http::StatusCode};
        let (status, msg) = match &err {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => (StatusCode::PAYLOAD_TOO_LARGE, err.to_string()),
            _ => (StatusCode::BAD_REQUEST, format!("invalid JSON body: {err}")),
        };
        actix_web::error::InternalError::from_response(err, status_response(status, Some(&msg))).into()
    });
    let path_cfg = web::PathConfig::default().error_handler(|err, _| {
        let msg = format!("invalid path parameter: {err}");
        actix_web::error::InternalError::from_response(err, status_response(actix_web::http::StatusCode::BAD_REQUEST, Some(&msg))).into()
    });

    let metrics_state = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(json_cfg.clone())
            .app_data(path_cfg.clone())
            .wrap(from_fn(edge))
            .configure(|cfg| routes::configure(cfg, debug_routes))
    })
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .client_request_timeout(std::time::Duration::from_secs(settings.server.header_read_timeout_secs))
    .client_disconnect_timeout(std::time::Duration::from_secs(settings.server.header_read_timeout_secs))
    .listen(listener)
    .map_err(|e| e.to_string())?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    if let Some(l) = metrics_listener {
        let maddr = l.local_addr().map_err(|e| e.to_string())?;
        // Its own small server, so the public address never routes to the credential-free /metrics.
        let metrics_server = HttpServer::new(move || {
            App::new().app_data(metrics_state.clone()).wrap(from_fn(edge)).configure(routes::configure_metrics_listener)
        })
        .workers(1)
        .client_request_timeout(std::time::Duration::from_secs(settings.server.header_read_timeout_secs))
        .listen(l)
        .map_err(|e| e.to_string())?
        .run();
        actix_web::rt::spawn(metrics_server);
        println!("metrics listening on http://{maddr}");
    }
    println!("imgcloud listening on http://{addr} (public URL {})", settings.public_url());
    Ok(Application { server: server.run(), port: addr.port() })
}
