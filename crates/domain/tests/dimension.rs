//! `Dimension`: names, parsing and serde spell the same snake_case strings the API has always used.

use leadclock_domain::metrics::Dimension;

#[test]
fn every_dimension_parses_from_its_own_name() {
    let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
    assert_eq!(names, ["lead_type", "source", "region", "team", "owner", "segment"]);
    for d in Dimension::ALL {
        assert_eq!(Dimension::parse(d.as_str()), Some(d));
    }
}

#[test]
fn parsing_is_exact() {
    for s in ["", "Lead_Type", "lead-type", "leadtype", " source", "teams", "(none)"] {
        assert_eq!(Dimension::parse(s), None, "{s:?}");
    }
}

#[test]
fn serde_uses_the_snake_case_name() {
    for d in Dimension::ALL {
        let value = toml::Value::try_from(d).unwrap();
        assert_eq!(value, toml::Value::String(d.as_str().into()));
        assert_eq!(value.try_into::<Dimension>().unwrap(), d);
    }
    assert!(toml::Value::String("LeadType".into()).try_into::<Dimension>().is_err());
}

#[test]
fn display_is_the_name_and_honours_width() {
    assert_eq!(Dimension::LeadType.to_string(), "lead_type");
    assert_eq!(format!("{:<8}|", Dimension::Team), "team    |");
}
