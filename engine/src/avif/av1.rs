//! A small safe wrapper over rav1d's dav1d-compatible C API: one AV1 still frame in, borrowed planes out.
//!
//! rav1d (the Rust port of dav1d, with dav1d's x86 assembly) exposes only the `dav1d_*` functions;
//! all the `unsafe` for AVIF lives here. Each decode opens its own single-threaded context:
//! rav1d's worker threads would escape the caller's `catch_unwind` and the render pool's
//! thread budget, and parallelism comes from decoding grid tiles side by side instead.

use std::ffi::c_int;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dLogger, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    Dav1dSequenceHeader, DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422, DAV1D_PIXEL_LAYOUT_I444,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture, dav1d_open,
    dav1d_parse_sequence_header, dav1d_picture_unref, dav1d_send_data,
};

use crate::EngineError;

fn corrupt(what: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt(format!("AVIF: {what}"))
}

/// Chroma layout of a decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Monochrome,
    I420,
    I422,
    I444,
}

impl Layout {
    /// (horizontal, vertical) chroma subsampling shifts.
    pub fn shifts(self) -> (u32, u32) {
        match self {
            Layout::I420 => (1, 1),
            Layout::I422 => (1, 0),
            Layout::Monochrome | Layout::I444 => (0, 0),
        }
    }
}

/// One plane's samples: 8-bit, or 16-bit words holding 10 or 12 bits.
#[derive(Clone, Copy)]
pub(crate) enum Samples<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
}

/// A borrowed plane: rows of `stride` samples, of which the first `width` are the image.
#[derive(Clone, Copy)]
pub(crate) struct Plane<'a> {
    pub samples: Samples<'a>,
    /// In samples, not bytes.
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

impl Plane<'_> {
    #[inline]
    pub fn get(&self, x: usize, y: usize) -> u16 {
        match self.samples {
            Samples::U8(s) => u16::from(s[y * self.stride + x]),
            Samples::U16(s) => s[y * self.stride + x],
        }
    }
}

/// The colour description carried in the AV1 sequence header (CICP code points).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeqColour {
    pub primaries: u16,
    pub transfer: u16,
    pub matrix: u16,
    pub full_range: bool,
}

/// A decoded frame; its planes borrow rav1d's picture, released on drop.
pub(crate) struct Frame {
    pic: Dav1dPicture,
    pub width: usize,
    pub height: usize,
    pub bit_depth: u8,
    pub layout: Layout,
    pub colour: SeqColour,
}

impl Frame {
    /// Plane 0 is luma, 1 and 2 are Cb and Cr (absent for monochrome).
    pub fn plane(&self, i: usize) -> Option<Plane<'_>> {
        if i > 0 && self.layout == Layout::Monochrome {
            return None;
        }
        let (sx, sy) = if i == 0 { (0, 0) } else { self.layout.shifts() };
        let width = (self.width + (1 << sx) - 1) >> sx;
        let height = (self.height + (1 << sy) - 1) >> sy;
        let stride_bytes = self.pic.stride[usize::from(i > 0)];
        let data = self.pic.data[i]?;
        // rav1d's own allocator lays planes out top-down; a negative stride is refused, not followed.
        let stride_bytes = usize::try_from(stride_bytes).ok()?;
        let word = if self.bit_depth > 8 { 2 } else { 1 };
        if stride_bytes % word != 0 || stride_bytes / word < width || height == 0 {
            return None;
        }
        let len = stride_bytes / word * (height - 1) + width;
        // SAFETY: rav1d allocated this plane with `stride` bytes per row for `height` rows (the
        // last row at least `width` samples), aligned for its sample type; the picture reference
        // held by `self` keeps it alive and unchanged for the borrow's lifetime.
        let samples = unsafe {
            if word == 2 {
                Samples::U16(std::slice::from_raw_parts(data.as_ptr().cast::<u16>(), len))
            } else {
                Samples::U8(std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), len))
            }
        };
        Some(Plane { samples, stride: stride_bytes / word, width, height })
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        // SAFETY: `pic` came from `dav1d_get_picture` and is unreferenced exactly once.
        unsafe { dav1d_picture_unref(Some(NonNull::from(&mut self.pic))) }
    }
}

