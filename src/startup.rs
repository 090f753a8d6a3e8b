//! Builds the application: data directory, database, secrets, first admin, actors, HTTP server.
use std::net::TcpListener;
use std::sync::Arc;

use actix::{Actor, SyncArbiter};
use actix_web::{middleware::from_fn, web, App, HttpServer};
use imgcloud_actors::auth::{AuthActor, AuthSettings, AuthStore, PasswordActor};
use imgcloud_actors::catalog::{CatalogActor, CatalogSettings, CatalogStore};
use imgcloud_actors::fairness::{FairnessSettings, RenderFairness};
use imgcloud_actors::ratelimit::RateLimiter;
use imgcloud_actors::render::{RenderSettings, RenderSupervisor, RenditionCache};
use imgcloud_actors::signing::UrlSigner;
use imgcloud_actors::outbox::OutboxStore;
use imgcloud_actors::usage::UsageMeter;
use imgcloud_actors::webhooks::{WebhookActor, WebhookStore};
use imgcloud_actors::{db, secrets};

use crate::config::Settings;
use crate::http::{error::status_response, middleware::edge, routes};
use crate::outbound::{purge::Purger, worker::Worker};
use crate::state::AppState;

/// Everything derived from the data directory, shared by `serve` and the CLI subcommands.
pub struct DataDir {
    pub pool: db::Pool,
    pub auth: AuthStore,
    pub catalog: CatalogStore,
    pub webhooks: WebhookStore,
    pub outbox: OutboxStore,
}

/// Creates the directory layout (0700) and the database (with migrations applied).
pub fn open_data_dir(settings: &Settings) -> anyhow_like::Result<DataDir> {
    let dir = &settings.server.data_dir;
    for sub in ["", "originals", "cache", "tmp", "secrets"] {
        private_dir(&dir.join(sub))?;
    }
    // Password threads hold a connection only around their queries, never across bcrypt.
    let pool_size = (settings.server.db_threads as u32 + 2).max(4) + settings.auth.password_threads as u32;
    let pool = db::open(&dir.join("imgcloud.sqlite"), pool_size).map_err(|e| e.to_string())?;
    imgcloud_actors::outbox::set_max_pending_per_endpoint(settings.webhooks.max_pending_per_endpoint);
    let auth = AuthStore::new(
        pool.clone(),
        AuthSettings { bcrypt_cost: settings.auth.bcrypt_cost, session_ttl_secs: settings.auth.session_ttl() },
    );
    let catalog = CatalogStore::new(
        pool.clone(),
        CatalogSettings {
            data_dir: dir.clone(),
            purge_enabled: settings.cdn_purge.enabled(),
        },
    );
    Ok(DataDir { webhooks: WebhookStore::new(pool.clone()), outbox: OutboxStore::new(pool.clone()), pool, auth, catalog })
}

/// Makes every file and directory the process creates from now on private to its user (0600 / 0700): SQLite's
/// -wal and -shm files, originals, cache and tmp files are created by code that names no mode.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file-creation mask; it cannot fail and touches no memory.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates `path` 0700, or tightens an existing one that others could enter: files made by older versions under
/// umask 022 are 0644, and a private directory above them is what keeps them private.
fn private_dir(path: &std::path::Path) -> anyhow_like::Result<()> {
    let err = |e: std::io::Error| format!("cannot create {}: {e}", path.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(err)?;
        let mode = std::fs::metadata(path).map_err(err)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!("{} was mode {mode:04o}; setting it to 0700", path.display());
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(|e| format!("cannot chmod 0700 {}: {e}", path.display()))?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(path).map_err(err)?;
    Ok(())
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
    // Bind before anything is written or printed: a taken port must not leave behind a first admin whose
    // generated password went to a console nobody reads.
    let listener = TcpListener::bind(&settings.server.listen).map_err(|e| format!("cannot bind {}: {e}", settings.server.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let metrics_listener = match settings.server.metrics_listen.as_str() {
        "" => None,
        a => Some(TcpListener::bind(a).map_err(|e| format!("cannot bind metrics listener {a}: {e}"))?),
    };
    let data = open_data_dir(&settings)?;
    let secrets_dir = settings.server.data_dir.join("secrets");
    // Sessions are random tokens stored hashed, so they need no key. Older versions also created
    // `secrets/session.key`; it is left where it is, unread (docs/decisions.md).
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

    if settings.server.public_url.is_empty() {
        settings.server.public_url = format!("http://{addr}");
    }
    let settings = Arc::new(settings);

    let threads = settings.server.db_threads.max(1);
    let auth_store = data.auth.clone();
    let auth = SyncArbiter::start(threads, move || AuthActor(auth_store.clone()));
    let password_store = data.auth.clone();
    let passwords = SyncArbiter::start(settings.auth.password_threads.max(1), move || PasswordActor(password_store.clone()));
    let catalog_store = data.catalog.clone();
    let catalog = SyncArbiter::start(threads, move || CatalogActor(catalog_store.clone()));
    let webhook_store = data.webhooks.clone();
    let webhooks = SyncArbiter::start(1, move || WebhookActor(webhook_store.clone()));
    if settings.outbox.checkpoint_secs > 0 {
        db::spawn_checkpointer(data.pool.clone(), std::time::Duration::from_secs(settings.outbox.checkpoint_secs)).map_err(|e| format!("wal checkpoint thread: {e}"))?;
    }
    // Rows left by the previous run (a crash, a CDN outage) are delivered from the first poll on.
    Worker {
        outbox: data.outbox.clone(),
        webhooks: data.webhooks.clone(),
        signal: data.catalog.outbox_signal(),
        purger: Purger::from_config(&settings.cdn_purge)?,
        settings: settings.clone(),
    }
    .spawn()?;
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
            animation: settings.upload.animation(),
            avif_speed: r.avif_speed,
            failure_ttl: std::time::Duration::from_secs(r.failure_ttl_secs),
            memory_budget_bytes: r.memory_budget_bytes,
        },
        renditions.clone(),
    )
    .map_err(|e| e.to_string())?;
    let fairness = RenderFairness::new(FairnessSettings {
        seconds_per_minute: r.client_render_seconds_per_minute.max(0.0),
        burst_seconds: r.client_render_burst_seconds.max(0.0),
        max_inflight: match r.client_max_inflight {
            0 => FairnessSettings::auto_inflight(render.threads()),
            n => n,
        },
    });
    let render = render.with_fairness(fairness).start();

    let state = web::Data::new(AppState {
        settings: settings.clone(),
        auth,
        passwords,
        catalog,
        webhooks,
        catalog_view: data.catalog.clone(),
        limiter,
        render,
        renditions,
        signer,
        usage: std::sync::Arc::new(UsageMeter::default()),
        metrics,
    });
    // The recorder keeps every histogram sample until it is folded into the summaries: a /metrics
    // scrape does that, and so does upkeep. Without it, a server nobody scrapes grew without bound
    // (28 MB in 30 s of cache hits at 55k requests per second).
    if let Some(handle) = state.metrics.clone() {
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        });
    }
    // Delivery counters reach the database every `usage_flush_secs`: a crash loses at most that much.
    let flusher = state.clone();
    let every = std::time::Duration::from_secs(settings.server.usage_flush_secs.max(1));
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
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
    // A client that closes its side while we work has gone: the handler is dropped with the
    // connection, and with it its reply channel, so the render queue skips its job unrun.
    .h1_allow_half_closed(false)
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
