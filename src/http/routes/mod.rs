//! The route table: one file per resource, wired here and nowhere else.
use actix_web::web;

pub mod api_keys;
pub mod assets;
pub mod auth;
pub mod image;
pub mod ops;
pub mod upload;
pub mod usage;
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
                .route("/api-keys/{id}/revoke", web::post().to(api_keys::revoke))
                .route("/upload", web::post().to(upload::upload))
                .route("/assets", web::get().to(assets::list))
                .service(web::resource("/assets/{public_id:.+}").get(assets::get).patch(assets::patch).delete(assets::delete))
                .route("/usage/summary", web::get().to(usage::summary))
                // "sign" could also be a public_id, so GET/HEAD on it still deliver.
                .service(web::resource("/image/sign").post(image::sign).get(image::deliver).head(image::deliver))
                .service(web::resource("/image/{tail:.+}").get(image::deliver).head(image::deliver)),
        );
    if debug_routes {
        cfg.route("/v1/_debug/panic", web::get().to(ops::panic));
    }
}
