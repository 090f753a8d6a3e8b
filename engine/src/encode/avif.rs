//! AVIF encoding: ravif (rav1e) at the planned quality, with a speed that keeps large outputs within the deadline.

use image::DynamicImage;

use super::err;
use crate::EngineError;

/// AVIF through ravif (rav1e): one thread, 8-bit, alpha aware. rav1e cannot be interrupted, so
/// the deadline is kept by `avif_speed_for` rather than checked inside.
pub(super) fn encode_avif(img: &DynamicImage, w: u32, h: u32, q: u8, avif_speed: u8) -> Result<Vec<u8>, EngineError> {
    let enc = ravif::Encoder::new()
        .with_quality(f32::from(q))
        .with_alpha_quality(f32::from(q))
        .with_speed(avif_speed_for(u64::from(w) * u64::from(h), avif_speed))
        // One thread per encode, the render's own: rav1e's tiles otherwise spread over the
        // render pool, so one client's AVIF held every render thread (12 s for a second
        // client's thumbnail in tests/api/fairness.rs). ravif and rav1e are built without
        // `threading` (Cargo.toml), so rav1e does not start a pool of its own either.
        .with_num_threads(Some(1))
        // 8-bit, as libheif/aom (sharp, imgproxy) write by default: ravif's automatic
        // 10-bit sends rav1e down its high-bit-depth paths, about 1.5x the encode time
        // for an 8-bit source, with the same size and PSNR within 0.1 dB in our runs.
        .with_bit_depth(ravif::BitDepth::Eight)
        .with_alpha_color_mode(ravif::AlphaColorMode::UnassociatedClean);
    let encoded = match img {
        DynamicImage::ImageRgba8(b) => {
            let px: Vec<ravif::RGBA8> = b.pixels().map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3])).collect();
            enc.encode_rgba(ravif::Img::new(&px[..], w as usize, h as usize))
        }
        _ => {
            let rgb = img.to_rgb8();
            let px: Vec<ravif::RGB8> = rgb.pixels().map(|p| ravif::RGB8::new(p[0], p[1], p[2])).collect();
            enc.encode_rgb(ravif::Img::new(&px[..], w as usize, h as usize))
        }
    }
    .map_err(err)?;
    Ok(encoded.avif_file)
}

/// Outputs above this many pixels are AVIF-encoded at the fastest speed whatever is configured.
pub(super) const AVIF_FAST_ABOVE_PIXELS: u64 = 4_000_000;

/// The AVIF speed for an output of `pixels`: rav1e's time grows with area and an encode cannot be
/// interrupted (neither ravif 0.13 nor rav1e 0.8 has a way to cancel or a progress callback; the
/// one frame is encoded inside a single `receive_packet`), so a large output trades some bytes for
/// fitting the render deadline.
pub(crate) fn avif_speed_for(pixels: u64, configured: u8) -> u8 {
    let speed = configured.clamp(1, 10);
    if pixels > AVIF_FAST_ABOVE_PIXELS { 10 } else { speed }
}
