//! "Did you mean": one rule for every name a user types (subcommands, scenarios, check ids, areas,
//! profiles), so a typo gets the same help everywhere.
//!
//! The rule is an edit distance (optimal string alignment: insertions, deletions, substitutions and
//! adjacent swaps) of at most a third of the longer name, and at least one edit is always allowed. That
//! accepts `rn` → `run` and `multifault` → `multi-fault` but not `rn` → `ranges` (four edits for six
//! letters), which a similarity score like Jaro-Winkler would propose.

/// The closest candidate within the distance rule, ignoring ASCII case (ties: the first candidate).
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed = input.trim().to_ascii_lowercase();
    if typed.is_empty() {
        return None;
    }
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let distance = strsim::osa_distance(&typed, &candidate.to_ascii_lowercase());
            let longer = typed.chars().count().max(candidate.chars().count());
            (distance <= (longer / 3).max(1)).then_some((distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// ` (did you mean "NAME"?)` for the closest candidate, or nothing.
pub fn hint<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(input, candidates)
        .map(|name| format!(" (did you mean {name:?}?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMANDS: [&str; 6] = ["run", "demo", "emulate", "list", "explain", "ranges"];

    #[test]
    fn typos_get_the_intended_name() {
        assert_eq!(closest("rn", COMMANDS), Some("run"));
        assert_eq!(closest("demp", COMMANDS), Some("demo"));
        assert_eq!(closest("explian", COMMANDS), Some("explain"));
        assert_eq!(
            closest("multifault", ["multi-fault", "healthy"]),
            Some("multi-fault")
        );
        assert_eq!(
            closest(
                "oauth-entity-crossscope",
                ["oauth-entity", "oauth-entity-cross-scope"]
            ),
            Some("oauth-entity-cross-scope")
        );
        assert_eq!(
            closest("IP-ALLOWLIST", ["ip_allowlist", "sso"]),
            Some("ip_allowlist")
        );
    }

    #[test]
    fn far_names_get_nothing() {
        assert_eq!(closest("rn", ["ranges", "report"]), None);
        assert_eq!(closest("xyz", COMMANDS), None);
        assert_eq!(closest("", COMMANDS), None);
        assert_eq!(hint("zzzz", COMMANDS), "");
    }
}
