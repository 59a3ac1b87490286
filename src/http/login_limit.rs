//! Brute-force protection for customer logins: in Redis with `REDIS_URL` (so the limits hold across
//! replicas), else in this process — and in this process while Redis does not answer.
//!
//! Failed logins are counted over a sliding 15-minute window per (site, lower-cased email) and per client
//! IP (IPv6 by its /64, since one host usually holds a whole /64). Past 5 failures for an email, or 20 for
//! an IP, every further attempt is refused with 429 and `Retry-After` — even one with the right password —
//! until the oldest failure leaves the window. Each attempt is counted when it starts and forgiven when it
//! succeeds, so a burst of concurrent guesses cannot slip past the limit. A successful login also forgets
//! the email's earlier failures (not the IP's).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::error::ApiError;
use super::limiter::{REDIS_TIMEOUT, Shared};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_PER_EMAIL: usize = 5;
pub const MAX_PER_IP: usize = 20;
/// Past this many tracked subjects, the idle ones are dropped.
const MAX_SUBJECTS: usize = 100_000;
/// Emails are keyed by at most this many characters.
const MAX_EMAIL_KEY: usize = 320;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Email { site: String, email: String },
    Ip(IpAddr),
}

/// The client address of a request, from the connection (`None` when the server runs without
/// connection info, as in some tests).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// An attempt that passed the check and is counted as a failure until [`LoginLimiter::succeeded`].
#[must_use]
pub struct Attempt {
    subjects: Vec<Subject>,
    counted: Counted,
}

/// Where an attempt was counted.
enum Counted {
    Here(Instant),
    /// In Redis, as this member of each subject's sorted set.
    Redis(String),
}

#[derive(Default)]
pub struct LoginLimiter {
    local: Local,
    shared: Option<Arc<Shared>>,
}

/// The failures counted in this process.
#[derive(Default)]
struct Local {
    failures: Mutex<HashMap<Subject, VecDeque<Instant>>>,
}

fn ip_subject(ip: IpAddr) -> Subject {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            Subject::Ip(IpAddr::V6(Ipv6Addr::from(prefix)))
        }
        v4 => Subject::Ip(v4),
    }
}

fn email_subject(site_id: &str, email: &str) -> Subject {
    Subject::Email {
        site: site_id.to_string(),
        email: email
            .trim()
            .chars()
            .take(MAX_EMAIL_KEY)
            .collect::<String>()
            .to_lowercase(),
    }
}

fn subjects(site_id: &str, email: &str, ip: Option<IpAddr>) -> Vec<(Subject, usize)> {
    let mut subjects = vec![(email_subject(site_id, email), MAX_PER_EMAIL)];
    if let Some(ip) = ip {
        subjects.push((ip_subject(ip), MAX_PER_IP));
    }
    subjects
}

impl Subject {
    fn redis_key(&self) -> String {
        match self {
            Subject::Email { site, email } => format!("shopvo:login:email:{site}:{email}"),
            Subject::Ip(ip) => format!("shopvo:login:ip:{ip}"),
        }
    }
}

/// One attempt on Redis, on Redis's clock: KEYS are the subjects' sorted sets of failures (scored by ms),
/// ARGV the window (ms), this attempt's member and each subject's maximum. Answers {0, ms to wait} when a
/// limit is reached, else {1} with the attempt added to every set.
const ATTEMPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local max = tonumber(ARGV[2 + i])
  local n = redis.call('ZCARD', key)
  if n >= max then
    local oldest = redis.call('ZRANGE', key, n - max, n - max, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then return {0, wait} end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, window)
end
return {1, 0}
";

impl LoginLimiter {
    /// Failed logins counted in `redis` when given, else in this process.
    pub fn new(redis: Option<Arc<Shared>>) -> Self {
        LoginLimiter {
            local: Local::default(),
            shared: redis,
        }
    }

    /// Starts a login attempt: refused with the seconds to wait when a limit is reached, else counted.
    pub async fn attempt(
        &self,
        site_id: &str,
        email: &str,
        ip: Option<IpAddr>,
    ) -> Result<Attempt, u64> {
        let subjects = subjects(site_id, email, ip);
        if let Some(shared) = &self.shared {
            match tokio::time::timeout(REDIS_TIMEOUT * 2, attempt_in_redis(shared, &subjects)).await
            {
                Ok(Ok(outcome)) => return outcome,
                Ok(Err(e)) => shared.warn(&e.to_string()),
                Err(_) => shared.warn("no answer in time"),
            }
        }
        self.local.attempt(subjects, Instant::now())
    }

    /// The attempt succeeded: it is not a failure, and the email's earlier failures are forgotten.
    pub async fn succeeded(&self, attempt: Attempt) {
        match (&attempt.counted, &self.shared) {
            (Counted::Redis(member), Some(shared)) => {
                let forgive = async {
                    let mut conn = shared.connection().await?;
                    let mut pipe = redis::pipe();
                    for subject in &attempt.subjects {
                        match subject {
                            Subject::Email { .. } => pipe.del(subject.redis_key()),
                            Subject::Ip(_) => pipe.zrem(subject.redis_key(), member),
                        };
                    }
                    pipe.query_async::<()>(&mut conn).await
                };
                if let Ok(Err(e)) = tokio::time::timeout(REDIS_TIMEOUT * 2, forgive).await {
                    shared.warn(&e.to_string());
                }
            }
            _ => self.local.succeeded(attempt),
        }
    }
}

