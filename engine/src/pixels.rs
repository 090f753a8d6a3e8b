//! What every decoder hands on: `Decoded` pixels (an image or CMYK ink) with their ICC profile, and `guarded`, the panic fence around the C decoders.

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::DynamicImage;

use crate::EngineError;

/// Pixels as they came out of the decoder, before colour management.
pub(crate) enum Pixels {
    /// 8-bit (or wider) grey/RGB with or without alpha.
    Image(DynamicImage),
    /// Interleaved 8-bit CMYK with ink values (0 = no ink), as colour management expects.
    Cmyk { width: u32, height: u32, data: Vec<u8> },
}

pub(crate) struct Decoded {
    pub pixels: Pixels,
    pub icc: Option<Vec<u8>>,
}

impl Decoded {
    pub fn dimensions(&self) -> (u32, u32) {
        match &self.pixels {
            Pixels::Image(img) => (img.width(), img.height()),
            Pixels::Cmyk { width, height, .. } => (*width, *height),
        }
    }
}

/// Runs third-party code, turning a panic into `Corrupt`.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, EngineError>) -> Result<T, EngineError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(EngineError::Corrupt("decoder failed on malformed data".into())))
}
