//! A form's lead type, the same way for every inbound path: the one the sender named, else the
//! policy's classification rules; an excluded lead keeps the rule that excluded it.

use crate::error::IngestError;
use leadclock_domain::event::{Classified, Form, EXCLUDED_TYPE, UNCLASSIFIED_TYPE};
use leadclock_domain::policy::{Classification, LeadFacts};
use leadclock_domain::Policy;

/// What to do with a form that names no lead type and matches no rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untyped {
    /// The JSON API: answer 422 `unclassified`, so the sender can name one.
    Refuse,
    /// Imports and CRM hooks: keep the lead as unclassified (reports list it).
    Keep,
}

/// The facts the rules read: the form's fields and its attributes as `properties.NAME`.
pub fn facts(form: &Form, lead_type: Option<String>) -> LeadFacts {
    LeadFacts {
        lead_type,
        source: form.source.clone(),
        region: form.region.clone(),
        segment: form.segment.clone(),
        account: form.account.clone(),
        score: form.score,
        properties: form.attributes.clone(),
    }
}

/// The lead type and how it was decided.
pub fn lead_type(
    policy: &Policy,
    facts: &LeadFacts,
    untyped: Untyped,
) -> Result<(String, Option<Classified>), IngestError> {
    match policy.classify(facts) {
        Classification::Typed { lead_type, by } => {
            let classified = match by {
                leadclock_domain::policy::TypedBy::Explicit => None,
                leadclock_domain::policy::TypedBy::Rule(rule) => Some(Classified::Rule { rule }),
            };
            Ok((lead_type, classified))
        }
        Classification::Excluded { rule, reason } => {
            Ok((EXCLUDED_TYPE.to_owned(), Some(Classified::Excluded { rule, reason })))
        }
        Classification::UnknownLeadType(lead_type) => Err(IngestError::UnknownLeadType {
            lead_type,
            known: policy.lead_types.keys().cloned().collect(),
        }),
        Classification::Unclassified => match untyped {
            Untyped::Keep => Ok((UNCLASSIFIED_TYPE.to_owned(), Some(Classified::Unclassified))),
            Untyped::Refuse => Err(IngestError::Unclassified {
                rules: policy.classify.len(),
            }),
        },
    }
}
