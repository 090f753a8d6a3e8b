//! The delivery URL grammar, `/v1/image[/<t>][/v<n>]/<public_id>`: its one parser (`parse_delivery_path`) and its one printer (`delivery_path`).
use imgcloud_actors::public_id::{split_version, PublicId};
use imgcloud_actors::DomainError;
use imgcloud_engine::Transform;

/// A delivery URL's parts: `/v1/image[/<transform>][/v<version>]/<public_id>`.
#[derive(Debug, PartialEq)]
pub struct DeliveryPath {
    pub transform: Transform,
    pub version: Option<i64>,
    pub public_id: PublicId,
    /// A path `[<t>/]v<N>/<rest>` read as version N of `<rest>` has a second reading when the whole
    /// `v<N>/<rest>` is a valid public_id too (public_ids may start with `v` and digits): that
    /// public_id, unversioned. Delivery takes it only when no asset named `<rest>` exists.
    pub unversioned: Option<PublicId>,
}

impl DeliveryPath {
    /// The second reading of a versioned path (see `unversioned`), if it has one.
    pub fn unversioned_reading(self) -> Option<DeliveryPath> {
        let public_id = self.unversioned?;
        Some(DeliveryPath { transform: self.transform, version: None, public_id, unversioned: None })
    }
}

/// Splits the path after /v1/image/ per the contract's rule, plus Cloudinary's version segment: after
/// the optional transform, a segment that is `v` and digits is read as the version when the rest is
/// a valid public_id. Since a public_id may itself start with such a segment (`v2/photo`), that path
/// also keeps its unversioned reading, and `resolve` picks between the two by which asset exists.
pub fn parse_delivery_path(tail: &str) -> Result<DeliveryPath, DomainError> {
    let (transform, rest) = match tail.split_once('/') {
        Some((first, rest)) if imgcloud_engine::transform::is_transform_segment(first) => (Transform::parse(first)?, rest),
        _ => (Transform::default(), tail),
    };
    let whole = PublicId::parse(rest);
    if let Some((version, id)) = split_version(rest) {
        return match (PublicId::parse(id), whole) {
            (Ok(public_id), whole) => Ok(DeliveryPath { transform, version: Some(version), public_id, unversioned: whole.ok() }),
            // `v3/w_200/photo`: no asset could be named `w_200/photo`, so only the whole is a public_id.
            (Err(_), Ok(public_id)) => Ok(DeliveryPath { transform, version: None, public_id, unversioned: None }),
            (Err(e), Err(_)) => Err(e),
        };
    }
    Ok(DeliveryPath { transform, version: None, public_id: whole?, unversioned: None })
}

