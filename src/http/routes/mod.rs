//! The route table: one file per resource, wired here and nowhere else.
use actix_web::web;

pub mod api_keys;
pub mod auth;
pub mod ops;
pub mod users;

pub fn configure(cfg: &mut web::ServiceConfig, debug_routes: bool) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .service(
            web::scope("/v1")
                .route("/auth/login", web::post().to(auth::login))
                .route("/auth/logout", web::post().to(auth::logout))
                .route("/auth/me", web::get().to(auth::me))
                .route("/auth/change-password", web::post().to(auth::change_password))
                .service(web::resource("/users").get(users::list).post(users::create))
                .service(web::resource("/users/{id}").patch(users::update).delete(users::delete))
                .service(web::resource("/api-keys").get(api_keys::list).post(api_keys::mint))
                .route("/api-keys/{id}/revoke", web::post().to(api_keys::revoke)),
        );
    if debug_routes {
        cfg.route("/v1/_debug/panic", web::get().to(ops::panic));
    }
}
