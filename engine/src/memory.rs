//! Peak memory of a render, estimated from the header and the plan before a pixel is decoded.
//!
//! Callers reserve this many bytes from a global budget before they render, so concurrent renders
//! of small files that decode to huge images (a 35-byte GIF with a 10000x10000 canvas, a 1 MB
//! 16-bit 100 MP PNG) wait or are refused instead of exhausting the machine.
//!
//! The estimate follows what `pipeline` holds at once, and errs high:
//! - decoded: the decoder's output, width x height (after JPEG shrink-on-load) x bytes per pixel
//!   at its output depth (`decoded_bytes_per_pixel`), plus, for a progressive JPEG, libjpeg's
//!   whole-image coefficient arrays (2 bytes per sample at full size, whatever the scale: 72 MB for
//!   a 24 MP 4:2:0 photo), or for an AVIF grid, one row of tiles being decoded at once (their
//!   frames, RGB copies and decoders: `avif::decoder_bytes`, from the tiles' size and the columns);
//! - converted: colour to 8-bit sRGB and orientation each make an RGBA8-sized copy while their
//!   input is alive (4 B/px, twice at most);
//! - resized: the resize output (4 B/px) while its input is alive;
//! - output: pad, rotate, flatten and the encoder's working copy, 3 x out_w x out_h x 4.
//!
//! An animation streams (animation.rs): the decoder's composed canvas and the frame it hands out
//! (RGBA8 each), then one frame's steps as above; the frame count does not multiply it.

use crate::decode::jpeg_shrink;
use crate::pipeline::RenderOptions;
use crate::plan::Plan;
use crate::sniff::{self, InputFormat, JpegFacts, SourceInfo};
use crate::transform::Transform;
use crate::EngineError;

/// Memory a render holds besides pixels (codec state, tables, small buffers).
pub const FIXED_OVERHEAD_BYTES: u64 = 4 << 20;

/// The estimated peak bytes of `render(bytes, t, opts)`. Probes and plans (microseconds, no pixel
/// allocation); fails as `render` would on a file refused by its header or a transform that cannot plan.
pub fn estimate(bytes: &[u8], t: &Transform, opts: &RenderOptions) -> Result<u64, EngineError> {
    let (info, jpeg) = sniff::probe_full(bytes, opts.limits.max_input_pixels, opts.limits.animation)?;
    let plan = crate::plan::plan(t, &info.facts(), opts.auto)?;
    let decoder_bytes = match info.format {
        InputFormat::Avif => crate::avif::decoder_bytes(bytes)?,
        _ => jpeg.coefficient_bytes,
    };
    Ok(peak_bytes(&info, decoded_bytes_per_pixel(bytes, &info, jpeg), decoder_bytes, &plan))
}

/// The estimated peak for a source described by `info`, decoded at `bpp` bytes per pixel with
/// `decoder_bytes` of decoder state held while it outputs (a progressive JPEG's coefficients),
/// rendered as `plan` says.
pub fn peak_bytes(info: &SourceInfo, bpp: u64, decoder_bytes: u64, plan: &Plan) -> u64 {
    let px = |w: u32, h: u32| u64::from(w) * u64::from(h);
    let out = 3 * 4 * px(plan.out_w, plan.out_h).max(plan.canvas.map_or(0, |(w, h)| px(w, h)));
    let resized = 4 * px(plan.resize_w, plan.resize_h);
    let source = if plan.animated {
        // Composed canvas + the handed-out frame, both RGBA8; then the frame's own copies.
        let canvas = 4 * px(info.width, info.height);
        2 * canvas + canvas.max(resized)
    } else {
        let swaps = (5..=8).contains(&info.orientation);
        let target = if swaps { (plan.resize_h, plan.resize_w) } else { (plan.resize_w, plan.resize_h) };
        let shrink = if info.format == InputFormat::Jpeg { jpeg_shrink(info.width, info.height, target) } else { 1 };
        let decoded_px = px(info.width.div_ceil(shrink), info.height.div_ceil(shrink));
        let decoded = decoded_px * bpp + decoder_bytes;
        let converted = 4 * decoded_px;
        // The largest moment: decoded + its 8-bit copy, two 8-bit copies (orientation), or the
        // 8-bit source + the resize output.
        (decoded + converted).max(2 * converted).max(converted + resized)
    };
    source + out + FIXED_OVERHEAD_BYTES
}

/// Bytes per pixel of the decoder's output for this source. Depths the header walk does not read
/// (TIFF, AVIF) count as 16-bit RGBA, the widest the decoders return for them.
fn decoded_bytes_per_pixel(bytes: &[u8], info: &SourceInfo, jpeg: JpegFacts) -> u64 {
    match info.format {
        // Grey, YCbCr/RGB, CMYK: one byte per component.
        InputFormat::Jpeg => u64::from(jpeg.components.clamp(1, 4)),
        InputFormat::Png => png_bytes_per_pixel(bytes, info.has_alpha),
        InputFormat::Webp => if info.has_alpha { 4 } else { 3 },
        InputFormat::Gif | InputFormat::Bmp => 4,
        InputFormat::Tiff | InputFormat::Avif => 8,
    }
}

