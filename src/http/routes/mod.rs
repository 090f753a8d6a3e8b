//! The route table: one file per resource, wired here and nowhere else.
//!
//! Every path is an `Endpoint`: a known path with the wrong method answers 405 with `Allow`, not
//! 404; HEAD is answered wherever GET is; and the path itself names the resource, which is the
//! only route label metrics ever see.
use std::rc::Rc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::{self, resource};
use actix_web::dev::{fn_factory, fn_service, Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{guard, FromRequest, Handler, HttpMessage, Resource, Responder};
use futures_util::future::{ready, Either};

use crate::http::error::status_response;
use crate::http::route_label::RouteSlot;

pub mod api_keys;
pub mod assets;
pub mod auth;
pub mod dashboard;
pub mod image;
pub mod ops;
pub mod upload;
pub mod usage;
pub mod users;
pub mod webhooks;

pub fn configure(cfg: &mut web::ServiceConfig, debug_routes: bool) {
    // Delivery first: routes are tried in order, and cache hits are most of the traffic.
    cfg.service(
        web::scope("/v1/image")
            // "sign" could also be a public_id, so GET/HEAD on it still deliver.
            .service(Endpoint::scoped("/sign", "/v1/image/sign").post(image::sign).get(image::deliver).done())
            .default_service(delivery("/v1/image/{tail:.+}")),
    )
    .service(Endpoint::new("/healthz").get(ops::healthz).done())
        .service(Endpoint::new("/readyz").get(ops::readyz).done())
        .service(Endpoint::new("/metrics").get(ops::metrics).done());
    if debug_routes {
        cfg.service(Endpoint::new("/v1/_debug/panic").get(ops::panic).done());
    }
    cfg.service(Endpoint::new("/v1/auth/login").post(auth::login).done())
        .service(Endpoint::new("/v1/auth/logout").post(auth::logout).done())
        .service(Endpoint::new("/v1/auth/me").get(auth::me).done())
        .service(Endpoint::new("/v1/auth/change-password").post(auth::change_password).done())
        .service(Endpoint::new("/v1/users").get(users::list).post(users::create).done())
        .service(Endpoint::new("/v1/users/{id}").patch(users::update).delete(users::delete).done())
        .service(Endpoint::new("/v1/api-keys").get(api_keys::list).post(api_keys::mint).done())
        .service(Endpoint::new("/v1/api-keys/{id}/revoke").post(api_keys::revoke).done())
        .service(Endpoint::new("/v1/upload").post(upload::upload).done())
        .service(Endpoint::new("/v1/assets").get(assets::list).done())
        .service(Endpoint::new("/v1/assets/{public_id:.+}").get(assets::get).patch(assets::patch).delete(assets::delete).done())
        .service(Endpoint::new("/v1/usage/summary").get(usage::summary).done())
        .service(Endpoint::new("/v1/usage/daily").get(usage::daily).done())
        .service(Endpoint::new("/v1/folders").get(assets::folders).done())
        .service(Endpoint::new("/v1/tags").get(assets::tags).done())
        .service(Endpoint::new("/v1/webhooks").get(webhooks::list).post(webhooks::create).done())
        .service(Endpoint::new("/v1/webhooks/{id}").patch(webhooks::patch).delete(webhooks::delete).done())
        .service(Endpoint::new("/").get(dashboard::to_dashboard).done())
        .service(Endpoint::new("/dashboard").get(dashboard::add_slash).done())
        .service(Endpoint::new("/dashboard/{tail:.*}").get(dashboard::file).done());
}

/// The separate metrics listener (`server.metrics_listen`): Prometheus without credentials, nothing else.
pub fn configure_metrics_listener(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/metrics").get(ops::metrics_open).done())
        .service(Endpoint::new("/healthz").get(ops::healthz).done());
}

/// Everything under /v1/image but /v1/image/sign is a delivery URL (GET and HEAD), labelled
/// `label`. It is the scope's default service rather than a `{tail:.+}` resource because such a
/// pattern is a regular expression, and running it on every request was about a tenth of a
/// cache hit's CPU; a scope's prefix is a plain comparison.
fn delivery(label: &'static str) -> impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse, Error = actix_web::Error, InitError = ()> {
    fn_factory(move || async move {
        let deliver = Rc::new(web::to(image::deliver).new_service(()).await?);
        Ok(fn_service(move |req: ServiceRequest| {
            if let Some(slot) = req.extensions().get::<RouteSlot>() {
                slot.set(label);
            }
            if matches!(*req.method(), Method::GET | Method::HEAD) {
                Either::Left(deliver.call(req))
            } else {
                Either::Right(ready(Ok(req.into_response(method_not_allowed(HeaderValue::from_static("GET, HEAD"))))))
            }
        }))
    })
}

/// 405 naming what the path does answer (RFC 9110 §15.5.6).
fn method_not_allowed(allow: HeaderValue) -> actix_web::HttpResponse {
    let mut res = status_response(StatusCode::METHOD_NOT_ALLOWED, None);
    res.headers_mut().insert(header::ALLOW, allow);
    res
}

/// One path and the methods it answers.
struct Endpoint {
    label: &'static str,
    resource: Resource,
    allow: Vec<Method>,
}

impl Endpoint {
    fn new(path: &'static str) -> Self { Self::scoped(path, path) }

    /// `path` inside a scope, labelled with its full pattern `label`.
    fn scoped(path: &'static str, label: &'static str) -> Self {
        Endpoint { label, resource: resource(path).name(label), allow: Vec::new() }
    }

    fn method<F, Args>(mut self, methods: &[Method], handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let methods = methods.to_vec();
        self.allow.extend(methods.iter().cloned());
        let label = self.label;
        let accepts = guard::fn_guard(move |ctx| {
            if let Some(slot) = ctx.req_data().get::<RouteSlot>() {
                slot.set(label);
            }
            methods.contains(&ctx.head().method)
        });
        self.resource = self.resource.route(web::route().guard(accepts).to(handler));
        self
    }

    /// GET, and HEAD with the same handler (actix-http sends no body for HEAD).
    fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(&[Method::GET, Method::HEAD], handler)
    }

    fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(&[Method::POST], handler)
    }

    fn patch<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(&[Method::PATCH], handler)
    }

    fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(&[Method::DELETE], handler)
    }

    /// The resource, answering any other method with 405 and the `Allow` list (RFC 9110 §15.5.6).
    fn done(self) -> Resource {
        let allow = HeaderValue::from_str(&self.allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ")).expect("method names are valid header text");
        self.resource.default_service(web::to(move || ready(method_not_allowed(allow.clone()))))
    }
}
