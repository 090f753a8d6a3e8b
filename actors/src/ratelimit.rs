//! The rate-limit actor: token buckets keyed by "<scope>:<who>", all in memory.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, Message};

/// A limit of `per_minute` requests, refilled continuously, with bursts up to the same number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub per_minute: u32,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: HashMap<String, Bucket>,
}

impl RateLimiter {
    /// Takes one token; on refusal returns the whole seconds until one is available.
    pub fn take(&mut self, key: &str, limit: Limit, now: Instant) -> Result<(), u64> {
        if limit.per_minute == 0 {
            return Ok(()); // 0 disables a limit
        }
        let cap = limit.per_minute as f64;
        let rate = cap / 60.0;
        let b = self.buckets.entry(key.to_string()).or_insert(Bucket { tokens: cap, last: now });
        b.tokens = (b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// Full buckets carry no information; dropping them bounds memory under many distinct IPs.
    fn sweep(&mut self, now: Instant) {
        self.buckets.retain(|_, b| now.saturating_duration_since(b.last) < Duration::from_secs(120));
    }
}

impl Actor for RateLimiter {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(Duration::from_secs(60), |this, _| this.sweep(Instant::now()));
    }
}

/// Take one token from each named bucket; all must allow it.
pub struct Check {
    pub keys: Vec<(String, Limit)>,
}

impl Message for Check {
    type Result = Result<(), u64>;
}

impl Handler<Check> for RateLimiter {
    type Result = Result<(), u64>;
    fn handle(&mut self, msg: Check, _: &mut Context<Self>) -> Self::Result {
        let now = Instant::now();
        let mut worst = None;
        for (k, l) in &msg.keys {
            if let Err(s) = self.take(k, *l, now) {
                worst = Some(worst.map_or(s, |w: u64| w.max(s)));
            }
        }
        worst.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_then_refills() {
        let mut r = RateLimiter::default();
        let l = Limit { per_minute: 3 };
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(r.take("ip:1", l, t0).is_ok());
        }
        let wait = r.take("ip:1", l, t0).unwrap_err();
        assert_eq!(wait, 20);
        assert!(r.take("ip:2", l, t0).is_ok(), "buckets are per key");
        assert!(r.take("ip:1", l, t0 + Duration::from_secs(21)).is_ok());
    }
}
