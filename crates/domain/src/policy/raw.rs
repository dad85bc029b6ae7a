//! The policy file as written: the TOML schema, before any validation.
//!
//! Every value a problem can point at is a [`Spanned`], and every table a problem can point at
//! is reached through a spanned map key, so a problem carries the real position of what it is
//! about. Tables themselves are never spanned: a table made by dotted keys (`hours.mon = [...]`)
//! has no span, and a spanned table would then fail to deserialize.

use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Byte range of a key or value in the policy source.
pub(super) type Span = Range<usize>;

/// A string value (or a map key) together with where it is written.
pub(super) type Text = Spanned<String>;

/// A table of named sub-tables, each name keeping where it is written.
pub(super) type Named<T> = BTreeMap<Text, T>;

/// An array value whose elements keep where each is written.
pub(super) type SpannedList<T> = Spanned<Vec<Spanned<T>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCalendar {
    pub timezone: Text,
    #[serde(default)]
    pub hours: Named<Vec<Text>>,
    #[serde(default)]
    pub holidays: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub name: Option<String>,
    pub at: Text,
    pub after: Option<Text>,
    pub before: Option<Text>,
    pub notify: SpannedList<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTouches {
    pub channels: Option<Spanned<Vec<String>>>,
    pub excluded_outcomes: Option<Spanned<Vec<String>>>,
}

impl RawTouches {
    /// Where the touch rules are written: their first key's value.
    pub fn span(&self) -> Option<Span> {
        earliest([
            self.channels.as_ref().map(Spanned::span),
            self.excluded_outcomes.as_ref().map(Spanned::span),
        ])
    }
}

/// The SLA of `[assignment]` or of one `[lead_types.NAME]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSla {
    pub label: Option<String>,
    pub within: Option<Text>,
    pub by: Option<Text>,
    pub clock: Option<Text>,
    pub ladder: Option<Text>,
    pub escalate: Option<SpannedList<RawStep>>,
    pub touches: Option<RawTouches>,
    /// Overrides the ladder's and `[delivery]`'s `stale_after` for this SLA.
    pub stale_after: Option<Text>,
    /// `live` or `shadow` for this lead type (lead types only).
    pub mode: Option<Text>,
    /// How long an untouched lead of this type stays open (lead types only).
    pub open_for: Option<Text>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerson {
    pub name: Option<String>,
    pub team: Option<Text>,
    pub manager: Option<String>,
    pub slack: Option<String>,
    pub email: Option<String>,
    /// The person's owner ids in the CRMs (`"hubspot:123"`, `"salesforce:005…"` or a bare id).
    #[serde(default)]
    pub crm_ids: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTeam {
    pub calendar: Option<Text>,
    pub manager: Option<String>,
    pub exec: Option<String>,
    pub mode: Option<Text>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDirectory {
    pub ops: Option<Spanned<Vec<String>>>,
    pub exec: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub manager: Vec<String>,
    #[serde(default)]
    pub people: Named<RawPerson>,
    #[serde(default)]
    pub teams: Named<RawTeam>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLadder {
    pub steps: SpannedList<RawStep>,
    pub stale_after: Option<Text>,
}

/// `[delivery]`: when a due step is delivered, recorded as missed, or only measured.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDelivery {
    pub settle: Option<Text>,
    pub stale_after: Option<Text>,
    pub mode: Option<Text>,
}

/// `[reports]`: when a figure may be banded.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReports {
    pub sales_cycle: Option<Text>,
    pub min_sample: Option<Spanned<i64>>,
}

/// `[privacy]`: how long personal data is kept.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrivacy {
    pub contact_retention: Option<Text>,
    pub raw_hooks: Option<Text>,
}

/// `[crm]`: what the CRMs' status picklists mean as stages.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCrm {
    pub hubspot_lead_status: Option<Named<Text>>,
    pub salesforce_status: Option<Named<Text>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub default_calendar: Option<Text>,
    pub reporting_timezone: Option<Text>,
    pub recycle_limit: Option<Spanned<i64>>,
    /// How long an untouched lead stays open, unless its lead type says otherwise.
    pub open_for: Option<Text>,
    #[serde(default)]
    pub calendars: Named<RawCalendar>,
    #[serde(default)]
    pub regions: Named<Text>,
    pub touches: Option<RawTouches>,
    pub assignment: Option<RawSla>,
    #[serde(default)]
    pub ladders: Named<RawLadder>,
    #[serde(default)]
    pub lead_types: Named<RawSla>,
    #[serde(default)]
    pub directory: RawDirectory,
    #[serde(default)]
    pub delivery: RawDelivery,
    #[serde(default)]
    pub privacy: RawPrivacy,
    #[serde(default)]
    pub reports: RawReports,
    #[serde(default)]
    pub crm: RawCrm,
    #[serde(default)]
    pub classify: Vec<Spanned<RawRule>>,
}

/// One `[[classify]]` rule. Unlike a named table, an element of an array of tables always has a
/// span (its `[[classify]]` header or its inline table), so the rule as a whole can be spanned.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub name: Option<Text>,
    #[serde(default)]
    pub when: Vec<Spanned<RawCondition>>,
    #[serde(default)]
    pub unless: Vec<Spanned<RawCondition>>,
    pub lead_type: Option<Text>,
    pub exclude: Option<Text>,
}

/// One condition of a rule's `when` or `unless` list: a field and exactly one operator.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCondition {
    pub field: Text,
    pub equals: Option<Spanned<OneOrMany>>,
    pub matches: Option<Spanned<OneOrMany>>,
    pub at_least: Option<Spanned<f64>>,
    pub below: Option<Spanned<f64>>,
    pub present: Option<Spanned<bool>>,
}

/// `equals = "x"` or `equals = ["x", "y"]`: one value or several, any of which will do.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn values(&self) -> &[String] {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v),
            OneOrMany::Many(vs) => vs,
        }
    }
}

/// Only the `[calendars.*]` tables of any TOML file; other keys are ignored on purpose.
#[derive(Deserialize)]
pub(super) struct CalendarsOnly {
    #[serde(default)]
    pub calendars: Named<RawCalendar>,
}

/// Where each top-level key is written, read in a second pass over a source that already
/// parsed: `[assignment]` and `[directory]` are struct fields, whose keys carry no span.
#[derive(Deserialize, Default)]
#[serde(transparent)]
pub(super) struct TopKeys(BTreeMap<Text, IgnoredAny>);

impl TopKeys {
    pub fn read(src: &str) -> Self {
        toml::from_str(src).unwrap_or_default()
    }

    pub fn span(&self, key: &str) -> Option<Span> {
        self.0.get_key_value(key).map(|(k, _)| k.span())
    }
}

/// The span that starts first, if any.
pub(super) fn earliest(spans: impl IntoIterator<Item = Option<Span>>) -> Option<Span> {
    spans.into_iter().flatten().min_by_key(|s| s.start)
}
