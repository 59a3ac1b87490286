//! `shopvo import products` and `shopvo export products`: a catalog file in and out, in batches of
//! [`BATCH`] products, each batch one transaction. Progress goes to stderr (a bar on a terminal, a line per
//! batch otherwise); the summary to stdout.

use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use sqlx::PgPool;

use super::catalog_file::{self, Format, ReadProduct};
use crate::db;
use crate::domain::catalog::products::{self, Upserted};
use crate::domain::{Error, sites};

/// Products per transaction: large enough that a statement per table per batch is cheap per product,
/// small enough that a batch's locks and memory stay modest.
const BATCH: usize = 1000;

/// The tables an import grows, analysed each time they may have doubled (see [`db::analyze`]).
const GROWN: [&str; 5] = [
    "products",
    "variants",
    "stock_levels",
    "product_categories",
    "product_docs",
];

/// What an import did.
#[derive(Default)]
struct Summary {
    created: u64,
    updated: u64,
    /// Each refused product's first line and why.
    failed: Vec<(u64, String)>,
}

impl Summary {
    fn seen(&self) -> u64 {
        self.created + self.updated + self.failed.len() as u64
    }
}

/// Counts bytes read, for the progress bar.
struct Counted<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// Refuses a site that does not exist before any work starts.
async fn check_site(pool: &PgPool, site_id: &str) -> anyhow::Result<()> {
    match sites::get(&mut *pool.acquire().await?, site_id).await {
        Ok(_) => Ok(()),
        Err(Error::NotFound(_)) => bail!("no site with id {site_id}"),
        Err(e) => Err(e.into()),
    }
}

/// A progress bar on a terminal; hidden otherwise (plain lines are printed instead).
fn progress(length: u64, template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub async fn import(
    pool: &PgPool,
    site_id: &str,
    path: &Path,
    format: Option<Format>,
    as_json: bool,
) -> anyhow::Result<()> {
    let format = format
        .or_else(|| Format::of_path(path))
        .context("say --format csv or --format jsonl (the file's name ends in neither)")?;
    check_site(pool, site_id).await?;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress(
        size,
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
    );
    let input = BufReader::new(Counted {
        inner: file,
        bar: bar.clone(),
    });
    let mut products: Box<dyn Iterator<Item = ReadProduct>> = match format {
        Format::Jsonl => Box::new(catalog_file::read_jsonl(input)),
        Format::Csv => Box::new(catalog_file::read_csv(input).map_err(anyhow::Error::msg)?),
    };

    let mut summary = Summary::default();
    // Products the planner's statistics know of: refreshed whenever the import may have doubled them.
    let mut known = db::estimated_rows(pool, "products")
        .await?
        .max(BATCH as i64);
    loop {
        let batch: Vec<ReadProduct> = products.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            break;
        }
        if let Err(e) = import_batch(pool, site_id, batch, &mut summary).await {
            // What landed before the database went away stays: say what it was.
            bar.finish_and_clear();
            print_summary(&summary, as_json);
            return Err(
                e.context("the import stopped: the products above landed, the rest did not")
            );
        }
        if summary.created as i64 >= known {
            db::analyze(pool, &GROWN).await?;
            known = db::estimated_rows(pool, "products").await?.max(2 * known);
        }
        let line = format!(
            "{} products: {} created, {} updated, {} failed",
            summary.seen(),
            summary.created,
            summary.updated,
            summary.failed.len()
        );
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.set_message(line);
        }
    }
    bar.finish_and_clear();
    print_summary(&summary, as_json);
    if !summary.failed.is_empty() {
        bail!(
            "{} of {} products were not imported (their lines are listed above)",
            summary.failed.len(),
            summary.seen()
        );
    }
    Ok(())
}

/// One transaction: the products read well are upserted; the rest are reported by line.
async fn import_batch(
    pool: &PgPool,
    site_id: &str,
    batch: Vec<ReadProduct>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for read in batch {
        match read.item {
            Ok(item) => {
                lines.push(read.line);
                items.push(item);
            }
            Err(e) => summary.failed.push((read.line, e)),
        }
    }
    if items.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let outcomes = match products::upsert(&mut tx, site_id, items).await {
        Ok(outcomes) => outcomes,
        // A database that went away stops the import; anything else fails this batch's products only.
        Err(e) if e.is_unavailable() => return Err(e.into()),
        Err(e) => {
            let message = e.to_string();
            summary
                .failed
                .extend(lines.into_iter().map(|l| (l, message.clone())));
            return Ok(());
        }
    };
    tx.commit().await?;
    for (line, outcome) in lines.into_iter().zip(outcomes) {
        match outcome {
            Ok((Upserted::Created, _)) => summary.created += 1,
            Ok((Upserted::Updated, _)) => summary.updated += 1,
            Err(e) => summary.failed.push((line, e.to_string())),
        }
    }
    Ok(())
}

fn print_summary(summary: &Summary, as_json: bool) {
    let mut failed = summary.failed.clone();
    failed.sort_by_key(|(line, _)| *line);
    if as_json {
        let failed: Vec<_> = failed
            .iter()
            .map(|(line, error)| json!({"line": line, "error": error}))
            .collect();
        println!(
            "{}",
            json!({"created": summary.created, "updated": summary.updated, "failed": failed})
        );
        return;
    }
    println!(
        "created {}, updated {}, failed {}",
        summary.created,
        summary.updated,
        failed.len()
    );
    for (line, error) in failed {
        println!("line {line}: {error}");
    }
}

pub async fn export(
    pool: &PgPool,
    site_id: &str,
    format: Format,
    path: Option<&Path>,
) -> anyhow::Result<()> {
    check_site(pool, site_id).await?;
    let mut conn = pool.acquire().await?;
    let total: i64 = sqlx::query_scalar("select count(*) from products where site_id = $1")
        .bind(site_id)
        .fetch_one(&mut *conn)
        .await?;
    let bar = progress(
        total.max(0) as u64,
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} products",
    );
    let out: Box<dyn Write> = match path {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let out = std::io::BufWriter::new(out);
    let options = products::most_options(&mut conn, site_id).await?;
    let mut sink = match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(catalog_file::csv_header(options))?;
            Sink::Csv(Box::new(w))
        }
        Format::Jsonl => Sink::Jsonl(out),
    };
    let (mut after, mut written) = (None, 0u64);
    loop {
        let (page, next) =
            products::export_page(&mut conn, site_id, after.as_deref(), BATCH as i64).await?;
        match &mut sink {
            Sink::Csv(w) => catalog_file::write_csv(w, &page, options)?,
            Sink::Jsonl(w) => catalog_file::write_jsonl(w, &page)?,
        }
        written += page.len() as u64;
        bar.set_position(written);
        if bar.is_hidden() && path.is_some() {
            eprintln!("{written} of {total} products written");
        }
        match next {
            Some(id) => after = Some(id),
            None => break,
        }
    }
    match sink {
        Sink::Csv(mut w) => w.flush()?,
        Sink::Jsonl(mut w) => w.flush()?,
    }
    bar.finish_and_clear();
    Ok(())
}

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W),
}
