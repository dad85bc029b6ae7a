//! Export readers for the history import: a CSV file and a [`Mapping`] in, facts out. Pure:
//! the input is any `Read`, nothing is fetched. A bad row is reported with its line, column
//! and reason and the rest of the file is still read; only a file whose header lacks a mapped
//! column is refused as a whole.
//!
//! Shipped mappings (in `crates/crm/mappings/`): [`HUBSPOT_CONTACTS`], [`SALESFORCE_LEAD`],
//! [`SALESFORCE_LEAD_HISTORY`], [`SALESFORCE_TASK`].

mod dates;
mod mapping;
mod shapes;

pub use dates::DateReader;
pub use mapping::{
    ActivityColumns, DoneRule, HistoryColumns, Mapping, MappingError, MappingSource, Milestone, RecordColumns,
    SnapshotColumn,
};

use crate::fact::Batch;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::io::Read;

pub const HUBSPOT_CONTACTS: &str = include_str!("../../mappings/hubspot-contacts.toml");
pub const SALESFORCE_LEAD: &str = include_str!("../../mappings/salesforce-lead.toml");
pub const SALESFORCE_LEAD_HISTORY: &str = include_str!("../../mappings/salesforce-leadhistory.toml");
pub const SALESFORCE_TASK: &str = include_str!("../../mappings/salesforce-task.toml");

/// What the uploader tells about the file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The HubSpot portal id or Salesforce organization id the export came from.
    pub account: String,
    /// How to read times written without an offset.
    pub dates: DateReader,
}

/// One bad row: `line` is the file's line number (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column:?}: {reason}")]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub reason: String,
}

/// The facts of every good row, and an error for every bad one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Import {
    pub facts: Batch,
    pub errors: Vec<RowError>,
    pub rows: usize,
}

/// Reads a whole export with `mapping`.
pub fn import<R: Read>(mapping: &Mapping, opts: &ImportOptions, input: R) -> Result<Import, MappingError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| MappingError::Toml(format!("unreadable CSV header: {e}")))?;
    let columns = Columns::new(header);
    let missing: Vec<String> = mapping
        .columns()
        .into_iter()
        .filter(|c| !columns.has(c))
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        return Err(MappingError::MissingColumns {
            mapping: mapping.name.clone(),
            missing,
        });
    }
    let shape = mapping.shape()?;
    let ctx = shapes::Ctx {
        source: mapping.source.source(),
        account: &opts.account,
        dates: opts.dates,
    };
    let mut out = Import::default();
    for result in reader.records() {
        out.rows += 1;
        let line = out.rows as u64 + 1;
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                out.errors.push(RowError {
                    line,
                    column: String::new(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let row = Row {
            record: &record,
            columns: &columns,
            line: record.position().map_or(line, csv::Position::line),
        };
        if let Err(e) = shapes::read_row(&shape, &ctx, &row, &mut out.facts) {
            out.errors.push(e);
        }
    }
    out.facts = out.facts.sorted();
    Ok(out)
}

/// Header name → position. Names match ignoring case: Data Loader writes `CREATEDDATE` for the
/// API name `CreatedDate`.
struct Columns(HashMap<String, usize>);

fn column_key(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_lowercase()
}

impl Columns {
    fn new(header: &csv::StringRecord) -> Self {
        Columns(header.iter().enumerate().map(|(i, h)| (column_key(h), i)).collect())
    }
    fn has(&self, name: &str) -> bool {
        self.0.contains_key(&column_key(name))
    }
}

/// One data row, read through the header.
pub(crate) struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a Columns,
    line: u64,
}

impl Row<'_> {
    /// The trimmed value; `None` when empty.
    pub(crate) fn get(&self, column: &str) -> Option<&str> {
        let i = *self.columns.0.get(&column_key(column))?;
        self.record.get(i).map(str::trim).filter(|v| !v.is_empty())
    }
    pub(crate) fn error(&self, column: &str, reason: impl Into<String>) -> RowError {
        RowError {
            line: self.line,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }
    pub(crate) fn required(&self, column: &str) -> Result<&str, RowError> {
        self.get(column).ok_or_else(|| self.error(column, "empty"))
    }
    pub(crate) fn date(&self, column: &str, dates: DateReader) -> Result<Option<DateTime<Utc>>, RowError> {
        self.get(column)
            .map(|v| dates.read(v).map_err(|e| self.error(column, e)))
            .transpose()
    }
    /// The first non-empty of `columns`.
    pub(crate) fn first<'c>(&self, columns: &'c [String]) -> Option<(&'c str, &str)> {
        columns.iter().find_map(|c| Some((c.as_str(), self.get(c)?)))
    }
}
