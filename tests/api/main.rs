//! Black-box API tests: each test starts the real `imgcloud` binary on a free port with a temporary data directory.
mod helpers;

mod auth;
mod edge;
mod keys;
mod users;
