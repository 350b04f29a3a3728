//! `snowdoctor ranges`: the allowlist engine offline, on a service-tag file and optional exported rules.

use std::io::Write;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::azure::coverage::{
    AddressStatus, Coverage, Selection, address_status, allow_rules_csv, diagnose,
};
use crate::azure::intervals::IpSet;
use crate::azure::rules::{Direction, Policy, RuleSet};
use crate::azure::service_tags::{ServiceTag, ServiceTagFile};
use crate::azure::snapshot::TagSource;
use crate::cli::RangesArgs;
use crate::error::Error;
use crate::exit;

/// How many repair ranges are shown inline before pointing at `--export-allow-rules`.
const INLINE_REPAIR: usize = 10;

/// Runs `ranges`: 0 when everything selected is admitted (or no rules were given), 1 when something
/// is blocked (a range or a `--service-ip`), 2 on input errors (also returned as `Err`, whose
/// `exit_code()` is 2).
pub fn run(args: &RangesArgs, out: &mut dyn Write) -> Result<u8, Error> {
    let addresses = parse_addresses(&args.service_ips)?;
    let now = crate::clock::now()?;
    // without --service-tags: the embedded Public snapshot
    let (file, rules) =
        TagSource::from_arg(args.service_tags.as_deref())?.load_with_rules(args.rules.as_deref());
    let file = file?;
    let tags = file
        .select(&args.service_tags_selected)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let selections: Vec<Selection<'_>> = tags.iter().map(|t| Selection::tag(t)).collect();
    let rules = rules.transpose()?;
    let io = |e: std::io::Error| Error::Report(format!("cannot write the output: {e}"));

    let (coverage, code) = match &rules {
        Some(rules) => {
            let policy = rules.policy(Direction::Inbound);
            let coverage = diagnose(&policy, &selections);
            let code = if coverage.all_admitted() {
                exit::OK
            } else {
                exit::FINDINGS
            };
            (coverage, code)
        }
        None => {
            let coverage = diagnose(&RuleSet::default().policy(Direction::Inbound), &selections);
            (coverage, exit::OK)
        }
    };

    let policy = rules.as_ref().map(|r| r.policy(Direction::Inbound));
    let verdicts = address_verdicts(&addresses, policy.as_ref(), &tags);
    let code = if verdicts.iter().any(|v| v.status == BLOCKED) {
        exit::FINDINGS
    } else {
        code
    };

    // without rules, the export admits the whole selection (for a deny-all policy); with rules, only
    // the blocked part of it
    let export = match &rules {
        Some(_) => &coverage.repair,
        None => &coverage.union,
    };
    if let Some(path) = &args.export_allow_rules {
        let csv = allow_rules_csv(export, &export_description(&file, &tags, args));
        std::fs::write(path, csv).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }

    if args.json {
        let mut body = json_output(&file, &tags, args, rules.as_ref(), &coverage, now);
        if !verdicts.is_empty() {
            body["addresses"] = json!(verdicts);
        }
        let text = serde_json::to_string_pretty(&body)
            .map_err(|e| Error::Report(format!("cannot encode JSON: {e}")))?;
        writeln!(out, "{text}").map_err(io)?;
    } else {
        write_header(out, &file, &tags, args, now).map_err(io)?;
        match &rules {
            Some(rules) => write_coverage(out, rules, &coverage, args).map_err(io)?,
            None => write_ranges(out, &coverage.union).map_err(io)?,
        }
        write_addresses(out, &verdicts).map_err(io)?;
        if let Some(path) = &args.export_allow_rules {
            writeln!(
                out,
                "wrote {} Allow rules to {}",
                export.v4.len() + export.v6.len(),
                path.display()
            )
            .map_err(io)?;
        }
    }
    Ok(code)
}

/// `status` of an address a Deny rule matches and no Allow rule admits.
const BLOCKED: &str = "blocked";

/// The verdict on one `--service-ip`.
#[derive(Debug, Clone, Serialize)]
pub struct AddressVerdict {
    pub address: IpAddr,
    /// `admitted` (no Deny rule matches), `allowed` (an Allow rule admits it despite a Deny rule),
    /// `blocked`, or `unchecked` without `--rules`.
    pub status: &'static str,
    pub detail: &'static str,
    /// The selected service tags whose prefixes contain the address.
    pub tags: Vec<String>,
}

fn parse_addresses(raw: &[String]) -> Result<Vec<IpAddr>, Error> {
    raw.iter()
        .map(|text| {
            text.trim()
                .parse::<IpAddr>()
                .map_err(|_| Error::Usage(format!("--service-ip {text:?} is not an IP address")))
        })
        .collect()
}

