//! PNG encoding: the png crate with fast compression and adaptive filtering, streamed in bands of rows.

use std::io::Write;

use image::ExtendedColorType;

use super::{err, BAND_BYTES};
use crate::budget::Budget;
use crate::EngineError;

/// PNG as `image`'s `PngEncoder` with `CompressionType::Fast` and `FilterType::Adaptive` writes it
/// (fdeflate, adaptive filter per row; stored uncompressed instead when that is smaller, as for
/// noise), streamed in bands of rows with a deadline check between. The pixels are the same; the
/// IDAT data comes in 256 KiB chunks rather than one.
pub(super) fn encode_png(buf: &[u8], ct: ExtendedColorType, w: u32, h: u32, budget: &Budget) -> Result<Vec<u8>, EngineError> {
    let (color, bpp) = match ct {
        ExtendedColorType::Rgba8 => (png::ColorType::Rgba, 4),
        _ => (png::ColorType::Rgb, 3),
    };
    let out = png_stream(buf, color, bpp, w, h, png::Compression::Fast, png::Filter::Adaptive, budget)?;
    // Rows with their filter bytes: what a stored (uncompressed) stream holds, plus a few bytes.
    let stored = (w as usize * bpp + 1) * h as usize;
    if out.len() > stored {
        return png_stream(buf, color, bpp, w, h, png::Compression::NoCompression, png::Filter::NoFilter, budget);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn png_stream(
    buf: &[u8],
    color: png::ColorType,
    bpp: usize,
    w: u32,
    h: u32,
    compression: png::Compression,
    filter: png::Filter,
    budget: &Budget,
) -> Result<Vec<u8>, EngineError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(compression);
    enc.set_filter(filter);
    let mut writer = enc.write_header().map_err(err)?;
    let mut stream = writer.stream_writer_with_size(PNG_IDAT_BYTES).map_err(err)?;
    let row = (w as usize * bpp).max(1);
    for band in buf.chunks((BAND_BYTES / row).max(1) * row) {
        budget.time()?;
        stream.write_all(band).map_err(err)?;
    }
    stream.finish().map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

/// Size of a PNG IDAT chunk: large enough that chunk headers cost nothing measurable.
const PNG_IDAT_BYTES: usize = 256 * 1024;
