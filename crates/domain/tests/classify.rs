//! `[[classify]]` rules: validation with locations, precedence, every operator, `explain`.

use leadclock_domain::policy::{
    Classification, Condition, Field, FieldError, Glob, LeadFacts, Part, Problem, Test, TypedBy,
};
use leadclock_domain::Policy;
use proptest::prelude::*;

/// A calendar, an assignment SLA and two lead types; rules are appended after it.
const BASE: &str = r#"[calendars.us]
timezone = "UTC"
hours = { mon = ["09:00-17:00"] }

[assignment]
within = "5m"

[lead_types.demo_request]
within = "5m"

[lead_types.content_mql]
within = "4h"
"#;

const EXAMPLE: &str = include_str!("../../../policies/example.toml");

fn policy(rules: &str) -> Policy {
    Policy::parse(&format!("{BASE}{rules}")).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn problems(rules: &str) -> Vec<Problem> {
    match Policy::parse(&format!("{BASE}{rules}")) {
        Ok(_) => panic!("expected problems in:\n{rules}"),
        Err(problems) => problems,
    }
}

/// The line (counted in `rules`, 1-based) of the one problem at `path` whose message says `says`.
fn line_of(problems: &[Problem], path: &str, says: &str) -> usize {
    let found: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.path == path && p.message.contains(says))
        .collect();
    match found.as_slice() {
        [one] => one.line.expect("a line") - BASE.lines().count(),
        _ => panic!("expected one problem at {path} saying {says:?}, got {problems:#?}"),
    }
}

fn props(pairs: &[(&str, &str)]) -> LeadFacts {
    LeadFacts {
        properties: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..LeadFacts::default()
    }
}

fn typed(lead_type: &str, rule: &str) -> Classification {
    Classification::Typed {
        lead_type: lead_type.into(),
        by: TypedBy::Rule(rule.into()),
    }
}

fn excluded(rule: &str, reason: &str) -> Classification {
    Classification::Excluded {
        rule: rule.into(),
        reason: reason.into(),
    }
}

/// One rule `r` typing a lead `demo_request` when `condition` holds.
fn one(condition: &str) -> Policy {
    policy(&format!(
        "[[classify]]\nname = \"r\"\nwhen = [{condition}]\nlead_type = \"demo_request\"\n"
    ))
}

fn matches(p: &Policy, facts: &LeadFacts) -> bool {
    match p.classify(facts) {
        Classification::Typed { .. } => true,
        Classification::Unclassified => false,
        other => panic!("unexpected {other:?}"),
    }
}

const PRECEDENCE: &str = r#"
[[classify]]
name = "partners"
when = [{ field = "properties.partner", equals = ["true", "yes"] }]
exclude = "partner"

[[classify]]
name = "demo form"
when = [{ field = "properties.form_name", matches = "*demo*" }]
lead_type = "demo_request"

[[classify]]
name = "any form"
when = [{ field = "properties.form_name", present = true }]
lead_type = "content_mql"

[[classify]]
name = "low score"
when = [{ field = "score", below = 20 }]
exclude = "score under 20"
"#;

#[test]
fn the_first_matching_rule_wins() {
    let p = policy(PRECEDENCE);
    // "demo form" and "any form" both match: the earlier one decides.
    let demo = props(&[("form_name", "Book a Demo")]);
    assert_eq!(p.classify(&demo), typed("demo_request", "demo form"));
    let other = props(&[("form_name", "Newsletter")]);
    assert_eq!(p.classify(&other), typed("content_mql", "any form"));
}

#[test]
fn an_exclusion_before_a_type_rule_wins_and_a_type_rule_before_an_exclusion_wins() {
    let p = policy(PRECEDENCE);
    let partner = props(&[("partner", "YES"), ("form_name", "demo")]);
    assert_eq!(p.classify(&partner), excluded("partners", "partner"));
    // A low score is excluded only when no type rule above matched.
    let mut low_demo = props(&[("form_name", "demo")]);
    low_demo.score = Some(5.0);
    assert_eq!(p.classify(&low_demo), typed("demo_request", "demo form"));
    let low = LeadFacts {
        score: Some(5.0),
        ..LeadFacts::default()
    };
    assert_eq!(p.classify(&low), excluded("low score", "score under 20"));
}

