//! The table of numeric limits: each cap's name, default, allowed range and meaning, written once.
//!
//! The engine's defaults (`Limits::default`), the server's config defaults and validation, its
//! handlers and the documented figures all read these entries; a test in the server checks that
//! `config/default.toml` and the docs say the same. The server adds its own entries
//! (`imgcloud_actors::limits`), which are not the engine's business.

/// One limit. `name` is the config key that sets it, or the request parameter it bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub default: u64,
    pub min: u64,
    pub max: u64,
    pub doc: &'static str,
}

/// A value outside a limit's range; the message names `field` and the range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be from {min} to {max} (got {got})")]
pub struct OutOfRange {
    pub field: String,
    pub min: u64,
    pub max: u64,
    /// Signed and wide, so a negative request value is shown as sent.
    pub got: i128,
}

impl Limit {
    /// `v` if within `min..=max`, else an error naming `field` (the parameter as the caller wrote it).
    pub fn check_as(&self, field: &str, v: impl Into<i128>) -> Result<u64, OutOfRange> {
        let v = v.into();
        match u64::try_from(v) {
            Ok(n) if (self.min..=self.max).contains(&n) => Ok(n),
            _ => Err(OutOfRange { field: field.to_string(), min: self.min, max: self.max, got: v }),
        }
    }

    /// `check_as` under the limit's own name (config keys).
    pub fn check(&self, v: impl Into<i128>) -> Result<u64, OutOfRange> { self.check_as(self.name, v) }
}

/// Largest input, width x height from the header, before any decode.
pub const INPUT_PIXELS: Limit = Limit {
    name: "upload.max_pixels",
    default: 100_000_000,
    min: 1,
    max: u64::MAX,
    doc: "Largest accepted image, in pixels, judged from the header before decoding (100 MP).",
};

/// Largest intermediate buffer one render may allocate.
pub const WORK_PIXELS: Limit = Limit {
    name: "render.max_work_pixels",
    default: 120_000_000,
    min: 1,
    max: u64::MAX,
    doc: "Largest intermediate buffer one render may allocate, in pixels (120 MP).",
};

/// Most frames an animation may declare.
pub const FRAMES: Limit = Limit {
    name: "upload.max_frames",
    default: 500,
    min: 1,
    max: u32::MAX as u64,
    doc: "Most frames an animated GIF, WebP or APNG may have.",
};

/// Most pixels over all of an animation's frames (canvas x frames).
pub const ANIMATION_PIXELS: Limit = Limit {
    name: "upload.max_animation_pixels",
    default: 300_000_000,
    min: 1,
    max: u64::MAX,
    doc: "Most pixels over all of an animation's frames: width x height x frames (300 MP).",
};

/// The engine's entries, for tables built on this one.
pub const ENGINE: [Limit; 4] = [INPUT_PIXELS, WORK_PIXELS, FRAMES, ANIMATION_PIXELS];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_check_and_name_the_field() {
        assert_eq!(FRAMES.check(500u32), Ok(500));
        assert_eq!(FRAMES.check_as("frames", -3i64).unwrap_err().to_string(), "frames must be from 1 to 4294967295 (got -3)");
        assert_eq!(FRAMES.check(0u64).unwrap_err().to_string(), "upload.max_frames must be from 1 to 4294967295 (got 0)");
        assert_eq!(INPUT_PIXELS.check_as("n", 0u64).unwrap_err().to_string(), format!("n must be from 1 to {} (got 0)", u64::MAX));
    }

    /// Every default the engine hands out is the table's.
    #[test]
    fn the_sniffers_defaults_are_the_tables() {
        assert_eq!(crate::sniff::DEFAULT_MAX_INPUT_PIXELS, INPUT_PIXELS.default);
        let a = crate::AnimationLimits::default();
        assert_eq!((u64::from(a.max_frames), a.max_pixels), (FRAMES.default, ANIMATION_PIXELS.default));
        let l = crate::Limits::default();
        assert_eq!((l.max_input_pixels, l.max_work_pixels), (INPUT_PIXELS.default, WORK_PIXELS.default));
    }
}