/// IHDR's bit depth (byte 24) and colour type (byte 25): 16-bit samples stay 16-bit in the
/// decoder's output, lower depths and palettes expand to 8-bit.
fn png_bytes_per_pixel(b: &[u8], has_alpha: bool) -> u64 {
    let sample = if b.get(24) == Some(&16) { 2 } else { 1 };
    let channels = match b.get(25) {
        Some(0) => 1,
        Some(4) => 2,
        Some(2) | Some(3) if !has_alpha => 3,
        _ => 4,
    };
    channels * sample
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::OutputFormat;

    const MB: u64 = 1 << 20;

    fn gif_canvas(w: u16, h: u16) -> Vec<u8> {
        // Header, logical screen, one 1x1 image, trailer: 35 bytes.
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&w.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
        // A global colour table of two entries.
        b.extend_from_slice(&[0x80, 0, 0]);
        b.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        b.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        b.extend_from_slice(&[2, 2, 0x4c, 0x01, 0, 0x3b]);
        b
    }

    fn png_header(w: u32, h: u32, depth: u8, colour: u8) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&13u32.to_be_bytes());
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[depth, colour, 0, 0, 0]);
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(b"IEND");
        b.extend_from_slice(&[0; 4]);
        b
    }

    fn jpeg_sof(w: u16, h: u16, progressive: bool) -> Vec<u8> {
        let mut b = vec![0xff, 0xd8, 0xff, if progressive { 0xc2 } else { 0xc0 }, 0, 17, 8];
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend_from_slice(&[0xff, 0xd9]);
        b
    }

    fn thumb(f: OutputFormat) -> Transform {
        Transform { w: Some(400), h: Some(400), f: Some(f), ..Default::default() }
    }

    #[test]
    fn a_35_byte_gif_with_a_huge_canvas_costs_its_canvas_twice() {
        let gif = gif_canvas(10_000, 10_000);
        assert_eq!(gif.len(), 35);
        let est = estimate(&gif, &thumb(OutputFormat::Webp), &RenderOptions::default()).unwrap();
        // RGBA8 canvas (400 MB) and its 8-bit sRGB copy.
        assert!(est >= 800_000_000 && est < 820_000_000, "{est}");
    }

    #[test]
    fn sixteen_bit_png_counts_its_wide_samples() {
        let wide = estimate(&png_header(10_000, 10_000, 16, 6), &thumb(OutputFormat::Png), &RenderOptions::default()).unwrap();
        let narrow = estimate(&png_header(10_000, 10_000, 8, 6), &thumb(OutputFormat::Png), &RenderOptions::default()).unwrap();
        // RGBA16 (800 MB) + RGBA8 (400 MB) against RGBA8 twice.
        assert!(wide >= 1_200_000_000 && wide < 1_220_000_000, "{wide}");
        assert!(narrow >= 800_000_000 && narrow < 820_000_000, "{narrow}");
    }

    #[test]
    fn jpeg_shrink_on_load_shrinks_the_estimate() {
        let jpeg = jpeg_sof(6000, 4000, true);
        let small = estimate(&jpeg, &thumb(OutputFormat::Webp), &RenderOptions::default()).unwrap();
        let full = estimate(&jpeg, &Transform { f: Some(OutputFormat::Webp), ..Default::default() }, &RenderOptions::default()).unwrap();
        // 400 px from 6000x4000 decodes at 1/8 (750x500): a few MB. Full size holds 24 MP several times.
        // The progressive file's coefficients (72 MB at 4:2:0, libjpeg holds them at any scale) come on top.
        assert!((72 * 1_000_000..84 * MB).contains(&small), "{small}");
        assert!(full > 24_000_000 * (3 + 4) + 72_000_000, "{full}");
        let baseline = estimate(&jpeg_sof(6000, 4000, false), &thumb(OutputFormat::Webp), &RenderOptions::default()).unwrap();
        assert!(baseline < 16 * MB, "{baseline}");
    }

    #[test]
    fn the_animation_frame_count_does_not_multiply_the_estimate() {
        let mut one = gif_canvas(1000, 1000);
        let frame = one[19..34].to_vec();
        one.pop();
        let mut many = one.clone();
        for _ in 0..50 {
            many.extend_from_slice(&frame);
        }
        many.push(0x3b);
        let est = estimate(&many, &thumb(OutputFormat::Gif), &RenderOptions::default()).unwrap();
        assert!(est < 20 * MB, "{est}");
    }

    #[test]
    fn a_header_refused_by_the_limits_is_refused_here_too() {
        let err = estimate(&png_header(20_000, 20_000, 8, 2), &thumb(OutputFormat::Png), &RenderOptions::default()).unwrap_err();
        assert!(matches!(err, EngineError::TooManyPixels { .. }));
    }
}
