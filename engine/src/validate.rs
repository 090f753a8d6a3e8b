//! Upload validation: the full decode that proves an upload intact, and the memory it holds (a GIF's frames are streamed through a small buffer, never composed onto its logical screen).
//!
//! A GIF's logical screen costs its header 4 bytes, but a decoder that composes frames onto it
//! holds width x height x 4 (400 MB for a 35-byte 10000x10000 file). Whether a GIF is intact is a
//! property of its frames' LZW data, so validation decodes each frame in bands of indexes into a
//! buffer of `GIF_BAND_BYTES` and keeps nothing: an upload then costs what its own data does.
//! Every other format is validated by a 16 x 16 render, whose decode is shrink-on-load where the
//! format has it and is priced by `memory::estimate`.

use std::io::Cursor;

use crate::memory::{self, FIXED_OVERHEAD_BYTES};
use crate::budget::Budget;
use crate::pipeline::RenderOptions;
use crate::sniff::{self, InputFormat};
use crate::transform::{OutputFormat, Transform};
use crate::EngineError;

/// The band a GIF frame's indexes are decoded into; the deadline is checked between bands.
const GIF_BAND_BYTES: usize = 256 << 10;

/// The render that validates a still or animated non-GIF upload.
fn thumbnail() -> Transform {
    Transform { w: Some(16), h: Some(16), f: Some(OutputFormat::Png), ..Default::default() }
}

/// Peak bytes `validate(bytes, opts)` holds, from the headers only; fails as `validate` would on a
/// file its headers refuse.
pub fn estimate(bytes: &[u8], opts: &RenderOptions) -> Result<u64, EngineError> {
    match gif_screen(bytes, opts)? {
        Some(()) => Ok(FIXED_OVERHEAD_BYTES + GIF_BAND_BYTES as u64),
        None => memory::estimate(bytes, &thumbnail(), opts),
    }
}

/// Decodes `bytes` in full under `opts.limits` (pixel caps, work cap, deadline), keeping no pixels.
/// A GIF is intact when its first frame decodes; frames after a later truncation are dropped by
/// every decoder (and browser), as `sniff` counts them.
pub fn validate(bytes: &[u8], opts: &RenderOptions) -> Result<(), EngineError> {
    if gif_screen(bytes, opts)?.is_none() {
        return crate::render(bytes, &thumbnail(), opts).map(drop);
    }
    let budget = Budget::new(opts.limits);
    let corrupt = |e: gif::DecodingError| EngineError::Corrupt(e.to_string());
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(Cursor::new(bytes)).map_err(corrupt)?;
    let mut band = vec![0u8; GIF_BAND_BYTES];
    let mut frames = 0u32;
    loop {
        let frame = match decoder.next_frame_info() {
            Ok(Some(_)) => frame_data(&mut decoder, &mut band, &budget),
            Ok(None) => break,
            Err(e) => Err(corrupt(e)),
        };
        match frame {
            Ok(()) => frames += 1,
            Err(e @ EngineError::Deadline(_)) => return Err(e),
            Err(e) if frames == 0 => return Err(e),
            Err(_) => break,
        }
    }
    if frames == 0 {
        return Err(EngineError::Corrupt("GIF has no image".into()));
    }
    Ok(())
}

/// `Some` for a GIF, after the checks its headers allow: the input caps (`sniff`) and the render's
/// work cap on its logical screen, since every render composes onto it.
fn gif_screen(bytes: &[u8], opts: &RenderOptions) -> Result<Option<()>, EngineError> {
    let info = sniff::probe_with_limits(bytes, opts.limits.max_input_pixels, opts.limits.animation)?;
    if info.format != InputFormat::Gif {
        return Ok(None);
    }
    Budget::new(opts.limits).pixels(info.width, info.height)?;
    Ok(Some(()))
}

/// One frame's LZW data decoded band by band into `band`, which it then overwrites.
fn frame_data(decoder: &mut gif::Decoder<Cursor<&[u8]>>, band: &mut [u8], budget: &Budget) -> Result<(), EngineError> {
    loop {
        budget.time()?;
        if !decoder.fill_buffer(band).map_err(|e| EngineError::Corrupt(e.to_string()))? {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x1 frame on a `w x h` logical screen (the 35-byte file of the upload bomb).
    fn gif_canvas(w: u16, h: u16) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&w.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
        b.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
        b.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        b.extend_from_slice(&[2, 2, 0x4c, 0x01, 0, 0x3b]);
        b
    }

    #[test]
    fn a_huge_logical_screen_costs_validation_only_its_band() {
        let gif = gif_canvas(10_000, 10_000);
        let opts = RenderOptions::default();
        assert!(estimate(&gif, &opts).unwrap() < 8 << 20);
        validate(&gif, &opts).unwrap();
    }

    #[test]
    fn a_screen_over_the_work_cap_is_refused_from_the_header() {
        let mut opts = RenderOptions::default();
        opts.limits.max_work_pixels = 1_000_000;
        assert_eq!(validate(&gif_canvas(2000, 2000), &opts), Err(EngineError::PixelBudget(1_000_000)));
        assert_eq!(estimate(&gif_canvas(2000, 2000), &opts), Err(EngineError::PixelBudget(1_000_000)));
    }

    #[test]
    fn a_first_frame_without_its_data_is_corrupt() {
        let mut gif = gif_canvas(10, 10);
        gif.truncate(gif.len() - 6);
        gif.extend_from_slice(&[2, 5, 0xff, 0xff]);
        assert!(matches!(validate(&gif, &RenderOptions::default()), Err(EngineError::Corrupt(_))));
    }

    #[test]
    fn other_formats_are_validated_by_a_thumbnail_render() {
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(image::RgbImage::new(300, 200)).write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        assert_eq!(estimate(&png, &RenderOptions::default()), memory::estimate(&png, &thumbnail(), &RenderOptions::default()));
        validate(&png, &RenderOptions::default()).unwrap();
        assert!(validate(&png[..png.len() / 2], &RenderOptions::default()).is_err());
    }
}
