//! `instance-version`: the instance runs Kingston or newer. Reads the build properties first
//! (`glide.war`, `glide.buildtag.last`, …), then falls back to `/xmlstats.do` and `/stats.do`.

use super::{Check, Code, Context, Outcome};
use crate::runner::facts::{FactKey, Facts, Page};
use crate::servicenow::TableQuery;
use crate::servicenow::version::{self, Build, Rank};

/// Version properties, read all at once (docs/reference/servicenow-platform.md §1.4).
const VERSION_PROPERTIES: &str =
    "nameINglide.war,glide.buildtag.last,glide.buildtag,glide.buildname,glide.builddate";

/// See the module docs.
pub struct InstanceVersion;

const UNKNOWN_VERSION: Code = Code::warn("version-unknown");
const TOO_OLD: Code = Code::fail("too-old");
const UNRECOGNISED: Code = Code::warn("unrecognised-family");

fn properties_query() -> TableQuery {
    TableQuery::new("sys_properties")
        .query(VERSION_PROPERTIES)
        .fields(["name", "value"])
}

/// The facts the running build is read from (shared with `supported-release`, so they are read once).
pub fn build_facts() -> Vec<FactKey> {
    vec![
        FactKey::Table(properties_query()),
        FactKey::Page(Page::XmlStats),
        FactKey::Page(Page::Stats),
    ]
}

/// The running build, from the first source that answers.
pub fn detect(facts: &Facts) -> Option<Build> {
    let mut tried = Vec::new();
    from_properties(facts, &mut tried)
        .or_else(|| from_page(facts, Page::XmlStats, &mut tried))
        .or_else(|| from_page(facts, Page::Stats, &mut tried))
        .map(|(_, build)| build)
}

impl Check for InstanceVersion {
    fn name(&self) -> &'static str {
        "instance-version"
    }

    fn codes(&self) -> &'static [Code] {
        &[UNKNOWN_VERSION, TOO_OLD, UNRECOGNISED]
    }

    fn needs(&self, _ctx: &Context) -> Vec<FactKey> {
        build_facts()
    }

    fn evaluate(&self, _ctx: &Context, facts: &Facts) -> Outcome {
        let mut tried: Vec<(String, String)> = Vec::new();
        let build = from_properties(facts, &mut tried)
            .or_else(|| from_page(facts, Page::XmlStats, &mut tried))
            .or_else(|| from_page(facts, Page::Stats, &mut tried));
        let Some((source, build)) = build else {
            let mut outcome = Outcome::warn(
                "the instance version could not be determined from any source; it is reported as unknown, not as too old",
            )
            .code(UNKNOWN_VERSION);
            for (what, why) in tried {
                outcome = outcome.with(what, why);
            }
            return outcome;
        };
        // Sources tried before the one that answered stay in the evidence: they explain the fallback.
        let mut outcome = verdict(&build)
            .with("source", source)
            .with("build", build.raw.clone());
        for (what, why) in tried {
            outcome = outcome.with(format!("{what} (tried first)"), why);
        }
        outcome
    }
}

fn verdict(build: &Build) -> Outcome {
    let name = build.family_display();
    let patch = build
        .patch
        .as_deref()
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    match build.rank() {
        Rank::Known(index) if index >= version::kingston() => {
            Outcome::pass(format!("{name}{patch} is Kingston or newer"))
        }
        Rank::Known(_) => Outcome::fail(format!(
            "{name}{patch} is older than Kingston, the connector's minimum release"
        ))
        .code(TOO_OLD.arg("name", &*name)),
        Rank::Newer => Outcome::pass(format!(
            "{name}{patch}: a release newer than every family snowdoctor knows (its GA date is after Brazil's), so newer than Kingston"
        )),
        Rank::Unknown => Outcome::warn(format!(
            "unrecognised release family {:?}; cannot compare it with Kingston",
            build.family
        ))
        .code(UNRECOGNISED),
    }
}

fn from_properties(facts: &Facts, tried: &mut Vec<(String, String)>) -> Option<(String, Build)> {
    let rows = match facts.rows(&properties_query()) {
        Ok(rows) => rows,
        Err(e) => {
            tried.push(("sys_properties".into(), e.to_string()));
            return None;
        }
    };
    // Prefer full tags (glide.war, build tags) over the bare build name.
    for name in ["glide.war", "glide.buildtag.last", "glide.buildtag"] {
        if let Some(row) = rows.iter().find(|r| r.text("name") == name)
            && let Some(build) = version::parse_tag(row.text("value"))
        {
            return Some((format!("sys_properties {name}"), build));
        }
    }
    if let Some(row) = rows.iter().find(|r| r.text("name") == "glide.buildname")
        && let Some(build) = version::parse_build_name(row.text("value"))
    {
        return Some(("sys_properties glide.buildname".into(), build));
    }
    tried.push((
        "sys_properties".into(),
        format!("{} row(s), none with a usable build tag", rows.len()),
    ));
    None
}

fn from_page(
    facts: &Facts,
    page: Page,
    tried: &mut Vec<(String, String)>,
) -> Option<(String, Build)> {
    let (label, parse): (&str, fn(&str) -> Option<Build>) = match page {
        Page::XmlStats => ("/xmlstats.do", version::from_xmlstats),
        Page::Stats => ("/stats.do", version::from_stats_page),
    };
    match facts.response(&FactKey::Page(page)) {
        Ok(response) if response.status == 200 => match parse(&response.body) {
            Some(build) => Some((label.to_string(), build)),
            None => {
                tried.push((
                    label.into(),
                    "answered, but without a build tag or name".into(),
                ));
                None
            }
        },
        Ok(response) => {
            tried.push((label.into(), format!("HTTP {}", response.status)));
            None
        }
        Err(e) => {
            tried.push((label.into(), e.to_string()));
            None
        }
    }
}
