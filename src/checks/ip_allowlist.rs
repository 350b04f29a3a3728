//! `ip-allowlist`: IP Address Access Control (`ip_access`) against the addresses the integration calls
//! from. The ranges judged ([`Scope`]) are the selected profile's `source_ranges` for `--cloud`:
//! service-tag names looked up in the service-tag file (the embedded snapshot of that cloud without
//! `--service-tags`) and literal CIDRs as they are; `--service-tag NAME` overrides them, and a profile
//! naming none (the retired Microsoft 365 connector: Microsoft names no tag for it) is judged against every
//! prefix of the file. An address is blocked only when a Deny rule (inbound or bidirectional) matches
//! and no Allow rule does. The evidence names the file and the ranges judged. A stale file (older than
//! [`azure::STALE_AFTER_DAYS`]) turns a pass into a warning only where the age matters: Deny rules
//! filter and every published prefix is admitted, so ranges Microsoft added since may be blocked. A
//! failure stands on the old file's ranges alone; without filtering the ranges do not matter.

use std::borrow::Cow;

use super::findings::may_lack_admin;
use super::{Check, Code, Context, Outcome};
use crate::azure::{self, Direction, Selection, ServiceTagFile};
use crate::profile::{Cloud, SourceRanges};
use crate::runner::facts::{FactKey, FactValue, Facts};
use crate::servicenow::TableQuery;

/// Where to download the file Microsoft's troubleshooting names.
pub const DOWNLOAD_URL: &str = "https://www.microsoft.com/en-us/download/details.aspx?id=56519";
/// Tags listed in the evidence, worst first.
const SHOWN_TAGS: usize = 8;

/// See the module docs.
pub struct IpAllowlist;

const BAD_TAGS: Code = Code::inconclusive("service-tags-unreadable");
const NO_RANGES: Code = Code::inconclusive("no-source-ranges");
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
        &[
            BAD_TAGS,
            NO_RANGES,
            STALE_TAGS,
            BLOCKED_RANGES,
            ADDRESS_BLOCKED,
        ]
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
        let scope = Scope::of(ctx);
        base = base.with("source ranges", scope.describe(ctx));
        let ips = &ctx.settings.service_ips;
        if !policy.filters() && ips.is_empty() {
            base.summary = "no IP filtering: no active inbound Deny rule in ip_access, so Microsoft's addresses are not restricted".into();
            return base;
        }
        if file.is_none() && scope.needs_file() {
            if !policy.filters() {
                base.summary = "no IP filtering: no active inbound Deny rule in ip_access".into();
                return with_addresses(base, &policy, ips);
            }
            let cloud = ctx.settings.cloud;
            let mut outcome = Outcome::inconclusive(format!(
                "ip_access has {} active inbound Deny rule(s), but the Azure service-tag file to compare them with could not be read",
                policy.deny_rules
            ))
            .code(
                BAD_TAGS
                    .arg("file", cloud.download_name())
                    .arg("page", download_page(cloud))
                    .arg("builtin", cloud.builtin_service_tags()),
            );
            outcome.evidence = base.evidence;
            let fact_error = facts.get(&FactKey::ServiceTags).err();
            if let Some(error) = fact_error {
                outcome = outcome.with("service tags", error.to_string());
            }
            return with_addresses(outcome, &policy, ips);
        }
        evaluate_coverage(ctx, base, &policy, file.as_deref(), &scope)
    }
}

/// Which ranges the check judges.
pub enum Scope<'p> {
    /// `--service-tag NAME` (repeatable): those tags of the file.
    Flags(&'p [String]),
    /// The source ranges the profile names for the run's cloud: service tags and literal prefixes.
    Profile(&'p SourceRanges),
    /// Every prefix of the file: the profile names no source ranges for the run's cloud.
    Everything,
}

impl<'p> Scope<'p> {
    /// `--service-tag` wins; else the profile's ranges for `--cloud`; else the whole file.
    pub fn of(ctx: &'p Context) -> Scope<'p> {
        let settings = &ctx.settings;
        if !settings.service_tag_selection.is_empty() {
            return Scope::Flags(&settings.service_tag_selection);
        }
        match settings.profile.source_ranges_for(settings.cloud) {
            Some(ranges) if !ranges.service_tags.is_empty() || !ranges.cidrs.is_empty() => {
                Scope::Profile(ranges)
            }
            _ => Scope::Everything,
        }
    }

    /// Literal prefixes alone need no service-tag file.
    pub fn needs_file(&self) -> bool {
        !matches!(self, Scope::Profile(r) if r.service_tags.is_empty())
    }

    /// The evidence naming what is judged.
    fn describe(&self, ctx: &Context) -> String {
        let profile = &ctx.settings.profile;
        let cloud = ctx.settings.cloud.as_str();
        match self {
            Scope::Flags(names) => format!("--service-tag {}", names.join(", ")),
            Scope::Profile(ranges) => {
                let mut parts = Vec::new();
                if !ranges.service_tags.is_empty() {
                    parts.push(format!("service tag(s) {}", ranges.service_tags.join(", ")));
                }
                if !ranges.cidrs.is_empty() {
                    let cidrs: Vec<String> = ranges.cidrs.iter().map(ToString::to_string).collect();
                    parts.push(format!("literal range(s) {}", cidrs.join(", ")));
                }
                format!(
                    "the {} profile's source ranges ({cloud} cloud): {}",
                    profile.name,
                    parts.join("; ")
                )
            }
            Scope::Everything => {
                let why = if profile.source_ranges.is_empty() {
                    format!(
                        "the {} profile names no narrower tag or range",
                        profile.name
                    )
                } else {
                    format!(
                        "the {} profile names no source ranges for the {cloud} cloud",
                        profile.name
                    )
                };
                format!("every prefix of the service-tag file ({why})")
            }
        }
    }

    /// The selections to judge; an error names a tag the file lacks.
    pub fn selections<'a>(
        &'a self,
        ctx: &Context,
        file: Option<&'a ServiceTagFile>,
    ) -> Result<Vec<Selection<'a>>, String> {
        let lookup = |names: &[String]| -> Result<Vec<Selection<'a>>, String> {
            let Some(file) = file else {
                return Err("no service-tag file to look the tags up in".into());
            };
            file.select(names)
                .map(|tags| tags.into_iter().map(Selection::tag).collect())
                .map_err(|e| e.to_string())
        };
        match self {
            Scope::Flags(names) => lookup(names),
            Scope::Everything => lookup(&[]),
            Scope::Profile(ranges) => {
                let mut out = if ranges.service_tags.is_empty() {
                    Vec::new()
                } else {
                    lookup(&ranges.service_tags).map_err(|e| {
                        format!(
                            "{e} (named by the {} profile for the {} cloud; the file's cloud must match --cloud)",
                            ctx.settings.profile.name,
                            ctx.settings.cloud.as_str()
                        )
                    })?
                };
                out.extend(ranges.cidrs.iter().map(|net| Selection {
                    name: Cow::Owned(net.to_string()),
                    prefixes: Cow::Owned(vec![*net]),
                }));
                Ok(out)
            }
        }
    }
}

