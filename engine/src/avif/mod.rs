//! AVIF input: header facts for `sniff` and a decode to 8-bit sRGB-bound pixels for `decode`.
//!
//! The container is read by `heif`, AV1 frames are decoded by rav1d (`av1`), and `yuv` turns
//! planes into RGB. What is supported: 8, 10 and 12 bits; 4:0:0, 4:2:0, 4:2:2 and 4:4:4; the
//! alpha auxiliary item (premultiplied or not); grid images (what phones write); `irot`/`imir`
//! (reported as the equivalent EXIF orientation, which the pipeline applies); ICC `colr`
//! profiles (handed to colour management like any decoder's) and `nclx` colour (matrix and
//! range here; primaries and transfer become a synthesised ICC profile when they are not sRGB's).
//! Not supported: image sequences without a still primary item, `clap` cropping (ignored, as
//! most viewers do), PQ/HLG tone mapping (those transfers render as if sRGB), HEVC items (HEIC).

mod av1;
mod heif;
mod yuv;

use image::{DynamicImage, RgbImage, RgbaImage};

use crate::pixels::{Decoded, Pixels};
use crate::budget::Budget;
use crate::source::{InputFormat, SourceInfo};
use crate::EngineError;
use heif::{Heif, Nclx};

fn corrupt(what: &str) -> EngineError {
    EngineError::Corrupt(format!("AVIF: {what}"))
}

