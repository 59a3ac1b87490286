//! The delivery worker: dispatches outbox events into deliveries and sends due deliveries.
//!
//! - **Dispatch.** Undispatched events are claimed with `FOR UPDATE SKIP LOCKED`; every [`Producer`] turns
//!   them into deliveries (webhook subscriptions are one producer; a dialect's notifications add another),
//!   which are queued in the transaction that marks the events dispatched. A crash before commit leaves the
//!   events undispatched for the next try; nothing is lost and nothing is queued twice.
//! - **Delivery.** Due deliveries are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so any number of
//!   processes can run workers and no attempt is sent twice. Attempts run concurrently (a hanging receiver
//!   holds one slot until its timeout, not the worker). Redirects are not followed (a redirect is a failed
//!   attempt), at most 64 KiB of an answer is read and 4 KiB kept, and targets are checked again before
//!   every attempt (DNS can change): a host name resolving to a non-public address is refused.
//! - **Wake-up.** `LISTEN shopvo_webhooks` (notified when events or deliveries commit), with polling as a
//!   fallback and a timer for the next retry.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::config::WebhookSettings;
use crate::crypto::{self, ServerKey};
use crate::domain::Result;
use crate::domain::events::{self, Event};
use crate::domain::webhooks::deliveries::{self, Claimed, Outcome, RetryPolicy, Signing};
use crate::domain::webhooks::{self, NewDelivery, target};

/// Most bytes of a response read before the connection is dropped.
const MAX_RESPONSE_READ: usize = 64 * 1024;
/// Events dispatched per transaction.
const DISPATCH_BATCH: i64 = 200;

/// Turns dispatched events into deliveries. Webhook subscriptions are one producer; a compatibility dialect
/// that sends its own notifications (Mozello's `X-Mozello-Hash`-signed calls) adds another, which only
/// formats: the queue, the worker, retries and the attempt log are shared.
pub trait Producer: Send + Sync {
    fn produce<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<Vec<NewDelivery>>>;
}

/// The native webhook subscriptions.
pub struct Subscriptions;

impl Producer for Subscriptions {
    fn produce<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<Vec<NewDelivery>>> {
        Box::pin(webhooks::deliveries_for(conn, events))
    }
}

/// Every producer of deliveries: the subscriptions and the dialects' notifications.
pub fn producers(server_key: Arc<ServerKey>) -> Vec<Box<dyn Producer>> {
    vec![
        Box::new(Subscriptions),
        Box::new(crate::compat::mozello::notifications::Notifications { server_key }),
    ]
}

/// A delivery worker. Cheap to clone; several may run in one process or many.
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    server_key: Arc<ServerKey>,
    settings: WebhookSettings,
    retry: RetryPolicy,
    client: HttpClient,
    producers: Vec<Box<dyn Producer>>,
}

/// What a [`Worker::drain`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    pub events: usize,
    pub attempts: usize,
}

impl Worker {
    pub fn new(
        pool: PgPool,
        server_key: Arc<ServerKey>,
        settings: WebhookSettings,
    ) -> anyhow::Result<Self> {
        let client = http_client(&settings)?;
        let producers = producers(Arc::clone(&server_key));
        Ok(Worker {
            inner: Arc::new(Inner {
                retry: settings.retry_policy(),
                pool,
                server_key,
                settings,
                client,
                producers,
            }),
        })
    }

