//! The CRM and sales-tool webhooks as received, for replay:
//!
//! | item | PK | SK |
//! |---|---|---|
//! | a hook, in parts of at most 300 KB (a Salesforce message may weigh 1 MiB; an item 400 KB) | `RAWHOOK#<UTC day>` | `<received_at>#<id>#<part>` |
//! | what it names (a lead, an address), for erasure | `RAWKEY#lead:<id>` / `RAWKEY#email:<address>` | `<received_at>#<id>` |
//! | the days that hold hooks, for the retention pass | `RAWHOOKS` | `DAYS` (a string set) |
//!
//! No item grows with the number of hooks but the day set, which the retention pass keeps to
//! the retention's days.

use super::{n, s, DynamoStore, Item};
use crate::error::port_err;
use crate::retry::with_retries;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use leadclock_app::error::PortError;
use leadclock_app::ports::RawHooks;
use leadclock_app::raw_hooks::{RawHook, RawHookCursor};
use leadclock_domain::LeadId;
use std::collections::BTreeMap;

/// The most of a hook's JSON one item holds.
const PART_BYTES: usize = 300 * 1024;
const DAYS_PK: &str = "RAWHOOKS";
const DAYS_SK: &str = "DAYS";

fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

fn day_pk(day: NaiveDate) -> String {
    format!("RAWHOOK#{day}")
}

/// `<received_at>#<id>`: fixed-width instants, so the key sorts by time.
fn hook_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn key_pk(key: &str) -> String {
    format!("RAWKEY#{key}")
}

/// What a hook names, as `RAWKEY#` keys.
fn keys(hook: &RawHook) -> Vec<String> {
    let leads = hook.leads().into_iter().map(|l| format!("lead:{l}"));
    leads.chain(hook.emails.iter().map(|e| format!("email:{e}"))).collect()
}

