//! Outbound traffic: the outbox worker, CDN purgers, webhook delivery and the rules for webhook targets.
pub mod purge;
pub mod ssrf;
pub mod webhook;
pub mod worker;
