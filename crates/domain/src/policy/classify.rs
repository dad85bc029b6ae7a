//! `[[classify]]`: the ordered rules that give a lead its type or exclude it from every SLA,
//! their validation, and applying them to a lead's [`LeadFacts`].

use super::problems::Problems;
use super::raw::{Named, OneOrMany, RawCondition, RawRule, RawSla, Span};
use super::{
    Action, Classification, ClassifyRule, Condition, Explanation, Failure, Field, FieldError, Glob, GlobError,
    LeadFacts, Part, Policy, RuleTrace, Test, TypedBy,
};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

impl Policy {
    /// The lead's type or exclusion: an explicit lead type wins, else the first rule that matches.
    pub fn classify(&self, facts: &LeadFacts) -> Classification {
        if let Some(explicit) = self.explicit(facts) {
            return explicit;
        }
        self.classify
            .iter()
            .find(|rule| rule.failure(facts).is_none())
            .map_or(Classification::Unclassified, ClassifyRule::outcome)
    }

    /// Every rule in order with whether it matches `facts` and, if not, why; and the result,
    /// which is what [`Policy::classify`] returns.
    pub fn explain(&self, facts: &LeadFacts) -> Explanation {
        let traced: Vec<(&ClassifyRule, Option<Failure>)> =
            self.classify.iter().map(|rule| (rule, rule.failure(facts))).collect();
        let by_rules = traced
            .iter()
            .find(|(_, failure)| failure.is_none())
            .map_or(Classification::Unclassified, |(rule, _)| rule.outcome());
        let rules = traced
            .into_iter()
            .map(|(rule, failure)| RuleTrace {
                rule: rule.name.clone(),
                failure,
            })
            .collect();
        Explanation {
            rules,
            result: self.explicit(facts).unwrap_or(by_rules),
        }
    }

    /// The classification an explicit lead type decides on its own, known or not.
    fn explicit(&self, facts: &LeadFacts) -> Option<Classification> {
        let named = facts.lead_type.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
        Some(match self.lead_types.get(named) {
            Some(_) => Classification::Typed {
                lead_type: named.to_owned(),
                by: TypedBy::Explicit,
            },
            None => Classification::UnknownLeadType(named.to_owned()),
        })
    }
}

impl ClassifyRule {
    /// The condition that keeps this rule from matching `facts`, or `None` when it matches.
    pub fn failure(&self, facts: &LeadFacts) -> Option<Failure> {
        let fails = |part: Part, condition: &Condition| {
            let value = facts.value(&condition.field);
            let holds = condition.test.holds(value.as_ref());
            (holds == (part == Part::Unless)).then(|| Failure {
                part,
                condition: condition.clone(),
                seen: value.map(|v| v.text().into_owned()),
            })
        };
        let when = self.when.iter().map(|c| (Part::When, c));
        let unless = self.unless.iter().map(|c| (Part::Unless, c));
        when.chain(unless).find_map(|(part, c)| fails(part, c))
    }

    fn outcome(&self) -> Classification {
        match &self.action {
            Action::LeadType(lead_type) => Classification::Typed {
                lead_type: lead_type.clone(),
                by: TypedBy::Rule(self.name.clone()),
            },
            Action::Exclude(reason) => Classification::Excluded {
                rule: self.name.clone(),
                reason: reason.clone(),
            },
        }
    }
}

/// A field's value as the facts hold it: the score stays a number, everything else is text.
enum Value<'a> {
    Text(&'a str),
    Number(f64),
}

impl Value<'_> {
    fn text(&self) -> Cow<'_, str> {
        match self {
            Value::Text(s) => Cow::Borrowed(s),
            Value::Number(n) => Cow::Owned(n.to_string()),
        }
    }

    /// The value as a finite number: `"19.5"` is one, `"inf"`, `"1,5"` and `"high"` are not.
    fn number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Text(s) => s.parse::<f64>().ok(),
        }
        .filter(|n| n.is_finite())
    }
}