/// `text` in pieces of at most `max` bytes, cut on character boundaries.
fn parts(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

/// The hooks a day partition's items make, in key order: parts joined, a hook whose parts are
/// not all there yet (a write in progress) left out.
fn hooks_of(items: &[Item]) -> Result<Vec<RawHook>, PortError> {
    let mut by_hook: BTreeMap<String, (usize, BTreeMap<usize, String>)> = BTreeMap::new();
    for item in items {
        let attr = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        let (Some(key), Some(body)) = (attr("hook"), attr("body")) else {
            continue;
        };
        let part = attr("part").and_then(|p| p.parse().ok()).unwrap_or(0);
        let total = attr("parts").and_then(|p| p.parse().ok()).unwrap_or(1);
        let e = by_hook.entry(key).or_insert((total, BTreeMap::new()));
        e.1.insert(part, body);
    }
    let mut out = Vec::new();
    for (_, (total, parts)) in by_hook {
        if parts.len() != total {
            continue;
        }
        let json: String = parts.into_values().collect();
        out.push(serde_json::from_str(&json).map_err(|e| PortError::permanent("decode raw hook", e))?);
    }
    Ok(out)
}

impl DynamoStore {
    async fn put_item(&self, op: &'static str, item: Item) -> Result<(), PortError> {
        with_retries(op, || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| port_err(op, e))
    }

    async fn delete_item(&self, op: &'static str, pk: String, sk: String) -> Result<(), PortError> {
        with_retries(op, || {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("PK", s(pk.clone()))
                .key("SK", s(sk.clone()))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| port_err(op, e))
    }

    /// Items of `pk` whose SK lies in `[lo, hi]`, read strongly consistent.
    /// Items of `pk` whose sort key is in `[lo, hi]`; an empty `lo` is "from the first".
    async fn between(&self, op: &'static str, pk: String, lo: String, hi: String) -> Result<Vec<Item>, PortError> {
        // DynamoDB refuses an empty key value: " " sorts below every sort key written here.
        let lo = if lo.is_empty() { " ".to_owned() } else { lo };
        self.query_all(op, || {
            self.client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":lo", s(lo.clone()))
                .expression_attribute_values(":hi", s(hi.clone()))
        })
        .await
    }

    /// The days that hold hooks, oldest first.
    async fn hook_days(&self) -> Result<Vec<NaiveDate>, PortError> {
        let resp = with_retries("read raw hook days", || {
            self.client
                .get_item()
                .table_name(&self.table)
                .consistent_read(true)
                .key("PK", s(DAYS_PK))
                .key("SK", s(DAYS_SK))
                .send()
        })
        .await
        .map_err(|e| port_err("read raw hook days", e))?;
        let mut days: Vec<NaiveDate> = resp
            .item()
            .and_then(|i| i.get("days"))
            .and_then(|v| v.as_ss().ok())
            .map(|ss| ss.iter().filter_map(|d| d.parse().ok()).collect())
            .unwrap_or_default();
        days.sort();
        Ok(days)
    }

    async fn change_days(&self, action: &str, day: NaiveDate) -> Result<(), PortError> {
        let op = "record raw hook day";
        let expr = format!("{action} days :d");
        with_retries(op, || {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("PK", s(DAYS_PK))
                .key("SK", s(DAYS_SK))
                .update_expression(&expr)
                .expression_attribute_values(":d", AttributeValue::Ss(vec![day.to_string()]))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| port_err(op, e))
    }

    /// Deletes one hook: its name items first (an erasure retried finds the hook again by the
    /// ones left), then its parts.
    async fn delete_hook(&self, hook: &RawHook) -> Result<(), PortError> {
        let key = hook_key(hook.received_at, &hook.id);
        for k in keys(hook) {
            self.delete_item("forget raw hook", key_pk(&k), key.clone()).await?;
        }
        let pk = day_pk(day_of(hook.received_at));
        for item in self
            .between("forget raw hook", pk.clone(), format!("{key}#"), format!("{key}#~"))
            .await?
        {
            if let Some(sk) = item.get("SK").and_then(|v| v.as_s().ok()) {
                self.delete_item("forget raw hook", pk.clone(), sk.clone()).await?;
            }
        }
        Ok(())
    }

    /// The hook stored under `key` (`<received_at>#<id>`) of `day`, if whole.
    async fn hook_at(&self, day: NaiveDate, key: &str) -> Result<Option<RawHook>, PortError> {
        let items = self
            .between("read raw hook", day_pk(day), format!("{key}#"), format!("{key}#~"))
            .await?;
        Ok(hooks_of(&items)?.pop())
    }
}

impl RawHooks for DynamoStore {
    async fn keep_raw_hook(&self, hook: &RawHook) -> Result<(), PortError> {
        let json = serde_json::to_string(hook).map_err(|e| PortError::permanent("encode raw hook", e))?;
        let day = day_of(hook.received_at);
        self.change_days("ADD", day).await?;
        let key = hook_key(hook.received_at, &hook.id);
        // A replay rewrites a hook with what it derives now: the names it no longer makes go.
        if let Some(before) = self.hook_at(day, &key).await? {
            for k in keys(&before).into_iter().filter(|k| !keys(hook).contains(k)) {
                self.delete_item("keep raw hook", key_pk(&k), key.clone()).await?;
            }
        }
        for k in keys(hook) {
            let mut item = Item::new();
            item.insert("PK".into(), s(key_pk(&k)));
            item.insert("SK".into(), s(key.clone()));
            item.insert("day".into(), s(day.to_string()));
            self.put_item("keep raw hook", item).await?;
        }
        let pieces = parts(&json, PART_BYTES);
        for (i, piece) in pieces.iter().enumerate() {
            let mut item = Item::new();
            item.insert("PK".into(), s(day_pk(day)));
            item.insert("SK".into(), s(format!("{key}#{i:03}")));
            item.insert("hook".into(), s(key.clone()));
            item.insert("part".into(), s(i.to_string()));
            item.insert("parts".into(), s(pieces.len().to_string()));
            item.insert("received_at".into(), n(hook.received_at.timestamp_millis()));
            item.insert("body".into(), s(*piece));
            self.put_item("keep raw hook", item).await?;
        }
        Ok(())
    }

    async fn raw_hooks_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&RawHookCursor>,
        limit: usize,
    ) -> Result<Vec<RawHook>, PortError> {
        let start = after.map_or(from, |a| a.received_at.max(from));
        let mut out = Vec::new();
        for day in self.hook_days().await? {
            if day < day_of(start) || day > day_of(to) {
                continue;
            }
            let lo = hook_key(from, "");
            let lo = match after {
                // Past every part of the cursor's hook.
                Some(a) => hook_key(a.received_at, &a.id).max(lo.clone()) + "#~",
                None => lo,
            };
            let items = self
                .between("read raw hooks", day_pk(day), lo, hook_key(to, ""))
                .await?;
            out.extend(
                hooks_of(&items)?
                    .into_iter()
                    .filter(|h| from <= h.received_at && h.received_at < to)
                    .filter(|h| after.is_none_or(|a| &h.cursor() > a)),
            );
            if out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    async fn forget_raw_hooks(&self, leads: &[LeadId], emails: &[String]) -> Result<u64, PortError> {
        let wanted = leads
            .iter()
            .map(|l| format!("lead:{l}"))
            .chain(emails.iter().map(|e| format!("email:{}", e.to_ascii_lowercase())));
        let mut found: BTreeMap<String, NaiveDate> = BTreeMap::new();
        for k in wanted {
            let items = self
                .between("find raw hooks", key_pk(&k), String::new(), "~".into())
                .await?;
            for item in items {
                let attr = |a: &str| item.get(a).and_then(|v| v.as_s().ok()).cloned();
                if let (Some(sk), Some(day)) = (attr("SK"), attr("day").and_then(|d| d.parse().ok())) {
                    found.insert(sk, day);
                }
            }
        }
        let mut deleted = 0;
        for (key, day) in found {
            if let Some(hook) = self.hook_at(day, &key).await? {
                self.delete_hook(&hook).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    async fn forget_raw_hooks_before(&self, cutoff: DateTime<Utc>) -> Result<u64, PortError> {
        let mut deleted = 0;
        for day in self.hook_days().await?.into_iter().filter(|d| *d <= day_of(cutoff)) {
            let items = self
                .between(
                    "read expired raw hooks",
                    day_pk(day),
                    String::new(),
                    hook_key(cutoff, ""),
                )
                .await?;
            for hook in hooks_of(&items)?.into_iter().filter(|h| h.received_at < cutoff) {
                self.delete_hook(&hook).await?;
                deleted += 1;
            }
            if day < day_of(cutoff) {
                self.change_days("DELETE", day).await?;
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_cut_on_character_boundaries_and_joins_back() {
        let text = "é".repeat(1000);
        let pieces = parts(&text, 301);
        assert!(pieces.iter().all(|p| p.len() <= 301));
        assert_eq!(pieces.concat(), text);
        assert!(parts("", 10).is_empty());
    }

    #[test]
    fn keys_sort_by_time() {
        let a = hook_key("2026-12-03T09:00:00Z".parse().unwrap(), "ff");
        let b = hook_key("2026-12-03T10:00:00.5Z".parse().unwrap(), "00");
        assert!(a < b, "{a} {b}");
    }
}
