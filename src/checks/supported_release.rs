//! `supported-release`: the instance's release family is within the range the integration's vendor
//! lists. Older than the minimum fails (the vendor does not support it); newer than the newest listed
//! family warns: not listed is not known broken (ITSMC's list stops at Washington DC).

use super::instance_version::{build_facts, detect};
use super::{Check, Code, Context, Outcome};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::version::{FAMILIES, Rank, normalise_family};

/// See the module docs.
pub struct SupportedRelease;

const TOO_OLD: Code = Code::fail("too-old");
const NEWER: Code = Code::warn("newer-than-listed");
const UNKNOWN_RELEASE: Code = Code::inconclusive("release-unknown");

fn position(family: &str) -> Option<usize> {
    let family = normalise_family(family);
    FAMILIES.iter().position(|f| *f == family)
}

impl Check for SupportedRelease {
    fn name(&self) -> &'static str {
        "supported-release"
    }

    fn codes(&self) -> &'static [Code] {
        &[TOO_OLD, NEWER, UNKNOWN_RELEASE]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let releases = &ctx.settings.profile.releases;
        if releases.min.is_none() && releases.max.is_none() {
            return Vec::new();
        }
        build_facts()
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        let releases = &profile.releases;
        if releases.min.is_none() && releases.max.is_none() {
            return Outcome::skipped(format!(
                "not applicable: the {} profile names no supported release range",
                profile.name
            ));
        }
        let Some(build) = detect(facts) else {
            return Outcome::inconclusive(
                "the instance's release could not be determined (see instance-version)",
            )
            .code(UNKNOWN_RELEASE);
        };
        let name = build.family_display();
        let range = match (&releases.min, &releases.max) {
            (Some(min), Some(max)) => format!("{min} … {max}"),
            (Some(min), None) => format!("{min} or newer"),
            (None, Some(max)) => format!("up to {max}"),
            (None, None) => String::new(),
        };
        let outcome = match build.rank() {
            Rank::Known(index) => {
                let min = releases.min.as_deref().and_then(position);
                let max = releases.max.as_deref().and_then(position);
                if min.is_some_and(|m| index < m) {
                    Outcome::fail(format!(
                        "{name} is older than the oldest release the {} supports ({range})",
                        profile.integration
                    ))
                    .code(TOO_OLD)
                } else if max.is_some_and(|m| index > m) {
                    Outcome::warn(format!(
                        "{name} is newer than the releases the {} lists as supported ({range}): not listed, not known broken",
                        profile.integration
                    ))
                    .code(NEWER)
                } else {
                    Outcome::pass(format!("{name} is within the supported range ({range})"))
                }
            }
            Rank::Newer if releases.max.is_some() => Outcome::warn(format!(
                "{name} is newer than every release snowdoctor knows, beyond the supported range ({range})"
            ))
            .code(NEWER),
            Rank::Newer => Outcome::pass(format!("{name} is newer than the minimum ({range})")),
            Rank::Unknown => Outcome::inconclusive(format!(
                "unrecognised release family {:?}; cannot compare it with {range}",
                build.family
            ))
            .code(UNKNOWN_RELEASE),
        };
        outcome
            .with("build", build.raw.clone())
            .with("supported", range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{context_with, rows};
    use crate::model::Status;
    use crate::profile::ReleaseRange;
    use crate::servicenow::TableQuery;

    fn run(tag: &str) -> Outcome {
        let ctx = context_with(|s| {
            s.profile.releases = ReleaseRange {
                min: Some("geneva".into()),
                max: Some("washingtondc".into()),
            };
        });
        let properties = TableQuery::new("sys_properties")
            .query("nameINglide.war,glide.buildtag.last,glide.buildtag,glide.buildname,glide.builddate")
            .fields(["name", "value"]);
        let facts = Facts::from_pairs([rows(
            FactKey::Table(properties),
            vec![serde_json::json!({"name": "glide.buildtag.last", "value": tag})],
        )]);
        SupportedRelease.evaluate(&ctx, &facts)
    }

    #[test]
    fn older_fails_newer_warns_within_passes() {
        assert_eq!(
            run("glide-utah-12-21-2022__patch1-02-08-2023").status,
            Status::Pass
        );
        assert_eq!(
            run("glide-washingtondc-12-20-2023__patch8-09-19-2024").status,
            Status::Pass
        );
        assert_eq!(
            run("glide-xanadu-07-02-2024__patch1-08-21-2024").status,
            Status::Warn
        );
        assert_eq!(
            run("glide-fuji-12-01-2014__patch1-01-01-2015").status,
            Status::Fail
        );
    }
}