/// An open single-threaded decoder, closed on drop (also when a decode fails half-way).
struct Context(Option<Dav1dContext>);

impl Drop for Context {
    fn drop(&mut self) {
        if self.0.is_some() {
            // SAFETY: the context came from `dav1d_open` and is closed once.
            unsafe { dav1d_close(Some(NonNull::from(&mut self.0))) }
        }
    }
}

/// dav1d's "try again" result: -EAGAIN, and EAGAIN is 11 on every Linux target.
const EAGAIN: c_int = -11;

/// Decodes one AV1 still frame (an AVIF item's OBUs) that must be `size` (the container's `ispe`,
/// which the memory estimate and the caller's pixel caps were judged on). A larger frame is
/// refused by rav1d itself before its buffers are allocated (`frame_size_limit` is the header's
/// pixel count), and one of any other size once decoded.
pub(crate) fn decode(obus: &[u8], size: (u32, u32)) -> Result<Frame, EngineError> {
    if obus.is_empty() {
        return Err(corrupt("empty AV1 item"));
    }
    let limit = u64::from(size.0) * u64::from(size.1);
    // 0 would mean "no limit" to rav1d.
    let limit = u32::try_from(limit).ok().filter(|l| *l > 0).ok_or_else(|| corrupt(format!("item size {}x{} is not decodable", size.0, size.1)))?;
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: `dav1d_default_settings` writes a complete `Dav1dSettings`.
    let mut settings = unsafe {
        dav1d_default_settings(NonNull::new_unchecked(settings.as_mut_ptr()));
        settings.assume_init()
    };
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    settings.frame_size_limit = limit;
    // All layers off: the highest-quality operating point's frame only, as libavif does.
    settings.all_layers = 0;
    // SAFETY: a logger without a callback is "no logging".
    settings.logger = unsafe { Dav1dLogger::new(None, None) };

    let mut ctx = Context(None);
    // SAFETY: both pointers are valid for the call.
    let r = unsafe { dav1d_open(Some(NonNull::from(&mut ctx.0)), Some(NonNull::from(&mut settings))) };
    if r.0 != 0 || ctx.0.is_none() {
        return Err(corrupt(format!("AV1 decoder failed to start ({})", r.0)));
    }

    let mut data = Dav1dData::default();
    // SAFETY: `data` is valid to write; the returned buffer is `obus.len()` bytes long.
    let buf = unsafe { dav1d_data_create(Some(NonNull::from(&mut data)), obus.len()) };
    if buf.is_null() {
        return Err(corrupt("AV1 item could not be buffered"));
    }
    // SAFETY: `buf` points to `obus.len()` writable bytes owned by `data`.
    unsafe { std::ptr::copy_nonoverlapping(obus.as_ptr(), buf, obus.len()) };
    let result = feed_and_fetch(&ctx, &mut data);
    if data.sz > 0 {
        // SAFETY: `data` still holds its reference when the decoder did not consume all of it.
        unsafe { dav1d_data_unref(Some(NonNull::from(&mut data))) };
    }
    // rav1d's error for a frame over `frame_size_limit` is its generic one: name the cause.
    let pic = result.map_err(|e| larger_than_declared(obus, size).unwrap_or(e))?;
    let frame = frame(pic)?;
    if (frame.width, frame.height) != (size.0 as usize, size.1 as usize) {
        return Err(corrupt(format!("AV1 frame is {}x{} but its item declares {}x{} (ispe)", frame.width, frame.height, size.0, size.1)));
    }
    Ok(frame)
}

