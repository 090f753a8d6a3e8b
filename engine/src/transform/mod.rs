//! The transform grammar: `w_400,h_300,c_fill,...` parsed into a typed `Transform` with one canonical printed form; each key's range lives in `keys`.
//!
//! CONTRACT (see ../shared/spec): keys w,h,c,q,f,dpr,gr,bl,r,bg; canonical key order
//! w,h,c,q,f,dpr,gr,bl,r,bg; parse(print(t)) == t; errors name the key and its allowed range.
//! Fractional values (dpr, bl) are held in hundredths so `Transform` is `Eq + Hash` and the
//! printed form is unique (trailing zeros trimmed: dpr_1.5, bl_4).
//!
//! Spelling rules, shared with the SDKs through `tests/vectors/transforms.json`:
//! - Items may come in any order; the printed (canonical) form always uses the key order above.
//! - Keys and the names of `c`/`f` are lowercase and exact; `bg` hex is case-insensitive and
//!   printed lowercase; `f_jpeg` is accepted and printed `f_jpg`.
//! - Numbers are plain decimal: no sign except `-` on `r`, no whitespace, hex, exponent, NaN or
//!   infinity, and no leading zeros (`w_0400`, `r_-0`, `dpr_01.5` are errors) so that every number
//!   has one spelling. A lone `0` integer part is fine (`bl_0.3`).
//! - `dpr` and `bl` take at most 2 decimals. Trailing zeros there are accepted and trimmed
//!   (`dpr_2.0` -> `dpr_2`) because Cloudinary users write DPR that way; `.5` and `1.` are errors.
//! - `r` keeps the angle as written (`r_0`, `r_360` and `r_-90` stay distinct in the canonical form,
//!   which keeps parse/print a bijection); the planner reduces it modulo 360.
//! - The empty string is the identity transform and prints as the empty string.

use std::fmt;
use std::str::FromStr;

pub mod keys;

pub use crate::format::OutputFormat;
use keys::{fmt_hundredths, shown, Value};

/// Largest output side in pixels, after `dpr`.
pub const MAX_SIDE: u32 = 4000;
/// Largest output area in pixels, after `dpr` (16 MP; equality allowed, so 4000x4000 is fine).
pub const MAX_PIXELS: u64 = 16_000_000;

/// Keys in canonical order; also the order used in error messages (`keys::TABLE`'s names).
pub const KEYS: [&str; 10] = keys::names();

/// Crop mode (`c_`). Aliases stay distinct so the canonical form echoes what was asked.
/// Declared in `NAMES`' order, which `as_str` indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CropMode { Fit, Fill, Cover, Contain, Inside, Outside, Thumb }

/// A parsed, range-checked transform. `Default` is the identity (no keys).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Transform {
    /// Width in CSS px, 1..=4000.
    pub w: Option<u32>,
    /// Height in CSS px, 1..=4000.
    pub h: Option<u32>,
    pub c: Option<CropMode>,
    /// Quality 1..=100.
    pub q: Option<u8>,
    pub f: Option<OutputFormat>,
    /// Device pixel ratio in hundredths, 100..=300 (dpr_1.5 => 150).
    pub dpr: Option<u16>,
    /// `gr_1`: greyscale.
    pub gr: bool,
    /// Gaussian blur sigma in hundredths, 30..=2500 (bl_0.3 .. bl_25).
    pub bl: Option<u16>,
    /// Rotation in whole degrees, -360..=360.
    pub r: Option<i32>,
    /// Background RGB from 6 hex digits.
    pub bg: Option<[u8; 3]>,
}

/// A grammar error. The message names the offending key and its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransformError {
    /// The key at fault, when one can be named (`None` for an empty item).
    pub key: Option<String>,
    pub message: String,
}

impl TransformError {
    fn new(key: impl Into<String>, message: String) -> Self {
        TransformError { key: Some(key.into()), message }
    }
}

