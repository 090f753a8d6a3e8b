//! Typed errors of the engine; the HTTP layer maps them to statuses, the engine never does.
use thiserror::Error;

use crate::transform::TransformError;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum EngineError {
    /// The transform string is malformed or out of range (HTTP maps to 400).
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// Bytes are not an accepted image type (SVG, HTML, zip, unknown). HTTP maps to 415.
    #[error("unsupported media type: {0}")]
    Unsupported(String),
    /// Header dimensions exceed the input pixel cap. HTTP maps to 413.
    #[error("image is {width}x{height} ({pixels} pixels), over the limit of {limit} pixels")]
    TooManyPixels { width: u64, height: u64, pixels: u64, limit: u64 },
    /// An animation's headers declare more frames, or more pixels over all its frames (canvas
    /// times frames), than allowed. Judged before any decode. HTTP maps to 413 on upload.
    #[error(
        "animation has {frames} frames of {width}x{height} ({pixels} pixels in all), over the limits of \
         {max_frames} frames and {max_pixels} pixels in all"
    )]
    TooManyFrames { frames: u64, width: u64, height: u64, pixels: u64, max_frames: u64, max_pixels: u64 },
    /// The container declares more structure than the engine reads (an AVIF item in too many
    /// extents, a grid of too many tiles), judged before any decode. HTTP maps to 413 on upload,
    /// 400 on render.
    #[error("image is too complex: {0}")]
    TooComplex(String),
    /// The file claims to be an accepted type but is truncated or corrupt. HTTP maps to 415 on upload.
    #[error("could not decode image: {0}")]
    Corrupt(String),
    /// The render ran past the caller's time budget. HTTP maps to 503.
    #[error("render exceeded its time budget of {0} ms")]
    Deadline(u64),
    /// The render would need more pixels than the caller's pixel budget. HTTP maps to 503.
    #[error("render exceeded its pixel budget of {0} pixels")]
    PixelBudget(u64),
    /// The output is larger than its format can hold (WebP: 16383 px a side). HTTP maps to 400.
    #[error("the output would be {width}x{height} px, but {format} allows at most {max_side} px a side; ask for a size (w_ or h_) or another format")]
    OutputTooLarge { width: u32, height: u32, format: &'static str, max_side: u32 },
    /// Encoding failed inside a codec. HTTP maps to 500.
    #[error("could not encode output: {0}")]
    Encode(String),
}
