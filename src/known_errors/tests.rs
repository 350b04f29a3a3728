//! The catalogue resolves every published string (and its variants) to its own entry, names only checks
//! and profiles that exist, and says nothing about text it does not know.

use super::*;
use crate::catalogue::Catalogue;
use crate::config::Profile;

fn catalogue() -> KnownErrors {
    KnownErrors::embedded().unwrap_or_else(|e| panic!("{e}"))
}

/// The ways a pasted string differs from the published one.
fn variants(text: &str) -> Vec<String> {
    vec![
        text.to_string(),
        text.to_uppercase(),
        text.to_lowercase(),
        text.replace(' ', "\n\t  "),
        text.replace('\'', "\u{2019}").replace('"', "\u{201c}"),
        text.replace('\'', "\"").replace('"', ""),
        format!("2026-05-01T10:00:00Z ERROR connector: {text} (correlation id 7f3a)"),
    ]
}

#[test]
fn every_example_and_its_variants_resolve_to_their_entry() {
    let catalogue = catalogue();
    let mut count = 0;
    for entry in catalogue.entries() {
        for example in &entry.examples {
            for variant in variants(example) {
                let matches = catalogue.lookup(&variant);
                let best = matches
                    .first()
                    .unwrap_or_else(|| panic!("{}: nothing matches {variant:?}", entry.id));
                assert_eq!(
                    best.error.id, entry.id,
                    "{variant:?} resolved to {} (score {}) before {}",
                    best.error.id, best.score, entry.id
                );
                count += 1;
            }
        }
    }
    assert!(count > 200, "{count}");
}

#[test]
fn names_quotes_and_spacing_do_not_matter() {
    let catalogue = catalogue();
    for (text, id) in [
        (
            "Write operation against “incident” from scope `x_acme_sync` has been refused due to the table’s cross-scope access policy",
            "cross-scope-access-refused",
        ),
        (
            "Failed to add ITSM Connection named 'Prod SNOW (EU)' due to Bad Request.  Error: Bad request. Invalid parameters provided for connection.\nHttp Exception: Status Code Forbidden.",
            "itsmc-ip-restricted",
        ),
        (
            "Could not create/update work item for alert Disk full on vm-42. ITSM Connector 9a8b7c6d does not exist or was deleted.",
            "itsmc-connector-deleted",
        ),
        (
            "invalid redirect_uri&redirect_uri=https%3A%2F%2Fgcsgcc.office.com%2Fv1.0%2Fadmin%2Foauth%2Fcallback",
            "copilot-invalid-redirect-uri",
        ),
        (
            "Invalid redirect_uri https://fabrikam.visualstudio.com/_admin/oauth2/callback",
            "azure-pipelines-invalid-redirect-uri",
        ),
        (
            "Invalid redirect_uri: https://tip1-shared.consent.azure-apim.net/redirect",
            "power-platform-invalid-redirect-uri",
        ),
        ("invalid REDIRECT_URI", "invalid-redirect-uri"),
    ] {
        let matches = catalogue.lookup(text);
        assert_eq!(
            matches.first().map(|m| m.error.id.as_str()),
            Some(id),
            "{text:?}"
        );
    }
}

#[test]
fn unknown_text_matches_nothing() {
    let catalogue = catalogue();
    for text in [
        "",
        "everything is fine",
        "The operation completed successfully.",
        "2006-01-02 invalid",
        "redirect",
    ] {
        assert!(catalogue.lookup(text).is_empty(), "{text:?} matched");
    }
}

#[test]
fn every_entry_names_checks_and_a_profile_that_exist() {
    let checks = Catalogue::load(None).unwrap_or_else(|e| panic!("{e}"));
    let profiles: Vec<String> = Profile::builtin().into_iter().map(|p| p.name).collect();
    for entry in catalogue().entries() {
        for check in &entry.checks {
            assert!(
                checks.get(check).is_some(),
                "{}: unknown check {check}",
                entry.id
            );
        }
        if let Some(profile) = &entry.profile {
            assert!(
                profiles.contains(profile),
                "{}: unknown profile {profile}",
                entry.id
            );
        }
        if !entry.checks.is_empty() {
            assert!(
                entry.profile.is_some(),
                "{}: checks without a profile",
                entry.id
            );
        }
        assert!(entry.source.starts_with("https://"), "{}", entry.id);
    }
}

#[test]
fn the_reference_strings_are_all_catalogued() {
    // The strings of docs/reference/live-integrations.md §13 and the retired connector's own error.
    let catalogue = catalogue();
    for text in [
        "ACL Exception Update Failed due to security constraints",
        "An error occurred while sending the request.",
        "ServiceDeskHttpBadRequestException: StatusCode=429",
        "AccessToken and RefreshToken invalid. User needs to authenticate again.",
        "Could not sync templates configuration for Event,Alert,Incident. See Exception Message for more details.",
        "Something went wrong. Could not get connection details.",
        "Failed to update ITSM Connection credentials",
        "User Not Authenticated",
        "Error in saving connection",
        "Can't retrieve the template configuration, see the connector logs for more information.",
        "No values found for the following fields: category.",
        "Illegal access to getter method getMessage in class com.glide.script.fencing.access.ScopeAccessNotGrantedException",
        "Confidential client is not supported in cross cloud request",
        "Logout successful",
        "AADSTS501051",
        "The credentials do not have access to the following tables: sys_dp_object.",
        "Invalid redirect_uri",
        "Your OAuth redirect failed. Please check if the redirect URL setup in your OAuth configuration matches your ServiceNow instance URL.",
        "Missing redirect URL in application registration.",
        "ServiceNowInstanceInvalid",
        "InvalidLookupReference",
        "EntryJoiningPropertyValueIsMissing",
        "Required to provide Auth information",
        "Invalid table incident_x",
        "Rate limit exceeded",
        "Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has been refused due to the table's cross-scope access policy",
    ] {
        assert!(
            !catalogue.lookup(text).is_empty(),
            "{text:?} is not catalogued"
        );
    }
}

#[test]
fn a_bad_catalogue_is_rejected_with_its_line() {
    let entry = |id: &str, pattern: &str| {
        format!(
            "[[error]]\nid = \"{id}\"\ntitle = \"t\"\nintegration = \"i\"\npatterns = [\"{pattern}\"]\nexamples = [\"x\"]\nmeaning = \"m\"\nfix = \"f\"\nsource = \"https://example.org\"\n"
        )
    };
    let twice = format!("{}{}", entry("a", "x"), entry("a", "y"));
    let error = KnownErrors::parse("t.toml", &twice).expect_err("duplicate");
    assert!(error.to_string().contains("duplicate id"), "{error}");
    let error = KnownErrors::parse("t.toml", &entry("b", "{name}")).expect_err("empty");
    assert!(error.to_string().contains("no literal text"), "{error}");
    let error = KnownErrors::parse("t.toml", &entry("Not_Kebab", "x")).expect_err("id");
    assert!(error.to_string().contains("kebab-case"), "{error}");
    assert!(KnownErrors::parse("t.toml", "[[error]]\nid = 1").is_err());
}
