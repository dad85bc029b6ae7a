//! One export row → facts, for each mapping shape. Keys agree with the live parsers where the
//! same thing can arrive both ways (a Salesforce lead's creation, a task's touch; a HubSpot
//! property change at the same millisecond).

use super::mapping::{ActivityColumns, HistoryColumns, RecordColumns, Shape};
use super::{DateReader, Row, RowError};
use crate::fact::{Batch, DedupeKey, Fact, OwnerRef, PersonRef, RecordKey, Source};
use crate::salesforce::outbound::task_channel;
use crate::salesforce::SalesforceId;
use crate::wire::render_instant;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub(crate) struct Ctx<'a> {
    pub source: Source,
    pub account: &'a str,
    pub dates: DateReader,
}

impl Ctx<'_> {
    fn record(&self, row: &Row, column: &str, id: &str) -> Result<RecordKey, RowError> {
        RecordKey::new(self.source, self.account, id).map_err(|e| row.error(column, e.to_string()))
    }
    fn key(&self, record: &RecordKey, parts: &[&str]) -> DedupeKey {
        let mut all = vec![self.source.as_str(), &record.account, &record.id];
        all.extend_from_slice(parts);
        DedupeKey::from_parts(&all)
    }
}

/// Reads one row into `out`; a row either yields all its facts or one error.
pub(crate) fn read_row(shape: &Shape, ctx: &Ctx, row: &Row, out: &mut Batch) -> Result<(), RowError> {
    let mut facts = Batch::default();
    match shape {
        Shape::Records(cols) => record_row(cols, ctx, row, &mut facts)?,
        Shape::History(cols) => history_row(cols, ctx, row, &mut facts)?,
        Shape::Activities(cols) => activity_row(cols, ctx, row, &mut facts)?,
    }
    out.facts.extend(facts.facts);
    Ok(())
}

fn ms(t: DateTime<Utc>) -> String {
    t.timestamp_millis().to_string()
}

fn record_row(cols: &RecordColumns, ctx: &Ctx, row: &Row, out: &mut Batch) -> Result<(), RowError> {
    let record = ctx.record(row, &cols.id, row.required(&cols.id)?)?;
    let created = row
        .date(&cols.created, ctx.dates)?
        .ok_or_else(|| row.error(&cols.created, "empty"))?;
    let properties: BTreeMap<String, String> = cols
        .snapshot
        .iter()
        .filter_map(|s| Some((s.property.clone(), row.get(&s.column)?.to_owned())))
        .collect();
    out.push(
        ctx.key(&record, &["created"]),
        Fact::Seen {
            record: record.clone(),
            at: created,
            properties,
        },
    );
    if let Some(column) = &cols.owner {
        if let Some(name) = row.get(column) {
            let owner = if cols.owner_is_name {
                OwnerRef::by_name(ctx.source, name)
            } else {
                OwnerRef::new(ctx.source, name)
            };
            let owner = owner.map_err(|e| row.error(column, e.to_string()))?;
            let at = match &cols.owner_assigned {
                Some(c) => row.date(c, ctx.dates)?.unwrap_or(created),
                None => created,
            };
            let key = ctx.key(&record, &["owner", &ms(at), &owner.id]);
            out.push(
                key,
                Fact::Owner {
                    record: record.clone(),
                    at,
                    owner: Some(owner),
                },
            );
        }
    }
    for m in &cols.milestones {
        let Some(at) = row.date(&m.at, ctx.dates)? else {
            continue;
        };
        let value = m.value.clone().unwrap_or_else(|| render_instant(at));
        let key = ctx.key(&record, &[&m.property, &ms(at), &value]);
        out.push(
            key,
            Fact::Property {
                record: record.clone(),
                at,
                name: m.property.clone(),
                value: Some(value),
            },
        );
    }
    Ok(())
}

fn history_row(cols: &HistoryColumns, ctx: &Ctx, row: &Row, out: &mut Batch) -> Result<(), RowError> {
    let record = ctx.record(row, &cols.record, row.required(&cols.record)?)?;
    let field = row.required(&cols.field)?;
    let at = row
        .date(&cols.at, ctx.dates)?
        .ok_or_else(|| row.error(&cols.at, "empty"))?;
    let value = row.get(&cols.new_value);
    if cols.created_field.as_deref() == Some(field) {
        out.push(
            ctx.key(&record, &["created"]),
            Fact::Seen {
                record,
                at,
                properties: BTreeMap::new(),
            },
        );
        return Ok(());
    }
    if field == cols.owner_field {
        // Two rows per lookup change: the one whose NewValue is a User/Queue id is the change,
        // the one with names is its shadow and is skipped.
        let owner = match value {
            None => None,
            Some(v) if SalesforceId::parse(v).is_ok() => {
                Some(OwnerRef::new(ctx.source, v).map_err(|e| row.error(&cols.new_value, e.to_string()))?)
            }
            Some(_) => return Ok(()),
        };
        let id = owner.as_ref().map_or("", |o| o.id.as_str());
        out.push(
            ctx.key(&record, &["owner", &ms(at), id]),
            Fact::Owner { record, at, owner },
        );
        return Ok(());
    }
    if !cols.fields.is_empty() && !cols.fields.iter().any(|f| f == field) {
        return Ok(());
    }
    let key = ctx.key(&record, &[field, &ms(at), value.unwrap_or("")]);
    let value = value.map(str::to_owned);
    out.push(
        key,
        Fact::Property {
            record,
            at,
            name: field.to_owned(),
            value,
        },
    );
    Ok(())
}

fn activity_row(cols: &ActivityColumns, ctx: &Ctx, row: &Row, out: &mut Batch) -> Result<(), RowError> {
    let done = cols.done.is_empty()
        || cols
            .done
            .iter()
            .any(|r| row.get(&r.column).is_some_and(|v| r.equals == "*" || v == r.equals));
    if !done {
        return Ok(());
    }
    let id = row.required(&cols.id)?;
    let who = row.required(&cols.who)?;
    let Some((column, raw)) = row.first(&cols.at) else {
        return Err(row.error(cols.at.first().map_or("", String::as_str), "empty"));
    };
    let at = ctx.dates.read(raw).map_err(|e| row.error(column, e))?;
    let owner = match cols.owner.as_deref().and_then(|c| Some((c, row.get(c)?))) {
        Some((c, o)) => Some(OwnerRef::new(ctx.source, o).map_err(|e| row.error(c, e.to_string()))?),
        None => None,
    };
    let fact = Fact::Touch {
        who: PersonRef {
            record: Some(ctx.record(row, &cols.who, who)?),
            ..PersonRef::default()
        },
        owner,
        channel: task_channel(row.first(&cols.channel).map(|(_, v)| v)),
        outcome: row.first(&cols.outcome).map(|(_, v)| v.to_owned()),
        at,
    };
    // The same key as a live Outbound Message of this task.
    let task = ctx.record(row, &cols.id, id)?;
    out.push(ctx.key(&task, &["touch"]), fact);
    Ok(())
}
