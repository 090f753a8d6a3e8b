//! JPEG encoding: libjpeg-turbo through the mozjpeg crate, progressive, fed in bands with deadline checks.

use std::cell::Cell;
use std::io::Write;

use super::{err, BAND_BYTES};
use crate::budget::Budget;
use crate::EngineError;

/// Quality from which chroma keeps full resolution: below it, 4:2:0 costs little visible detail and
/// saves about a third of the bytes; at 90 and above users ask for fidelity.
pub(super) const JPEG_FULL_CHROMA_FROM_Q: u8 = 90;

pub(super) fn encode_jpeg(rgb: &[u8], w: u32, h: u32, q: u8, budget: &Budget) -> Result<Vec<u8>, EngineError> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let stopped = Cell::new(None);
    // libjpeg reports errors by unwinding (see decode.rs); catch it here, next to the call. The
    // deadline stops it the same way: the writer refuses bytes, the mozjpeg crate turns that into
    // libjpeg's write error, which unwinds out through `error_exit` and drops (destroys) the
    // compressor on the way, as any libjpeg error does.
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>, EngineError> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_fastest_defaults();
        c.set_size(w as usize, h as usize);
        c.set_quality(f32::from(q));
        let chroma = if q >= JPEG_FULL_CHROMA_FROM_Q { (1, 1) } else { (2, 2) };
        c.set_chroma_sampling_pixel_sizes(chroma, chroma);
        c.set_progressive_mode();
        c.set_optimize_coding(true);
        let out = DeadlineWriter { out: Vec::with_capacity(rgb.len() / 8), budget, stopped: &stopped };
        let mut started = c.start_compress(out).map_err(err)?;
        // Progressive: this pass only transforms rows into coefficients (no output yet), so it is
        // fed in bands with a check between; libjpeg sees the same rows in the same order.
        let row = (w as usize * 3).max(1);
        for band in rgb.chunks((BAND_BYTES / row).max(1) * row) {
            budget.time()?;
            started.write_scanlines(band).map_err(err)?;
        }
        // The scans are coded here, each written out through `DeadlineWriter`.
        Ok(started.finish().map_err(err)?.out)
    }))
    .unwrap_or_else(|_| Err(err("libjpeg failed while encoding")));
    match stopped.take() {
        Some(deadline) => Err(deadline),
        None => result,
    }
}

/// The JPEG output: refuses further bytes once the deadline has passed, remembering why.
struct DeadlineWriter<'a> {
    out: Vec<u8>,
    budget: &'a Budget,
    stopped: &'a Cell<Option<EngineError>>,
}

impl Write for DeadlineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Err(e) = self.budget.time() {
            self.stopped.set(Some(e));
            return Err(std::io::Error::other("render deadline passed"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
}