    /// Dispatches every undispatched event into deliveries; returns how many events.
    pub async fn dispatch(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let mut tx = self.inner.pool.begin().await?;
            let batch = events::claim_undispatched(&mut tx, DISPATCH_BATCH).await?;
            if batch.is_empty() {
                return Ok(total);
            }
            let mut queued = Vec::new();
            for producer in &self.inner.producers {
                queued.extend(producer.produce(&mut tx, &batch).await?);
            }
            deliveries::enqueue(&mut tx, &queued).await?;
            events::mark_dispatched(&mut tx, &batch).await?;
            tx.commit().await?;
            total += batch.len();
        }
    }

    async fn claim(&self, limit: usize) -> Result<Vec<Claimed>> {
        let mut conn = self.inner.pool.acquire().await?;
        deliveries::claim(&mut conn, limit as i64, self.lease()).await
    }

    /// How long a claimed attempt is reserved for this worker: longer than any attempt can take.
    fn lease(&self) -> Duration {
        self.inner.settings.timeout * 2 + Duration::from_secs(1)
    }

    /// Runs everything that is due now: dispatches events, then sends due deliveries (concurrently) until
    /// none is due. Retries scheduled for later are left for later. For tests and one-off runs.
    pub async fn drain(&self) -> Result<DrainReport> {
        let mut report = DrainReport::default();
        loop {
            report.events += self.dispatch().await?;
            let claimed = self.claim(self.inner.settings.concurrency).await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            report.attempts += claimed.len();
            let mut set = JoinSet::new();
            for c in claimed {
                let worker = self.clone();
                set.spawn(async move { worker.attempt(c).await });
            }
            while let Some(joined) = set.join_next().await {
                if let Ok(Err(e)) = joined {
                    return Err(e);
                }
            }
        }
    }

    /// Sends one claimed delivery and records the outcome.
    pub async fn attempt(&self, claimed: Claimed) -> Result<()> {
        let outcome = self.send(&claimed).await;
        crate::metrics::delivery_attempt(if outcome.delivered {
            "delivered"
        } else {
            "failed"
        });
        if !outcome.delivered {
            tracing::info!(
                delivery = %claimed.id,
                site = %claimed.site_id,
                attempt = claimed.attempt,
                status = ?outcome.status_code,
                error = outcome.error.as_deref().unwrap_or(""),
                "webhook attempt failed"
            );
        }
        let mut tx = self.inner.pool.begin().await?;
        deliveries::record(&mut tx, &claimed, &outcome, &self.inner.retry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn send(&self, c: &Claimed) -> Outcome {
        let started = Instant::now();
        let failed = |error: String| Outcome {
            status_code: None,
            latency_ms: elapsed_ms(started),
            error: Some(error),
            response_body: None,
            delivered: false,
            retry_after: None,
        };
        if let Err(why) = target::parse(&c.url, self.inner.settings.target_policy()) {
            return failed(format!("target refused: {why}"));
        }
        let mut request = hyper::Request::post(c.url.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, USER_AGENT);
        for (name, value) in c.headers.0.iter() {
            let Some(value) = value.as_str() else {
                continue;
            };
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                (Ok(name), Ok(value)) => request = request.header(name, value),
                _ => return failed(format!("invalid header `{name}` in the delivery")),
            }
        }
        if c.signing() == Signing::Shopvo {
            let secret = c
                .secret_enc
                .as_deref()
                .and_then(|sealed| self.inner.server_key.open(sealed));
            let Some(secret) = secret else {
                return failed("the subscription's signing secret cannot be opened".into());
            };
            let t = chrono::Utc::now().timestamp();
            let signature = crypto::signature_hex(&secret, t, c.body.as_bytes());
            request = request.header(
                webhooks::HEADER_SIGNATURE,
                format!("t={t},sha256={signature}"),
            );
        }
        let request = match request.body(Full::new(Bytes::from(c.body.clone()))) {
            Ok(request) => request,
            Err(e) => return failed(format!("invalid request: {e}")),
        };
        let timeout = self.inner.settings.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let response =
            match tokio::time::timeout_at(deadline, self.inner.client.request(request)).await {
                Err(_) => return failed(format!("timed out after {}", human(timeout))),
                Ok(Err(e)) => return failed(describe(&e)),
                Ok(Ok(response)) => response,
            };
        let status = response.status();
        let retry_after = (!status.is_success())
            .then(|| retry_after(response.headers()))
            .flatten();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| l.chars().take(200).collect::<String>());
        // Read at most MAX_RESPONSE_READ bytes, keep the first KEPT_RESPONSE_BYTES; never past the deadline.
        let mut body = response.into_body();
        let mut kept: Vec<u8> = Vec::new();
        let mut read = 0usize;
        let mut body_error = None;
        while read < MAX_RESPONSE_READ {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(chunk) = frame.into_data() {
                        read += chunk.len();
                        let room = deliveries::KEPT_RESPONSE_BYTES.saturating_sub(kept.len());
                        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    }
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    body_error = Some(format!("reading the response failed: {}", describe(&e)));
                    break;
                }
                Err(_) => {
                    body_error = Some(format!("response body timed out after {}", human(timeout)));
                    break;
                }
            }
        }
        // Dropping the body mid-way closes the connection instead of reading the rest.
        drop(body);
        let response_body = (!kept.is_empty()).then(|| truncate_utf8(&kept));
        let error = if status.is_success() {
            None
        } else if status.is_redirection() {
            Some(format!(
                "HTTP {}: redirects are not followed{}",
                status.as_u16(),
                location
                    .map(|l| format!(" (Location: {l})"))
                    .unwrap_or_default()
            ))
        } else {
            Some(format!("HTTP {}", status.as_u16()).to_string())
        };
        Outcome {
            status_code: Some(status.as_u16()),
            latency_ms: elapsed_ms(started),
            error: error.or(body_error.filter(|_| !status.is_success())),
            response_body,
            delivered: status.is_success(),
            retry_after,
        }
    }

    /// Deletes finished deliveries older than the retention period; returns how many.
    pub async fn prune(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let mut conn = self.inner.pool.acquire().await?;
            let n = deliveries::prune(&mut conn, self.inner.settings.retention, 1000).await?;
            total += n;
            if n < 1000 {
                return Ok(total);
            }
        }
    }

    /// Runs until `shutdown` completes: dispatches events and sends deliveries as they become due, at most
    /// `concurrency` at once; prunes old deliveries every ten minutes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(self.inner.pool.clone(), wake.clone()));
        tokio::pin!(shutdown);
        let mut in_flight: JoinSet<()> = JoinSet::new();
        let concurrency = self.inner.settings.concurrency.max(1);
        let poll = self.inner.settings.poll_interval;
        let mut backoff = Duration::from_millis(100);
        let mut pruned_at: Option<Instant> = None;
        loop {
            if pruned_at.is_none_or(|at| at.elapsed() > Duration::from_secs(600)) {
                pruned_at = Some(Instant::now());
                if let Err(e) = self.prune().await {
                    tracing::warn!(error = %e, "webhook worker: pruning old deliveries failed");
                }
            }
            let result = self.tick(&mut in_flight, concurrency).await;
            let sleep = match result {
                Ok(next) => {
                    backoff = Duration::from_millis(100);
                    next.map_or(poll, |d| d.min(poll))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook worker: database error; retrying");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    backoff
                }
            };
            tokio::select! {
                _ = &mut shutdown => break,
                _ = wake.notified() => {}
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
        listener.abort();
        // Attempts in flight finish and are recorded (each is bounded by the delivery timeout); one that
        // still hangs after that is abandoned to its lease, which another worker retries when it expires.
        let grace = self.inner.settings.timeout + Duration::from_secs(5);
        let finished = tokio::time::timeout(grace, async {
            while in_flight.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!("webhook worker: attempts still in flight at shutdown were abandoned");
        }
        in_flight.abort_all();
    }

    /// One round: dispatch, then claim what fits in the free slots. Returns how long until something is
    /// due (when known).
    async fn tick(
        &self,
        in_flight: &mut JoinSet<()>,
        concurrency: usize,
    ) -> Result<Option<Duration>> {
        self.dispatch().await?;
        while in_flight.try_join_next().is_some() {}
        let free = concurrency.saturating_sub(in_flight.len());
        if free > 0 {
            for c in self.claim(free).await? {
                let worker = self.clone();
                in_flight.spawn(async move {
                    let id = c.id.clone();
                    if let Err(e) = worker.attempt(c).await {
                        tracing::warn!(delivery = %id, error = %e, "webhook attempt could not be recorded");
                    }
                });
            }
        }
        if in_flight.len() >= concurrency {
            // Full: the next wake-up is a finished attempt (or the poll).
            return Ok(None);
        }
        let mut conn = self.inner.pool.acquire().await?;
        let next = deliveries::next_due(&mut conn).await?;
        Ok(next.map(|at| {
            (at - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_millis(10))
        }))
    }
}

/// Forwards notifications on the wake-up channel (reconnecting after errors; polling covers the gaps).
async fn listen(pool: PgPool, wake: Arc<Notify>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(deliveries::CHANNEL).await {
                    tracing::warn!(error = %e, "webhook worker: LISTEN failed; polling");
                } else {
                    loop {
                        match listener.recv().await {
                            Ok(_) => wake.notify_one(),
                            // The pool closes when the server shuts down: nothing was lost.
                            Err(_) if pool.is_closed() => return,
                            Err(e) => {
                                tracing::warn!(error = %e, "webhook worker: notifications lost; polling");
                                break;
                            }
                        }
                    }
                }
            }
            Err(_) if pool.is_closed() => return,
            Err(e) => tracing::warn!(error = %e, "webhook worker: cannot LISTEN; polling"),
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>;

const USER_AGENT: &str = concat!("Shopvo-Webhooks/", env!("CARGO_PKG_VERSION"));

/// An HTTP/1.1 client over plain TCP or rustls (ring, the system's CA certificates). It follows no redirects
/// and resolves names through [`GuardedResolver`].
fn http_client(settings: &WebhookSettings) -> anyhow::Result<HttpClient> {
    let mut http = HttpConnector::new_with_resolver(GuardedResolver {
        allow_private: settings.allow_private,
    });
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(settings.timeout.min(Duration::from_secs(5))));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
    {
        Ok(builder) => builder,
        Err(e) => {
            tracing::warn!(error = %e, "no CA certificates found: https webhook targets will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    let https = tls.https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(4)
        .build(https))
}

/// Resolves host names; unless private targets are allowed, only to public addresses (loopback, private,
/// link-local, metadata … are dropped, and a name with no public address fails). This is where a host
/// name is checked at delivery time, on the addresses actually connected to; IP-literal URLs are checked
/// before sending.
#[derive(Clone)]
struct GuardedResolver {
    allow_private: bool,
}

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = BoxFuture<'static, std::io::Result<Self::Response>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || target::forbidden_reason(a.ip()).is_none())
                .collect();
            if addrs.is_empty() {
                return Err(std::io::Error::other(format!(
                    "target refused: `{host}` resolves to no public address"
                )));
            }
            Ok(addrs.into_iter())
        })
    }
}

