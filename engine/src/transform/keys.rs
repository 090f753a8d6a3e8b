//! The transform grammar's key table: each key's name, kind, range or allowed values and meaning.
//!
//! Parsing, validation and every error's range text derive from `TABLE`; so does
//! `tests/vectors/transform_keys.json` (`table_json`), which the SDKs and the dashboard check their
//! own copies against. A range is changed here and nowhere else in the engine.

use super::{CropMode, TransformError, MAX_PIXELS, MAX_SIDE};
use crate::format::OutputFormat;

/// What a key's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A plain decimal integer; a `-` sign only when `min` is negative.
    Int { min: i64, max: i64 },
    /// A decimal with at most 2 fractional digits, held in hundredths (`1.5` is 150).
    Hundredths { min: u16, max: u16 },
    /// One of a fixed list of lowercase names, or an alias standing for one of them.
    Name { names: &'static [&'static str], aliases: &'static [(&'static str, &'static str)] },
    /// Exactly `1` (the key is a switch).
    Flag,
    /// An RGB colour as 6 hex digits, either case.
    Hex6,
}

/// One key of the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

/// A parsed value, before it is stored in its `Transform` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Hundredths(u16),
    /// The canonical name (an alias is already replaced).
    Name(&'static str),
    Flag,
    Rgb([u8; 3]),
}

/// Every key, in canonical order (also the order of error messages and of the printed form).
pub const TABLE: [Key; 10] = [
    Key { name: "w", kind: Kind::Int { min: 1, max: 4000 }, doc: "width in CSS px (times dpr on the output)" },
    Key { name: "h", kind: Kind::Int { min: 1, max: 4000 }, doc: "height in CSS px (times dpr on the output)" },
    Key { name: "c", kind: Kind::Name { names: &CropMode::NAMES, aliases: &[] }, doc: "crop mode when both w and h are given" },
    Key { name: "q", kind: Kind::Int { min: 1, max: 100 }, doc: "quality of lossy outputs" },
    Key { name: "f", kind: Kind::Name { names: &OutputFormat::NAMES, aliases: &OutputFormat::ALIASES }, doc: "output format; auto follows the Accept header" },
    Key { name: "dpr", kind: Kind::Hundredths { min: 100, max: 300 }, doc: "device pixel ratio, multiplies w and h" },
    Key { name: "gr", kind: Kind::Flag, doc: "greyscale" },
    Key { name: "bl", kind: Kind::Hundredths { min: 30, max: 2500 }, doc: "Gaussian blur sigma" },
    Key { name: "r", kind: Kind::Int { min: -360, max: 360 }, doc: "rotation in degrees, clockwise" },
    Key { name: "bg", kind: Kind::Hex6, doc: "background colour behind transparency and padding" },
];

/// The keys' names in canonical order.
pub const fn names() -> [&'static str; TABLE.len()] {
    let mut out = [""; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        out[i] = TABLE[i].name;
        i += 1;
    }
    out
}

/// The table's entry for `name`, if it is a key.
pub fn key(name: &str) -> Option<&'static Key> {
    TABLE.iter().find(|k| k.name == name)
}

/// Hundredths printed with trailing zeros trimmed: 150 -> "1.5", 400 -> "4", 205 -> "2.05".
pub(crate) fn fmt_hundredths(v: u16) -> String {
    let (int, frac) = (v / 100, v % 100);
    match frac {
        0 => int.to_string(),
        f if f % 10 == 0 => format!("{int}.{}", f / 10),
        f => format!("{int}.{f:02}"),
    }
}

/// Echoed user input is cut short so an error message stays bounded whatever the URL holds.
pub(super) fn shown(value: &str) -> String {
    const MAX: usize = 32;
    match value.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &value[..i]),
        None => value.to_string(),
    }
}

impl Key {
    /// What the value must be, as error messages say it ("an integer from 1 to 4000").
    pub fn range_text(&self) -> String {
        match self.kind {
            Kind::Int { min, max } => format!("an integer from {min} to {max}"),
            Kind::Hundredths { min, max } => {
                format!("a number from {} to {} with at most 2 decimals", fmt_hundredths(min), fmt_hundredths(max))
            }
            Kind::Name { names, .. } => format!("one of {}", names.join(", ")),
            Kind::Flag => "1".into(),
            Kind::Hex6 => "6 hex digits like ffffff".into(),
        }
    }

    pub(super) fn bad_value(&self, value: &str) -> TransformError {
        TransformError::new(self.name, format!("{} must be {} (got {})", self.name, self.range_text(), shown(value)))
    }

    fn leading_zero(&self, value: &str) -> TransformError {
        TransformError::new(
            self.name,
            format!("{} must be {}, written without leading zeros (got {})", self.name, self.range_text(), shown(value)),
        )
    }

    pub(super) fn missing_value(&self) -> TransformError {
        let k = self.name;
        TransformError::new(k, format!("missing value for '{k}': {k} must be {}, as in {k}_<value>", self.range_text()))
    }