#[test]
fn an_explicit_known_lead_type_wins_over_every_rule() {
    let p = policy(PRECEDENCE);
    let mut partner = props(&[("partner", "true")]);
    partner.lead_type = Some("content_mql".into());
    let expected = Classification::Typed {
        lead_type: "content_mql".into(),
        by: TypedBy::Explicit,
    };
    assert_eq!(p.classify(&partner), expected);
    // Surrounding blanks are not part of the name.
    partner.lead_type = Some(" content_mql ".into());
    assert_eq!(p.classify(&partner), expected);
}

#[test]
fn an_explicit_unknown_lead_type_is_not_classified_by_rules() {
    let p = policy(PRECEDENCE);
    let mut demo = props(&[("form_name", "demo")]);
    demo.lead_type = Some("Demo_Request".into());
    assert_eq!(
        p.classify(&demo),
        Classification::UnknownLeadType("Demo_Request".into())
    );
    // A blank lead type is no lead type: the rules decide.
    demo.lead_type = Some("  ".into());
    assert_eq!(p.classify(&demo), typed("demo_request", "demo form"));
}

#[test]
fn no_match_and_no_rules_are_unclassified() {
    let p = policy(PRECEDENCE);
    let nothing = props(&[("partner", "no")]);
    assert_eq!(p.classify(&nothing), Classification::Unclassified);
    assert_eq!(p.classify(&LeadFacts::default()), Classification::Unclassified);
    let bare = policy("");
    assert!(bare.classify.is_empty());
    assert_eq!(
        bare.classify(&props(&[("form_name", "demo")])),
        Classification::Unclassified
    );
}

