//! Checkout throughput: how many orders per second `complete` places with BUYERS concurrent buyers.
//!
//! Run it through `benches/checkout.sh`, which starts a server on a private cluster, seeds the catalog and
//! sets the environment. By hand, against a running server:
//!
//!   BASE_URL=http://127.0.0.1:8080 SITE_ID=site_… API_KEY=sk_test_… PRODUCT_IDS_FILE=ids.txt \
//!     cargo bench --bench checkout
//!
//! Environment:
//!   BASE_URL, SITE_ID      the server and the site
//!   API_KEY                an `sk_test_` admin key (the `test` payment method needs a test key)
//!   PRODUCT_IDS_FILE       one product id per line (active products with stock on their default variant)
//!   BUYERS=16              concurrent buyers, in both phases
//!   SESSIONS=4000          checkout sessions to prepare and complete
//!   SHIPPING_METHOD=bench  code of the shipping method to use (created, serving LV, when missing)
//!   PROMO_CODE             apply this promotion code to every cart (one more request per session), to
//!                          measure buyers sharing one promotion row
//!   BALANCES=1             every buyer is a customer who pays part with a gift card of its own and part with
//!                          store credit (GIFT_CARD and STORE_CREDIT minor units, default 500 each), issued
//!                          during setup: `complete` then also spends both balances in the order's transaction
//!   SEED                   random seed for the cart contents (default: from the clock)
//!   BEFORE_COMPLETE, AFTER_COMPLETE   shell commands run right before / after phase 2 (for profiling, e.g.
//!                          `psql … -c "select pg_stat_statements_reset()"`); not timed
//!
//! Phase 1 (setup) prepares SESSIONS sessions with BUYERS workers: create a cart, add 1–3 distinct random
//! products (quantity 1), start checkout, then contact → shipping (LV) → payment (`test`) → review. Its rate
//! is reported as the full-flow figure (everything but `complete`).
//! Phase 2 (the headline) has BUYERS workers fire `complete` for the prepared sessions until none are left:
//! orders per second, p50/p99 latency of `complete`, and errors by status.
//!
//! Without the environment (plain `cargo bench`, `cargo test --benches`) it prints one line and exits 0.
//! The last line of a run is machine-readable (`RESULT key=value …`), for the script.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

struct Config {
    base: String,
    api: String,
    key: String,
    products: Vec<String>,
    buyers: usize,
    sessions: usize,
    shipping_method: String,
    promo_code: Option<String>,
    /// Gift card and store credit amounts each order pays with (BALANCES=1).
    balances: Option<(i64, i64)>,
    seed: u64,
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("checkout bench: {name} must be a number, got {v:?}");
            std::process::exit(2)
        }),
        _ => default,
    }
}

/// `None` when the bench should be skipped (with the reason printed).
fn config() -> Option<Config> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (Some(base), Some(site), Some(key), Some(file)) = (
        var("BASE_URL"),
        var("SITE_ID"),
        var("API_KEY"),
        var("PRODUCT_IDS_FILE"),
    ) else {
        println!(
            "checkout bench skipped: set BASE_URL, SITE_ID, API_KEY and PRODUCT_IDS_FILE (benches/checkout.sh does)"
        );
        return None;
    };
    // `cargo bench` passes --bench; `cargo test --benches` does not, and should not fire thousands of orders.
    if !std::env::args().any(|a| a == "--bench") {
        println!("checkout bench skipped: not run by `cargo bench`");
        return None;
    }
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        eprintln!("checkout bench: reading {file}: {e}");
        std::process::exit(2)
    });
    let products: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if products.len() < 3 {
        eprintln!(
            "checkout bench: {file} holds {} product ids, need at least 3",
            products.len()
        );
        std::process::exit(2);
    }
    let base = base.trim_end_matches('/').to_string();
    let seed = var("SEED").and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    Some(Config {
        api: format!("{base}/api/v1/{site}"),
        base,
        key,
        products,
        buyers: env_usize("BUYERS", 16).max(1),
        sessions: env_usize("SESSIONS", 4000).max(1),
        shipping_method: var("SHIPPING_METHOD").unwrap_or_else(|| "bench".into()),
        promo_code: var("PROMO_CODE"),
        balances: (var("BALANCES").as_deref() == Some("1")).then(|| {
            (
                env_usize("GIFT_CARD", 500) as i64,
                env_usize("STORE_CREDIT", 500) as i64,
            )
        }),
        seed,
    })
}

