//! `ip-allowlist`: IP Address Access Control (`ip_access`) against Azure's published ranges. Microsoft
//! names no service tag for the connector, so by default every prefix of the service-tag file must be
//! admitted (inbound and bidirectional rules; an address is blocked only when a Deny rule matches and no
//! Allow rule does). Without `--service-tags` the ranges are the embedded Public snapshot
//! (`src/azure/snapshot.rs`); the evidence names the file used. A stale file (older than
//! [`azure::STALE_AFTER_DAYS`]) turns a pass into a warning only where the age matters: Deny rules
//! filter and every published prefix is admitted, so ranges Microsoft added since may be blocked. A
//! failure stands on the old file's ranges alone; without filtering the ranges do not matter.

use std::sync::Arc;

use super::findings::may_lack_admin;
use super::{Check, Code, Context, Outcome};
use crate::azure::{self, Direction, Selection, ServiceTagFile};
use crate::runner::facts::{FactKey, FactValue, Facts};
use crate::servicenow::TableQuery;

/// Where to download the file Microsoft's troubleshooting names.
pub const DOWNLOAD_URL: &str = "https://www.microsoft.com/en-us/download/details.aspx?id=56519";
/// Tags listed in the evidence, worst first.
const SHOWN_TAGS: usize = 8;

/// See the module docs.
pub struct IpAllowlist;

const BAD_TAGS: Code = Code::inconclusive("service-tags-unreadable");
const STALE_TAGS: Code = Code::warn("stale-service-tags");
const BLOCKED_RANGES: Code = Code::fail("blocks-azure-ranges");
const ADDRESS_BLOCKED: Code = Code::fail("blocks-address");

/// The `ip_access` read.
pub fn rules_query() -> TableQuery {
    TableQuery::new("ip_access").fields([
        "sys_id",
        "type",
        "flow",
        "active",
        "range_start",
        "range_end",
        "description",
    ])
}

impl Check for IpAllowlist {
    fn name(&self) -> &'static str {
        "ip-allowlist"
    }

    fn codes(&self) -> &'static [Code] {
        &[BAD_TAGS, STALE_TAGS, BLOCKED_RANGES, ADDRESS_BLOCKED]
    }

    fn needs(&self, _ctx: &Context) -> Vec<FactKey> {
        vec![
            FactKey::Table(rules_query()),
            FactKey::ServiceTags,
            FactKey::WhoAmI,
        ]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let rows = match facts.rows(&rules_query()) {
            Ok(rows) => rows,
            Err(e) => return Outcome::from_fact_error(&e, "ip_access"),
        };
        if rows.is_empty() && may_lack_admin(facts) {
            return Outcome::inconclusive(
                "ip_access returned no rows to a non-admin account: rules may be hidden by ACLs; run with an admin account",
            );
        }
        let rules = azure::rules_from_rows(rows);
        let policy = rules.policy(Direction::Inbound);
        let mut base = Outcome::pass("").with(
            "ip_access rules",
            format!(
                "{} readable ({} inbound allow, {} inbound deny), {} malformed",
                rules.rules.len(),
                policy.allow_rules,
                policy.deny_rules,
                rules.malformed.len()
            ),
        );
        for bad in &rules.malformed {
            base = base.with(
                format!("ip_access[{}]", bad.sys_id),
                format!("ignored: {}", bad.reason),
            );
        }
        for ignored in rules.ignored(Direction::Inbound) {
            base = base.with(
                format!("ip_access[{}]", ignored.sys_id),
                format!(
                    "ignored for inbound traffic ({}, {:?})",
                    if ignored.active { "active" } else { "inactive" },
                    ignored.flow
                ),
            );
        }
        let file = match facts.get(&FactKey::ServiceTags) {
            Ok(FactValue::ServiceTags(file)) => Some(file.clone()),
            _ => None,
        };
        if let Some(file) = &file {
            base = base.with("service-tag file", file_evidence(ctx, file));
        }
        let ips = &ctx.settings.service_ips;
        if !policy.filters() && ips.is_empty() {
            base.summary = "no IP filtering: no active inbound Deny rule in ip_access, so Microsoft's addresses are not restricted".into();
            return base;
        }
        let Some(file) = file else {
            if !policy.filters() {
                base.summary = "no IP filtering: no active inbound Deny rule in ip_access".into();
                return with_addresses(base, &policy, ips);
            }
            let mut outcome = Outcome::inconclusive(format!(
                "ip_access has {} active inbound Deny rule(s), but the Azure service-tag file to compare them with could not be read",
                policy.deny_rules
            ))
            .code(BAD_TAGS);
            outcome.evidence = base.evidence;
            let fact_error = facts.get(&FactKey::ServiceTags).err();
            if let Some(error) = fact_error {
                outcome = outcome.with("service tags", error.to_string());
            }
            return with_addresses(outcome, &policy, ips);
        };
        evaluate_coverage(ctx, base, &policy, &file)
    }
}