#[test]
fn equals_ignores_case_and_takes_one_value_or_several() {
    let p = one(r#"{ field = "source", equals = ["Organic", "paid_search"] }"#);
    let with = |s: &str| LeadFacts {
        source: Some(s.into()),
        ..LeadFacts::default()
    };
    assert!(matches(&p, &with("organic")));
    assert!(matches(&p, &with("PAID_SEARCH")));
    assert!(matches(&p, &with("  organic ")));
    assert!(!matches(&p, &with("organic search")));
    let single = one(r#"{ field = "region", equals = "EMEA" }"#);
    let emea = LeadFacts {
        region: Some("emea".into()),
        ..LeadFacts::default()
    };
    assert!(matches(&single, &emea));
    assert!(!matches(&single, &LeadFacts::default()));
}

#[test]
fn matches_is_a_whole_value_glob_ignoring_case() {
    let p = one(r#"{ field = "properties.form_name", matches = ["*demo*", "pricing-??"] }"#);
    let form = |v: &str| props(&[("form_name", v)]);
    assert!(matches(&p, &form("Request a DEMO today")));
    assert!(matches(&p, &form("demo")));
    assert!(matches(&p, &form("Pricing-EU")));
    assert!(!matches(&p, &form("pricing-EUR")));
    assert!(!matches(&p, &form("pricing")));
    assert!(!matches(&p, &form("dem o")));
    assert!(
        !matches(&p, &props(&[("Form_Name", "demo")])),
        "property names are case-sensitive"
    );
}

#[test]
fn numbers_compare_with_decimals_and_text_never_matches() {
    let at_least = one(r#"{ field = "properties.hs_score", at_least = 19.5 }"#);
    let below = one(r#"{ field = "properties.hs_score", below = 20 }"#);
    let score = |v: &str| props(&[("hs_score", v)]);
    for (value, is_at_least, is_below) in [
        ("19.5", true, true),
        ("19.49", false, true),
        ("20", true, false),
        (" 20.0 ", true, false),
        ("-3", false, true),
        ("1e3", true, false),
        ("high", false, false),
        ("1,5", false, false),
        ("inf", false, false),
        ("NaN", false, false),
        ("", false, false),
    ] {
        assert_eq!(
            matches(&at_least, &score(value)),
            is_at_least,
            "{value:?} at_least 19.5"
        );
        assert_eq!(matches(&below, &score(value)), is_below, "{value:?} below 20");
    }
}

#[test]
fn the_score_is_compared_as_a_number() {
    let p = one(r#"{ field = "score", at_least = 20 }"#);
    let scored = |s: f64| LeadFacts {
        score: Some(s),
        ..LeadFacts::default()
    };
    assert!(matches(&p, &scored(20.0)));
    assert!(matches(&p, &scored(87.25)));
    assert!(!matches(&p, &scored(19.999)));
    assert!(!matches(&p, &scored(f64::NAN)));
    assert!(!matches(&p, &LeadFacts::default()));
}

#[test]
fn present_treats_a_blank_value_as_absent() {
    let present = one(r#"{ field = "account", present = true }"#);
    let absent = one(r#"{ field = "account", present = false }"#);
    let account = |a: Option<&str>| LeadFacts {
        account: a.map(String::from),
        ..LeadFacts::default()
    };
    for (value, has) in [
        (Some("acme"), true),
        (Some("  "), false),
        (Some(""), false),
        (None, false),
    ] {
        assert_eq!(matches(&present, &account(value)), has, "{value:?}");
        assert_eq!(matches(&absent, &account(value)), !has, "{value:?}");
    }
}

#[test]
fn a_missing_field_fails_every_test_but_absent() {
    for condition in [
        r#"{ field = "segment", equals = ["smb"] }"#,
        r#"{ field = "segment", matches = "*" }"#,
        r#"{ field = "properties.n", at_least = -1e9 }"#,
        r#"{ field = "properties.n", below = 1e9 }"#,
        r#"{ field = "segment", present = true }"#,
    ] {
        assert!(!matches(&one(condition), &LeadFacts::default()), "{condition}");
    }
    assert!(matches(
        &one(r#"{ field = "segment", present = false }"#),
        &LeadFacts::default()
    ));
}

#[test]
fn every_when_must_hold_and_no_unless() {
    let p = policy(
        r#"
[[classify]]
name = "mid score, not a customer"
when = [{ field = "score", at_least = 20 }, { field = "score", below = 50 }]
unless = [{ field = "properties.lifecycle_stage", equals = "customer" }]
lead_type = "content_mql"
"#,
    );
    let facts = |score: f64, stage: &str| LeadFacts {
        score: Some(score),
        ..props(&[("lifecycle_stage", stage)])
    };
    assert!(matches(&p, &facts(30.0, "lead")));
    assert!(!matches(&p, &facts(50.0, "lead")));
    assert!(!matches(&p, &facts(19.0, "lead")));
    assert!(!matches(&p, &facts(30.0, "Customer")));
}

#[test]
fn a_rule_without_conditions_matches_every_lead() {
    let p = policy("[[classify]]\nname = \"everything else\"\nlead_type = \"content_mql\"\n");
    assert_eq!(
        p.classify(&LeadFacts::default()),
        typed("content_mql", "everything else")
    );
}

#[test]
fn explain_gives_each_rule_its_verdict_and_the_value_it_saw() {
    let p = policy(PRECEDENCE);
    let mut facts = props(&[("partner", "no"), ("form_name", "Newsletter")]);
    facts.score = Some(12.5);
    let e = p.explain(&facts);
    assert_eq!(e.result, typed("content_mql", "any form"));
    assert_eq!(e.result, p.classify(&facts));
    let names: Vec<&str> = e.rules.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(names, ["partners", "demo form", "any form", "low score"]);
    let partners = e.rules[0].failure.as_ref().expect("partners fails");
    assert_eq!(partners.part, Part::When);
    assert_eq!(partners.condition.field, Field::Property("partner".into()));
    assert_eq!(partners.condition.test.operator(), "equals");
    assert_eq!(partners.seen.as_deref(), Some("no"));
    let demo = e.rules[1].failure.as_ref().expect("demo fails");
    assert_eq!(demo.condition.test.operator(), "matches");
    assert_eq!(demo.seen.as_deref(), Some("Newsletter"));
    assert!(e.rules[2].failure.is_none());
    // A later rule that matches too is shown as matching; the first one still decides.
    assert!(e.rules[3].failure.is_none());
}

#[test]
fn explain_names_a_missing_value_and_an_unless_that_held() {
    let p = policy(
        r#"
[[classify]]
name = "mql"
when = [{ field = "score", at_least = 20 }]
unless = [{ field = "properties.lifecycle_stage", equals = "customer" }]
lead_type = "content_mql"
"#,
    );
    let missing = p.explain(&LeadFacts::default());
    let f = missing.rules[0].failure.as_ref().expect("fails");
    assert_eq!(
        (f.part, f.condition.field.clone(), f.seen.clone()),
        (Part::When, Field::Score, None)
    );
    assert_eq!(missing.result, Classification::Unclassified);

    let customer = LeadFacts {
        score: Some(40.0),
        ..props(&[("lifecycle_stage", "Customer")])
    };
    let e = p.explain(&customer);
    let f = e.rules[0].failure.as_ref().expect("fails");
    assert_eq!(f.part, Part::Unless);
    assert_eq!(f.seen.as_deref(), Some("Customer"));
    assert_eq!(
        f.condition.to_string(),
        r#"properties.lifecycle_stage equals "customer""#
    );
}

#[test]
fn explain_reports_an_explicit_lead_type_and_still_traces_the_rules() {
    let p = policy(PRECEDENCE);
    let mut facts = props(&[("partner", "yes")]);
    facts.lead_type = Some("nope".into());
    let e = p.explain(&facts);
    assert_eq!(e.result, Classification::UnknownLeadType("nope".into()));
    assert!(e.rules[0].failure.is_none());
    assert_eq!(e.rules.len(), 4);
}

#[test]
fn conditions_display_as_a_policy_reader_would_say_them() {
    let cases = [
        (Field::Score, Test::Below(20.0), "score below 20"),
        (Field::Score, Test::AtLeast(19.5), "score at_least 19.5"),
        (Field::Account, Test::Present(true), "account present"),
        (Field::Account, Test::Present(false), "account absent"),
        (
            Field::Source,
            Test::Equals(vec!["a".into(), "b".into()]),
            r#"source equals "a" or "b""#,
        ),
        (
            Field::Property("form_name".into()),
            Test::Matches(vec![Glob::parse("*demo*").expect("glob")]),
            r#"properties.form_name matches "*demo*""#,
        ),
    ];
    for (field, test, said) in cases {
        assert_eq!(Condition { field, test }.to_string(), said);
    }
}

#[test]
fn fields_parse_from_their_policy_names() {
    assert_eq!(Field::parse("score"), Ok(Field::Score));
    assert_eq!(
        Field::parse("properties.Form Name"),
        Ok(Field::Property("Form Name".into()))
    );
    assert_eq!(Field::parse("lead_type"), Err(FieldError::LeadType));
    assert_eq!(Field::parse("properties."), Err(FieldError::NoPropertyName));
    assert_eq!(Field::parse("Score"), Err(FieldError::Unknown("Score".into())));
    for f in ["source", "region", "segment", "account", "score", "properties.x.y"] {
        assert_eq!(Field::parse(f).map(|f| f.to_string()).as_deref(), Ok(f));
    }
}

#[test]
fn the_example_policy_classifies_the_methodologys_leads() {
    let p = Policy::parse(EXAMPLE).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(p.classify.len() >= 5, "{:?}", p.classify);
    let partner = props(&[("partner", "true"), ("form_name", "Request a demo")]);
    assert!(matches!(p.classify(&partner), Classification::Excluded { .. }));
    let demo = props(&[("form_name", "Request a demo")]);
    assert!(matches!(
        p.classify(&demo),
        Classification::Typed { lead_type, .. } if lead_type == "demo_request"
    ));
    let low = LeadFacts {
        score: Some(5.0),
        ..LeadFacts::default()
    };
    assert!(matches!(p.classify(&low), Classification::Excluded { .. }));
}

#[test]
fn every_rule_problem_is_reported_with_its_line() {
    let rules = r#"
[[classify]]
name = "a"
when = [{ field = "lead_type", equals = "x" }]
lead_type = "nope"

[[classify]]
name = "a"
when = [{ field = "properties.", present = true }, { field = "sourc", equals = "x" }]
exclude = "  "

[[classify]]
when = [{ field = "score", equals = "20" }, { field = "source", below = 3 }]
lead_type = "demo_request"
exclude = "both"

[[classify]]
name = "ops"
when = [
  { field = "score", at_least = 1, below = 9 },
  { field = "region" },
  { field = "region", equals = [] },
  { field = "region", matches = ["ok", ""] },
  { field = "score", below = nan },
]

[[classify]]
name = "catch-all"
exclude = "everything"

[[classify]]
name = "after"
when = [{ field = "region", present = true }]
lead_type = "demo_request"
"#;
    let ps = problems(rules);
    let expect = [
        ("classify[0].when[0].field", "explicit lead_type wins", 4),
        ("classify[0].lead_type", "no lead type named \"nope\"", 5),
        ("classify[1].name", "also the name of classify[0]", 8),
        ("classify[1].when[0].field", "property name", 9),
        ("classify[1].when[1].field", "\"sourc\" is not a field", 9),
        ("classify[1].exclude", "blank", 10),
        ("classify[2]", "needs a name", 12),
        ("classify[2]", "not both", 12),
        ("classify[2].when[0].equals", "score is a number", 13),
        ("classify[2].when[1].below", "source is text", 13),
        ("classify[3]", "needs lead_type", 17),
        ("classify[3].when[0]", "not at_least and below", 20),
        ("classify[3].when[1]", "needs one of equals", 21),
        ("classify[3].when[2].equals", "one or more values", 22),
        ("classify[3].when[3].matches", "must not be empty", 23),
        ("classify[3].when[4].below", "not a finite number", 24),
        ("classify[5]", "never tried: classify[4]", 31),
    ];
    for (path, says, line) in expect {
        assert_eq!(line_of(&ps, path, says), line, "{path}");
    }
    assert_eq!(ps.len(), expect.len(), "{ps:#?}");
}

#[test]
fn an_unknown_key_in_a_rule_or_condition_is_refused() {
    let ps = problems("[[classify]]\nname = \"x\"\nwhen = [{ field = \"score\", above = 3 }]\nexclude = \"x\"\n");
    assert_eq!(ps.len(), 1);
    assert!(ps[0].message.contains("above"), "{ps:?}");
    let ps = problems("[[classify]]\nname = \"x\"\nthen = \"demo_request\"\n");
    assert!(ps[0].message.contains("then"), "{ps:?}");
}

#[test]
fn a_pathological_glob_stays_fast_and_right() {
    let g = Glob::parse("a*a*a*a*a*a*a*b").expect("glob");
    let text = "a".repeat(4000);
    assert!(!g.matches(&text));
    assert!(g.matches(&format!("{text}b")));
    assert!(Glob::parse("").is_err());
    assert!(Glob::parse("*").expect("glob").matches(""));
    assert!(!Glob::parse("?").expect("glob").matches(""));
    assert!(Glob::parse("ÉTÉ*").expect("glob").matches("été 2026"));
}

/// The plain recursive definition of a glob match, to check the iterative one against.
fn reference_glob(p: &[char], t: &[char]) -> bool {
    match (p.first(), t.first()) {
        (None, None) => true,
        (Some('*'), _) => reference_glob(&p[1..], t) || (!t.is_empty() && reference_glob(p, &t[1..])),
        (Some('?'), Some(_)) => reference_glob(&p[1..], &t[1..]),
        (Some(a), Some(b)) if a == b => reference_glob(&p[1..], &t[1..]),
        _ => false,
    }
}

fn facts_strategy() -> impl Strategy<Value = LeadFacts> {
    let text = || proptest::option::of(prop_oneof![".{0,12}", "(demo|DEMO|organic|customer|yes|20|19\\.5| )"]);
    let score = proptest::option::of(prop_oneof![any::<f64>(), -100.0..100.0f64]);
    let names = prop_oneof!["(partner|form_name|lifecycle_stage|hs_analytics_source)", ".{0,6}"];
    let values = prop_oneof![".{0,16}", "(true|yes|Demo Request|customer|OFFLINE|15|20\\.0)"];
    let properties = proptest::collection::btree_map(names, values, 0..6);
    (text(), text(), text(), text(), text(), score, properties).prop_map(
        |(lead_type, source, region, segment, account, score, properties)| LeadFacts {
            lead_type,
            source,
            region,
            segment,
            account,
            score,
            properties,
        },
    )
}

proptest! {
    #[test]
    fn classification_never_panics_and_is_deterministic(facts in facts_strategy()) {
        for p in [Policy::parse(EXAMPLE).expect("example"), policy(PRECEDENCE)] {
            let first = p.classify(&facts);
            prop_assert_eq!(&first, &p.classify(&facts));
            let e = p.explain(&facts);
            prop_assert_eq!(&e.result, &first);
            prop_assert_eq!(e.rules.len(), p.classify.len());
        }
    }

    #[test]
    fn glob_matching_agrees_with_its_definition(pattern in "[ab*?]{1,8}", text in "[abAB]{0,10}") {
        let expected = reference_glob(
            &pattern.chars().collect::<Vec<_>>(),
            &text.to_lowercase().chars().collect::<Vec<_>>(),
        );
        prop_assert_eq!(Glob::parse(&pattern).expect("glob").matches(&text), expected);
    }
}