    /// `0|[1-9][0-9]*`; `Ok(None)` when it is not digits at all, `Err` for leading zeros.
    fn digits(&self, raw: &str, s: &str) -> Result<Option<u64>, TransformError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        if s.len() > 1 && s.starts_with('0') {
            return Err(self.leading_zero(raw));
        }
        // More than 9 digits is out of every range; saturating keeps huge inputs from overflowing.
        Ok(Some(if s.len() > 9 { u64::MAX } else { s.parse().unwrap_or(u64::MAX) }))
    }

    /// Reads one item's value (the text after `key_`), range checked.
    pub fn parse(&self, value: &str) -> Result<Value, TransformError> {
        match self.kind {
            Kind::Int { min, max } => {
                let (neg, body) = match value.strip_prefix('-') {
                    Some(rest) if min < 0 => (true, rest),
                    _ => (false, value),
                };
                let n = match self.digits(value, body)? {
                    // `-0` would be a second spelling of `0`.
                    Some(0) if neg => return Err(self.leading_zero(value)),
                    Some(n) if n <= i64::MAX as u64 => if neg { -(n as i64) } else { n as i64 },
                    _ => return Err(self.bad_value(value)),
                };
                if (min..=max).contains(&n) { Ok(Value::Int(n)) } else { Err(self.bad_value(value)) }
            }
            Kind::Hundredths { min, max } => {
                let (int, frac) = match value.split_once('.') {
                    Some((i, f)) => (i, Some(f)),
                    None => (value, None),
                };
                let Some(int) = self.digits(value, int)? else { return Err(self.bad_value(value)) };
                let frac = match frac {
                    None => 0,
                    Some(f) if (1..=2).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
                        let n: u64 = f.parse().unwrap_or(0);
                        if f.len() == 1 { n * 10 } else { n }
                    }
                    Some(_) => return Err(self.bad_value(value)),
                };
                let v = int.saturating_mul(100).saturating_add(frac);
                if (u64::from(min)..=u64::from(max)).contains(&v) { Ok(Value::Hundredths(v as u16)) } else { Err(self.bad_value(value)) }
            }
            Kind::Name { names, aliases } => {
                let name = aliases.iter().find(|(alias, _)| *alias == value).map_or(value, |(_, n)| *n);
                names.iter().find(|n| **n == name).map(|n| Value::Name(*n)).ok_or_else(|| self.bad_value(value))
            }
            Kind::Flag if value == "1" => Ok(Value::Flag),
            Kind::Flag => Err(self.bad_value(value)),
            Kind::Hex6 => {
                if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(self.bad_value(value));
                }
                let byte = |i: usize| u8::from_str_radix(&value[i..i + 2], 16).map_err(|_| self.bad_value(value));
                Ok(Value::Rgb([byte(0)?, byte(2)?, byte(4)?]))
            }
        }
    }

    /// Range check of a value already in a `Transform` (built by hand, not parsed).
    pub fn check(&self, v: i64) -> Result<(), TransformError> {
        let (ok, shown) = match self.kind {
            Kind::Int { min, max } => ((min..=max).contains(&v), v.to_string()),
            Kind::Hundredths { min, max } => {
                ((i64::from(min)..=i64::from(max)).contains(&v), u16::try_from(v).map_or(v.to_string(), fmt_hundredths))
            }
            _ => (true, String::new()),
        };
        if ok { Ok(()) } else { Err(self.bad_value(&shown)) }
    }

    /// This key as `tests/vectors/transform_keys.json` lists it: one line, fields in a fixed order
    /// (not left to the JSON map's ordering, which a crate feature elsewhere could change).
    fn json_line(&self) -> String {
        let list = |items: &[&str]| format!("[{}]", items.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", "));
        let mut fields: Vec<(&str, String)> = vec![("key", quote(self.name))];
        match self.kind {
            Kind::Int { min, max } => {
                fields.extend([("kind", quote("int")), ("min", min.to_string()), ("max", max.to_string())]);
            }
            Kind::Hundredths { min, max } => fields.extend([
                ("kind", quote("decimal")),
                ("min", fmt_hundredths(min)),
                ("max", fmt_hundredths(max)),
                ("decimals", "2".into()),
            ]),
            Kind::Name { names, aliases } => {
                let pairs: Vec<String> = aliases.iter().map(|(a, n)| format!("{}: {}", quote(a), quote(n))).collect();
                fields.extend([("kind", quote("name")), ("values", list(names)), ("aliases", format!("{{{}}}", pairs.join(", ")))]);
            }
            Kind::Flag => fields.extend([("kind", quote("flag")), ("values", list(&["1"]))]),
            Kind::Hex6 => fields.extend([("kind", quote("hex")), ("digits", "6".into())]),
        }
        fields.extend([("range_text", quote(&self.range_text())), ("doc", quote(self.doc))]);
        let items: Vec<String> = fields.into_iter().map(|(k, v)| format!("{}: {v}", quote(k))).collect();
        format!("{{{}}}", items.join(", "))
    }
}

/// A JSON string literal. The engine has no JSON library, and the table's texts are plain, so
/// escaping quotes, backslashes and control characters is all it takes.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The table as the JSON the SDKs and the dashboard check their copies against (pretty, ending in
/// a newline, exactly as committed in `tests/vectors/transform_keys.json`).
pub fn table_json() -> String {
    let keys: Vec<String> = TABLE.iter().map(|k| format!("    {}", k.json_line())).collect();
    format!(
        "{{\n  \"generated_by\": \"engine/src/transform/keys.rs; regenerate with UPDATE_KEYS=1 cargo test -p imgcloud-engine --test vectors\",\n  \"max_side\": {MAX_SIDE},\n  \"max_pixels\": {MAX_PIXELS},\n  \"keys\": [\n{}\n  ]\n}}\n",
        keys.join(",\n")
    )
}
