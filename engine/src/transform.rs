//! The transform grammar: `w_400,h_300,c_fill,...` parsed into a typed `Transform` with one canonical printed form.
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

/// Largest output side in pixels, after `dpr`.
pub const MAX_SIDE: u32 = 4000;
/// Largest output area in pixels, after `dpr` (16 MP; equality allowed, so 4000x4000 is fine).
pub const MAX_PIXELS: u64 = 16_000_000;

/// Keys in canonical order; also the order used in error messages.
pub const KEYS: [&str; 10] = ["w", "h", "c", "q", "f", "dpr", "gr", "bl", "r", "bg"];

/// Crop mode (`c_`). Aliases stay distinct so the canonical form echoes what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CropMode { Fit, Inside, Outside, Fill, Cover, Contain, Thumb }

/// Requested output format (`f_`). `Auto` is resolved by the planner from the Accept header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat { Auto, Jpg, Png, Webp, Avif, Gif }

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

    /// The name used in `c_<name>`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CropMode::Fit => "fit",
            CropMode::Inside => "inside",
            CropMode::Outside => "outside",
            CropMode::Fill => "fill",
            CropMode::Cover => "cover",
            CropMode::Contain => "contain",
            CropMode::Thumb => "thumb",
        }
    }

    pub fn from_name(s: &str) -> Option<CropMode> {
        CropMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 6] = [
        OutputFormat::Auto, OutputFormat::Jpg, OutputFormat::Png,
        OutputFormat::Webp, OutputFormat::Avif, OutputFormat::Gif,
    ];

    /// The name used in `f_<name>`.
    pub fn as_str(&self) -> &'static str {
        match self {
            OutputFormat::Auto => "auto",
            OutputFormat::Jpg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
            OutputFormat::Avif => "avif",
            OutputFormat::Gif => "gif",
        }
    }

    /// Accepts `jpeg` as an alias of `jpg`.
    pub fn from_name(s: &str) -> Option<OutputFormat> {
        if s == "jpeg" {
            return Some(OutputFormat::Jpg);
        }
        OutputFormat::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// `Auto` never reaches an encoder; its octet-stream type only shows up if a caller forgot to plan.
    pub fn content_type(&self) -> &'static str {
        match self {
            OutputFormat::Auto => "application/octet-stream",
            OutputFormat::Jpg => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::Webp => "image/webp",
            OutputFormat::Avif => "image/avif",
            OutputFormat::Gif => "image/gif",
        }
    }

    /// File extension without the dot (`bin` for the unresolved `Auto`).
    pub fn extension(&self) -> &'static str {
        match self {
            OutputFormat::Auto => "bin",
            other => other.as_str(),
        }
    }

    /// Whether the format can carry transparency (GIF's 1-bit transparency counts).
    /// The largest side the format (and our encoder for it) can write. `Auto` is resolved before
    /// this is asked.
    pub fn max_side(&self) -> u32 {
        match self {
            OutputFormat::Webp => 16_383,
            OutputFormat::Jpg => 65_500,
            OutputFormat::Gif | OutputFormat::Avif => 65_535,
            OutputFormat::Png | OutputFormat::Auto => u32::MAX,
        }
    }

    pub fn has_alpha(&self) -> bool {
        matches!(self, OutputFormat::Png | OutputFormat::Webp | OutputFormat::Avif | OutputFormat::Gif)
    }

    /// Whether the server writes this format animated when the source is: GIF and WebP. PNG and
    /// JPEG are stills; ravif encodes still AVIF only.
    pub fn carries_animation(&self) -> bool {
        matches!(self, OutputFormat::Gif | OutputFormat::Webp)
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

fn range_text(key: &str) -> &'static str {
    match key {
        "w" | "h" => "an integer from 1 to 4000",
        "c" => "one of fit, fill, cover, contain, inside, outside, thumb",
        "q" => "an integer from 1 to 100",
        "f" => "one of auto, jpg, png, webp, avif, gif",
        "dpr" => "a number from 1 to 3 with at most 2 decimals",
        "gr" => "1",
        "bl" => "a number from 0.3 to 25 with at most 2 decimals",
        "r" => "an integer from -360 to 360",
        "bg" => "6 hex digits like ffffff",
        _ => "",
    }
}

/// Echoed user input is cut short so an error message stays bounded whatever the URL holds.
fn shown(value: &str) -> String {
    const MAX: usize = 32;
    match value.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &value[..i]),
        None => value.to_string(),
    }
}

fn bad_value(key: &str, value: &str) -> TransformError {
    TransformError::new(key, format!("{key} must be {} (got {})", range_text(key), shown(value)))
}

fn leading_zero(key: &str, value: &str) -> TransformError {
    TransformError::new(
        key,
        format!("{key} must be {}, written without leading zeros (got {})", range_text(key), shown(value)),
    )
}