/// The path of a delivery URL: the one printer of what `parse_delivery_path` reads, used by signing,
/// the asset JSON (`url`, `versioned_url`) and the stale-version redirect.
pub fn delivery_path(transform: &Transform, version: Option<i64>, public_id: &str) -> String {
    let mut p = String::from("/v1/image/");
    if !transform.is_identity() {
        p.push_str(&format!("{transform}/"));
    }
    if let Some(v) = version {
        p.push_str(&format!("v{v}/"));
    }
    p.push_str(public_id);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgcloud_actors::public_id::url_needs_version;

    fn parsed(tail: &str) -> (String, Option<i64>, String) {
        let p = parse_delivery_path(tail).unwrap_or_else(|e| panic!("{tail}: {e}"));
        (p.transform.to_string(), p.version, p.public_id.as_str().to_string())
    }

    /// The second reading of a path, if it has one.
    fn unversioned(tail: &str) -> Option<(String, Option<i64>, String)> {
        let p = parse_delivery_path(tail).unwrap_or_else(|e| panic!("{tail}: {e}")).unversioned_reading()?;
        Some((p.transform.to_string(), p.version, p.public_id.as_str().to_string()))
    }

    #[test]
    fn versions_follow_the_optional_transform() {
        let s = |x: &str| x.to_string();
        assert_eq!(parsed("photo"), (s(""), None, s("photo")));
        assert_eq!(parsed("v3/photo"), (s(""), Some(3), s("photo")));
        assert_eq!(parsed("w_200,c_fill/v12/a/b"), (s("w_200,c_fill"), Some(12), s("a/b")));
        assert_eq!(parsed("h_10,w_20/a/v3"), (s("w_20,h_10"), None, s("a/v3")));
        assert_eq!(parsed("w_200/photo"), (s("w_200"), None, s("photo")));
        assert_eq!(parsed("V3/photo"), (s(""), None, s("V3/photo")));
        assert_eq!(parsed("v3x/photo"), (s(""), None, s("v3x/photo")));
        assert!(parse_delivery_path("w_200/a//b").is_err());
        assert!(parse_delivery_path("v3/a//b").is_err(), "neither reading is a public_id");
    }

    /// A public_id may start with `v` and digits, so `[<t>/]v<N>/<rest>` reads two ways: version N of
    /// `<rest>` first (delivery takes it while `<rest>` exists), the whole `v<N>/<rest>` second.
    #[test]
    fn a_leading_version_segment_keeps_its_unversioned_reading() {
        let s = |x: &str| x.to_string();
        assert_eq!(parsed("v2/photo"), (s(""), Some(2), s("photo")));
        assert_eq!(unversioned("v2/photo"), Some((s(""), None, s("v2/photo"))));
        assert_eq!(parsed("w_20/v1/v2/photo"), (s("w_20"), Some(1), s("v2/photo")));
        assert_eq!(unversioned("w_20/v1/v2/photo"), Some((s("w_20"), None, s("v1/v2/photo"))));
        assert_eq!(unversioned("photo"), None);
        assert_eq!(unversioned("a/v3"), None);
        // Only one reading is a valid public_id: no second reading to fall back to.
        assert_eq!(parsed("v3"), (s(""), None, s("v3")));
        assert_eq!(unversioned("v3"), None);
        assert_eq!(parsed("v3/w_200/photo"), (s(""), None, s("v3/w_200/photo")), "an id cannot start with a transform");
        assert_eq!(unversioned("v3/w_200/photo"), None);
        let long = format!("v3/{}", "a".repeat(255));
        assert_eq!(parsed(&long).1, Some(3));
        assert_eq!(unversioned(&long), None, "the whole is over 255 characters");
    }

    #[test]
    fn printed_paths_parse_back() {
        for (t, v, id) in [("", None, "photo"), ("w_200,c_fill", Some(3), "a/b"), ("f_auto", None, "x/y.z"), ("", Some(1), "p"), ("", Some(4), "v2/p")] {
            let transform = if t.is_empty() { Transform::default() } else { Transform::parse(t).unwrap() };
            let path = delivery_path(&transform, v, id);
            assert_eq!(parsed(path.strip_prefix("/v1/image/").unwrap()), (t.to_string(), v, id.to_string()), "{path}");
        }
        assert_eq!(delivery_path(&Transform::default(), Some(7), "photo"), "/v1/image/v7/photo");
    }

    /// The vectors the SDKs' URL builders are checked against, read by the server's own parser and
    /// printer. An id starting with `v<N>/` has only versioned paths (`url_needs_version`).
    #[test]
    fn shared_delivery_url_vectors() {
        let text = include_str!("../../tests/vectors/delivery_urls.json");
        let vectors: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
        assert!(vectors.len() >= 5);
        for v in vectors {
            let (id, t, version) = (v["public_id"].as_str().unwrap(), v["transform"].as_str().unwrap(), v["version"].as_i64());
            let Some(path) = v["path"].as_str() else {
                // No URL to print: the builders refuse an unversioned URL for such an id.
                assert_eq!(v["error"], "version");
                assert!(version.is_none() && url_needs_version(id), "{v}");
                continue;
            };
            assert!(version.is_some() || !url_needs_version(id), "{path} has two readings");
            let tail = path.strip_prefix("/v1/image/").unwrap();
            assert_eq!(parsed(tail), (t.to_string(), version, id.to_string()), "{path}");
            let transform = if t.is_empty() { Transform::default() } else { Transform::parse(t).unwrap() };
            assert_eq!(delivery_path(&transform, version, id), path);
        }
    }
}
