//! Who a read may see: everything, one team's leads, or one person's own queue. A read token
//! carries a scope; the dashboard and the read API filter leads by it before anything is
//! computed, so a manager's report is the report of their team's leads and a rep's "Now" page
//! is their own queue.

use crate::lead::{Lead, Stint};
use crate::policy::Directory;
use std::fmt;

/// What a reader may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every lead (RevOps, leadership).
    All,
    /// Leads a team's people have owned (a manager): the team's name in `[directory.teams]`.
    Team(String),
    /// Leads a person has owned (a rep): the owner as stored on assignments.
    Person(String),
}

impl Scope {
    /// `team:NAME` or `person:NAME`; the name is 1–128 characters without `=` or `,`.
    pub fn parse(s: &str) -> Result<Scope, String> {
        let (kind, name) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?} is not a scope: write team:NAME or person:NAME"))?;
        let name = name.trim();
        if name.is_empty() || name.len() > 128 || name.contains(['=', ',']) {
            return Err(format!("{s:?}: a scope's name is 1-128 characters without '=' or ','"));
        }
        match kind.trim().to_ascii_lowercase().as_str() {
            "team" => Ok(Scope::Team(name.to_owned())),
            "person" => Ok(Scope::Person(name.to_owned())),
            other => Err(format!("{other:?} is not a scope kind: team or person")),
        }
    }

    /// Whether a reader with this scope sees `lead`: some stint of some cycle was owned by the
    /// person, or by one of the team. Past stints count, so a manager still sees a lead their
    /// rep handed on, and a rep the leads they answered.
    pub fn sees(&self, lead: &Lead, directory: &Directory) -> bool {
        match self {
            Scope::All => true,
            _ => lead
                .cycles
                .iter()
                .flat_map(|c| &c.stints)
                .any(|s| self.covers(s, directory)),
        }
    }

    /// Whether this scope covers one ownership stint: its team is the stint's own, else its
    /// owner's in the directory (as reports group by team).
    pub fn covers(&self, stint: &Stint, directory: &Directory) -> bool {
        self.covers_owner(Some(&stint.owner), Scope::team_of(stint, directory))
    }

    /// A stint's team: its own, else its owner's in the directory (as reports group by team).
    pub fn team_of<'a>(stint: &'a Stint, directory: &'a Directory) -> Option<&'a str> {
        stint
            .team
            .as_deref()
            .or_else(|| directory.people.get(&stint.owner).and_then(|p| p.team.as_deref()))
    }

    /// Whether this scope covers an owner name (a rep score's row, an open SLA's owner).
    pub fn covers_owner(&self, owner: Option<&str>, team: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Team(t) => team == Some(t.as_str()),
            Scope::Person(who) => owner.is_some_and(|o| o.eq_ignore_ascii_case(who)),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("all leads"),
            Scope::Team(t) => write!(f, "team {t}"),
            Scope::Person(p) => write!(f, "{p}'s leads"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_team_and_person_and_refuses_the_rest() {
        assert_eq!(Scope::parse("team:east"), Ok(Scope::Team("east".into())));
        assert_eq!(Scope::parse("person: alice "), Ok(Scope::Person("alice".into())));
        for bad in ["east", "team:", "group:east", "team:a=b", "person:a,b"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
        assert!(Scope::parse(&format!("team:{}", "x".repeat(129))).is_err());
    }

    #[test]
    fn owners_compare_without_case_and_teams_exactly() {
        let p = Scope::Person("Alice".into());
        assert!(p.covers_owner(Some("alice"), None));
        assert!(!p.covers_owner(Some("bob"), Some("east")));
        assert!(!p.covers_owner(None, None));
        let t = Scope::Team("east".into());
        assert!(t.covers_owner(Some("bob"), Some("east")));
        assert!(!t.covers_owner(Some("bob"), Some("East")));
        assert!(Scope::All.covers_owner(None, None));
    }
}