fn evaluate_coverage(
    ctx: &Context,
    base: Outcome,
    policy: &azure::Policy,
    file: &Arc<ServiceTagFile>,
) -> Outcome {
    let selection = &ctx.settings.service_tag_selection;
    let tags = match file.select(selection) {
        Ok(tags) => tags,
        Err(e) => return Outcome::inconclusive(format!("cannot select service tags: {e}")),
    };
    let selections: Vec<Selection> = tags.iter().map(|t| Selection::tag(t)).collect();
    let coverage = azure::diagnose(policy, &selections);
    let scope = if selection.is_empty() {
        "every prefix of the file (Microsoft names no narrower tag for this connector)".to_string()
    } else {
        format!("tags {}", selection.join(", "))
    };
    let mut outcome = base
        .with("ranges checked", scope)
        .with(
            "overall",
            format!(
                "{} prefixes: {} admitted, {} partly blocked, {} fully blocked; blocked addresses: {} IPv4, {} IPv6",
                coverage.overall.prefixes,
                coverage.overall.admitted,
                coverage.overall.partly_blocked,
                coverage.overall.fully_blocked,
                coverage.overall.blocked_v4,
                coverage.overall.blocked_v6
            ),
        );
    let mut worst: Vec<&azure::TagCoverage> =
        coverage.tags.iter().filter(|t| !t.is_admitted()).collect();
    worst.sort_by_key(|t| std::cmp::Reverse(t.partly_blocked + t.fully_blocked));
    for tag in worst.iter().take(SHOWN_TAGS) {
        outcome = outcome.with(
            format!("tag {}", tag.name),
            format!(
                "{} of {} prefixes blocked ({} fully), {} IPv4 + {} IPv6 addresses",
                tag.partly_blocked + tag.fully_blocked,
                tag.prefixes,
                tag.fully_blocked,
                tag.blocked_v4,
                tag.blocked_v6
            ),
        );
    }
    if worst.len() > SHOWN_TAGS {
        outcome = outcome.with(
            "more tags",
            format!("{} more tags are partly blocked", worst.len() - SHOWN_TAGS),
        );
    }
    let stale = file.age(ctx.now).filter(|age| age.stale);
    outcome = with_addresses(outcome, policy, &ctx.settings.service_ips);
    let address_blocked = ctx
        .settings
        .service_ips
        .iter()
        .any(|ip| azure::address_status(policy, *ip).is_blocked());
    if coverage.all_admitted() && !address_blocked {
        outcome.summary = format!(
            "ip_access admits all {} selected Azure prefixes ({} inbound Deny rule(s), covered by Allow rules)",
            coverage.overall.prefixes, policy.deny_rules
        );
        if let Some(age) = stale {
            outcome.status = crate::model::Status::Warn;
            outcome.summary = format!(
                "{}, but the service-tag file is {} days old: ranges Microsoft added since may be blocked",
                outcome.summary, age.days
            );
            outcome = outcome.code(
                STALE_TAGS.arg("page", file.download_page()).arg(
                    "date",
                    file.date
                        .map_or_else(|| "then".to_string(), |d| d.to_string()),
                ),
            );
        }
        return outcome;
    }
    let ranges = coverage.repair.v4.len() + coverage.repair.v6.len();
    outcome.status = crate::model::Status::Fail;
    outcome.summary = format!(
        "IP Address Access Control blocks Azure addresses Microsoft's service uses: {} of {} prefixes blocked",
        coverage.overall.partly_blocked + coverage.overall.fully_blocked,
        coverage.overall.prefixes
    );
    outcome.evidence.push(crate::model::Evidence::new(
        "minimal Allow rules",
        format!(
            "{ranges} range(s) ({} IPv4, {} IPv6)",
            coverage.repair.v4.len(),
            coverage.repair.v6.len()
        ),
    ));
    let export = match &ctx.settings.export_allow_rules {
        Some(path) => format!("They were written to {} (CSV for an ip_access import).", path.display()),
        None => "Rerun with --export-allow-rules FILE to get them as CSV ready to import into ip_access.".into(),
    };
    outcome.code(
        BLOCKED_RANGES
            .arg("ranges", ranges.to_string())
            .arg("export", export),
    )
}

/// Which file, and how old it is at run time.
fn file_evidence(ctx: &Context, file: &ServiceTagFile) -> String {
    let what = file.provenance();
    match file.age(ctx.now) {
        Some(age) if age.stale => format!(
            "{what}; {} days old, stale after {}: download the current file from {} and pass --service-tags FILE",
            age.days,
            azure::STALE_AFTER_DAYS,
            file.download_page()
        ),
        Some(age) => format!("{what}; {} days old", age.days),
        None => what,
    }
}

fn with_addresses(
    mut outcome: Outcome,
    policy: &azure::Policy,
    ips: &[std::net::IpAddr],
) -> Outcome {
    for ip in ips {
        let status = azure::address_status(policy, *ip);
        outcome = outcome.with(format!("address {ip}"), format!("{status:?}"));
        if status.is_blocked() && outcome.status != crate::model::Status::Fail {
            outcome.status = crate::model::Status::Fail;
            outcome.summary = format!("IP Address Access Control blocks {ip}");
            outcome = outcome.code(ADDRESS_BLOCKED.arg("ip", ip.to_string()));
        }
    }
    outcome
}

/// The CSV of minimal Allow rules for `--export-allow-rules`, from the same facts the check evaluated.
pub fn allow_rules_export(ctx: &Context, facts: &Facts) -> Option<String> {
    let rows = facts.rows(&rules_query()).ok()?;
    let Ok(FactValue::ServiceTags(file)) = facts.get(&FactKey::ServiceTags) else {
        return None;
    };
    let policy = azure::rules_from_rows(rows).policy(Direction::Inbound);
    let tags = file.select(&ctx.settings.service_tag_selection).ok()?;
    let selections: Vec<Selection> = tags.iter().map(|t| Selection::tag(t)).collect();
    let coverage = azure::diagnose(&policy, &selections);
    Some(azure::allow_rules_csv(
        &coverage.repair,
        "snowdoctor: Azure range for the Microsoft 365 connector",
    ))
}
