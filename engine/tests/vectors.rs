//! Checks the engine's grammar against the shared transform vectors the SDKs also load.

use imgcloud_engine::transform::{is_transform_segment, Transform};
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/transforms.json");

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("{VECTORS}: {e}"));
    serde_json::from_str(&text).expect("transforms.json is a JSON array")
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).map(|x| x.as_str().unwrap_or_else(|| panic!("{name} must be a string in {v}")))
}

#[test]
fn every_vector_holds() {
    let all = vectors();
    assert!(all.len() >= 60, "only {} vectors", all.len());
    let mut failures = vec![];
    for v in &all {
        let input = field(v, "input").unwrap_or_else(|| panic!("vector without input: {v}"));
        match (field(v, "canonical"), field(v, "error"), Transform::parse(input)) {
            (Some(want), None, Ok(t)) => {
                if t.to_string() != want {
                    failures.push(format!("{input:?}: printed {:?}, want {want:?}", t.to_string()));
                }
                match Transform::parse(want) {
                    Ok(again) if again == t => {}
                    other => failures.push(format!("{input:?}: canonical {want:?} parses to {other:?}")),
                }
            }
            (Some(want), None, Err(e)) => failures.push(format!("{input:?}: want {want:?}, got error {e}")),
            (None, Some(key), Err(e)) => {
                if e.key.as_deref().unwrap_or("") != key {
                    failures.push(format!("{input:?}: error names {:?}, want {key:?} ({e})", e.key));
                }
                if e.message.is_empty() {
                    failures.push(format!("{input:?}: empty error message"));
                }
            }
            (None, Some(key), Ok(t)) => failures.push(format!("{input:?}: want error on {key:?}, parsed {t}")),
            _ => failures.push(format!("vector needs exactly one of canonical/error: {v}")),
        }
    }
    assert!(failures.is_empty(), "{} failing vectors:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn canonical_vectors_round_trip() {
    for v in vectors() {
        let Some(canonical) = field(&v, "canonical") else { continue };
        let t: Transform = canonical.parse().unwrap();
        assert_eq!(t.to_string(), canonical, "canonical form is not a fixed point");
        assert_eq!(Transform::parse(&t.to_string()).unwrap(), t);
        assert_eq!(t.is_identity(), canonical.is_empty());
        if !canonical.is_empty() {
            assert!(is_transform_segment(canonical), "{canonical:?} would be routed as a public_id");
        }
    }
}

#[test]
fn vectors_cover_every_key_both_ways() {
    let all = vectors();
    for key in imgcloud_engine::transform::KEYS {
        let prefix = format!("{key}_");
        let ok = all.iter().any(|v| field(v, "canonical").is_some() && field(v, "input").unwrap().starts_with(&prefix));
        let bad = all.iter().any(|v| field(v, "error") == Some(key));
        assert!(ok && bad, "key {key}: needs a valid and an invalid vector");
    }
}

const KEY_TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/transform_keys.json");

/// The committed key table is what the engine's table generates, so the SDKs and the dashboard,
/// which check their own ranges against it, check against the engine. After changing
/// `engine/src/transform/keys.rs`, regenerate it with `UPDATE_KEYS=1`.
#[test]
fn committed_key_table_is_the_engines() {
    let generated = imgcloud_engine::transform::keys::table_json();
    if std::env::var_os("UPDATE_KEYS").is_some() {
        std::fs::write(KEY_TABLE, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(KEY_TABLE).unwrap_or_default();
    assert!(
        committed == generated,
        "{KEY_TABLE} differs from engine/src/transform/keys.rs; run UPDATE_KEYS=1 cargo test -p imgcloud-engine --test vectors and commit it"
    );
    let v: Value = serde_json::from_str(&committed).expect("valid JSON");
    let names: Vec<&str> = v["keys"].as_array().unwrap().iter().map(|k| k["key"].as_str().unwrap()).collect();
    assert_eq!(names, imgcloud_engine::transform::KEYS);
    // Each key's range text is the one its errors carry.
    for k in v["keys"].as_array().unwrap() {
        let (key, text) = (k["key"].as_str().unwrap(), k["range_text"].as_str().unwrap());
        let e = Transform::parse(&format!("{key}_%")).unwrap_err();
        assert_eq!(e.message, format!("{key} must be {text} (got %)"));
    }
}
