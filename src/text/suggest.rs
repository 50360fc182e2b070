//! "Did you mean …?" for misspelt keys, class names and the like. It sits at the bottom of the
//! module graph (in `text/`) so that the config file and every component can use it without a
//! cycle.

/// The candidate within a small edit distance of `name`, if any (the nearest one).
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    // A third of the word, but at least 2: short names still get a suggestion for one swap.
    let limit = (name.len() / 3).max(2);
    candidates
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_are_suggested_far_ones_are_not() {
        assert_eq!(
            closest("persn", ["person", "car"].into_iter()),
            Some("person")
        );
        assert_eq!(
            closest("zebra_crossing", ["person", "car"].into_iter()),
            None
        );
        assert_eq!(closest("fsp", ["name", "fps"].into_iter()), Some("fps"));
    }
}