impl LeadFacts {
    /// The non-blank value of `field`, trimmed.
    fn value(&self, field: &Field) -> Option<Value<'_>> {
        let text = match field {
            Field::Score => return self.score.filter(|n| n.is_finite()).map(Value::Number),
            Field::Source => self.source.as_deref(),
            Field::Region => self.region.as_deref(),
            Field::Segment => self.segment.as_deref(),
            Field::Account => self.account.as_deref(),
            Field::Property(name) => self.properties.get(name).map(String::as_str),
        };
        text.map(str::trim).filter(|t| !t.is_empty()).map(Value::Text)
    }
}

impl Test {
    fn holds(&self, value: Option<&Value>) -> bool {
        let Some(value) = value else {
            return *self == Test::Present(false);
        };
        match self {
            Test::Equals(any) => {
                let text = value.text().to_lowercase();
                any.iter().any(|v| v.to_lowercase() == text)
            }
            Test::Matches(any) => {
                let text = value.text();
                any.iter().any(|g| g.matches(&text))
            }
            Test::AtLeast(n) => value.number().is_some_and(|v| v >= *n),
            Test::Below(n) => value.number().is_some_and(|v| v < *n),
            Test::Present(want) => *want,
        }
    }

    /// The operator's name as a policy writes it.
    pub fn operator(&self) -> &'static str {
        match self {
            Test::Equals(_) => "equals",
            Test::Matches(_) => "matches",
            Test::AtLeast(_) => "at_least",
            Test::Below(_) => "below",
            Test::Present(_) => "present",
        }
    }
}

impl Glob {
    pub fn parse(pattern: &str) -> Result<Self, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        Ok(Self {
            pattern: pattern.to_owned(),
            lower: pattern.to_lowercase().chars().collect(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `text` matches, ignoring case.
    ///
    /// Backtracks only to the last `*`, so time is bounded by pattern × text length and there
    /// is no recursion to overflow.
    pub fn matches(&self, text: &str) -> bool {
        let (p, t): (&[char], Vec<char>) = (&self.lower, text.to_lowercase().chars().collect());
        let (mut pi, mut ti) = (0, 0);
        let mut last_star: Option<(usize, usize)> = None;
        while let Some(&c) = t.get(ti) {
            match p.get(pi) {
                Some('*') => {
                    last_star = Some((pi, ti));
                    pi += 1;
                }
                Some(&pc) if pc == '?' || pc == c => {
                    pi += 1;
                    ti += 1;
                }
                _ => match last_star {
                    // Let that `*` take one more character and try again after it.
                    Some((star, taken)) => {
                        last_star = Some((star, taken + 1));
                        pi = star + 1;
                        ti = taken + 1;
                    }
                    None => return false,
                },
            }
        }
        p.get(pi..).is_some_and(|rest| rest.iter().all(|&pc| pc == '*'))
    }
}

impl Field {
    /// The field a condition's `field = "..."` names; property names are taken as written.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        if let Some(name) = s.strip_prefix("properties.") {
            if name.is_empty() {
                return Err(FieldError::NoPropertyName);
            }
            return Ok(Field::Property(name.to_owned()));
        }
        match s {
            "source" => Ok(Field::Source),
            "region" => Ok(Field::Region),
            "segment" => Ok(Field::Segment),
            "account" => Ok(Field::Account),
            "score" => Ok(Field::Score),
            "lead_type" => Err(FieldError::LeadType),
            other => Err(FieldError::Unknown(other.to_owned())),
        }
    }

    /// Why `test` cannot apply to this field, if it cannot: the fixed fields have known kinds.
    fn refuses(&self, test: &Test) -> Option<String> {
        match (self, test) {
            (Field::Score, Test::Equals(_) | Test::Matches(_)) => {
                Some("score is a number: compare it with at_least or below".into())
            }
            (Field::Source | Field::Region | Field::Segment | Field::Account, Test::AtLeast(_) | Test::Below(_)) => {
                Some(format!(
                    "{self} is text: at_least and below compare numbers (score or properties.NAME)"
                ))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Source => f.write_str("source"),
            Field::Region => f.write_str("region"),
            Field::Segment => f.write_str("segment"),
            Field::Account => f.write_str("account"),
            Field::Score => f.write_str("score"),
            Field::Property(name) => write!(f, "properties.{name}"),
        }
    }
}

/// `score below 20`, `properties.form_name matches "*demo*"`, `source equals "a" or "b"`,
/// `account present`, `account absent`.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |vs: Vec<&str>| vs.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(" or ");
        match &self.test {
            Test::Equals(vs) => write!(
                f,
                "{} equals {}",
                self.field,
                quoted(vs.iter().map(String::as_str).collect())
            ),
            Test::Matches(gs) => write!(
                f,
                "{} matches {}",
                self.field,
                quoted(gs.iter().map(Glob::as_str).collect())
            ),
            Test::AtLeast(n) => write!(f, "{} at_least {n}", self.field),
            Test::Below(n) => write!(f, "{} below {n}", self.field),
            Test::Present(true) => write!(f, "{} present", self.field),
            Test::Present(false) => write!(f, "{} absent", self.field),
        }
    }
}

