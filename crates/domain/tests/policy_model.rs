//! The policy model seen from outside: the JSON/TOML form of its enums, and the shipped policies.

use leadclock_domain::policy::{Basis, Role};
use serde::Deserialize;

/// A one-field document, so an enum can be read from TOML the way any serde format would.
#[derive(Deserialize)]
struct One<T> {
    v: T,
}

fn read<T: for<'de> Deserialize<'de>>(name: &str) -> Result<T, toml::de::Error> {
    toml::from_str::<One<T>>(&format!("v = {name:?}")).map(|o| o.v)
}

#[test]
fn roles_serialize_and_deserialize_as_their_names() {
    assert_eq!(Role::ALL.len(), 4);
    for role in Role::ALL {
        assert_eq!(toml::Value::try_from(role).ok(), Some(toml::Value::from(role.as_str())));
        assert_eq!(read::<Role>(role.as_str()).ok(), Some(role));
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
    assert_eq!(Role::Exec.as_str(), "exec");
    assert!(read::<Role>("Owner").is_err());
    assert_eq!(Role::parse("boss"), None);
}

#[test]
fn bases_serialize_and_deserialize_as_their_names() {
    for basis in Basis::ALL {
        assert_eq!(
            toml::Value::try_from(basis).ok(),
            Some(toml::Value::from(basis.as_str()))
        );
        assert_eq!(read::<Basis>(basis.as_str()).ok(), Some(basis));
        assert_eq!(Basis::parse(basis.as_str()), Some(basis));
    }
    assert_eq!(Basis::Business.as_str(), "business");
    assert_eq!(Basis::Calendar.as_str(), "calendar");
    assert!(read::<Basis>("wall").is_err());
}