/// Judges each address against the inbound policy (none without `--rules`).
pub fn address_verdicts(
    addresses: &[IpAddr],
    policy: Option<&Policy>,
    tags: &[&ServiceTag],
) -> Vec<AddressVerdict> {
    addresses
        .iter()
        .map(|&address| {
            let (status, detail) = match policy.map(|p| address_status(p, address)) {
                None => ("unchecked", "no --rules given"),
                Some(AddressStatus::NotFiltered) => {
                    ("admitted", "no active inbound Deny rule: no IP filtering")
                }
                Some(AddressStatus::NotDenied) => ("admitted", "no Deny rule matches it"),
                Some(AddressStatus::Allowed) => (
                    "allowed",
                    "a Deny rule matches it and an Allow rule admits it",
                ),
                Some(AddressStatus::Blocked) => (
                    BLOCKED,
                    "a Deny rule matches it and no Allow rule admits it",
                ),
            };
            let tags = tags
                .iter()
                .filter(|t| t.prefixes.iter().any(|p| p.contains(&address)))
                .map(|t| t.name.to_string())
                .collect();
            AddressVerdict {
                address,
                status,
                detail,
                tags,
            }
        })
        .collect()
}

fn write_addresses(out: &mut dyn Write, verdicts: &[AddressVerdict]) -> std::io::Result<()> {
    if verdicts.is_empty() {
        return Ok(());
    }
    writeln!(out, "addresses (inbound):")?;
    let width = verdicts
        .iter()
        .map(|v| v.address.to_string().len())
        .max()
        .unwrap_or(0);
    for v in verdicts {
        let tags = if v.tags.is_empty() {
            "in no selected tag".to_string()
        } else {
            format!("in {}", v.tags.join(", "))
        };
        writeln!(
            out,
            "  {:<width$}  {:<9} {}; {tags}",
            v.address.to_string(),
            v.status,
            v.detail
        )?;
    }
    let blocked: Vec<String> = verdicts
        .iter()
        .filter(|v| v.status == BLOCKED)
        .map(|v| v.address.to_string())
        .collect();
    if !blocked.is_empty() {
        writeln!(
            out,
            "{} of {} addresses blocked: add an inbound Allow rule for {} (System Security > IP Address Access Control)",
            blocked.len(),
            verdicts.len(),
            blocked.join(", ")
        )?;
    }
    Ok(())
}

