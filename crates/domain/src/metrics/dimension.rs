//! What a report can break its figures down by.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A dimension a report can break down by; serializes as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    LeadType,
    Source,
    Region,
    Team,
    Owner,
    Segment,
}

impl Dimension {
    pub const ALL: [Dimension; 6] = [
        Dimension::LeadType,
        Dimension::Source,
        Dimension::Region,
        Dimension::Team,
        Dimension::Owner,
        Dimension::Segment,
    ];

    /// The dimension named exactly `s` (as [`Dimension::as_str`] spells it).
    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::LeadType => "lead_type",
            Dimension::Source => "source",
            Dimension::Region => "region",
            Dimension::Team => "team",
            Dimension::Owner => "owner",
            Dimension::Segment => "segment",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`, so width and alignment (`{:<20}`) apply.
        f.pad(self.as_str())
    }
}