/// The rules of `[[classify]]`, in order; `lead_types` are the policy's, valid or not, so a
/// lead type with a bad SLA is not reported a second time here.
pub(super) fn rules(raw: &[Spanned<RawRule>], lead_types: &Named<RawSla>, p: &mut Problems) -> Vec<ClassifyRule> {
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut catch_all: Option<usize> = None;
    let mut out = Vec::new();
    for (i, spanned) in raw.iter().enumerate() {
        let (path, at, r) = (format!("classify[{i}]"), spanned.span(), spanned.get_ref());
        if let Some(j) = catch_all {
            p.add(
                &path,
                at.clone(),
                format!("never tried: classify[{j}] above matches every lead"),
            );
        }
        if r.when.is_empty() && r.unless.is_empty() {
            catch_all = catch_all.or(Some(i));
        }
        let name = rule_name(&path, r, at.clone(), &mut names, i, p);
        let action = action(&path, r, at, lead_types, p);
        let when = conditions(&format!("{path}.when"), &r.when, p);
        let unless = conditions(&format!("{path}.unless"), &r.unless, p);
        if let (Some(name), Some(action), Some(when), Some(unless)) = (name, action, when, unless) {
            out.push(ClassifyRule {
                name,
                when,
                unless,
                action,
            });
        }
    }
    out
}

/// A rule's name: required, because it is recorded with the leads it classifies, and unique.
fn rule_name<'a>(
    path: &str,
    r: &'a RawRule,
    at: Span,
    seen: &mut BTreeMap<&'a str, usize>,
    i: usize,
    p: &mut Problems,
) -> Option<String> {
    let Some(name) = &r.name else {
        p.add(
            path,
            at,
            "a rule needs a name = \"...\" (it is recorded with the leads it classifies)",
        );
        return None;
    };
    let trimmed = name.get_ref().trim();
    if trimmed.is_empty() {
        p.add(format!("{path}.name"), name.span(), "must not be blank");
        return None;
    }
    if let Some(first) = seen.insert(trimmed, i) {
        let message = format!("{trimmed:?} is also the name of classify[{first}]");
        p.add(format!("{path}.name"), name.span(), message);
        return None;
    }
    Some(trimmed.to_owned())
}

/// Exactly one of `lead_type` (a lead type of the policy) or `exclude` (a reason).
fn action(path: &str, r: &RawRule, at: Span, lead_types: &Named<RawSla>, p: &mut Problems) -> Option<Action> {
    match (&r.lead_type, &r.exclude) {
        (Some(t), None) if lead_types.contains_key(t.get_ref().as_str()) => Some(Action::LeadType(t.get_ref().clone())),
        (Some(t), None) => {
            let message = format!("no lead type named {:?} in [lead_types]", t.get_ref());
            p.add(format!("{path}.lead_type"), t.span(), message);
            None
        }
        (None, Some(reason)) if reason.get_ref().trim().is_empty() => {
            p.add(format!("{path}.exclude"), reason.span(), "the reason must not be blank");
            None
        }
        (None, Some(reason)) => Some(Action::Exclude(reason.get_ref().trim().to_owned())),
        (Some(_), Some(_)) => {
            p.add(path, at, "give `lead_type` or `exclude`, not both");
            None
        }
        (None, None) => {
            p.add(path, at, "needs lead_type = \"NAME\" or exclude = \"REASON\"");
            None
        }
    }
}