async fn attempt_in_redis(
    shared: &Shared,
    subjects: &[(Subject, usize)],
) -> redis::RedisResult<Result<Attempt, u64>> {
    let mut conn = shared.connection().await?;
    let member = format!("{:016x}", rand::random::<u64>());
    static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(ATTEMPT));
    let mut script = SCRIPT.prepare_invoke();
    for (subject, _) in subjects {
        script.key(subject.redis_key());
    }
    script.arg(WINDOW.as_millis() as u64).arg(&member);
    for (_, max) in subjects {
        script.arg(*max);
    }
    let (allowed, wait_ms): (i64, i64) = script.invoke_async(&mut conn).await?;
    Ok(if allowed == 1 {
        Ok(Attempt {
            subjects: subjects.iter().map(|(s, _)| s.clone()).collect(),
            counted: Counted::Redis(member),
        })
    } else {
        Err(((wait_ms.max(1) as u64).div_ceil(1000)).max(1))
    })
}

impl Local {
    fn attempt(&self, subjects: Vec<(Subject, usize)>, now: Instant) -> Result<Attempt, u64> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_SUBJECTS {
            failures.retain(|_, times| times.back().is_some_and(|t| now - *t < WINDOW));
        }
        let mut wait = Duration::ZERO;
        for (subject, max) in &subjects {
            if let Some(times) = failures.get_mut(subject) {
                while times
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
                {
                    times.pop_front();
                }
                if times.len() >= *max {
                    // The attempt becomes possible when enough of the oldest failures have left the window.
                    let oldest_to_expire = times[times.len() - max];
                    let elapsed = now.saturating_duration_since(oldest_to_expire);
                    wait = wait.max(WINDOW.saturating_sub(elapsed));
                }
            }
        }
        if !wait.is_zero() {
            return Err((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1));
        }
        for (subject, _) in &subjects {
            failures.entry(subject.clone()).or_default().push_back(now);
        }
        Ok(Attempt {
            subjects: subjects.into_iter().map(|(s, _)| s).collect(),
            counted: Counted::Here(now),
        })
    }

    fn succeeded(&self, attempt: Attempt) {
        let Counted::Here(at) = attempt.counted else {
            return;
        };
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for subject in attempt.subjects {
            match subject {
                Subject::Email { .. } => {
                    failures.remove(&subject);
                }
                Subject::Ip(_) => {
                    if let Some(times) = failures.get_mut(&subject)
                        && let Some(i) = times.iter().rposition(|t| *t == at)
                    {
                        times.remove(i);
                    }
                }
            }
        }
    }
}

/// The 429 for a refused attempt.
pub fn too_many_attempts(retry_after: u64) -> ApiError {
    ApiError {
        retry_after: Some(retry_after),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_LOGIN_ATTEMPTS",
            format!("Too many failed login attempts; retry in {retry_after} s"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    impl Local {
        fn at(
            &self,
            site: &str,
            email: &str,
            ip: Option<IpAddr>,
            now: Instant,
        ) -> Result<Attempt, u64> {
            self.attempt(subjects(site, email, ip), now)
        }
    }

    #[test]
    fn five_failures_per_email_then_refused_until_the_window_passes() {
        let limiter = Local::default();
        let t0 = Instant::now();
        for i in 0..5 {
            let _ = limiter
                .at("site", "Jane@Example.com", IP, t0 + Duration::from_secs(i))
                .unwrap();
        }
        let wait = limiter
            .at(
                "site",
                " jane@example.COM ",
                IP,
                t0 + Duration::from_secs(10),
            )
            .err()
            .unwrap();
        assert_eq!(wait, 15 * 60 - 10);
        // another site, another email: not affected
        assert!(limiter.at("other", "jane@example.com", None, t0).is_ok());
        assert!(limiter.at("site", "john@example.com", None, t0).is_ok());
        // the oldest failure leaves the window
        assert!(
            limiter
                .at("site", "jane@example.com", IP, t0 + WINDOW)
                .is_ok()
        );
    }

    #[test]
    fn twenty_failures_per_ip_whatever_the_email() {
        let limiter = Local::default();
        let t0 = Instant::now();
        for i in 0..20 {
            let _ = limiter
                .at("site", &format!("u{i}@example.com"), IP, t0)
                .unwrap();
        }
        assert!(limiter.at("site", "new@example.com", IP, t0).is_err());
        assert!(limiter.at("site", "new@example.com", None, t0).is_ok());
    }

    #[test]
    fn ipv6_hosts_share_their_slash_64() {
        let limiter = Local::default();
        let t0 = Instant::now();
        for i in 0..20u16 {
            let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, i, i, i));
            let _ = limiter
                .at("site", &format!("u{i}@example.com"), Some(ip), t0)
                .unwrap();
        }
        let same_64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 99));
        assert!(
            limiter
                .at("site", "x@example.com", Some(same_64), t0)
                .is_err()
        );
        let other_64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert!(
            limiter
                .at("site", "x@example.com", Some(other_64), t0)
                .is_ok()
        );
    }

    #[test]
    fn success_forgives_the_attempt_and_the_emails_failures() {
        let limiter = Local::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            let _ = limiter.at("site", "jane@example.com", IP, t0).unwrap();
        }
        let ok = limiter.at("site", "jane@example.com", IP, t0).unwrap();
        limiter.succeeded(ok);
        for _ in 0..5 {
            let _ = limiter.at("site", "jane@example.com", IP, t0).unwrap();
        }
        assert!(limiter.at("site", "jane@example.com", IP, t0).is_err());
    }
}
