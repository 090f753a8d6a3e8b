//! What a client sees of an asset, shared by the HTTP API and the outbound worker (webhook payloads):
//! the delivery URL grammar and the asset JSON. Knows no routes, HTTP statuses or actix.
pub mod json;
pub mod path;

pub use json::asset_json;
pub use path::{delivery_path, parse_delivery_path, DeliveryPath};
