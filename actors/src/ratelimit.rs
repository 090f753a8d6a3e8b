//! The rate-limit actor: token buckets keyed by a 16-byte hash of "<scope>:<who>", in a cache of capped size.
use std::time::{Duration, Instant};

use actix::{Actor, Context, Handler, Message};
use moka::sync::Cache;
use sha2::{Digest, Sha256};

/// A limit of `per_minute` requests, refilled continuously, with bursts up to the same number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub per_minute: u32,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The "<who>" part is untrusted input (an email from a login body), so it never becomes a key
/// itself: a fixed-size hash makes every entry the same few bytes whatever the client sent.
pub(crate) type Key = [u8; 16];

pub(crate) fn key(name: &str) -> Key {
    let digest = Sha256::digest(name.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    k
}

pub struct RateLimiter {
    buckets: Cache<Key, Bucket>,
}

impl RateLimiter {
    /// About 150 bytes an entry with moka's bookkeeping: a few tens of MB at most, however many
    /// clients or emails are tried. moka's TinyLFU admission keeps the buckets that are hit
    /// often (the ones under attack) when a flood of one-off keys fills the cache.
    pub const DEFAULT_MAX_BUCKETS: u64 = 200_000;

    pub fn new(max_buckets: u64) -> Self {
        // A bucket left alone for a minute has refilled to its cap, so forgetting it loses nothing.
        let buckets = Cache::builder().max_capacity(max_buckets).time_to_idle(Duration::from_secs(60)).build();
        RateLimiter { buckets }
    }

    /// Takes one token; on refusal returns the whole seconds until one is available.
    pub fn take(&self, name: &str, limit: Limit, now: Instant) -> Result<(), u64> {
        if limit.per_minute == 0 {
            return Ok(()); // 0 disables a limit
        }
        let cap = limit.per_minute as f64;
        let rate = cap / 60.0;
        let k = key(name);
        let mut b = self.buckets.get(&k).unwrap_or(Bucket { tokens: cap, last: now });
        b.tokens = (b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate).min(cap);
        b.last = now;
        let verdict = if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        };
        // The actor handles one message at a time, so this read-modify-write cannot interleave.
        self.buckets.insert(k, b);
        verdict
    }

    /// Takes from each bucket in order and stops at the first refusal: a caller refused by an
    /// earlier bucket (its IP) neither creates nor drains a later one (someone else's email).
    pub fn check(&self, keys: &[(String, Limit)], now: Instant) -> Result<(), u64> {
        keys.iter().try_for_each(|(name, limit)| self.take(name, *limit, now))
    }
}

impl Default for RateLimiter {
    fn default() -> Self { Self::new(Self::DEFAULT_MAX_BUCKETS) }
}

impl Actor for RateLimiter {
    type Context = Context<Self>;
}

/// Take one token from each named bucket, in order; all must allow it.
pub struct Check {
    pub keys: Vec<(String, Limit)>,
}

impl Message for Check {
    type Result = Result<(), u64>;
}

impl Handler<Check> for RateLimiter {
    type Result = Result<(), u64>;
    fn handle(&mut self, msg: Check, _: &mut Context<Self>) -> Self::Result {
        self.check(&msg.keys, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_then_refills() {
        let r = RateLimiter::default();
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

    #[test]
    fn refused_ip_leaves_the_email_bucket_alone() {
        let r = RateLimiter::default();
        let (ip, email) = (Limit { per_minute: 1 }, Limit { per_minute: 2 });
        let t0 = Instant::now();
        let attempt = |from: &str| r.check(&[(format!("login-ip:{from}"), ip), ("login-email:victim@x.io".to_string(), email)], t0);
        assert!(attempt("10.0.0.66").is_ok());
        for _ in 0..50 {
            assert!(attempt("10.0.0.66").is_err(), "the attacker's IP is out of tokens");
        }
        // The victim's email bucket lost only the one token the admitted attempt took.
        assert!(attempt("10.0.0.1").is_ok(), "the real user still gets in from elsewhere");
        assert!(attempt("10.0.0.2").is_err(), "and the email bucket does count");
    }

    #[test]
    fn keys_of_any_length_share_the_cap() {
        let r = RateLimiter::new(10_000);
        let l = Limit { per_minute: 10 };
        let t0 = Instant::now();
        for i in 0..1_000_000u32 {
            assert!(r.take(&format!("login-email:{i}@x.io"), l, t0).is_ok());
        }
        // The same cap holds for keys as long as a JSON body allows.
        let long = "a".repeat(60 * 1024);
        for i in 0..1_000u32 {
            assert!(r.take(&format!("login-email:{long}{i}"), l, t0).is_ok());
        }
        r.buckets.run_pending_tasks();
        assert!(r.buckets.entry_count() <= 10_000, "{} buckets held", r.buckets.entry_count());
    }
}