/// `0|[1-9][0-9]*`; `Ok(None)` when it is not digits at all, `Err` for leading zeros.
fn digits(key: &str, raw: &str, s: &str) -> Result<Option<u64>, TransformError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(leading_zero(key, raw));
    }
    // More than 9 digits is out of every range; saturating keeps huge inputs from overflowing.
    Ok(Some(if s.len() > 9 { u64::MAX } else { s.parse().unwrap_or(u64::MAX) }))
}

fn parse_uint(key: &str, value: &str, min: u64, max: u64) -> Result<u64, TransformError> {
    match digits(key, value, value)? {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad_value(key, value)),
    }
}

fn parse_rotation(value: &str) -> Result<i32, TransformError> {
    let (neg, body) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    match digits("r", value, body)? {
        // `-0` would be a second spelling of `0`.
        Some(0) if neg => Err(leading_zero("r", value)),
        Some(n) if n <= 360 => Ok(if neg { -(n as i32) } else { n as i32 }),
        _ => Err(bad_value("r", value)),
    }
}

/// A decimal with at most 2 fractional digits, returned in hundredths.
fn parse_hundredths(key: &str, value: &str, min: u64, max: u64) -> Result<u16, TransformError> {
    let (int, frac) = match value.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (value, None),
    };
    let Some(int) = digits(key, value, int)? else { return Err(bad_value(key, value)) };
    let frac = match frac {
        None => 0,
        Some(f) if (1..=2).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u64 = f.parse().unwrap_or(0);
            if f.len() == 1 { n * 10 } else { n }
        }
        Some(_) => return Err(bad_value(key, value)),
    };
    let v = int.saturating_mul(100).saturating_add(frac);
    if (min..=max).contains(&v) { Ok(v as u16) } else { Err(bad_value(key, value)) }
}

fn parse_hex(value: &str) -> Result<[u8; 3], TransformError> {
    if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad_value("bg", value));
    }
    let byte = |i: usize| u8::from_str_radix(&value[i..i + 2], 16).map_err(|_| bad_value("bg", value));
    Ok([byte(0)?, byte(2)?, byte(4)?])
}

/// Hundredths printed with trailing zeros trimmed: 150 -> "1.5", 400 -> "4", 205 -> "2.05".
fn fmt_hundredths(v: u16) -> String {
    let (int, frac) = (v / 100, v % 100);
    match frac {
        0 => int.to_string(),
        f if f % 10 == 0 => format!("{int}.{}", f / 10),
        f => format!("{int}.{f:02}"),
    }
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
            let value = match value {
                Some(v) if !v.is_empty() => v,
                _ => {
                    return Err(TransformError::new(
                        key,
                        format!("missing value for '{key}': {key} must be {}, as in {key}_<value>", range_text(key)),
                    ))
                }
            };
            match key {
                "w" => t.w = Some(parse_uint(key, value, 1, 4000)? as u32),
                "h" => t.h = Some(parse_uint(key, value, 1, 4000)? as u32),
                "c" => t.c = Some(CropMode::from_name(value).ok_or_else(|| bad_value(key, value))?),
                "q" => t.q = Some(parse_uint(key, value, 1, 100)? as u8),
                "f" => t.f = Some(OutputFormat::from_name(value).ok_or_else(|| bad_value(key, value))?),
                "dpr" => t.dpr = Some(parse_hundredths(key, value, 100, 300)?),
                "gr" => {
                    if value != "1" {
                        return Err(bad_value(key, value));
                    }
                    t.gr = true;
                }
                "bl" => t.bl = Some(parse_hundredths(key, value, 30, 2500)?),
                "r" => t.r = Some(parse_rotation(value)?),
                "bg" => t.bg = Some(parse_hex(value)?),
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
        let num = |key: &str, v: u64, min: u64, max: u64, shown: String| {
            if (min..=max).contains(&v) { Ok(()) } else { Err(bad_value(key, &shown)) }
        };
        if let Some(w) = self.w { num("w", w.into(), 1, 4000, w.to_string())? }
        if let Some(h) = self.h { num("h", h.into(), 1, 4000, h.to_string())? }
        if let Some(q) = self.q { num("q", q.into(), 1, 100, q.to_string())? }
        if let Some(d) = self.dpr { num("dpr", d.into(), 100, 300, fmt_hundredths(d))? }
        if let Some(b) = self.bl { num("bl", b.into(), 30, 2500, fmt_hundredths(b))? }
        if let Some(r) = self.r {
            if !(-360..=360).contains(&r) {
                return Err(bad_value("r", &r.to_string()));
            }
        }
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
    fn format_facts() {
        assert_eq!(OutputFormat::Jpg.content_type(), "image/jpeg");
        assert_eq!(OutputFormat::Jpg.extension(), "jpg");
        assert_eq!(OutputFormat::Avif.content_type(), "image/avif");
        assert!(!OutputFormat::Jpg.has_alpha());
        assert!(OutputFormat::Gif.has_alpha());
        for f in OutputFormat::ALL {
            assert_eq!(OutputFormat::from_name(f.as_str()), Some(f));
        }
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