/// The primary item's kind, refusing what we cannot decode with a message saying why.
fn primary_kind(f: &Heif) -> Result<Kind, EngineError> {
    match f.item_type(f.primary).as_ref() {
        Some(b"av01") => Ok(Kind::Av01),
        Some(b"grid") => Ok(Kind::Grid),
        Some(b"hvc1") => Err(EngineError::Unsupported("HEIC/HEIF input is not supported".into())),
        Some(other) => Err(EngineError::Unsupported(format!("AVIF: primary item of type '{}' is not supported", String::from_utf8_lossy(other)))),
        None => Err(corrupt("the primary item is not described")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Av01,
    Grid,
}

/// Header facts: stored size (`ispe`, or a grid's output size), orientation and alpha. No pixel
/// is decoded; the caller applies the input pixel cap to the size. The container rules (grids,
/// tiles, the alpha plane's size) are all judged here, so a file refused by them costs no decode.
pub(crate) fn probe(bytes: &[u8]) -> Result<SourceInfo, EngineError> {
    let f = Heif::parse(bytes)?;
    primary_kind(&f)?;
    let (width, height) = declared_size(&f, f.primary)?;
    let alpha = f.alpha_of(f.primary);
    if let Some(a) = alpha {
        if declared_size(&f, a)? != (width, height) {
            return Err(corrupt("the alpha plane's size differs from the image's"));
        }
    }
    Ok(SourceInfo {
        format: InputFormat::Avif,
        width,
        height,
        orientation: f.orientation(f.primary),
        has_alpha: alpha.is_some(),
        // The primary item is a still; an image sequence's tracks are not read.
        frames: 1,
        plays: 0,
    })
}

/// The size an item decodes to: a coded item's `ispe` (which its frame must match), a grid's output.
fn declared_size(f: &Heif, id: u32) -> Result<(u32, u32), EngineError> {
    match f.item_type(id).as_ref() {
        Some(b"av01") => f.size(id).ok_or_else(|| corrupt("an image item has no size (ispe)")),
        Some(b"grid") => grid(f, id).map(|g| (g.width, g.height)),
        _ => Err(EngineError::Unsupported("AVIF: an image item is not AV1".into())),
    }
}

/// A grid whose tiles are AV1 (the container rules are `heif::Heif::grid`'s).
fn grid(f: &Heif, id: u32) -> Result<heif::Grid, EngineError> {
    let g = f.grid(id)?;
    if f.item_type(g.tiles[0]).as_ref() != Some(b"av01") {
        return Err(EngineError::Unsupported("AVIF: a grid tile is not AV1".into()));
    }
    Ok(g)
}

/// AV1 frame bytes per pixel at most (three 16-bit planes, 4:4:4) plus the tile's 8-bit RGB copy.
const TILE_BYTES_PER_PIXEL: u64 = 6 + 3;
/// What one open rav1d decoder holds besides its frame (measured: about 200 KB for a 64x64
/// tile), rounded up.
const DECODER_BYTES: u64 = 1 << 20;

/// Bytes a decode holds besides the output canvas, which `memory` counts at 8 B/px with its
/// 8-bit copy: for a grid, a row of tiles decoded at once (their frames and RGB copies) and a
/// decoder for each; a single item's frame and RGB copy fit in the canvas estimate.
pub(crate) fn decoder_bytes(bytes: &[u8]) -> Result<u64, EngineError> {
    let f = Heif::parse(bytes)?;
    let items = std::iter::once(f.primary).chain(f.alpha_of(f.primary));
    let mut most = 0;
    for id in items {
        if f.item_type(id).as_ref() == Some(b"grid") {
            let g = grid(&f, id)?;
            let tile = u64::from(g.tile.0) * u64::from(g.tile.1);
            most = most.max(u64::from(g.columns) * (tile * TILE_BYTES_PER_PIXEL + DECODER_BYTES));
        }
    }
    Ok(most)
}

/// Decodes the primary item (and its alpha) to 8-bit RGB(A). `budget`'s work pixels bound every
/// item and tile before it is decoded, and its deadline is checked between tiles.
pub(crate) fn decode(bytes: &[u8], budget: &Budget) -> Result<Decoded, EngineError> {
    let f = Heif::parse(bytes)?;
    let id = f.primary;
    let kind = primary_kind(&f)?;
    // A grid's colour properties may sit on the grid or only on its tiles.
    let first_tile = if kind == Kind::Grid { grid(&f, id)?.tiles.first().copied() } else { None };
    let nclx = f.nclx(id).or_else(|| first_tile.and_then(|t| f.nclx(t)));
    let icc = f.icc(id).or_else(|| first_tile.and_then(|t| f.icc(t)));

    let colour = item_pixels(&f, id, Want::Colour(nclx), budget)?;
    let alpha = f.alpha_of(id).map(|a| item_pixels(&f, a, Want::Alpha, budget)).transpose()?;

    let (w, h) = (colour.width as u32, colour.height as u32);
    let img = match alpha {
        None => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, colour.data).ok_or_else(|| corrupt("short frame"))?),
        Some(a) => {
            if (a.width, a.height) != (colour.width, colour.height) {
                return Err(corrupt("the alpha plane's size differs from the image's"));
            }
            let premultiplied = f.alpha_of(id).is_some_and(|a| f.premultiplied(id, a));
            let mut rgba = Vec::with_capacity(colour.data.len() / 3 * 4);
            for (px, &al) in colour.data.chunks_exact(3).zip(a.data.iter()) {
                let px = if premultiplied { unpremultiply(px, al) } else { [px[0], px[1], px[2]] };
                rgba.extend_from_slice(&[px[0], px[1], px[2], al]);
            }
            DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, rgba).ok_or_else(|| corrupt("short frame"))?)
        }
    };
    // An embedded profile wins; otherwise the CICP colour, from the container or the bitstream.
    let icc = match icc {
        Some(p) => Some(p.to_vec()),
        None => {
            let c = nclx.unwrap_or(colour.seq);
            cicp_profile(c.primaries, c.transfer)
        }
    };
    Ok(Decoded { pixels: Pixels::Image(img), icc })
}

fn unpremultiply(px: &[u8], a: u8) -> [u8; 3] {
    if a == 0 {
        return [0, 0, 0];
    }
    let f = |c: u8| ((u32::from(c) * 255 + u32::from(a) / 2) / u32::from(a)).min(255) as u8;
    [f(px[0]), f(px[1]), f(px[2])]
}

#[derive(Clone, Copy)]
enum Want {
    /// RGB, converted with the container's `nclx` when it has one.
    Colour(Option<Nclx>),
    /// One 8-bit channel from the luma plane.
    Alpha,
}

/// An item's pixels, interleaved (3 channels for colour, 1 for alpha).
struct ItemPixels {
    width: usize,
    height: usize,
    data: Vec<u8>,
    /// The colour signalled by the (first) AV1 sequence header.
    seq: Nclx,
}