/// The conditions of one list, or `None` when any of them is wrong (each is reported).
fn conditions(path: &str, raw: &[Spanned<RawCondition>], p: &mut Problems) -> Option<Vec<Condition>> {
    let all: Vec<Option<Condition>> = raw
        .iter()
        .enumerate()
        .map(|(k, c)| condition(&format!("{path}[{k}]"), c, p))
        .collect();
    all.into_iter().collect()
}

fn condition(path: &str, raw: &Spanned<RawCondition>, p: &mut Problems) -> Option<Condition> {
    let c = raw.get_ref();
    let field =
        Field::parse(c.field.get_ref()).map_err(|e| p.add(format!("{path}.field"), c.field.span(), e.to_string()));
    let test = test(path, raw, p)?;
    let field = field.ok()?;
    if let Some(message) = field.refuses(&test) {
        p.add(
            format!("{path}.{}", test.operator()),
            operator_span(c).or(Some(raw.span())),
            message,
        );
        return None;
    }
    Some(Condition { field, test })
}

/// The one operator of a condition, checked.
fn test(path: &str, raw: &Spanned<RawCondition>, p: &mut Problems) -> Option<Test> {
    let c = raw.get_ref();
    let given: Vec<&str> = [
        ("equals", c.equals.is_some()),
        ("matches", c.matches.is_some()),
        ("at_least", c.at_least.is_some()),
        ("below", c.below.is_some()),
        ("present", c.present.is_some()),
    ]
    .into_iter()
    .filter_map(|(op, given)| given.then_some(op))
    .collect();
    match given.as_slice() {
        [_] => {}
        [] => {
            let message = "needs one of equals, matches, at_least, below or present";
            p.add(path, raw.span(), message);
            return None;
        }
        [a, b, ..] => {
            let message = format!("give one operator per condition, not {a} and {b} (a range is two conditions)");
            p.add(path, raw.span(), message);
            return None;
        }
    }
    if let Some(v) = &c.equals {
        return equals(&format!("{path}.equals"), v, p);
    }
    if let Some(v) = &c.matches {
        return globs(&format!("{path}.matches"), v, p);
    }
    if let Some(n) = &c.at_least {
        return number(&format!("{path}.at_least"), n, p).map(Test::AtLeast);
    }
    if let Some(n) = &c.below {
        return number(&format!("{path}.below"), n, p).map(Test::Below);
    }
    c.present.as_ref().map(|b| Test::Present(*b.get_ref()))
}

fn equals(path: &str, raw: &Spanned<OneOrMany>, p: &mut Problems) -> Option<Test> {
    let values: Vec<String> = raw.get_ref().values().iter().map(|v| v.trim().to_owned()).collect();
    if values.is_empty() || values.iter().any(String::is_empty) {
        let message = "needs one or more values, none blank (use present = false for \"no value\")";
        p.add(path, raw.span(), message);
        return None;
    }
    Some(Test::Equals(values))
}

fn globs(path: &str, raw: &Spanned<OneOrMany>, p: &mut Problems) -> Option<Test> {
    let values = raw.get_ref().values();
    if values.is_empty() {
        p.add(path, raw.span(), "needs one or more patterns");
        return None;
    }
    match values.iter().map(|v| Glob::parse(v)).collect::<Result<Vec<_>, _>>() {
        Ok(globs) => Some(Test::Matches(globs)),
        Err(e) => {
            p.add(path, raw.span(), e.to_string());
            None
        }
    }
}

fn number(path: &str, raw: &Spanned<f64>, p: &mut Problems) -> Option<f64> {
    let n = *raw.get_ref();
    if !n.is_finite() {
        p.add(path, raw.span(), format!("{n} is not a finite number"));
        return None;
    }
    Some(n)
}

/// Where a condition's operator value is written.
fn operator_span(c: &RawCondition) -> Option<Span> {
    [
        c.equals.as_ref().map(Spanned::span),
        c.matches.as_ref().map(Spanned::span),
        c.at_least.as_ref().map(Spanned::span),
        c.below.as_ref().map(Spanned::span),
        c.present.as_ref().map(Spanned::span),
    ]
    .into_iter()
    .flatten()
    .next()
}
