//! Output formats (`f_`): their names, what each can carry (MIME type, extension, largest side, alpha, animation), and a finished render in one.
//!
//! The grammar (`transform`) only names a format; what a format can do lives here, so the planner
//! and the encoders ask one place.

/// Requested output format (`f_`). `Auto` is resolved by the planner from the Accept header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat { Auto, Jpg, Png, Webp, Avif, Gif }

impl OutputFormat {
    /// In the order error messages and the key table list them.
    pub const ALL: [OutputFormat; 6] = [
        OutputFormat::Auto, OutputFormat::Jpg, OutputFormat::Png,
        OutputFormat::Webp, OutputFormat::Avif, OutputFormat::Gif,
    ];
    /// The names used in `f_<name>`, in `ALL`'s order.
    pub const NAMES: [&'static str; 6] = ["auto", "jpg", "png", "webp", "avif", "gif"];
    /// Other spellings accepted in `f_`, and the name each stands for (printed as that name).
    pub const ALIASES: [(&'static str, &'static str); 1] = [("jpeg", "jpg")];

    /// The name used in `f_<name>`.
    pub fn as_str(&self) -> &'static str { Self::NAMES[*self as usize] }

    /// Accepts the aliases (`jpeg` for `jpg`).
    pub fn from_name(s: &str) -> Option<OutputFormat> {
        let s = Self::ALIASES.iter().find(|(alias, _)| *alias == s).map_or(s, |(_, name)| *name);
        Self::ALL.into_iter().find(|f| f.as_str() == s)
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

    /// Whether the format can carry transparency (GIF's 1-bit transparency counts).
    pub fn has_alpha(&self) -> bool {
        matches!(self, OutputFormat::Png | OutputFormat::Webp | OutputFormat::Avif | OutputFormat::Gif)
    }

    /// Whether the server writes this format animated when the source is: GIF and WebP. PNG and
    /// JPEG are stills; ravif encodes still AVIF only.
    pub fn carries_animation(&self) -> bool {
        matches!(self, OutputFormat::Gif | OutputFormat::Webp)
    }
}

/// A finished render.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
}

impl Rendered {
    /// The MIME type of `bytes`, from the one table (`OutputFormat::content_type`).
    pub fn content_type(&self) -> &'static str { self.format.content_type() }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(OutputFormat::from_name("jpeg"), Some(OutputFormat::Jpg));
        assert_eq!(OutputFormat::from_name("JPG"), None);
    }
}