/// An error naming the sizes when the sequence header allows larger frames than `size`.
fn larger_than_declared(obus: &[u8], size: (u32, u32)) -> Option<EngineError> {
    let mut seq = MaybeUninit::<Dav1dSequenceHeader>::zeroed();
    // SAFETY: both pointers are valid for the call; `obus` is only read.
    let r = unsafe { dav1d_parse_sequence_header(Some(NonNull::from(&mut seq).cast()), NonNull::new(obus.as_ptr().cast_mut()), obus.len()) };
    if r.0 != 0 {
        return None;
    }
    // SAFETY: every field is a plain integer (zeroed is valid), and the parse succeeded.
    let seq = unsafe { seq.assume_init() };
    let (w, h) = (u64::try_from(seq.max_width).ok()?, u64::try_from(seq.max_height).ok()?);
    (w * h > u64::from(size.0) * u64::from(size.1))
        .then(|| corrupt(format!("AV1 frames may be up to {w}x{h}, larger than the {}x{} the item declares (ispe)", size.0, size.1)))
}

/// Sends all of `data`, then takes the one picture it produces.
fn feed_and_fetch(ctx: &Context, data: &mut Dav1dData) -> Result<Dav1dPicture, EngineError> {
    let mut pic = Dav1dPicture::default();
    let mut got = false;
    // Each round either consumes input or returns a picture: a still image needs very few.
    for _ in 0..64 {
        if data.sz > 0 {
            // SAFETY: the context is open and `data` valid.
            let r = unsafe { dav1d_send_data(ctx.0, Some(NonNull::from(&mut *data))) };
            if r.0 != 0 && r.0 != EAGAIN {
                return Err(corrupt(format!("AV1 data refused ({})", r.0)));
            }
        }
        // SAFETY: the context is open and `pic` valid to write.
        let r = unsafe { dav1d_get_picture(ctx.0, Some(NonNull::from(&mut pic))) };
        if r.0 == 0 {
            got = true;
            break;
        }
        if r.0 != EAGAIN {
            return Err(corrupt(format!("AV1 frame failed to decode ({})", r.0)));
        }
        if data.sz == 0 {
            // Everything is sent: one more round drains the decoder, a second gives up.
            // SAFETY: as above.
            let r = unsafe { dav1d_get_picture(ctx.0, Some(NonNull::from(&mut pic))) };
            if r.0 == 0 {
                got = true;
            }
            break;
        }
    }
    if !got {
        return Err(corrupt("AV1 item holds no frame"));
    }
    Ok(pic)
}

fn frame(pic: Dav1dPicture) -> Result<Frame, EngineError> {
    let seq = pic.seq_hdr;
    let (w, h, bpc, layout) = (pic.p.w, pic.p.h, pic.p.bpc, pic.p.layout);
    let mut frame = Frame {
        pic,
        width: 0,
        height: 0,
        bit_depth: 8,
        layout: Layout::I420,
        colour: SeqColour { primaries: 2, transfer: 2, matrix: 2, full_range: false },
    };
    frame.width = usize::try_from(w).ok().filter(|w| *w > 0).ok_or_else(|| corrupt("frame has no width"))?;
    frame.height = usize::try_from(h).ok().filter(|h| *h > 0).ok_or_else(|| corrupt("frame has no height"))?;
    frame.bit_depth = match bpc {
        8 => 8,
        10 => 10,
        12 => 12,
        _ => return Err(corrupt("unsupported bit depth")),
    };
    frame.layout = match layout {
        DAV1D_PIXEL_LAYOUT_I400 => Layout::Monochrome,
        DAV1D_PIXEL_LAYOUT_I420 => Layout::I420,
        DAV1D_PIXEL_LAYOUT_I422 => Layout::I422,
        DAV1D_PIXEL_LAYOUT_I444 => Layout::I444,
        _ => return Err(corrupt("unknown chroma layout")),
    };
    if let Some(seq) = seq {
        // SAFETY: the sequence header is kept alive by the picture's reference.
        let s = unsafe { seq.as_ref() };
        frame.colour = SeqColour {
            primaries: s.pri as u16,
            transfer: s.trc as u16,
            matrix: s.mtrx as u16,
            full_range: s.color_range != 0,
        };
    }
    for i in 0..if frame.layout == Layout::Monochrome { 1 } else { 3 } {
        if frame.plane(i).is_none() {
            return Err(corrupt("frame plane layout is not usable"));
        }
    }
    Ok(frame)
}
