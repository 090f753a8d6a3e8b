//! public_id, folder and tag values: validated once at the edge of the catalog, per the contract.
use rand::RngCore;

use crate::error::DomainError;

/// A valid public_id: 1..=255 chars, segments of [A-Za-z0-9_.-] joined by single '/',
/// no '.'/'..' segment, and a first segment that the delivery router would not read as a transform.
/// A first segment that reads as a version (`v2/photo`) is valid, as the contract says; delivery
/// tells the two readings of `/v1/image/v2/photo` apart (`delivery::path::parse_delivery_path` in the imgcloud crate).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicId(String);

/// The longest public_id, in bytes (all its characters are ASCII).
const MAX_LEN: usize = 255;
/// `-` and 12 hex digits: what `generate` appends to the slug.
const SUFFIX_LEN: usize = 13;

fn valid_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether a delivery path segment is a version (`v` and 1 to 18 ASCII digits, as in Cloudinary's
/// `/v1612345678/`), returning the number. The one reading of that segment: delivery parses versioned
/// paths with it, and signing uses it to spot public_ids whose unversioned URL has two readings.
pub fn version_segment(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('v')?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The version and the rest of an id or path whose first segment reads as a version
/// (`v2/photo` -> `(2, "photo")`), by `version_segment`.
pub fn split_version(s: &str) -> Option<(i64, &str)> {
    let (first, rest) = s.split_once('/')?;
    Some((version_segment(first)?, rest))
}

/// Whether a public_id's delivery URL must name its version: unversioned, `/v1/image/v2/photo`
/// would read as version 2 of `photo` whenever an asset `photo` exists. The asset JSON's `url` and
/// signing follow it (the SDKs and the dashboard hold the same rule).
pub fn url_needs_version(public_id: &str) -> bool { split_version(public_id).is_some() }

/// The CDN cache tag naming every response for one public_id (all transforms, versions, formats):
/// `img-` and 16 hex digits of its SHA-256, so any public_id gives a header-safe token of fixed size
/// that purges by tag can name (Cloudflare `Cache-Tag`, Fastly/Varnish `Surrogate-Key`).
pub fn cache_tag(public_id: &str) -> String {
    use sha2::Digest;
    format!("img-{}", hex::encode(&sha2::Sha256::digest(public_id.as_bytes())[..8]))
}

impl PublicId {
    pub fn parse(s: &str) -> Result<PublicId, DomainError> {
        let bad = |why: &str| DomainError::Invalid(format!("invalid public_id '{}': {why}", s.chars().take(300).collect::<String>()));
        if s.is_empty() || s.len() > MAX_LEN {
            return Err(bad("must be 1 to 255 characters"));
        }
        if !s.split('/').all(valid_segment) {
            return Err(bad("use segments of letters, digits, '_', '.', '-' joined by single '/', with no '.' or '..' segment"));
        }
        let first = s.split('/').next().unwrap_or_default();
        if imgcloud_engine::transform::is_transform_segment(first) {
            return Err(bad("the first segment reads as a transform"));
        }
        Ok(PublicId(s.to_string()))
    }

    /// `<folder>/<slug of the file stem>-<12 hex>`, as the contract describes.
    pub fn generate(file_name: Option<&str>, folder: &Folder) -> Result<PublicId, DomainError> {
        let stem = file_name
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
            .map(|n| n.rsplit_once('.').map_or(n, |(stem, _)| if stem.is_empty() { n } else { stem }))
            .unwrap_or_default();
        let mut slug = String::new();
        for c in stem.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                slug.push(c);
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        // The slug gives way so that folder + slug + suffix fit in MAX_LEN: a long folder and file
        // name is still a valid upload. Folder::MAX_LEN leaves the slug room for at least "image".
        let prefix = match folder.as_str() {
            "" => String::new(),
            f => format!("{f}/"),
        };
        let room = MAX_LEN.saturating_sub(prefix.len() + SUFFIX_LEN).min(64);
        let mut slug: String = slug.trim_matches('-').chars().take(room).collect();
        slug = slug.trim_end_matches('-').to_string();
        if slug.is_empty() {
            slug = "image".into();
        }
        let mut r = [0u8; 6];
        rand::thread_rng().fill_bytes(&mut r);
        PublicId::parse(&format!("{prefix}{slug}-{}", hex::encode(r)))
    }

    pub fn as_str(&self) -> &str { &self.0 }
}

/// A folder path ('' for none): the same segment rules as a public_id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Folder(String);

impl Folder {
    const MAX_LEN: usize = 200;

    pub fn parse(s: &str) -> Result<Folder, DomainError> {
        let s = s.trim().trim_matches('/');
        if s.is_empty() {
            return Ok(Folder::default());
        }
        if s.len() > Folder::MAX_LEN || !s.split('/').all(valid_segment) {
            return Err(DomainError::Invalid(format!("invalid folder '{s}': use segments of letters, digits, '_', '.', '-' joined by '/'")));
        }
        let first = s.split('/').next().unwrap_or_default();
        if imgcloud_engine::transform::is_transform_segment(first) {
            return Err(DomainError::Invalid(format!("invalid folder '{s}': the first segment reads as a transform")));
        }
        Ok(Folder(s.to_string()))
    }
    pub fn as_str(&self) -> &str { &self.0 }
}

/// Tags from a comma-separated string or a list: trimmed, de-duplicated, order kept.
pub fn parse_tags<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = vec![];
    for t in items.into_iter().flat_map(|s| s.split(',')).map(str::trim).filter(|t| !t.is_empty()) {
        if t.len() > 64 || t.chars().any(char::is_control) {
            return Err(DomainError::Invalid(format!("invalid tag '{t}': at most 64 printable characters")));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    if out.len() > 50 {
        return Err(DomainError::Invalid("at most 50 tags per asset".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_tags_are_fixed_size_header_tokens() {
        let t = cache_tag("folder/ümlaut photo,1");
        assert_eq!(t.len(), 20);
        assert!(t.starts_with("img-") && t[4..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(t, cache_tag("folder/ümlaut photo,1"));
        assert_ne!(t, cache_tag("folder/umlaut photo,1"));
    }

    #[test]
    fn public_id_rules() {
        for ok in ["photo", "marketing/hero", "a/b/c.jpg", "x-1_2.3", &"a".repeat(255)] {
            assert!(PublicId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/a", "a/", "a//b", "a/../b", "./a", "a b", "a,b", "w_400/photo", "w_400,h_300", &"a".repeat(256), "é"] {
            assert!(PublicId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_segments() {
        assert_eq!(version_segment("v1"), Some(1));
        assert_eq!(version_segment("v0012"), Some(12));
        assert_eq!(version_segment("v999999999999999999"), Some(999_999_999_999_999_999));
        for not in ["v", "V1", "v1a", "v-1", "v+1", "1", "vv1", "v1.2", "v 1", "v1234567890123456789", "version2"] {
            assert_eq!(version_segment(not), None, "{not}");
        }
        // The contract refuses only a first segment that reads as a transform: one that reads as a
        // version is a valid public_id or folder (delivery tells the readings apart).
        for ok in ["v1", "v2/photo", "v0012/x", "v7/a/b", "photos/v2", "v", "v2x/photo", "V2/photo", "version-2"] {
            assert!(PublicId::parse(ok).is_ok(), "{ok}");
            assert!(Folder::parse(ok).is_ok(), "{ok}");
        }
        let id = PublicId::generate(Some("p.png"), &Folder::parse("v2").unwrap()).unwrap();
        assert!(id.as_str().starts_with("v2/p-"), "{}", id.as_str());
        assert!(url_needs_version(id.as_str()), "a generated id in a v2/ folder");
        assert_eq!(split_version("v12/a/b"), Some((12, "a/b")));
        for plain in ["photo", "v2", "photos/v2/x", "V2/photo", "v2x/photo"] {
            assert!(!url_needs_version(plain), "{plain}");
        }
    }

    #[test]
    fn generated_ids_follow_the_contract() {
        let id = PublicId::generate(Some("./photo.jpg"), &Folder::default()).unwrap();
        let (stem, hex) = id.as_str().rsplit_once('-').unwrap();
        assert_eq!(stem, "photo");
        assert!(hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let id = PublicId::generate(Some("My Holiday  Photo!!.JPEG"), &Folder::parse("marketing").unwrap()).unwrap();
        assert!(id.as_str().starts_with("marketing/my-holiday-photo-"), "{}", id.as_str());
        let id = PublicId::generate(Some("日本.png"), &Folder::default()).unwrap();
        assert!(id.as_str().starts_with("image-"));
        let long = PublicId::generate(Some(&format!("{}.png", "a".repeat(100))), &Folder::default()).unwrap();
        assert_eq!(long.as_str().len(), 64 + 13);
    }

    #[test]
    fn generated_ids_shorten_the_slug_to_fit() {
        // A 200-char folder and a 100-char stem would make 278 chars; the slug gives way, folder and suffix stay.
        let folder = Folder::parse(&format!("{}/{}", "f".repeat(99), "g".repeat(100))).unwrap();
        let id = PublicId::generate(Some(&format!("{}.png", "s".repeat(100))), &folder).unwrap();
        assert_eq!(id.as_str().len(), 255);
        let (head, hex) = id.as_str().rsplit_once('-').unwrap();
        assert!(hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(head, format!("{}/{}", folder.as_str(), "s".repeat(255 - 201 - 13)));
        // A slug cut on a separator does not end in '-'.
        let id = PublicId::generate(Some(&format!("{}-{}.png", "s".repeat(40), "t".repeat(40))), &folder).unwrap();
        assert!(id.as_str().starts_with(&format!("{}/{}-", folder.as_str(), "s".repeat(40))) && !id.as_str().contains("--"), "{}", id.as_str());
    }

    #[test]
    fn tags_are_split_and_deduplicated() {
        assert_eq!(parse_tags(["hero, homepage,,hero"]).unwrap(), vec!["hero", "homepage"]);
        assert!(parse_tags([&*"x".repeat(65)]).is_err());
    }
}
