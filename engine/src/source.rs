//! What is known about a source image before any decode: its type and the facts its header gives.
//!
//! Shared by the sniffer that reads them, the planner that plans from them and the decoders, so
//! none of those needs another to name them.

/// Image types accepted as originals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat { Jpeg, Png, Webp, Gif, Tiff, Bmp, Avif }

/// Facts read from the header without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: InputFormat,
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1..=8 (1 when absent).
    pub orientation: u8,
    pub has_alpha: bool,
    /// Frames of an animated GIF, WebP or APNG as its headers declare them; 1 for a still image.
    pub frames: u32,
    /// How many times an animation plays, 0 meaning forever (WebP's and APNG's convention; a GIF's
    /// NETSCAPE repeat count n is n + 1 plays, and a GIF without one plays once).
    pub plays: u32,
}

impl SourceInfo {
    /// What the planner needs from these facts.
    pub fn facts(&self) -> SourceFacts {
        SourceFacts {
            width: self.width,
            height: self.height,
            orientation: self.orientation,
            has_alpha: self.has_alpha,
            format: self.format,
            frames: self.frames,
        }
    }
}

/// What the planner needs to know about the source, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceFacts {
    /// Stored width/height, before EXIF orientation.
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1..=8 (1 when absent).
    pub orientation: u8,
    pub has_alpha: bool,
    pub format: InputFormat,
    /// Frames of an animation (1 for a still image).
    pub frames: u32,
}