fn selection_note(tags: &[&ServiceTag], args: &RangesArgs) -> String {
    if args.service_tags_selected.is_empty() {
        "every prefix in the file (Microsoft names no narrower service tag for the connector)"
            .into()
    } else {
        tags.iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `builtin:public`, `builtin:sample` or the path given.
fn source_name(file: &ServiceTagFile) -> String {
    use crate::azure::snapshot::{BUILTIN, Origin, SAMPLE_KEY};
    match &file.origin {
        Origin::Builtin(s) => format!("{BUILTIN}{}", s.key),
        Origin::Sample => format!("{BUILTIN}{SAMPLE_KEY}"),
        Origin::File(path) => path.display().to_string(),
        Origin::Text => String::new(),
    }
}

fn export_description(file: &ServiceTagFile, tags: &[&ServiceTag], args: &RangesArgs) -> String {
    let what = if args.service_tags_selected.is_empty() {
        "all Azure service tags".to_string()
    } else {
        tags.iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "snowdoctor: {what} ({} change {})",
        file.cloud, file.change_number
    )
}

fn write_header(
    out: &mut dyn Write,
    file: &ServiceTagFile,
    tags: &[&ServiceTag],
    args: &RangesArgs,
    now: DateTime<Utc>,
) -> std::io::Result<()> {
    writeln!(out, "service tags: {}", file.provenance())?;
    writeln!(
        out,
        "  {} tags, {} prefixes",
        file.tags.len(),
        file.prefix_count()
    )?;
    writeln!(out, "selection: {}", selection_note(tags, args))?;
    // the age line starts with "warning:" when the file is stale
    writeln!(out, "{}", file.notice(now))?;
    if !file.host_bits.is_empty() {
        writeln!(
            out,
            "warning: {} prefixes had host bits set and were masked, e.g. {} in {} used as {}",
            file.host_bits.len(),
            file.host_bits[0].given,
            file.host_bits[0].tag,
            file.host_bits[0].used
        )?;
    }
    Ok(())
}

fn write_ranges(out: &mut dyn Write, union: &IpSet) -> std::io::Result<()> {
    for set in [&union.v4, &union.v6] {
        writeln!(
            out,
            "{}: {} merged ranges, {} addresses, {} CIDR prefixes",
            set.family(),
            set.len(),
            set.count(),
            set.to_cidrs().len()
        )?;
        for iv in set.intervals() {
            let size = iv.len();
            let (start, end) = (set.family().addr(iv.start), set.family().addr(iv.end));
            writeln!(out, "  {start} - {end}  ({size})")?;
        }
    }
    Ok(())
}

fn write_coverage(
    out: &mut dyn Write,
    rules: &RuleSet,
    coverage: &Coverage,
    args: &RangesArgs,
) -> std::io::Result<()> {
    let policy = rules.policy(Direction::Inbound);
    writeln!(
        out,
        "rules: {} readable, {} malformed; inbound: {} active Deny, {} active Allow",
        rules.rules.len(),
        rules.malformed.len(),
        policy.deny_rules,
        policy.allow_rules
    )?;
    for bad in &rules.malformed {
        writeln!(out, "  malformed {}: {} (ignored)", bad.sys_id, bad.reason)?;
    }
    for rule in rules.ignored(Direction::Inbound) {
        let why = if rule.active {
            "outbound only"
        } else {
            "inactive"
        };
        writeln!(
            out,
            "  ignored {} ({why}): {:?} {}-{}",
            rule.sys_id, rule.rule_type, rule.start, rule.end
        )?;
    }
    if !coverage.filtering {
        writeln!(
            out,
            "no IP filtering: no active inbound Deny rule, so every address is admitted"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<48} {:>8} {:>8} {:>8} {:>8} {:>12} {:>12}",
        "tag", "prefixes", "admitted", "partly", "blocked", "blocked v4", "blocked v6"
    )?;
    let blocked_tags = coverage.tags.iter().filter(|t| !t.is_admitted()).count();
    for tag in coverage
        .tags
        .iter()
        .filter(|t| !t.is_admitted())
        .chain(std::iter::once(&coverage.overall))
    {
        writeln!(
            out,
            "{:<48} {:>8} {:>8} {:>8} {:>8} {:>12} {:>12}",
            tag.name,
            tag.prefixes,
            tag.admitted,
            tag.partly_blocked,
            tag.fully_blocked,
            tag.blocked_v4.to_string(),
            tag.blocked_v6.to_string()
        )?;
    }
    writeln!(
        out,
        "{} of {} selected tags fully admitted",
        coverage.tags.len() - blocked_tags,
        coverage.tags.len()
    )?;
    let repair = &coverage.repair;
    let needed = repair.v4.len() + repair.v6.len();
    if needed == 0 {
        writeln!(out, "everything selected is admitted")?;
        return Ok(());
    }
    writeln!(
        out,
        "repair: add {needed} inbound Allow rules ({} IPv4, {} IPv6) to admit everything selected",
        repair.v4.len(),
        repair.v6.len()
    )?;
    for (start, end) in repair
        .v4
        .ranges()
        .chain(repair.v6.ranges())
        .take(INLINE_REPAIR)
    {
        writeln!(out, "  allow {start} - {end}")?;
    }
    if needed > INLINE_REPAIR {
        writeln!(out, "  … and {} more", needed - INLINE_REPAIR)?;
    }
    if args.export_allow_rules.is_none() {
        writeln!(
            out,
            "use --export-allow-rules FILE to write them as CSV for an import into ip_access"
        )?;
    }
    Ok(())
}

fn json_output(
    file: &ServiceTagFile,
    tags: &[&ServiceTag],
    args: &RangesArgs,
    rules: Option<&RuleSet>,
    coverage: &Coverage,
    now: DateTime<Utc>,
) -> serde_json::Value {
    let ranges = |set: &IpSet| -> serde_json::Value {
        json!({
            "v4": set.v4.ranges().map(|(s, e)| json!([s, e])).collect::<Vec<_>>(),
            "v6": set.v6.ranges().map(|(s, e)| json!([s, e])).collect::<Vec<_>>(),
        })
    };
    let mut body = json!({
        "file": {
            "source": source_name(file),
            "provenance": file.provenance(),
            "cloud": file.cloud,
            "change_number": file.change_number,
            "date": file.date.map(|d| d.to_string()),
            "age_days": file.age(now).map(|a| a.days),
            "stale": file.age(now).is_some_and(|a| a.stale),
            "notice": file.notice(now),
            "tags": file.tags.len(),
            "prefixes": file.prefix_count(),
            "host_bits": file.host_bits,
        },
        "selection": {
            "note": selection_note(tags, args),
            "tags": tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            "addresses_v4": coverage.overall.addresses_v4,
            "addresses_v6": coverage.overall.addresses_v6,
        },
        "merged": ranges(&coverage.union),
    });
    if let Some(rules) = rules {
        body["rules"] = json!({
            "malformed": rules.malformed,
            "ignored_inbound": rules.ignored(Direction::Inbound).collect::<Vec<_>>(),
            "readable": rules.rules.len(),
        });
        body["coverage"] = json!({
            "filtering": coverage.filtering,
            "all_admitted": coverage.all_admitted(),
            "overall": coverage.overall,
            "tags": coverage.tags,
            "repair": ranges(&coverage.repair),
        });
    }
    body
}