impl CropMode {
    pub const ALL: [CropMode; 7] = [
        CropMode::Fit, CropMode::Fill, CropMode::Cover, CropMode::Contain,
        CropMode::Inside, CropMode::Outside, CropMode::Thumb,
    ];
    /// The names used in `c_<name>`, in `ALL`'s order.
    pub const NAMES: [&'static str; 7] = ["fit", "fill", "cover", "contain", "inside", "outside", "thumb"];

    /// The name used in `c_<name>`.
    pub fn as_str(&self) -> &'static str { Self::NAMES[*self as usize] }

    pub fn from_name(s: &str) -> Option<CropMode> {
        CropMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Whether the first path segment after `/v1/image/` should be read as a transform rather than as
/// the start of a public_id.
///
/// It is a transform when it contains a comma, or when ANY of its comma-separated items looks like
/// `key_value` with a known key (the text before the first `_` is one of w,h,c,q,f,dpr,gr,bl,r,bg).
/// The router then parses it and answers 400 on a bad one, so `w_abc` and `r_and_d` are (bad)
/// transforms, while `photo-3a7f`, `my_photo` and `W_400` (keys are lowercase) are public_ids.
///
/// This is deliberately looser than the contract's "every item is key_value with a known key":
/// a public_id can never contain a comma, so both readings give 400 for every segment where they
/// differ, and this one lets the error name the bad item (`w_400,,h_3` -> "empty item") instead of
/// calling the whole segment an invalid public_id. The public_id validator uses the same function,
/// so an id can never be shadowed by a transform.
pub fn is_transform_segment(seg: &str) -> bool {
    seg.contains(',')
        || seg.split(',').any(|item| item.split_once('_').is_some_and(|(k, _)| KEYS.contains(&k)))
}

/// `value * dpr`, both as stored (dpr in hundredths), rounded half up, at least 1.
pub fn scale_by_dpr(value: u32, dpr: u16) -> u32 {
    let v = (u64::from(value) * u64::from(dpr) + 50) / 100;
    v.clamp(1, u64::from(u32::MAX)) as u32
}

impl Transform {
    /// Parses a transform string in any item order. The empty string is the identity.
    pub fn parse(s: &str) -> Result<Transform, TransformError> {
        let mut t = Transform::default();
        if s.is_empty() {
            return Ok(t);
        }
        let mut seen = [false; KEYS.len()];
        for item in s.split(',') {
            if item.is_empty() {
                return Err(TransformError { key: None, message: "empty item in transform".into() });
            }
            let (key, value) = match item.split_once('_') {
                Some((k, v)) => (k, Some(v)),
                None => (item, None),
            };
            let Some(idx) = KEYS.iter().position(|k| *k == key) else {
                return Err(TransformError::new(
                    key,
                    format!("unknown transform key '{}' (known: {})", shown(key), KEYS.join(", ")),
                ));
            };
            if std::mem::replace(&mut seen[idx], true) {
                return Err(TransformError::new(key, format!("duplicate key '{key}'")));
            }
            let spec = &keys::TABLE[idx];
            let value = match value {
                Some(v) if !v.is_empty() => v,
                _ => return Err(spec.missing_value()),
            };
            let int = |v: Value| if let Value::Int(n) = v { n } else { 0 };
            let hundredths = |v: Value| if let Value::Hundredths(n) = v { n } else { 0 };
            let name = |v: Value| if let Value::Name(n) = v { n } else { "" };
            let v = spec.parse(value)?;
            // The table checked the value; these only move it into its typed field.
            match key {
                "w" => t.w = Some(int(v) as u32),
                "h" => t.h = Some(int(v) as u32),
                "c" => t.c = CropMode::from_name(name(v)),
                "q" => t.q = Some(int(v) as u8),
                "f" => t.f = OutputFormat::from_name(name(v)),
                "dpr" => t.dpr = Some(hundredths(v)),
                "gr" => t.gr = true,
                "bl" => t.bl = Some(hundredths(v)),
                "r" => t.r = Some(int(v) as i32),
                "bg" => t.bg = if let Value::Rgb(rgb) = v { Some(rgb) } else { None },
                _ => unreachable!("key list and match arms agree"),
            }
        }
        t.validate()?;
        Ok(t)
    }

    /// True when no key is set (the empty transform). `r_0` is not identity here: it prints.
    pub fn is_identity(&self) -> bool {
        *self == Transform::default()
    }

    /// Width in device pixels (`w` x `dpr`, rounded half up), if `w` is set.
    pub fn target_w(&self) -> Option<u32> {
        self.w.map(|w| scale_by_dpr(w, self.dpr.unwrap_or(100)))
    }

    /// Height in device pixels (`h` x `dpr`, rounded half up), if `h` is set.
    pub fn target_h(&self) -> Option<u32> {
        self.h.map(|h| scale_by_dpr(h, self.dpr.unwrap_or(100)))
    }

    /// Checks every range and the output bound. `parse` ends with it; the planner runs it too,
    /// because a `Transform` can also be built field by field.
    pub fn validate(&self) -> Result<(), TransformError> {
        let check = |name: &str, v: Option<i64>| match (keys::key(name), v) {
            (Some(k), Some(v)) => k.check(v),
            _ => Ok(()),
        };
        check("w", self.w.map(i64::from))?;
        check("h", self.h.map(i64::from))?;
        check("q", self.q.map(i64::from))?;
        check("dpr", self.dpr.map(i64::from))?;
        check("bl", self.bl.map(i64::from))?;
        check("r", self.r.map(i64::from))?;
        let dpr = self.dpr.unwrap_or(100);
        // Without dpr the ranges above already keep a side <= 4000 and w x h <= 16 MP, so the
        // bound can only be broken by dpr, and that is the key the error names.
        let by = if self.dpr.is_some() { "dpr" } else { "w" };
        for (key, v) in [("w", self.w), ("h", self.h)] {
            let Some(v) = v else { continue };
            let scaled = scale_by_dpr(v, dpr);
            if scaled > MAX_SIDE {
                let by = if self.dpr.is_some() { "dpr" } else { key };
                return Err(TransformError::new(
                    by,
                    format!(
                        "{key} x dpr = {v} x {} = {scaled} exceeds {MAX_SIDE} px; each side after dpr must be at most {MAX_SIDE} px",
                        fmt_hundredths(dpr)
                    ),
                ));
            }
        }
        if let (Some(w), Some(h)) = (self.target_w(), self.target_h()) {
            let px = u64::from(w) * u64::from(h);
            if px > MAX_PIXELS {
                return Err(TransformError::new(
                    by,
                    format!("w x h after dpr = {w} x {h} = {px} px exceeds the {MAX_PIXELS} px (16 MP) limit"),
                ));
            }
        }
        Ok(())
    }
}

impl FromStr for Transform {
    type Err = TransformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Transform::parse(s)
    }
}

/// The canonical form: items in key order w,h,c,q,f,dpr,gr,bl,r,bg; empty for the identity.
impl fmt::Display for Transform {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = Vec::with_capacity(KEYS.len());
        if let Some(w) = self.w { items.push(format!("w_{w}")) }
        if let Some(h) = self.h { items.push(format!("h_{h}")) }
        if let Some(c) = self.c { items.push(format!("c_{}", c.as_str())) }
        if let Some(q) = self.q { items.push(format!("q_{q}")) }
        if let Some(f) = self.f { items.push(format!("f_{}", f.as_str())) }
        if let Some(d) = self.dpr { items.push(format!("dpr_{}", fmt_hundredths(d))) }
        if self.gr { items.push("gr_1".into()) }
        if let Some(b) = self.bl { items.push(format!("bl_{}", fmt_hundredths(b))) }
        if let Some(r) = self.r { items.push(format!("r_{r}")) }
        if let Some([r, g, b]) = self.bg { items.push(format!("bg_{r:02x}{g:02x}{b:02x}")) }
        out.write_str(&items.join(","))
    }
}

/// The invariants the fuzz target asserts, kept here so the deterministic test in this crate checks
/// exactly the same thing: parsing never panics, a parsed value prints to a canonical string that
/// parses back to the same value and prints identically, and every non-empty valid transform is
/// recognised by the router as a transform segment.
#[doc(hidden)]
pub fn check_grammar_invariants(s: &str) -> Option<Transform> {
    let t = Transform::parse(s).ok()?;
    let printed = t.to_string();
    let again = Transform::parse(&printed)
        .unwrap_or_else(|e| panic!("canonical form {printed:?} of {s:?} does not parse: {e}"));
    assert_eq!(again, t, "round trip changed {s:?} (printed {printed:?})");
    assert_eq!(again.to_string(), printed, "canonical form of {s:?} is not stable");
    assert_eq!(t.is_identity(), printed.is_empty());
    if !s.is_empty() {
        assert!(is_transform_segment(s), "{s:?} parses but the router would not see a transform");
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Transform {
        Transform::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }
    fn err(s: &str) -> TransformError {
        Transform::parse(s).expect_err(s)
    }
    fn canon(s: &str) -> String {
        p(s).to_string()
    }

    #[test]
    fn canonical_order_and_identity() {
        assert_eq!(canon("h_300,w_400"), "w_400,h_300");
        assert_eq!(
            canon("bg_FFaa00,r_90,bl_4,gr_1,dpr_1.5,f_webp,q_80,c_fill,h_3,w_4"),
            "w_4,h_3,c_fill,q_80,f_webp,dpr_1.5,gr_1,bl_4,r_90,bg_ffaa00"
        );
        assert!(p("").is_identity());
        assert_eq!(Transform::default().to_string(), "");
        assert!(!p("r_0").is_identity());
        assert_eq!("w_5".parse::<Transform>().unwrap().w, Some(5));
    }

    #[test]
    fn values() {
        assert_eq!(p("dpr_2.0").dpr, Some(200));
        assert_eq!(canon("dpr_2.0"), "dpr_2");
        assert_eq!(canon("dpr_1.25"), "dpr_1.25");
        assert_eq!(canon("dpr_1.50"), "dpr_1.5");
        assert_eq!(canon("bl_0.3"), "bl_0.3");
        assert_eq!(canon("bl_2.05"), "bl_2.05");
        assert_eq!(canon("f_jpeg"), "f_jpg");
        assert_eq!(p("c_cover").c, Some(CropMode::Cover));
        assert_eq!(p("r_-90").r, Some(-90));
        assert_eq!(p("bg_0A0b0C").bg, Some([10, 11, 12]));
        assert!(p("gr_1").gr);
    }

    #[test]
    fn number_spellings_rejected() {
        for s in [
            "w_+4", "w_ 4", "w_4 ", "w_0x10", "w_1e3", "w_NaN", "w_4.0", "w_0400", "w_-4", "r_-0",
            "r_+90", "r_090", "dpr_.5", "dpr_1.", "dpr_1.255", "dpr_01.5", "dpr_inf", "dpr_1e0",
            "bl_-1", "bl_1.2.3", "q_", "w", "bg_#ffffff", "bg_fffffff", "gr_0", "gr_true",
            "c_FILL", "f_JPG", "f_jpe",
        ] {
            let e = err(s);
            let key = s.split(['_']).next().unwrap();
            assert_eq!(e.key.as_deref(), Some(key), "{s}: {e}");
        }
        assert!(err("w_0400").message.contains("leading zeros"));
        assert_eq!(err("w_99999999999999999999999").key.as_deref(), Some("w"));
    }

    #[test]
    fn messages_name_key_and_range() {
        assert_eq!(err("w_4001").message, "w must be an integer from 1 to 4000 (got 4001)");
        assert_eq!(
            err("zz_1").message,
            "unknown transform key 'zz' (known: w, h, c, q, f, dpr, gr, bl, r, bg)"
        );
        assert_eq!(err("w_1,w_2").message, "duplicate key 'w'");
        let e = err("w_1,,h_2");
        assert_eq!((e.key, e.message.as_str()), (None, "empty item in transform"));
        assert_eq!(err("w_1,").key, None);
        assert_eq!(err(",w_1").key, None);
        assert!(err("q_0").message.contains("from 1 to 100"));
        assert!(err("bl_26").message.contains("0.3 to 25"));
        let long = format!("w_{}", "9".repeat(500));
        assert!(err(&long).message.len() < 120);
    }

    #[test]
    fn dpr_bound() {
        let e = err("w_4000,dpr_2");
        assert_eq!(e.key.as_deref(), Some("dpr"));
        assert!(e.message.contains("8000 exceeds 4000 px"), "{}", e.message);
        assert_eq!(err("h_2001,dpr_2").key.as_deref(), Some("dpr"));
        p("w_2000,h_2000,dpr_2");
        p("w_4000,h_4000");
        p("w_1333,dpr_3");
        err("w_1334,dpr_3");
        // 2667 x 1.5 = 4000.5 rounds half up to 4001.
        err("w_2667,dpr_1.5");
        p("w_2666,dpr_1.5");
        assert_eq!(p("w_2666,dpr_1.5").target_w(), Some(3999));
        assert_eq!(p("w_1,dpr_1.25").target_w(), Some(1));
        assert_eq!(p("w_3,dpr_1.5").target_w(), Some(5));
    }

    #[test]
    fn validate_catches_hand_built_values() {
        let t = Transform { w: Some(5000), ..Default::default() };
        assert_eq!(t.validate().unwrap_err().key.as_deref(), Some("w"));
        let t = Transform { bl: Some(10), ..Default::default() };
        assert_eq!(t.validate().unwrap_err().key.as_deref(), Some("bl"));
        let t = Transform { r: Some(400), ..Default::default() };
        assert!(t.validate().is_err());
    }

    #[test]
    fn transform_segments() {
        for s in ["w_400", "w_abc", "r_and_d", "w_400,h_300", "a,b", "x_1,w_", "gr_1", "w_"] {
            assert!(is_transform_segment(s), "{s}");
        }
        for s in ["photo-3a7f", "my_photo", "W_400", "", "photo", "w", "width_400", "_w"] {
            assert!(!is_transform_segment(s), "{s}");
        }
    }

    #[test]
    fn crop_names_round_trip() {
        for c in CropMode::ALL {
            assert_eq!(CropMode::from_name(c.as_str()), Some(c));
        }
    }

    /// Exhaustive over single items of the numeric keys: every accepted value round-trips.
    #[test]
    fn every_numeric_value_round_trips() {
        for v in 0..=4001u32 {
            check_grammar_invariants(&format!("w_{v}"));
        }
        for v in -400..=400 {
            check_grammar_invariants(&format!("r_{v}"));
        }
        for i in 0..=30 {
            for f in ["", ".0", ".5", ".05", ".50", ".99", ".123"] {
                for k in ["dpr", "bl"] {
                    check_grammar_invariants(&format!("{k}_{i}{f}"));
                }
            }
        }
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }
    }

    fn good_value(rng: &mut XorShift, key: &str) -> String {
        let n = rng.next();
        match key {
            "w" | "h" => (1 + n % 4000).to_string(),
            "c" => CropMode::ALL[(n % 7) as usize].as_str().into(),
            "q" => (1 + n % 100).to_string(),
            "f" => rng.pick(&["auto", "jpg", "jpeg", "png", "webp", "avif", "gif"]).into(),
            "dpr" => format!("{}.{}", 1 + n % 2, n % 100),
            "gr" => "1".into(),
            "bl" => format!("{}.{:02}", n % 25, (n >> 8) % 100),
            "r" => ((n % 721) as i64 - 360).to_string(),
            "bg" => format!("{:06X}", n & 0xff_ffff),
            _ => n.to_string(),
        }
    }

    /// The fuzz target's invariants over 100k deterministic pseudo-random strings, half built from
    /// grammar-shaped tokens (so many parse) and half from raw characters (so odd spellings occur).
    #[test]
    fn random_strings_round_trip() {
        let keys = ["w", "h", "c", "q", "f", "dpr", "gr", "bl", "r", "bg", "x", "W", ""];
        let vals = [
            "0", "1", "2", "3", "9", "10", "100", "101", "360", "-360", "-1", "4000", "4001", "2.5",
            "0.3", "0.30", "1.25", "3", "fill", "thumb", "contain", "jpeg", "jpg", "auto", "webp",
            "ffffff", "ABCDEF", "abc", "", "-0", "01", "1.", ".5", "1e3", "+1", " 1",
        ];
        let chars: Vec<char> = "whcqfdprglbx_,.-+0123456789aefjtinAF ".chars().collect();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut ok = 0;
        for i in 0..100_000 {
            let s = if i % 2 == 0 {
                let n = 1 + rng.next() % 4;
                (0..n)
                    .map(|_| {
                        let key = rng.pick(&keys);
                        // Mostly a value that suits the key, so a good share of strings parse.
                        let value = if rng.next() & 3 == 0 { rng.pick(&vals).to_string() } else { good_value(&mut rng, key) };
                        format!("{key}_{value}")
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                let n = rng.next() % 16;
                (0..n).map(|_| chars[(rng.next() % chars.len() as u64) as usize]).collect()
            };
            if check_grammar_invariants(&s).is_some() {
                ok += 1;
            }
        }
        assert!(ok > 5_000, "only {ok} random strings parsed; the generator is not exercising the grammar");
    }
}
