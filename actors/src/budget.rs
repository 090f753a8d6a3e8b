//! One global memory budget in bytes: every decode (render or upload validation) reserves its
//! estimated peak (`imgcloud_engine::memory::estimate`) before it decodes and gives it back when done.
//!
//! Counting only jobs bounds memory only if every job is small; a 35-byte GIF decodes to 800 MB.
//! With the budget, concurrent renders hold at most `total` bytes of pixels between them: a job
//! that does not fit waits (up to its deadline, on its pool thread, so the bounded queue behind it
//! stays bounded) and a job larger than the whole budget is refused at once, never an OOM.
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::error::{DomainError, Stage};

#[derive(Clone)]
pub struct MemoryBudget {
    inner: Arc<(Mutex<u64>, Condvar)>,
    total: u64,
    /// Reservations blocked in the wait, so a test can release only once a waiter is really asleep.
    #[cfg(test)]
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

/// Why a reservation was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The job alone needs more than the whole budget: it can never run on this server.
    TooLarge { needed: u64, total: u64 },
    /// Other jobs held the budget until the deadline.
    Busy,
}

/// Bytes held until dropped.
pub struct Reservation {
    budget: MemoryBudget,
    bytes: u64,
}

impl Refused {
    /// At upload a job too large is 413; at render 400 (the request can never succeed here). A
    /// busy budget is load: 503 with Retry-After either way.
    pub fn into_error(self, stage: Stage) -> DomainError {
        match (self, stage) {
            (Refused::TooLarge { needed, total }, stage) => {
                let m = format!("decoding this image needs about {} MB, more than this server's memory budget of {} MB", needed >> 20, total >> 20);
                if matches!(stage, Stage::Upload) { DomainError::TooLarge(m) } else { DomainError::Invalid(m) }
            }
            (Refused::Busy, _) => DomainError::Overloaded { message: "the server's memory budget is in use by other renders; retry shortly".into(), retry_after: 1 },
        }
    }
}

impl MemoryBudget {
    /// `total` bytes; 0 means derived from the machine (`default_total`).
    pub fn new(total: u64) -> Self {
        let total = if total == 0 { default_total() } else { total };
        Self {
            inner: Arc::new((Mutex::new(0), Condvar::new())),
            total,
            #[cfg(test)]
            waiting: Default::default(),
        }
    }

    pub fn total(&self) -> u64 { self.total }

    /// Bytes reserved now.
    pub fn in_use(&self) -> u64 { *self.inner.0.lock().unwrap_or_else(|e| e.into_inner()) }

    /// Reserves `bytes`, waiting until they fit or `deadline` passes.
    pub fn reserve(&self, bytes: u64, deadline: Instant) -> Result<Reservation, Refused> {
        if bytes > self.total {
            return Err(Refused::TooLarge { needed: bytes, total: self.total });
        }
        let (lock, freed) = &*self.inner;
        let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
        while *used + bytes > self.total {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Refused::Busy);
            }
            // Counted under the lock, which the wait releases atomically: whoever sees the count and
            // then takes the lock knows this waiter is asleep on the condvar.
            #[cfg(test)]
            self.waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            used = freed.wait_timeout(used, left).unwrap_or_else(|e| e.into_inner()).0;
            #[cfg(test)]
            self.waiting.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
        *used += bytes;
        metrics::gauge!("render_memory_reserved_bytes").set(*used as f64);
        Ok(Reservation { budget: self.clone(), bytes })
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let (lock, freed) = &*self.budget.inner;
        let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
        *used -= self.bytes;
        metrics::gauge!("render_memory_reserved_bytes").set(*used as f64);
        freed.notify_all();
    }
}

/// A quarter of the machine's memory (MemTotal in /proc/meminfo), at most 1.5 GiB and at least
/// 256 MiB; 512 MiB where /proc/meminfo cannot be read. A quarter leaves the rest of the machine
/// to the caches (counted in their own caps), the database and the peers a host runs beside us;
/// 1.5 GiB admits every input within the default 100 MP cap, the widest (16-bit RGBA, 1.2 GB
/// estimated) included, one at a time.
pub fn default_total() -> u64 {
    const MIB: u64 = 1 << 20;
    let mem_total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
    });
    mem_total.map_or(512 * MIB, |m| (m / 4).clamp(256 * MIB, 1536 * MIB))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reservations_add_up_and_come_back_when_dropped() {
        let b = MemoryBudget::new(100);
        let deadline = Instant::now() + Duration::from_secs(1);
        let first = b.reserve(60, deadline).unwrap();
        let second = b.reserve(40, deadline).unwrap();
        assert_eq!(b.in_use(), 100);
        drop(first);
        drop(second);
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn a_job_larger_than_the_whole_budget_is_refused_at_once() {
        let b = MemoryBudget::new(100);
        assert_eq!(b.reserve(101, Instant::now() + Duration::from_secs(60)).err(), Some(Refused::TooLarge { needed: 101, total: 100 }));
    }

    #[test]
    fn a_job_that_does_not_fit_gives_up_at_its_deadline() {
        let b = MemoryBudget::new(100);
        let _held = b.reserve(80, Instant::now()).unwrap();
        assert_eq!(b.reserve(30, Instant::now() + Duration::from_millis(20)).err(), Some(Refused::Busy));
    }

    #[test]
    fn a_waiting_job_runs_when_another_releases() {
        let b = MemoryBudget::new(100);
        let held = b.reserve(80, Instant::now()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let b = b.clone();
            // A deadline far beyond the test's patience: only the release's wake-up can let it in in time.
            std::thread::spawn(move || tx.send(b.reserve(30, Instant::now() + Duration::from_secs(600)).map(|r| r.bytes)));
        }
        while b.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        drop(held);
        let woke = rx.recv_timeout(Duration::from_secs(5)).expect("the release wakes the waiter at once, not at its deadline");
        assert_eq!(woke, Ok(30));
    }

    #[test]
    fn the_default_is_within_its_stated_range() {
        let t = default_total();
        assert!((256 << 20..=1536 << 20).contains(&t), "{t}");
    }
}
