//! A family by name, from each descriptor's name and aliases: serde (manifests, configs, JSON) and
//! clap (`--family`). Both read and write exactly what a derived unit-variant enum with `rename`
//! and `alias` attributes did, messages included.

use std::sync::OnceLock;

use serde::de::{self, Deserializer, EnumAccess, Unexpected, VariantAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::descriptor::Family;
use super::registry::ALL;

/// The family named `name` or one of its aliases.
pub fn by_name(name: &str) -> Option<Family> {
    ALL.iter()
        .copied()
        .find(|f| f.name() == name || f.descriptor().aliases.contains(&name))
}

/// Every accepted name, as serde's "expected one of" lists them: family by family, each family's
/// names (its own and its aliases) sorted.
fn accepted() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ALL.iter()
            .flat_map(|f| {
                let mut names: Vec<&'static str> = f.descriptor().aliases.to_vec();
                names.push(f.name());
                names.sort_unstable();
                names
            })
            .collect()
    })
}

impl Serialize for Family {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = ALL.iter().position(|f| f == self).unwrap_or(0);
        s.serialize_unit_variant("Family", index as u32, self.name())
    }
}

impl<'de> Deserialize<'de> for Family {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Family, D::Error> {
        d.deserialize_enum("Family", accepted(), FamilyVisitor)
    }
}

struct FamilyVisitor;

impl<'de> Visitor<'de> for FamilyVisitor {
    type Value = Family;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("enum Family")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Family, A::Error> {
        let (Name(family), variant) = data.variant::<Name>()?;
        variant.unit_variant()?;
        Ok(family)
    }
}

/// The variant identifier: a name, an alias, or an index into [`ALL`].
struct Name(Family);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        d.deserialize_identifier(NameVisitor).map(Name)
    }
}

struct NameVisitor;

impl Visitor<'_> for NameVisitor {
    type Value = Family;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("variant identifier")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Family, E> {
        usize::try_from(v)
            .ok()
            .and_then(|i| ALL.get(i).copied())
            .ok_or_else(|| {
                let expected = format!("variant index 0 <= i < {}", ALL.len());
                E::invalid_value(Unexpected::Unsigned(v), &expected.as_str())
            })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Family, E> {
        by_name(v).ok_or_else(|| E::unknown_variant(v, accepted()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Family, E> {
        self.visit_str(&String::from_utf8_lossy(v))
    }
}

impl clap::ValueEnum for Family {
    fn value_variants<'a>() -> &'a [Family] {
        ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let d = self.descriptor();
        Some(
            clap::builder::PossibleValue::new(d.name)
                .help(d.help)
                .aliases(d.aliases.iter().copied()),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_and_aliases_are_unique_and_name_their_family() {
        let mut seen = BTreeSet::new();
        for &f in ALL {
            let d = f.descriptor();
            for name in std::iter::once(&d.name).chain(d.aliases) {
                assert!(seen.insert(*name), "{name} names two families");
                assert_eq!(by_name(name), Some(f));
                let json = serde_json::to_string(&f).expect("serialises");
                assert_eq!(json, format!("\"{}\"", d.name));
                let back: Family = serde_json::from_str(&format!("\"{name}\"")).expect("parses");
                assert_eq!(back, f);
            }
            assert!(!d.outputs.is_empty(), "{f} reads no outputs");
        }
    }
}
