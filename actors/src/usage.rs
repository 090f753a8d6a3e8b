//! Delivery counters batched in memory: one map update per request, one transaction per flush.
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct UsageMeter {
    pending: Mutex<HashMap<i64, (u64, u64)>>,
}

impl UsageMeter {
    pub fn record(&self, user_id: i64, bytes: u64) {
        let mut m = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(user_id).or_default();
        e.0 += bytes;
        e.1 += 1;
    }

    /// Takes everything recorded so far as `(user_id, bytes, requests)`.
    pub fn drain(&self) -> Vec<(i64, u64, u64)> {
        let mut m = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        m.drain().map(|(u, (b, r))| (u, b, r)).collect()
    }

    /// Puts counts back after a failed flush so they are not lost.
    pub fn restore(&self, counts: Vec<(i64, u64, u64)>) {
        let mut m = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (u, b, r) in counts {
            let e = m.entry(u).or_default();
            e.0 += b;
            e.1 += r;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn records_and_drains() {
        let m = super::UsageMeter::default();
        m.record(1, 10);
        m.record(1, 5);
        m.record(2, 1);
        let mut d = m.drain();
        d.sort();
        assert_eq!(d, vec![(1, 15, 2), (2, 1, 1)]);
        assert!(m.drain().is_empty());
    }
}