/// The Download Center page of a cloud's service-tag file.
fn download_page(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Public => azure::snapshot::PUBLIC.download_page,
        Cloud::Gov => azure::snapshot::GOVERNMENT.download_page,
        Cloud::China => azure::snapshot::CHINA.download_page,
    }
}

fn evaluate_coverage(
    ctx: &Context,
    base: Outcome,
    policy: &azure::Policy,
    file: Option<&ServiceTagFile>,
    scope: &Scope<'_>,
) -> Outcome {
    let selections = match scope.selections(ctx, file) {
        Ok(selections) => selections,
        Err(e) => {
            let mut outcome =
                Outcome::inconclusive(format!("cannot select the source ranges: {e}")).code(
                    NO_RANGES
                        .arg("cloud", ctx.settings.cloud.as_str())
                        .arg("builtin", ctx.settings.cloud.builtin_service_tags())
                        .arg("file", ctx.settings.cloud.download_name())
                        .arg("page", download_page(ctx.settings.cloud)),
                );
            outcome.evidence = base.evidence;
            return outcome;
        }
    };
    let coverage = azure::diagnose(policy, &selections);
    let mut outcome = base.with(
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
        let key = if tag.name.parse::<ipnet::IpNet>().is_ok() {
            format!("range {}", tag.name)
        } else {
            format!("tag {}", tag.name)
        };
        outcome = outcome.with(
            key,
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
    // only tags come from the file: literal ranges do not age with it
    let uses_file = !matches!(scope, Scope::Profile(r) if r.service_tags.is_empty());
    let stale = file
        .filter(|_| uses_file)
        .and_then(|f| f.age(ctx.now))
        .filter(|age| age.stale);
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
        if let (Some(age), Some(file)) = (stale, file) {
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
    let blocked: Vec<&str> = worst
        .iter()
        .map(|t| t.name.as_str())
        .take(SHOWN_TAGS)
        .collect();
    outcome.summary = format!(
        "IP Address Access Control blocks Azure addresses Microsoft's service uses: {} of {} prefixes blocked",
        coverage.overall.partly_blocked + coverage.overall.fully_blocked,
        coverage.overall.prefixes,
    );
    if !matches!(scope, Scope::Everything) {
        outcome.summary = format!("{} ({})", outcome.summary, blocked.join(", "));
    }
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
    let source = match scope {
        Scope::Profile(ranges) if ranges.service_tags.is_empty() => format!(
            "the source ranges the {} documents (snowdoctor profiles show {})",
            ctx.settings.profile.integration, ctx.settings.profile.name
        ),
        _ => format!(
            "{} ({})",
            ctx.settings.cloud.download_name(),
            download_page(ctx.settings.cloud)
        ),
    };
    outcome.code(
        BLOCKED_RANGES
            .arg("ranges", ranges.to_string())
            .arg("source", source)
            .arg("export", export),
    )
}

/// Which file, and how old it is at run time.
fn file_evidence(ctx: &Context, file: &ServiceTagFile) -> String {
    let what = file.provenance();
    match file.age(ctx.now) {
        Some(age) if age.stale => format!(
            "{what}; {}, stale after {}: download the current file from {} and pass --service-tags FILE",
            age.phrase(),
            azure::STALE_AFTER_DAYS,
            file.download_page()
        ),
        Some(age) => format!("{what}; {}", age.phrase()),
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
    let file = match facts.get(&FactKey::ServiceTags) {
        Ok(FactValue::ServiceTags(file)) => Some(file.clone()),
        _ => None,
    };
    let policy = azure::rules_from_rows(rows).policy(Direction::Inbound);
    let scope = Scope::of(ctx);
    let selections = scope.selections(ctx, file.as_deref()).ok()?;
    let coverage = azure::diagnose(&policy, &selections);
    let integration = &ctx.settings.profile.integration;
    let what = if integration.is_empty() {
        "the Microsoft integration"
    } else {
        integration.as_str()
    };
    Some(azure::allow_rules_csv(
        &coverage.repair,
        &format!("snowdoctor: Azure range for {what}"),
    ))
}
