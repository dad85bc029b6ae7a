//! `[directory]`: who the roles are, and whether every role a ladder notifies has someone.

use super::problems::Problems;
use super::raw::{Named, RawCalendar, RawDirectory, RawPerson, RawTeam, Span};
use super::{Directory, Person, Role, SlaRule, Team};
use toml::Spanned;

/// The directory, after checking that its teams' calendars and its people's teams exist.
pub(super) fn directory(raw: &RawDirectory, calendars: &Named<RawCalendar>, p: &mut Problems) -> Directory {
    check_team_calendars(raw, calendars, p);
    check_people_teams(raw, p);
    let list = |v: &Option<Spanned<Vec<String>>>| v.as_ref().map(|v| v.get_ref().clone()).unwrap_or_default();
    Directory {
        people: raw
            .people
            .iter()
            .map(|(who, raw)| (who.get_ref().clone(), person(raw)))
            .collect(),
        teams: raw
            .teams
            .iter()
            .map(|(name, raw)| (name.get_ref().clone(), team(name.get_ref(), raw, p)))
            .collect(),
        ops: list(&raw.ops),
        exec: list(&raw.exec),
        manager: raw.manager.clone(),
    }
}

fn check_team_calendars(raw: &RawDirectory, calendars: &Named<RawCalendar>, p: &mut Problems) {
    for (team, t) in &raw.teams {
        let Some(c) = &t.calendar else { continue };
        if !calendars.contains_key(c.get_ref().as_str()) {
            p.add(
                format!("directory.teams.{}.calendar", team.get_ref()),
                c.span(),
                format!("no calendar named {:?}", c.get_ref()),
            );
        }
    }
}

fn check_people_teams(raw: &RawDirectory, p: &mut Problems) {
    for (who, person) in &raw.people {
        let Some(t) = &person.team else { continue };
        if !raw.teams.contains_key(t.get_ref().as_str()) {
            p.add(
                format!("directory.people.{}.team", who.get_ref()),
                t.span(),
                format!("no team named {:?} in [directory.teams]", t.get_ref()),
            );
        }
    }
}

fn person(raw: &RawPerson) -> Person {
    Person {
        name: raw.name.clone(),
        team: raw.team.as_ref().map(|t| t.get_ref().clone()),
        manager: raw.manager.clone(),
        slack: raw.slack.clone(),
        email: raw.email.clone(),
        crm_ids: raw.crm_ids.clone(),
    }
}

fn team(name: &str, raw: &RawTeam, p: &mut Problems) -> Team {
    Team {
        calendar: raw.calendar.as_ref().map(|c| c.get_ref().clone()),
        manager: raw.manager.clone(),
        exec: raw.exec.clone(),
        mode: super::delivery::mode(&format!("directory.teams.{name}.mode"), raw.mode.as_ref(), p),
    }
}

/// Ops and exec have no fallback, so a ladder that notifies them needs them listed; a missing
/// list is placed `at` the `[directory]` table, if there is one.
pub(super) fn role_coverage<'a>(
    slas: impl Iterator<Item = &'a SlaRule> + Clone,
    raw: &RawDirectory,
    at: Option<Span>,
    directory: &Directory,
    p: &mut Problems,
) {
    let uses = |role: Role| {
        slas.clone()
            .any(|s| s.ladder.iter().any(|step| step.notify.contains(&role)))
    };
    let span = |v: &Option<Spanned<Vec<String>>>| v.as_ref().map(Spanned::span).or(at.clone());
    if uses(Role::Ops) && directory.ops.is_empty() {
        p.add(
            "directory.ops",
            span(&raw.ops),
            "a ladder notifies ops, so list who ops is",
        );
    }
    if uses(Role::Exec) && directory.exec.is_empty() && directory.teams.values().all(|t| t.exec.is_none()) {
        p.add(
            "directory.exec",
            span(&raw.exec),
            "a ladder notifies exec, so list who exec is",
        );
    }
}
