//! History import (`confab import FILE|-`, `POST /api/admin/import`): an
//! NDJSON stream of users, conversations, members, messages and watermarks
//! from the system an app leaves (`docs/import.md`), read line by line,
//! each line validated into an [`ImportItem`] (`record`), and written in
//! batches, one store transaction each, by the store's `import`.
//!
//! Idempotent by the source's ids: a record whose row exists is skipped, so
//! a second run changes nothing and a run killed half-way is resumed by
//! running it again (every committed batch is skipped quickly). A bad line
//! is refused with its line number and reason and never stops the others.
//! Nothing is published: imported messages are history, not news.

pub mod record;

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use utoipa::ToSchema;

use crate::core::error::StoreError;
use crate::core::import::{ImportItem, ImportOutcome};
use crate::core::now_millis;
use crate::core::ports::DynStore;

/// Items per store transaction.
pub const BATCH: usize = 10_000;
/// The longest line taken (bytes); a longer one is refused.
pub const MAX_LINE: usize = 1 << 20;
/// How many refusals the summary lists (all are counted).
pub const MAX_LISTED_REFUSALS: usize = 1000;

/// A line that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Refusal {
    /// 1-based line number in the input.
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Records read (blank lines are not records).
    pub records: u64,
    /// Records that created (or changed) something.
    pub created: u64,
    /// Records whose rows were there already: nothing changed.
    pub skipped: u64,
    /// Records refused (malformed, or naming what is not there).
    pub refused: u64,
    /// The first refusals, by line.
    pub refusals: Vec<Refusal>,
    /// Conversations whose sequence numbers were put back in time order.
    pub reordered: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Wall time, milliseconds.
    pub elapsed_ms: u64,
}

impl Summary {
    fn refuse(&mut self, line: u64, reason: String) {
        self.refused += 1;
        if self.refusals.len() < MAX_LISTED_REFUSALS {
            self.refusals.push(Refusal { line, reason });
        }
    }
}

/// Reads `input` to its end and imports it into `store`; `progress` is
/// called after each batch with the summary so far.
pub async fn run<R: AsyncBufRead + Unpin>(
    store: &DynStore,
    mut input: R,
    mut progress: impl FnMut(&Summary),
) -> Result<Summary, ImportError> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut items: Vec<ImportItem> = Vec::with_capacity(BATCH);
    let mut lines: Vec<u64> = Vec::with_capacity(BATCH);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .await
            .map_err(ImportError::Read)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        summary.bytes += n as u64;
        let parsed = if buf.len() > MAX_LINE {
            Err(format!("longer than {MAX_LINE} bytes"))
        } else {
            match std::str::from_utf8(&buf) {
                Ok(text) => record::parse_line(text.trim_end_matches(['\n', '\r'])),
                Err(_) => Err("not UTF-8".to_owned()),
            }
        };
        match parsed {
            Ok(None) => continue,
            Ok(Some(item)) => {
                summary.records += 1;
                items.push(item);
                lines.push(line_no);
            }
            Err(reason) => {
                summary.records += 1;
                summary.refuse(line_no, reason);
            }
        }
        if items.len() >= BATCH {
            flush(store, &mut items, &mut lines, &mut summary).await?;
            summary.elapsed_ms = started.elapsed().as_millis() as u64;
            progress(&summary);
        }
    }
    flush(store, &mut items, &mut lines, &mut summary).await?;
    summary.reordered = store.import_finish().await?;
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    progress(&summary);
    Ok(summary)
}

async fn flush(
    store: &DynStore,
    items: &mut Vec<ImportItem>,
    lines: &mut Vec<u64>,
    summary: &mut Summary,
) -> Result<(), ImportError> {
    if items.is_empty() {
        return Ok(());
    }
    let outcomes = store.import(items, now_millis()).await?;
    for (outcome, line) in outcomes.into_iter().zip(lines.iter()) {
        match outcome {
            ImportOutcome::Created => summary.created += 1,
            ImportOutcome::Skipped => summary.skipped += 1,
            ImportOutcome::Refused(reason) => summary.refuse(*line, reason),
        }
    }
    items.clear();
    lines.clear();
    Ok(())
}

/// What stops an import (a bad record does not: it is refused).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading the input: {0}")]
    Read(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A progress line for a log: records, created, skipped, refused, rate.
pub fn progress_line(s: &Summary) -> String {
    let secs = Duration::from_millis(s.elapsed_ms.max(1)).as_secs_f64();
    format!(
        "{} records ({} created, {} skipped, {} refused), {:.1} MB, {:.0} records/s",
        s.records,
        s.created,
        s.skipped,
        s.refused,
        s.bytes as f64 / 1e6,
        s.records as f64 / secs
    )
}