fn item_pixels(f: &Heif, id: u32, want: Want, budget: &Budget) -> Result<ItemPixels, EngineError> {
    match f.item_type(id).as_ref() {
        Some(b"av01") => {
            let size = declared_size(f, id)?;
            budget.pixels(size.0, size.1)?;
            frame_pixels(&av1::decode(&f.data(id)?, size)?, want)
        }
        Some(b"grid") => grid_pixels(f, id, want, budget),
        _ => Err(EngineError::Unsupported("AVIF: an image item is not AV1".into())),
    }
}

fn frame_pixels(frame: &av1::Frame, want: Want) -> Result<ItemPixels, EngineError> {
    let s = frame.colour;
    let seq = Nclx { primaries: s.primaries, transfer: s.transfer, matrix: s.matrix, full_range: s.full_range };
    let data = match want {
        Want::Colour(nclx) => {
            let c = nclx.unwrap_or(seq);
            yuv::to_rgb(frame, yuv::Matrix::from_cicp(c.matrix), c.full_range)
        }
        Want::Alpha => yuv::to_alpha(frame, seq.full_range),
    };
    Ok(ItemPixels { width: frame.width, height: frame.height, data, seq })
}

/// A grid: tiles decoded a row at a time (one after another on the render's thread, each with its
/// own single-threaded decoder) and copied into the canvas, clipped to the output size. Every tile
/// decodes to its `ispe` (`av1::decode` refuses another size), and the deadline is checked
/// before each tile.
fn grid_pixels(f: &Heif, id: u32, want: Want, budget: &Budget) -> Result<ItemPixels, EngineError> {
    let g = grid(f, id)?;
    budget.pixels(g.width, g.height)?;
    budget.pixels(g.tile.0, g.tile.1)?;
    let (w, h) = (g.width as usize, g.height as usize);
    let (tw, th) = (g.tile.0 as usize, g.tile.1 as usize);
    let channels = if matches!(want, Want::Alpha) { 1 } else { 3 };
    let mut canvas = vec![0u8; w * h * channels];
    let mut seq = None;
    for (row, ids) in g.tiles.chunks(g.columns as usize).enumerate() {
        let tiles = ids
            .iter()
            .map(|t| {
                budget.time()?;
                frame_pixels(&av1::decode(&f.data(*t)?, g.tile)?, want)
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (col, tile) in tiles.into_iter().enumerate() {
            seq.get_or_insert(tile.seq);
            // The container rules make every tile start inside the output.
            let (x0, y0) = (col * tw, row * th);
            let cw = tw.min(w - x0);
            for y in 0..th.min(h - y0) {
                let src = &tile.data[y * tw * channels..][..cw * channels];
                canvas[((y0 + y) * w + x0) * channels..][..cw * channels].copy_from_slice(src);
            }
        }
    }
    let seq = seq.ok_or_else(|| corrupt("grid has no tiles"))?;
    Ok(ItemPixels { width: w, height: h, data: canvas, seq })
}

/// An ICC profile equivalent to CICP colour primaries and transfer characteristics (ITU-T H.273),
/// or None when they are sRGB's (or unspecified): colour management then skips the image.
/// BT.709/601/2020 transfer curves are taken as sRGB's, as browsers display them; PQ and HLG
/// (HDR) would need tone mapping and are also taken as sRGB.
fn cicp_profile(primaries: u16, transfer: u16) -> Option<Vec<u8>> {
    use lcms2::{CIExyY, CIExyYTRIPLE, Profile, ToneCurve};
    let xy = |x: f64, y: f64| CIExyY { x, y, Y: 1.0 };
    let d65 = xy(0.3127, 0.3290);
    let (white, [r, g, b]) = match primaries {
        4 => (xy(0.310, 0.316), [(0.67, 0.33), (0.21, 0.71), (0.14, 0.08)]),
        5 => (d65, [(0.64, 0.33), (0.29, 0.60), (0.15, 0.06)]),
        6 | 7 => (d65, [(0.630, 0.340), (0.310, 0.595), (0.155, 0.070)]),
        9 => (d65, [(0.708, 0.292), (0.170, 0.797), (0.131, 0.046)]),
        11 => (xy(0.314, 0.351), [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)]),
        12 => (d65, [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)]),
        22 => (d65, [(0.630, 0.340), (0.295, 0.605), (0.155, 0.077)]),
        _ => (d65, [(0.64, 0.33), (0.30, 0.60), (0.15, 0.06)]),
    };
    let gamma = match transfer {
        4 => Some(2.2),
        5 => Some(2.8),
        8 => Some(1.0),
        _ => None,
    };
    let srgb_primaries = !matches!(primaries, 4 | 5 | 6 | 7 | 9 | 11 | 12 | 22);
    if srgb_primaries && gamma.is_none() {
        return None;
    }
    let curve = match gamma {
        Some(g) => ToneCurve::new(g),
        None => ToneCurve::new_parametric(4, &[2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045]).ok()?,
    };
    let triple = CIExyYTRIPLE { Red: xy(r.0, r.1), Green: xy(g.0, g.1), Blue: xy(b.0, b.1) };
    Profile::new_rgb(&white, &triple, &[&curve, &curve, &curve]).ok()?.icc().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_cicp_needs_no_profile_and_p3_gets_one() {
        for (p, t) in [(1, 13), (1, 1), (2, 2), (1, 6), (2, 13)] {
            assert!(cicp_profile(p, t).is_none(), "{p}/{t}");
        }
        let p3 = cicp_profile(12, 13).expect("Display P3 needs converting");
        let p = lcms2::Profile::new_icc(&p3).unwrap();
        assert_eq!(p.color_space(), lcms2::ColorSpaceSignature::RgbData);
        assert!(cicp_profile(1, 8).is_some(), "linear sRGB is not sRGB");
        assert!(cicp_profile(9, 16).is_some());
    }

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        [&((body.len() + 8) as u32).to_be_bytes()[..], kind, body].concat()
    }

    fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
        bx(kind, &[&[version, 0, 0, 0][..], body].concat())
    }

    /// One flat-colour tile coded by ravif (rav1e), as the AV1 payload of its primary item.
    fn tile(rgb: [u8; 3], w: usize, h: usize) -> Vec<u8> {
        let px = vec![ravif::RGB8::new(rgb[0], rgb[1], rgb[2]); w * h];
        let file = ravif::Encoder::new()
            .with_quality(95.0)
            .with_speed(10)
            .with_bit_depth(ravif::BitDepth::Eight)
            .encode_rgb(ravif::Img::new(&px[..], w, h))
            .unwrap()
            .avif_file;
        let f = Heif::parse(&file).unwrap();
        f.data(f.primary).unwrap().into_owned()
    }

    const TILE_COLOURS: [[u8; 3]; 4] = [[220, 30, 30], [30, 200, 40], [40, 50, 210], [230, 220, 40]];

    /// A 2x2 grid of 64x48 tiles cropped to 100x80 (the last column and row partly outside, as
    /// phones write them), the grid descriptor in `idat`, rotated a quarter turn anticlockwise.
    fn grid_file(tiles: &[Vec<u8>]) -> Vec<u8> {
        let ftyp = bx(b"ftyp", &[&b"avif"[..], &[0, 0, 0, 0], b"avif", b"mif1", b"miaf"].concat());
        let meta = |offsets: &[u32]| {
            let hdlr = full(b"hdlr", 0, &[&[0u8; 4][..], b"pict", &[0; 12], b"\0"].concat());
            let pitm = full(b"pitm", 0, &1u16.to_be_bytes());
            let infe = |id: u16, kind: &[u8; 4]| full(b"infe", 2, &[&id.to_be_bytes()[..], &[0, 0], kind, b"\0"].concat());
            let mut iinf = 5u16.to_be_bytes().to_vec();
            iinf.extend(infe(1, b"grid"));
            (2..=5).for_each(|i| iinf.extend(infe(i, b"av01")));
            let dimg = bx(b"dimg", &[1u16, 4, 2, 3, 4, 5].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<_>>());
            let iref = full(b"iref", 0, &dimg);
            let ispe = |w: u32, h: u32| full(b"ispe", 0, &[w.to_be_bytes(), h.to_be_bytes()].concat());
            let ipco = bx(b"ipco", &[ispe(100, 80), ispe(64, 48), bx(b"irot", &[1])].concat());
            let mut ipma = 5u32.to_be_bytes().to_vec();
            ipma.extend_from_slice(&[0, 1, 2, 0x81, 0x83]);
            (2..=5u16).for_each(|i| ipma.extend_from_slice(&[&i.to_be_bytes()[..], &[1, 0x82]].concat()));
            let iprp = bx(b"iprp", &[ipco, full(b"ipma", 0, &ipma)].concat());
            let mut iloc = vec![0x44, 0x00];
            iloc.extend_from_slice(&5u16.to_be_bytes());
            iloc.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 1]);
            iloc.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 8]);
            for (i, t) in tiles.iter().enumerate() {
                iloc.extend_from_slice(&(i as u16 + 2).to_be_bytes());
                iloc.extend_from_slice(&[0, 0, 0, 0, 0, 1]);
                iloc.extend_from_slice(&offsets[i].to_be_bytes());
                iloc.extend_from_slice(&(t.len() as u32).to_be_bytes());
            }
            let idat = bx(b"idat", &[0, 0, 1, 1, 0, 100, 0, 80]);
            full(b"meta", 0, &[hdlr, pitm, full(b"iinf", 0, &iinf), iref, iprp, full(b"iloc", 1, &iloc), idat].concat())
        };
        // Offsets are fixed-size fields, so a first pass gives the layout's length.
        let start = (ftyp.len() + meta(&[0; 4]).len() + 8) as u32;
        let offsets: Vec<u32> = tiles.iter().scan(start, |at, t| { let o = *at; *at += t.len() as u32; Some(o) }).collect();
        [ftyp, meta(&offsets), bx(b"mdat", &tiles.concat())].concat()
    }

    #[test]
    fn grid_tiles_are_placed_cropped_and_rotated() {
        let tiles: Vec<_> = TILE_COLOURS.iter().map(|c| tile(*c, 64, 48)).collect();
        let file = grid_file(&tiles);
        let info = probe(&file).unwrap();
        assert_eq!((info.width, info.height, info.orientation, info.has_alpha), (100, 80, 8, false));
        let decoded = decode(&file, &work(1 << 20)).unwrap();
        let Pixels::Image(img) = decoded.pixels else { panic!("not an image") };
        let img = img.to_rgb8();
        assert_eq!(img.dimensions(), (100, 80));
        // The centre of each tile's visible part has the tile's colour.
        for (i, (x, y)) in [(32, 24), (82, 24), (32, 64), (82, 64)].into_iter().enumerate() {
            let got = img.get_pixel(x, y).0;
            let gap = (0..3).map(|c| got[c].abs_diff(TILE_COLOURS[i][c])).max().unwrap();
            assert!(gap <= 8, "tile {i} at {x},{y}: {got:?}");
        }
        // Through the pipeline: irot 1 turns it 90 degrees anticlockwise to 80x100, so the
        // top-left tile lands bottom-left.
        let t = crate::Transform { f: Some(crate::OutputFormat::Png), ..Default::default() };
        let r = crate::render(&file, &t, &crate::RenderOptions::default()).unwrap();
        assert_eq!((r.width, r.height), (80, 100));
        let out = image::load_from_memory(&r.bytes).unwrap().to_rgb8();
        let got = out.get_pixel(24, 67).0;
        assert!((0..3).all(|c| got[c].abs_diff(TILE_COLOURS[0][c]) <= 8), "{got:?}");
    }

    #[test]
    fn a_grid_missing_a_tile_or_over_budget_is_refused() {
        let tiles: Vec<_> = TILE_COLOURS.iter().map(|c| tile(*c, 64, 48)).collect();
        let mut file = grid_file(&tiles);
        assert!(matches!(decode(&file, &work(100 * 80 - 1)), Err(EngineError::PixelBudget(_))));
        // Tiles too small to cover the output (rows and columns say 2x2 of 64x48 for 100x80:
        // claim 200 wide instead).
        let at = file.windows(8).position(|w| w == [0, 0, 1, 1, 0, 100, 0, 80]).unwrap();
        file[at + 4..at + 6].copy_from_slice(&200u16.to_be_bytes());
        assert!(matches!(decode(&file, &work(1 << 20)), Err(EngineError::Corrupt(_))));
        assert!(matches!(probe(&file), Err(EngineError::Corrupt(_))), "refused from the header");
        // Three tiles referenced for a 2x2 grid.
        let mut file = grid_file(&tiles);
        let at = file.windows(6).position(|w| w == [0, 1, 0, 4, 0, 2]).unwrap();
        file[at + 3] = 3;
        assert!(matches!(probe(&file), Err(EngineError::Corrupt(_))));
    }

    fn work(max_work_pixels: u64) -> Budget {
        Budget::new(crate::Limits { max_work_pixels, ..crate::Limits::default() })
    }

    #[test]
    fn the_deadline_is_checked_between_grid_tiles() {
        let tiles: Vec<_> = TILE_COLOURS.iter().map(|c| tile(*c, 64, 48)).collect();
        let file = grid_file(&tiles);
        // The deadline passes after two of the four tiles' checks: the rest are never decoded.
        let budget = Budget::passing_after_checks(2);
        assert!(matches!(decode(&file, &budget), Err(EngineError::Deadline(_))));
        assert_eq!(budget.checks_left(), 0);
        // With time left, each tile is checked once.
        let budget = Budget::passing_after_checks(4);
        decode(&file, &budget).unwrap();
        assert_eq!(budget.checks_left(), 0);
    }

    #[test]
    fn grid_tiles_that_repeat_lie_or_nest_are_refused_from_the_header() {
        let tiles: Vec<_> = TILE_COLOURS.iter().map(|c| tile(*c, 64, 48)).collect();
        let good = grid_file(&tiles);
        let dimg = good.windows(12).position(|w| w == [0, 1, 0, 4, 0, 2, 0, 3, 0, 4, 0, 5]).unwrap();
        // Tile 2 used twice.
        let mut file = good.clone();
        file[dimg + 7] = 2;
        assert!(matches!(probe(&file), Err(EngineError::Corrupt(m)) if m.contains("more than once")));
        // The grid as its own tile: a derived item inside a grid.
        let mut file = good.clone();
        file[dimg + 5] = 1;
        assert!(matches!(probe(&file), Err(EngineError::Corrupt(m)) if m.contains("derived")));
        // The tiles' ispe says 64x24: 2 rows of 24 cannot cover 80 rows.
        let mut file = good.clone();
        let ispe = file.windows(8).position(|w| w == [0, 0, 0, 64, 0, 0, 0, 48]).unwrap();
        file[ispe + 7] = 24;
        assert!(matches!(probe(&file), Err(EngineError::Corrupt(m)) if m.contains("cover")));
        // 64x40 tiles cover 80 rows exactly at 2 rows: the header passes, the 64x48 frames do not.
        file[ispe + 7] = 40;
        probe(&file).unwrap();
        assert!(matches!(decode(&file, &work(1 << 20)), Err(EngineError::Corrupt(m)) if m.contains("declares")));
    }

    #[test]
    fn a_grid_estimate_holds_a_row_of_tiles_and_their_decoders() {
        let tiles: Vec<_> = TILE_COLOURS.iter().map(|c| tile(*c, 64, 48)).collect();
        assert_eq!(decoder_bytes(&grid_file(&tiles)).unwrap(), 2 * (64 * 48 * TILE_BYTES_PER_PIXEL + DECODER_BYTES));
        // A single item's frame fits in the canvas estimate.
        let single = ravif::Encoder::new().with_speed(10).encode_rgb(ravif::Img::new(&[ravif::RGB8::new(1, 2, 3); 64][..], 8, 8)).unwrap().avif_file;
        assert_eq!(decoder_bytes(&single).unwrap(), 0);
    }

    #[test]
    fn unpremultiply_restores_colour_and_keeps_zero_alpha_black() {
        assert_eq!(unpremultiply(&[64, 32, 0], 128), [128, 64, 0]);
        assert_eq!(unpremultiply(&[10, 10, 10], 0), [0, 0, 0]);
        assert_eq!(unpremultiply(&[200, 255, 1], 255), [200, 255, 1]);
        // Bad data (colour above alpha) saturates instead of wrapping.
        assert_eq!(unpremultiply(&[200, 0, 0], 100), [255, 0, 0]);
    }
}
