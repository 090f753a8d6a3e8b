//! A render's budgets: the caller's `Limits` and the `Budget` every step checks (deadline, work pixels).

use std::time::Instant;

use crate::EngineError;

/// Budgets passed in by the caller; the engine stops with a typed error when one is exceeded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in pixels (width x height from the header). Default 100 MP.
    pub max_input_pixels: u64,
    /// Largest number of pixels any intermediate buffer may hold. Default 120 MP.
    pub max_work_pixels: u64,
    /// Caps on an animated source: its frame count and pixels over all frames, from the headers;
    /// an animated render also holds frames x its largest per-frame buffer to `max_pixels`.
    pub animation: AnimationLimits,
    /// Wall-clock deadline, checked between steps and inside the long ones: between an AVIF
    /// grid's tiles, and the JPEG, PNG and still WebP encoders give up once it has passed
    /// (`encode`). AVIF and GIF encodes and a single resize run to their end.
    pub deadline: Option<Instant>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_pixels: crate::limits::INPUT_PIXELS.default,
            max_work_pixels: crate::limits::WORK_PIXELS.default,
            animation: AnimationLimits::default(),
            deadline: None,
        }
    }
}

/// Caps on an animated source, judged from its headers before any decode, so a frame bomb costs a
/// header walk (config `upload.max_frames` and `upload.max_animation_pixels`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnimationLimits {
    /// Most frames an animation may declare.
    pub max_frames: u32,
    /// Most pixels over all frames: canvas width x height x frames, what a full decode composes.
    pub max_pixels: u64,
}

impl Default for AnimationLimits {
    fn default() -> Self {
        // The table's frame cap fits u32 by its own range (max = u32::MAX).
        AnimationLimits { max_frames: crate::limits::FRAMES.default as u32, max_pixels: crate::limits::ANIMATION_PIXELS.default }
    }
}

/// Wall-clock and pixel budgets, checked between steps and before every allocation.
pub(crate) struct Budget {
    start: Instant,
    pub limits: Limits,
    /// Tests only: how many more checks pass before the deadline counts as passed, so a test can
    /// make it pass in the middle of an encode without timing anything.
    #[cfg(test)]
    checks_left: Option<std::sync::atomic::AtomicU32>,
}

impl Budget {
    pub(crate) fn new(limits: Limits) -> Self {
        Budget {
            start: Instant::now(),
            limits,
            #[cfg(test)]
            checks_left: None,
        }
    }

    /// A budget without a clock deadline whose `time` fails from its `n + 1`-th call on.
    #[cfg(test)]
    pub(crate) fn passing_after_checks(n: u32) -> Self {
        Budget { checks_left: Some(std::sync::atomic::AtomicU32::new(n)), ..Budget::new(Limits::default()) }
    }

    /// Tests only: the checks still to pass, of those given to `passing_after_checks`.
    #[cfg(test)]
    pub(crate) fn checks_left(&self) -> u32 {
        self.checks_left.as_ref().map_or(0, |n| n.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// `Err(Deadline)` once the deadline has passed: the one check, made between steps and by the
    /// encoders' progress hooks (`encode`), so an abandoned step reports what a skipped one would.
    pub(crate) fn time(&self) -> Result<(), EngineError> {
        #[cfg(test)]
        if let Some(left) = &self.checks_left {
            use std::sync::atomic::Ordering::SeqCst;
            if left.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_err() {
                return Err(EngineError::Deadline(self.start.elapsed().as_millis() as u64));
            }
        }
        match self.limits.deadline {
            Some(d) if Instant::now() >= d => {
                Err(EngineError::Deadline(d.saturating_duration_since(self.start).as_millis() as u64))
            }
            _ => Ok(()),
        }
    }
    pub(crate) fn pixels(&self, w: u32, h: u32) -> Result<(), EngineError> {
        if u64::from(w) * u64::from(h) > self.limits.max_work_pixels {
            return Err(EngineError::PixelBudget(self.limits.max_work_pixels));
        }
        Ok(())
    }
}
