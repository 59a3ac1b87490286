//! The rate limiter: `limit` requests per `period` for a key, as a GCRA (generic cell rate algorithm) —
//! at most `limit` at once, then one more every `period / limit`. Unlike fixed windows, it never lets
//! twice the limit through around a window's edge.
//!
//! With `REDIS_URL` the state lives in Redis, updated by one atomic script per request on Redis's own clock,
//! so a key's limit holds across every replica. Without it, in this process (the `governor` crate). When
//! Redis stops answering, requests are counted in this process until it answers again (with a warning), so
//! an outage neither refuses every request nor lets them through uncounted.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// One request's verdict, and what the `X-RateLimit-*` headers tell.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix time (seconds) at which the full limit is available again.
    pub reset_at: i64,
    /// For a refusal: seconds until a request would be allowed (at least 1).
    pub retry_after: u64,
}

type Keyed = governor::RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// In-process limits: one keyed `governor` limiter per quota.
#[derive(Default)]
struct Local {
    limiters: Mutex<HashMap<(u32, Duration), Arc<Keyed>>>,
}

impl Local {
    fn limiter(&self, limit: NonZeroU32, period: Duration) -> Arc<Keyed> {
        let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        limiters
            .entry((limit.get(), period))
            .or_insert_with(|| {
                let quota = Quota::with_period(period / limit.get())
                    .unwrap_or_else(|| Quota::per_second(limit))
                    .allow_burst(limit);
                Arc::new(governor::RateLimiter::keyed(quota).with_middleware())
            })
            .clone()
    }

    fn check(&self, key: &str, limit: NonZeroU32, period: Duration) -> Decision {
        let limiter = self.limiter(limit, period);
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        let interval_ms = (period / limit.get()).as_millis() as i64;
        match limiter.check_key(&key.to_string()) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let refill_ms = i64::from(limit.get() - remaining) * interval_ms;
                Decision {
                    allowed: true,
                    limit: limit.get(),
                    remaining,
                    reset_at: ceil_seconds(now_ms + refill_ms),
                    retry_after: 0,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let wait_ms = wait.as_millis() as i64;
                Decision {
                    allowed: false,
                    limit: limit.get(),
                    remaining: 0,
                    reset_at: ceil_seconds(
                        now_ms + wait_ms + i64::from(limit.get() - 1) * interval_ms,
                    ),
                    retry_after: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
                }
            }
        }
    }
}

/// The GCRA step on Redis: KEYS[1] holds the key's theoretical arrival time (ms); ARGV are the emission
/// interval and the period (ms). Answers {allowed, arrival time after this request (or now, refused), now}.
const GCRA: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > period then
  return {0, tat, now}
end
redis.call('SET', KEYS[1], next_tat, 'PX', period)
return {1, next_tat, now}
";

/// The longest a request waits for Redis before it is counted in process instead.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// The Redis at `REDIS_URL`, shared by every process using it: rate limits here, failed logins in
/// `http::login_limit`.
pub struct Shared {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    script: redis::Script,
    /// When Redis last failed, to warn once a minute rather than on every request.
    warned_at: Mutex<Option<Instant>>,
}

impl Shared {
    pub async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        // A request waits at most a fraction of a second for Redis: then it is counted in process.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(REDIS_TIMEOUT)
            .set_response_timeout(REDIS_TIMEOUT)
            .set_number_of_retries(1)
            .set_max_delay(1000);
        self.connection
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
    }

    async fn check(
        &self,
        key: &str,
        limit: NonZeroU32,
        period: Duration,
    ) -> redis::RedisResult<Decision> {
        let mut conn = self.connection().await?;
        let interval = (period.as_millis() as i64 / i64::from(limit.get())).max(1);
        let period_ms = period.as_millis() as i64;
        let (allowed, tat, now): (i64, i64, i64) = self
            .script
            .key(format!("shopvo:rl:{key}"))
            .arg(interval)
            .arg(period_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(if allowed == 1 {
            let remaining = ((period_ms - (tat - now)) / interval).clamp(0, i64::from(limit.get()));
            Decision {
                allowed: true,
                limit: limit.get(),
                remaining: remaining as u32,
                reset_at: ceil_seconds(tat),
                retry_after: 0,
            }
        } else {
            let wait_ms = (tat + interval - period_ms - now).max(1);
            Decision {
                allowed: false,
                limit: limit.get(),
                remaining: 0,
                reset_at: ceil_seconds(tat),
                retry_after: ((wait_ms + 999) / 1000).max(1) as u64,
            }
        })
    }

    /// Says once a minute that Redis failed and counts are kept in this process meanwhile.
    pub fn warn(&self, error: &str) {
        let mut warned = self.warned_at.lock().unwrap_or_else(|e| e.into_inner());
        if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
            *warned = Some(Instant::now());
            tracing::warn!(%error, "Redis is not answering: rate limits and failed logins are counted in this process until it is back");
        }
    }
}

