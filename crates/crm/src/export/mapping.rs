//! The mapping file: which export columns feed which fact fields. TOML, one of three shapes:
//!
//! - `[records]`: one row per record (HubSpot contacts, Salesforce `Lead`): a [`Fact::Seen`]
//!   at `created` with the `[[records.snapshot]]` columns as properties, an owner
//!   ([`Fact::Owner`] at `owner_assigned`), and `[[records.milestones]]`: dated columns that
//!   become a [`Fact::Property`] at that date (e.g. "Became a Marketing Qualified Lead Date" →
//!   `lifecyclestage` = `marketingqualifiedlead`);
//! - `[history]`: one row per field change (Salesforce `LeadHistory`);
//! - `[activities]`: one row per activity (Salesforce `Task`) → [`Fact::Touch`].
//!
//! Column names are matched after trimming, ignoring case. See `crates/crm/mappings/` for the
//! shipped files.
//!
//! [`Fact::Seen`]: crate::Fact::Seen
//! [`Fact::Owner`]: crate::Fact::Owner
//! [`Fact::Property`]: crate::Fact::Property
//! [`Fact::Touch`]: crate::Fact::Touch

use crate::fact::Source;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub name: String,
    pub source: MappingSource,
    pub records: Option<RecordColumns>,
    pub history: Option<HistoryColumns>,
    pub activities: Option<ActivityColumns>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MappingSource {
    HubSpot,
    Salesforce,
}

impl MappingSource {
    pub fn source(self) -> Source {
        match self {
            MappingSource::HubSpot => Source::HubSpot,
            MappingSource::Salesforce => Source::Salesforce,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordColumns {
    /// The record id column (`Record ID`, `Id`).
    pub id: String,
    /// When the record was created (`Create Date`, `CreatedDate`).
    pub created: String,
    pub owner: Option<String>,
    /// `owner` holds display names (HubSpot's `Contact owner`), not ids.
    #[serde(default)]
    pub owner_is_name: bool,
    /// When the current owner was assigned (`Owner Assigned Date`); without it the owner is
    /// dated at `created`.
    pub owner_assigned: Option<String>,
    #[serde(default)]
    pub snapshot: Vec<SnapshotColumn>,
    #[serde(default)]
    pub milestones: Vec<Milestone>,
}

/// A column copied into the `Seen` fact's properties under `property`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotColumn {
    pub column: String,
    pub property: String,
}

/// A dated column: `property` took `value` at that date (or, without `value`, the date itself).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    pub at: String,
    pub property: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryColumns {
    pub record: String,
    pub field: String,
    pub new_value: String,
    pub at: String,
    /// The `Field` value of owner changes (`Owner`). Salesforce writes two rows per change of a
    /// lookup field, one with names and one with ids: only the id row is read.
    pub owner_field: String,
    /// The `Field` value written when the record was created (`created`).
    pub created_field: Option<String>,
    /// The other fields to read as property changes; empty = every field.
    #[serde(default)]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityColumns {
    pub id: String,
    /// The person touched (`WhoId`: a lead or contact).
    pub who: String,
    pub owner: Option<String>,
    /// The first non-empty of these names the channel (`TaskSubtype`, `Type`).
    #[serde(default)]
    pub channel: Vec<String>,
    #[serde(default)]
    pub outcome: Vec<String>,
    /// The first non-empty of these times the touch (`CompletedDateTime`, `CreatedDate`).
    pub at: Vec<String>,
    /// A row is a touch when any rule matches; no rules = every row.
    #[serde(default)]
    pub done: Vec<DoneRule>,
}

/// `column` equals `equals`; `"*"` = any non-empty value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneRule {
    pub column: String,
    pub equals: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("mapping file: {0}")]
    Toml(String),
    #[error("a mapping has exactly one of [records], [history] or [activities]")]
    Shape,
    #[error("mapping {mapping:?} names columns the file does not have: {missing:?}")]
    MissingColumns { mapping: String, missing: Vec<String> },
}

/// Which shape a mapping is.
pub(crate) enum Shape<'a> {
    Records(&'a RecordColumns),
    History(&'a HistoryColumns),
    Activities(&'a ActivityColumns),
}

impl Mapping {
    pub fn from_toml(text: &str) -> Result<Self, MappingError> {
        let mapping: Mapping = toml::from_str(text).map_err(|e| MappingError::Toml(e.to_string()))?;
        mapping.shape()?;
        Ok(mapping)
    }

    pub(crate) fn shape(&self) -> Result<Shape<'_>, MappingError> {
        match (&self.records, &self.history, &self.activities) {
            (Some(r), None, None) => Ok(Shape::Records(r)),
            (None, Some(h), None) => Ok(Shape::History(h)),
            (None, None, Some(a)) => Ok(Shape::Activities(a)),
            _ => Err(MappingError::Shape),
        }
    }

    /// Every column the mapping reads.
    pub fn columns(&self) -> Vec<&str> {
        let mut cols: Vec<&str> = Vec::new();
        match self.shape() {
            Ok(Shape::Records(r)) => {
                cols.extend([r.id.as_str(), r.created.as_str()]);
                cols.extend(r.owner.iter().chain(&r.owner_assigned).map(String::as_str));
                cols.extend(r.snapshot.iter().map(|s| s.column.as_str()));
                cols.extend(r.milestones.iter().map(|m| m.at.as_str()));
            }
            Ok(Shape::History(h)) => cols.extend([&h.record, &h.field, &h.new_value, &h.at].map(String::as_str)),
            Ok(Shape::Activities(a)) => {
                cols.extend([a.id.as_str(), a.who.as_str()]);
                cols.extend(
                    a.owner
                        .iter()
                        .chain(&a.channel)
                        .chain(&a.outcome)
                        .chain(&a.at)
                        .map(String::as_str),
                );
                cols.extend(a.done.iter().map(|d| d.column.as_str()));
            }
            Err(_) => {}
        }
        cols
    }
}
