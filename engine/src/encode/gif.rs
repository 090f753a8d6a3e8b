//! GIF encoding: `image`'s encoder for a still frame, the NeuQuant palette settings animated GIFs share.

use image::codecs::gif::GifEncoder;
use image::{DynamicImage, ExtendedColorType};

use super::err;
use crate::EngineError;

/// GIF palette quantisation speed, 1 (best) ..= 30 (fastest); 10 is `image`'s own default.
pub(super) const GIF_SPEED: i32 = 10;

/// One frame, NeuQuant palette (an exact one up to 256 colours).
pub(super) fn encode_gif(img: &DynamicImage) -> Result<Vec<u8>, EngineError> {
    let rgba = img.to_rgba8();
    let mut out = Vec::new();
    let mut enc = GifEncoder::new_with_speed(&mut out, GIF_SPEED);
    enc.encode(rgba.as_raw(), img.width(), img.height(), ExtendedColorType::Rgba8).map_err(err)?;
    drop(enc);
    Ok(out)
}

/// A GIF side in the format's 16 bits.
pub(super) fn gif_side(v: u32) -> Result<u16, EngineError> {
    u16::try_from(v).map_err(|_| err(format!("{v} px is over GIF's 65535 px a side")))
}