fn ceil_seconds(ms: i64) -> i64 {
    (ms + 999).div_euclid(1000)
}

/// Rate limits, in Redis when configured, else in this process.
#[derive(Default)]
pub struct RateLimiter {
    local: Local,
    shared: Option<Arc<Shared>>,
}

impl RateLimiter {
    /// Limits in Redis at `redis_url` (checked when first used; see [`RateLimiter::ping`]), or in process.
    pub fn new(redis_url: Option<&str>) -> anyhow::Result<Self> {
        let shared = match redis_url {
            Some(url) => Some(Arc::new(Shared {
                client: redis::Client::open(url).map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?,
                connection: OnceCell::new(),
                script: redis::Script::new(GCRA),
                warned_at: Mutex::new(None),
            })),
            None => None,
        };
        Ok(RateLimiter {
            local: Local::default(),
            shared,
        })
    }

    /// Whether limits are shared through Redis.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The Redis the limits are kept in, for the other counts shared across processes.
    pub fn redis(&self) -> Option<Arc<Shared>> {
        self.shared.clone()
    }

    /// Connects to Redis when configured: `serve` refuses to start without it rather than quietly keeping
    /// per-process limits.
    pub async fn ping(&self) -> anyhow::Result<()> {
        if let Some(shared) = &self.shared {
            let mut conn = shared
                .connection()
                .await
                .map_err(|e| anyhow::anyhow!("cannot reach Redis at REDIS_URL: {e}"))?;
            let _: String = redis::cmd("PING")
                .query_async(&mut conn)
                .await
                .map_err(|e| anyhow::anyhow!("Redis at REDIS_URL does not answer: {e}"))?;
        }
        Ok(())
    }

    /// Counts a request of `key` against `limit` per `period`; `scope` names the limit in metrics.
    pub async fn check(
        &self,
        scope: &'static str,
        key: &str,
        limit: u32,
        period: Duration,
    ) -> Decision {
        let limit = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        let key = format!("{scope}:{key}");
        let decision = match &self.shared {
            Some(shared) => {
                match tokio::time::timeout(REDIS_TIMEOUT * 2, shared.check(&key, limit, period))
                    .await
                {
                    Ok(Ok(decision)) => decision,
                    Ok(Err(error)) => {
                        shared.warn(&error.to_string());
                        self.local.check(&key, limit, period)
                    }
                    Err(_) => {
                        shared.warn("no answer in time");
                        self.local.check(&key, limit, period)
                    }
                }
            }
            None => self.local.check(&key, limit, period),
        };
        if !decision.allowed {
            crate::metrics::rate_limited(scope);
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_up_to_the_limit_then_one_per_interval() {
        let limiter = RateLimiter::default();
        let period = Duration::from_millis(400);
        for remaining in [1, 0] {
            let d = limiter.check("test", "k", 2, period).await;
            assert!(d.allowed);
            assert_eq!(d.remaining, remaining);
        }
        let refused = limiter.check("test", "k", 2, period).await;
        assert!(!refused.allowed);
        assert!(refused.retry_after >= 1);
        assert!(limiter.check("test", "other", 2, period).await.allowed);
        // Half the period gives back one request, not the whole limit (no burst at a window's edge).
        tokio::time::sleep(Duration::from_millis(210)).await;
        assert!(limiter.check("test", "k", 2, period).await.allowed);
        assert!(!limiter.check("test", "k", 2, period).await.allowed);
    }
}
