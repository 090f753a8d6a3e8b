//! Content negotiation for `f_auto`: the one reading of a client's Accept header.
//!
//! The server's preference is fixed (avif, then webp, then the fallback); the header only says
//! which of them the client can take. Rules (RFC 9110 12.5.1, with one deliberate narrowing):
//! - media ranges compare case-insensitively, whitespace around `,` `;` `=` is ignored;
//! - a `q` of 0 (`q=0`, `q=0.0`, `q=0.000`) means "not acceptable", and an explicit refusal wins
//!   over any other entry naming the same type;
//! - other parameters are ignored, and so is a `q` that is not a number;
//! - wildcards (`image/*`, `*/*`) never select avif or webp: browsers send `*/*` whatever they
//!   decode, so only an explicit `image/avif` or `image/webp` counts.

use crate::transform::OutputFormat;

/// What `f_auto` becomes for one client. With the source's alpha it names the exact output
/// format, so it is all a cache key needs to tell two `f_auto` renditions of one original apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AutoFormat {
    Avif,
    Webp,
    /// Neither was accepted: JPEG, or PNG when the source has transparency.
    #[default]
    Fallback,
}

impl AutoFormat {
    /// Chooses from the Accept header (`None` when the request had none).
    pub fn from_accept(accept: Option<&str>) -> AutoFormat {
        let accept = accept.unwrap_or("");
        if accepts(accept, "image/avif") {
            AutoFormat::Avif
        } else if accepts(accept, "image/webp") {
            AutoFormat::Webp
        } else {
            AutoFormat::Fallback
        }
    }

    /// The concrete format for a source with or without alpha.
    pub fn output(self, has_alpha: bool) -> OutputFormat {
        match self {
            AutoFormat::Avif => OutputFormat::Avif,
            AutoFormat::Webp => OutputFormat::Webp,
            AutoFormat::Fallback if has_alpha => OutputFormat::Png,
            AutoFormat::Fallback => OutputFormat::Jpg,
        }
    }

    /// The Accept header a CDN sends in place of the client's, once it knows the class: the
    /// normalised Accept class. Every client header maps to one of these three strings and each
    /// maps back to its own class, so a cache keyed on `Vary: Accept` holds at most three variants
    /// of an `f_auto` URL (deploy/varnish/imgcloud.vcl writes exactly these).
    pub fn canonical_accept(self) -> &'static str {
        match self {
            AutoFormat::Avif => "image/avif",
            AutoFormat::Webp => "image/webp",
            AutoFormat::Fallback => "*/*",
        }
    }

    /// The concrete format for an animated source: one that keeps the animation. WebP when the
    /// client takes WebP, and also when it takes AVIF (ravif writes still AVIF only, and every
    /// client that declares AVIF decodes animated WebP); GIF otherwise, which every client shows.
    pub fn output_animated(self) -> OutputFormat {
        match self {
            AutoFormat::Avif | AutoFormat::Webp => OutputFormat::Webp,
            AutoFormat::Fallback => OutputFormat::Gif,
        }
    }

    /// A stable lowercase name, for cache keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            AutoFormat::Avif => "avif",
            AutoFormat::Webp => "webp",
            AutoFormat::Fallback => "fallback",
        }
    }
}

/// Whether some entry names `mime` exactly and none names it with a q of zero.
fn accepts(accept: &str, mime: &str) -> bool {
    let mut named = false;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        if !parts.next().unwrap_or("").trim().eq_ignore_ascii_case(mime) {
            continue;
        }
        let refused = parts.any(|p| match p.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0),
            _ => false,
        });
        if refused {
            return false;
        }
        named = true;
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;
    use AutoFormat::*;

    fn f(accept: &str) -> AutoFormat { AutoFormat::from_accept(Some(accept)) }

    #[test]
    fn browsers() {
        assert_eq!(f("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"), Avif); // Chrome
        assert_eq!(f("image/webp,*/*"), Webp); // older Firefox
        assert_eq!(f("image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"), Fallback); // Safari
        assert_eq!(AutoFormat::from_accept(None), Fallback);
        assert_eq!(f(""), Fallback);
    }

    #[test]
    fn media_types_are_case_insensitive() {
        assert_eq!(f("IMAGE/AVIF"), Avif);
        assert_eq!(f("Image/WebP"), Webp);
        assert_eq!(f("IMAGE/AVIF;Q=0, image/webp"), Webp);
    }

    #[test]
    fn q_zero_is_a_refusal() {
        for refusal in ["q=0", "q=0.0", "q=0.000", "Q=0", " q = 0 ", "q=-1"] {
            assert_eq!(f(&format!("image/avif;{refusal}, image/webp")), Webp, "{refusal}");
        }
        assert_eq!(f("image/avif;q=0,image/webp;q=0"), Fallback);
        // A refusal wins over another entry for the same type, in either order.
        assert_eq!(f("image/avif, image/avif;q=0"), Fallback);
        assert_eq!(f("image/avif;q=0, image/avif"), Fallback);
        // Any positive q is acceptance; the server's preference order stands.
        assert_eq!(f("image/avif;q=0.001"), Avif);
        assert_eq!(f("image/avif;q=0.1, image/webp;q=1"), Avif);
    }

    #[test]
    fn whitespace_and_parameters() {
        assert_eq!(f("  image/avif  ;  q=0.5 "), Avif);
        assert_eq!(f("text/html , image/webp ; level=1 ; q=0.9"), Webp);
        assert_eq!(f("image/avif;foo=bar;q=0"), Fallback);
        // Malformed parameters are ignored, not read as a refusal.
        assert_eq!(f("image/avif;q=abc"), Avif);
        assert_eq!(f("image/avif;é=1;qé"), Avif);
        assert_eq!(f("image/avif;q"), Avif);
    }

    #[test]
    fn wildcards_and_lookalikes_do_not_select() {
        assert_eq!(f("*/*"), Fallback);
        assert_eq!(f("image/*"), Fallback);
        assert_eq!(f("image/*;q=1, */*"), Fallback);
        assert_eq!(f("image/avif2, x-image/webp, image/webpx"), Fallback);
        assert_eq!(f("text/image/avif"), Fallback);
    }

    #[test]
    fn canonical_accepts_map_back_to_their_class() {
        for class in [Avif, Webp, Fallback] {
            assert_eq!(f(class.canonical_accept()), class, "{}", class.as_str());
        }
        // Normalising is idempotent: a client header and its class's canonical header agree.
        for h in ["image/avif,image/webp,*/*;q=0.8", "IMAGE/WEBP", "image/webp;q=0.9, image/avif;q=0", "*/*", "", "image/avif;q=0,image/webp;q=0"] {
            assert_eq!(f(f(h).canonical_accept()), f(h), "{h}");
        }
    }

    #[test]
    fn output_by_alpha() {
        assert_eq!(Avif.output(true), OutputFormat::Avif);
        assert_eq!(Webp.output(false), OutputFormat::Webp);
        assert_eq!(Fallback.output(false), OutputFormat::Jpg);
        assert_eq!(Fallback.output(true), OutputFormat::Png);
    }

    #[test]
    fn animated_sources_get_a_format_that_animates() {
        assert_eq!(Avif.output_animated(), OutputFormat::Webp);
        assert_eq!(Webp.output_animated(), OutputFormat::Webp);
        assert_eq!(Fallback.output_animated(), OutputFormat::Gif);
        for f in [Avif, Webp, Fallback] {
            assert!(f.output_animated().carries_animation());
        }
    }
}
