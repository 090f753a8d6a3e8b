//! Actors behind the HTTP edge: catalog (SQLite), auth, rate limits, the render supervisor, webhook endpoints and the outbox.
//!
//! Nothing here knows HTTP status codes or JSON error bodies; replies are domain values or `DomainError`.

/// Declares messages for a `SyncArbiter` actor wrapping a store (`self.0`): each handler is one
/// call on the store, so the logic stays testable without actors.
#[macro_export]
macro_rules! store_messages {
    ($actor:ty; $( $(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? } -> $ret:ty => |$s:ident, $m:ident| $body:expr ;)*) => {$(
        $(#[$doc])*
        pub struct $name { $(pub $field: $ty),* }
        impl actix::Message for $name { type Result = $crate::DomainResult<$ret>; }
        impl actix::Handler<$name> for $actor {
            type Result = $crate::DomainResult<$ret>;
            fn handle(&mut self, $m: $name, _: &mut actix::SyncContext<Self>) -> Self::Result { let $s = &self.0; $body }
        }
    )*};
}

pub mod auth;
pub mod budget;
pub mod cache;
pub mod catalog;
pub mod db;
pub mod domain;
pub mod error;
pub mod fairness;
pub mod limits;
pub mod outbox;
pub mod public_id;
pub mod ratelimit;
pub mod render;
pub mod secrets;
pub mod signing;
pub mod usage;
pub mod webhooks;

pub use error::{DomainError, DomainResult};
