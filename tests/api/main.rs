//! Black-box API tests: each test starts the real `imgcloud` binary on a free port with a temporary data directory.
mod helpers;
mod stub;

mod assets;
mod auth;
mod cdn_headers;
mod cdn_varnish;
mod avif;
mod cli;
mod dashboard;
mod delivery;
mod edge;
mod fairness;
mod formats;
mod animation;
mod keys;
mod memory;
mod purge;
mod resilience;
mod security_startup;
mod security_catalog;
mod security_delivery;
mod security_auth;
mod security_edge;
mod sign_objects;
mod users;
mod webhooks;