/// splitmix64: enough randomness to pick products, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

enum Failure {
    /// The server answered with this status (and body).
    Status(StatusCode, String),
    /// The request did not get an answer, or the answer was not what a success looks like.
    Transport(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Status(s, body) => write!(f, "HTTP {s}: {body}"),
            Failure::Transport(e) => write!(f, "{e}"),
        }
    }
}

impl Failure {
    fn label(&self) -> String {
        match self {
            Failure::Status(s, _) => s.as_u16().to_string(),
            Failure::Transport(_) => "transport".into(),
        }
    }
}

struct Api {
    client: Client,
    cfg: Arc<Config>,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.cfg.api))
            .bearer_auth(&self.cfg.key);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        if !status.is_success() {
            return Err(Failure::Status(
                status,
                String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| Failure::Transport(format!("bad JSON: {e}")))
    }

    fn data_str(v: &Value, field: &str) -> Result<String, Failure> {
        v["data"][field]
            .as_str()
            .map(String::from)
            .ok_or_else(|| Failure::Transport(format!("no data.{field} in {v}")))
    }

    /// Creates one cart and drives its checkout to `review`: returns the session id, the units in the cart,
    /// and how many requests that took.
    async fn prepare(
        &self,
        rng: &mut Rng,
        currency: &str,
        n: usize,
    ) -> (Result<(String, u64), Failure>, u32) {
        let mut requests = 0u32;
        let result = async {
            requests += 1;
            let cart = self
                .call(
                    Method::POST,
                    "/cart",
                    Some(&json!({"sessionId": format!("bench_{n}"), "currency": currency})),
                )
                .await?;
            let cart_id = Self::data_str(&cart, "id")?;
            let lines = 1 + rng.below(3);
            let mut picked: Vec<usize> = Vec::with_capacity(lines);
            while picked.len() < lines {
                let i = rng.below(self.cfg.products.len());
                if !picked.contains(&i) {
                    picked.push(i);
                }
            }
            for i in &picked {
                requests += 1;
                self.call(
                    Method::PATCH,
                    &format!("/cart?cartId={cart_id}"),
                    Some(&json!({"action": "add", "item": {"productId": self.cfg.products[*i], "quantity": 1}})),
                )
                .await?;
            }
            if let Some(code) = &self.cfg.promo_code {
                requests += 1;
                self.call(
                    Method::PATCH,
                    &format!("/cart?cartId={cart_id}"),
                    Some(&json!({"action": "applyPromotion", "code": code})),
                )
                .await?;
            }
            requests += 1;
            let session = self
                .call(Method::POST, "/checkout", Some(&json!({"cartId": cart_id})))
                .await?;
            let sid = Self::data_str(&session, "id")?;
            let email = format!("buyer{n}@example.com");
            let mut contact = json!({"sessionId": sid, "state": "contact", "email": email});
            let mut payment = json!({"sessionId": sid, "state": "payment", "paymentMethod": "test"});
            if let Some((gift_card, store_credit)) = self.cfg.balances {
                // The buyer's own customer, store credit and gift card.
                requests += 3;
                let customer = self
                    .call(Method::POST, "/customers", Some(&json!({"email": email})))
                    .await?;
                let customer_id = Self::data_str(&customer, "id")?;
                self.call(
                    Method::POST,
                    &format!("/store-credit/{customer_id}"),
                    Some(&json!({"type": "CREDIT", "amount": store_credit})),
                )
                .await?;
                let card = self
                    .call(
                        Method::POST,
                        "/gift-cards",
                        Some(&json!({"initialBalance": gift_card, "customerId": customer_id})),
                    )
                    .await?;
                contact["customerId"] = json!(customer_id);
                payment["giftCardCodes"] = json!([Self::data_str(&card, "code")?]);
                payment["storeCreditAmount"] = json!(store_credit);
            }
            let steps = [
                contact,
                json!({"sessionId": sid, "state": "shipping", "shippingMethodId": self.cfg.shipping_method,
                       "shippingAddress": {"firstName": "Bench", "lastName": "Buyer", "line1": "Brivibas iela 1",
                                           "city": "Riga", "postalCode": "LV-1010", "country": "LV"}}),
                payment,
                json!({"sessionId": sid, "state": "review"}),
            ];
            for step in &steps {
                requests += 1;
                self.call(Method::PATCH, "/checkout", Some(step)).await?;
            }
            Ok((sid, picked.len() as u64))
        }
        .await;
        (result, requests)
    }

    /// Fires `complete`: Ok(units in the order) when the order was placed.
    async fn complete(&self, sid: &str) -> Result<u64, Failure> {
        let v = self
            .call(
                Method::PATCH,
                "/checkout",
                Some(&json!({"sessionId": sid, "state": "complete"})),
            )
            .await?;
        let order = &v["data"]["order"];
        if v["data"]["state"] != "complete" || !order["number"].is_string() {
            return Err(Failure::Transport(format!(
                "complete answered without an order: {v}"
            )));
        }
        Ok(order["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i["quantity"].as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0))
    }

    /// Makes sure the shipping method and the LV tax rate exist (a 409 means they already do).
    async fn ensure_setup(&self) -> Result<(), Failure> {
        let method = json!({"name": "Bench standard", "code": self.cfg.shipping_method, "price": 499,
                            "freeAbove": 10000, "countries": ["LV"]});
        let rate = json!({"country": "LV", "percentage": 21});
        for (path, body) in [("/shipping-methods", method), ("/tax-rates", rate)] {
            match self.call(Method::POST, path, Some(&body)).await {
                Ok(_) | Err(Failure::Status(StatusCode::CONFLICT, _)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Runs the shell command in the environment variable `name`, if set (profiling: reset or sample statistics
/// right around phase 2).
fn run_hook(name: &str) {
    let Some(cmd) = std::env::var(name).ok().filter(|c| !c.trim().is_empty()) else {
        return;
    };
    match std::process::Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .status()
    {
        Ok(s) if s.success() => {}
        other => eprintln!("checkout bench: {name} hook `{cmd}` failed: {other:?}"),
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn format_errors(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        return "none".into();
    }
    errors
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Default)]
struct WorkerReport {
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
    samples: Vec<String>,
    ok: u64,
    units: u64,
    requests: u64,
    prepared: Vec<(String, u64)>,
}

impl WorkerReport {
    fn fail(&mut self, f: Failure) {
        *self.errors.entry(f.label()).or_default() += 1;
        if self.samples.len() < 3 {
            self.samples.push(f.to_string());
        }
    }

    fn merge(&mut self, other: WorkerReport) {
        self.latencies_us.extend(other.latencies_us);
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for s in other.samples {
            if self.samples.len() < 5 {
                self.samples.push(s);
            }
        }
        self.ok += other.ok;
        self.units += other.units;
        self.requests += other.requests;
        self.prepared.extend(other.prepared);
    }
}

#[tokio::main]
async fn main() {
    let Some(cfg) = config() else { return };
    let cfg = Arc::new(cfg);
    let client = Client::builder()
        .pool_max_idle_per_host(cfg.buyers * 2)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    let api = Arc::new(Api {
        client,
        cfg: cfg.clone(),
    });

    if let Err(e) = api.ensure_setup().await {
        eprintln!("checkout bench: creating the shipping method / tax rate failed: {e}");
        std::process::exit(1);
    }
    let site = api
        .call(Method::GET, "/site", None)
        .await
        .unwrap_or_else(|e| {
            eprintln!("checkout bench: GET {}/site failed: {e}", cfg.base);
            std::process::exit(1)
        });
    let currency = site["data"]["currency"]
        .as_str()
        .unwrap_or("EUR")
        .to_string();

    println!(
        "checkout bench: {} buyers, {} sessions, {} products, seed {}{}",
        cfg.buyers,
        cfg.sessions,
        cfg.products.len(),
        cfg.seed,
        cfg.promo_code
            .as_deref()
            .map(|c| format!(", promotion {c} on every cart"))
            .unwrap_or_default()
    );

    // Phase 1: prepare sessions up to `review`.
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..cfg.buyers {
        let (api, next, currency) = (api.clone(), next.clone(), currency.clone());
        let mut rng = Rng(cfg.seed ^ ((w as u64 + 1) * 0x2545_F491_4F6C_DD1D));
        tasks.push(tokio::spawn(async move {
            let mut r = WorkerReport::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= api.cfg.sessions {
                    break;
                }
                let t = Instant::now();
                let (result, requests) = api.prepare(&mut rng, &currency, n).await;
                r.requests += u64::from(requests);
                match result {
                    Ok(p) => {
                        r.latencies_us.push(t.elapsed().as_micros() as u64);
                        r.ok += 1;
                        r.units += p.1;
                        r.prepared.push(p);
                    }
                    Err(f) => r.fail(f),
                }
            }
            r
        }));
    }
    let mut setup = WorkerReport::default();
    for t in tasks {
        setup.merge(t.await.expect("a setup worker"));
    }
    let setup_secs = started.elapsed().as_secs_f64();
    setup.latencies_us.sort_unstable();
    let setup_rate = setup.ok as f64 / setup_secs;
    let setup_rps = setup.requests as f64 / setup_secs;
    let requests_per_session = if setup.ok + setup.errors.values().sum::<u64>() > 0 {
        setup.requests as f64 / (setup.ok + setup.errors.values().sum::<u64>()) as f64
    } else {
        0.0
    };
    println!(
        "phase 1 (cart → review): {} sessions in {:.2} s = {:.1} sessions/s ({:.0} requests/s, {:.2} requests per session); \
         per session p50 {:.1} ms p99 {:.1} ms; errors {}",
        setup.ok,
        setup_secs,
        setup_rate,
        setup_rps,
        requests_per_session,
        percentile(&setup.latencies_us, 50.0),
        percentile(&setup.latencies_us, 99.0),
        format_errors(&setup.errors)
    );
    for s in &setup.samples {
        println!("  setup error: {s}");
    }
    if setup.prepared.is_empty() {
        eprintln!("checkout bench: no session was prepared");
        std::process::exit(1);
    }

    // Phase 2: complete them all, BUYERS at a time.
    run_hook("BEFORE_COMPLETE");
    let prepared = Arc::new(std::mem::take(&mut setup.prepared));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..cfg.buyers {
        let (api, next, prepared) = (api.clone(), next.clone(), prepared.clone());
        tasks.push(tokio::spawn(async move {
            let mut r = WorkerReport::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some((sid, _)) = prepared.get(n) else {
                    break;
                };
                let t = Instant::now();
                let result = api.complete(sid).await;
                r.latencies_us.push(t.elapsed().as_micros() as u64);
                r.requests += 1;
                match result {
                    Ok(units) => {
                        r.ok += 1;
                        r.units += units;
                    }
                    Err(f) => r.fail(f),
                }
            }
            r
        }));
    }
    let mut done = WorkerReport::default();
    for t in tasks {
        done.merge(t.await.expect("a complete worker"));
    }
    let secs = started.elapsed().as_secs_f64();
    run_hook("AFTER_COMPLETE");
    done.latencies_us.sort_unstable();
    let orders_per_s = done.ok as f64 / secs;
    let (p50, p99) = (
        percentile(&done.latencies_us, 50.0),
        percentile(&done.latencies_us, 99.0),
    );
    println!(
        "phase 2 (complete): {} orders ({} units) in {:.2} s = {:.1} orders/s; complete p50 {:.2} ms p99 {:.2} ms; errors {}",
        done.ok,
        done.units,
        secs,
        orders_per_s,
        p50,
        p99,
        format_errors(&done.errors)
    );
    for s in &done.samples {
        println!("  complete error: {s}");
    }
    println!(
        "RESULT orders={} units={} complete_secs={:.3} orders_per_s={:.1} p50_ms={:.2} p99_ms={:.2} errors={} \
         prepared={} prepare_secs={:.3} sessions_per_s={:.1} prepare_rps={:.1} requests_per_session={:.2} prepare_errors={}",
        done.ok,
        done.units,
        secs,
        orders_per_s,
        p50,
        p99,
        format_errors(&done.errors),
        setup.ok,
        setup_secs,
        setup_rate,
        setup_rps,
        requests_per_session,
        format_errors(&setup.errors)
    );
}
