//! The asset JSON every client sees, in API responses and webhook payloads alike: the catalog's fields plus its delivery URLs.
use imgcloud_actors::catalog::Asset;
use imgcloud_actors::public_id::url_needs_version;
use serde_json::{json, Value};

use super::path::delivery_path;

/// The asset JSON clients see: the catalog's fields plus the delivery `url` and `versioned_url`.
/// `url` is unversioned (it follows overwrites) unless the id starts with a version segment: then an
/// unversioned URL could name another asset's version, so `url` is the versioned one too.
pub fn asset_json(a: &Asset, public_url: &str) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    let path = |version| delivery_path(&imgcloud_engine::Transform::default(), version, &a.public_id);
    v["url"] = json!(format!("{public_url}{}", path(url_needs_version(&a.public_id).then_some(a.version))));
    // Immutable per version (an overwrite makes a new one): the URL to embed behind a CDN.
    v["versioned_url"] = json!(format!("{public_url}{}", path(Some(a.version))));
    v
}