/// A `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// An error and its causes.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The first bytes as text (lossily), within the kept size.
fn truncate_utf8(bytes: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(bytes).into_owned();
    let mut end = text.len().min(deliveries::KEPT_RESPONSE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn elapsed_ms(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}

fn human(d: Duration) -> String {
    deliveries::human_duration(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_guarded_resolver_drops_non_public_addresses() {
        let name = || "localhost".parse::<Name>().unwrap();
        let mut strict = GuardedResolver {
            allow_private: false,
        };
        let err = tower::Service::call(&mut strict, name()).await.unwrap_err();
        assert!(err.to_string().contains("no public address"), "{err}");
        let mut open = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<SocketAddr> = tower::Service::call(&mut open, name())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().any(|a| a.ip().is_loopback()));
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let d = retry_after(&headers).unwrap();
        assert!(
            d > Duration::from_secs(80) && d <= Duration::from_secs(90),
            "{d:?}"
        );
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn kept_bodies_are_valid_utf8_within_the_limit() {
        let text = "é".repeat(3000);
        let kept = truncate_utf8(&text.as_bytes()[..deliveries::KEPT_RESPONSE_BYTES]);
        assert!(kept.len() <= deliveries::KEPT_RESPONSE_BYTES);
        assert!(kept.chars().all(|c| c == 'é'));
        assert_eq!(truncate_utf8(&[0xff, b'a']), "\u{fffd}a");
    }
}
