//! The route table: one file per resource, wired here and nowhere else.
//!
//! Every path is a `resource`, so a known path with the wrong method answers 405, not 404.
use actix_web::web::{self, resource};

pub mod api_keys;
pub mod assets;
pub mod auth;
pub mod image;
pub mod ops;
pub mod upload;
pub mod usage;
pub mod users;

pub fn configure(cfg: &mut web::ServiceConfig, debug_routes: bool) {
    cfg.service(resource("/healthz").get(ops::healthz))
        .service(resource("/readyz").get(ops::readyz))
        .service(resource("/metrics").get(ops::metrics));
    if debug_routes {
        cfg.service(resource("/v1/_debug/panic").get(ops::panic));
    }
    cfg.service(
        web::scope("/v1")
            .service(resource("/auth/login").post(auth::login))
            .service(resource("/auth/logout").post(auth::logout))
            .service(resource("/auth/me").get(auth::me))
            .service(resource("/auth/change-password").post(auth::change_password))
            .service(resource("/users").get(users::list).post(users::create))
            .service(resource("/users/{id}").patch(users::update).delete(users::delete))
            .service(resource("/api-keys").get(api_keys::list).post(api_keys::mint))
            .service(resource("/api-keys/{id}/revoke").post(api_keys::revoke))
            .service(resource("/upload").post(upload::upload))
            .service(resource("/assets").get(assets::list))
            .service(resource("/assets/{public_id:.+}").get(assets::get).patch(assets::patch).delete(assets::delete))
            .service(resource("/usage/summary").get(usage::summary))
            // "sign" could also be a public_id, so GET/HEAD on it still deliver.
            .service(resource("/image/sign").post(image::sign).get(image::deliver).head(image::deliver))
            .service(resource("/image/{tail:.+}").get(image::deliver).head(image::deliver)),
    );
}
