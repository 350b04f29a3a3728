//! Coverage of Azure ranges by an `ip_access` policy, and the repair hint.
//!
//! A prefix is fully admitted when none of its addresses is blocked (`Deny* \ Allow*`); the
//! minimal repair is the blocked part of the selected union, as merged start–end ranges, which is
//! exactly what ServiceNow's Allow rules take (they are ranges, never CIDR).

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::intervals::{Count, Family, Interval, IntervalSet, IpSet, IpSetBuilder};
use super::rules::{Direction, Policy, csv_field};
use super::service_tags::ServiceTag;

/// Something to admit: a service tag, or a single address given with `--service-ip`.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    pub name: Cow<'a, str>,
    pub prefixes: Cow<'a, [IpNet]>,
}

impl<'a> Selection<'a> {
    /// A service tag's prefixes.
    pub fn tag(tag: &'a ServiceTag) -> Selection<'a> {
        Selection {
            name: Cow::Borrowed(&tag.name),
            prefixes: Cow::Borrowed(&tag.prefixes),
        }
    }

    /// One address (a /32 or /128).
    pub fn address(addr: IpAddr) -> Selection<'static> {
        Selection {
            name: Cow::Owned(addr.to_string()),
            prefixes: Cow::Owned(vec![IpNet::from(addr)]),
        }
    }
}

/// The verdict for one selection (or for the distinct prefixes of all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TagCoverage {
    pub name: String,
    pub prefixes: usize,
    pub admitted: usize,
    pub partly_blocked: usize,
    pub fully_blocked: usize,
    pub addresses_v4: Count,
    pub addresses_v6: Count,
    pub blocked_v4: Count,
    pub blocked_v6: Count,
}

impl TagCoverage {
    /// True when no address of the selection is blocked.
    pub fn is_admitted(&self) -> bool {
        self.partly_blocked == 0 && self.fully_blocked == 0
    }
}

/// The diagnosis of a selection against a policy.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub direction: Direction,
    /// False when no active Deny rule applies ("no IP filtering"): everything is admitted.
    pub filtering: bool,
    pub tags: Vec<TagCoverage>,
    /// Over the distinct prefixes of every selection.
    pub overall: TagCoverage,
    /// Merged union of every selected prefix.
    pub union: IpSet,
    /// `blocked ∩ union`: the minimal Allow ranges that would admit everything selected.
    pub repair: IpSet,
}

impl Coverage {
    /// True when every selected address is admitted.
    pub fn all_admitted(&self) -> bool {
        self.overall.is_admitted()
    }
}

/// Judges each selection against the policy's blocked set.
pub fn diagnose(policy: &Policy, selections: &[Selection<'_>]) -> Coverage {
    let total: usize = selections.iter().map(|s| s.prefixes.len()).sum();
    let (mut v4, mut v6) = (Vec::with_capacity(total), Vec::with_capacity(total / 2));
    let mut tags = Vec::with_capacity(selections.len());
    for sel in selections {
        let (from4, from6) = (v4.len(), v6.len());
        for net in sel.prefixes.iter() {
            match Interval::of_net(net) {
                (Family::V4, iv) => v4.push(iv),
                (Family::V6, iv) => v6.push(iv),
            }
        }
        let name = sel.name.to_string();
        tags.push(judge(policy, name, &v4[from4..], &v6[from6..]).0);
    }
    let v4 = distinct_v4(v4);
    v6.sort_unstable();
    v6.dedup();
    // merging the blocked pieces of every distinct prefix gives `blocked ∩ union` directly
    let (overall, union, repair) = judge(policy, "all selected".into(), &v4, &v6);
    Coverage {
        direction: policy.direction,
        filtering: policy.filters(),
        tags,
        overall,
        union,
        repair,
    }
}

/// Sorted distinct IPv4 intervals; both ends fit in 32 bits, so one u64 key sorts much faster.
fn distinct_v4(intervals: Vec<Interval>) -> Vec<Interval> {
    let mut keys: Vec<u64> = intervals
        .iter()
        .map(|iv| ((iv.start as u64) << 32) | (iv.end as u64 & 0xFFFF_FFFF))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|k| Interval {
            start: u128::from(k >> 32),
            end: u128::from(k & 0xFFFF_FFFF),
        })
        .collect()
}

/// The verdict for one list of prefixes, with their merged union and merged blocked part.
fn judge(
    policy: &Policy,
    name: String,
    v4: &[Interval],
    v6: &[Interval],
) -> (TagCoverage, IpSet, IpSet) {
    let mut cov = TagCoverage {
        name,
        prefixes: v4.len() + v6.len(),
        ..TagCoverage::default()
    };
    let mut blocked = IpSetBuilder::default();
    for (family, prefixes) in [(Family::V4, v4), (Family::V6, v6)] {
        let set = policy.blocked.family(family);
        for &iv in prefixes {
            let hits = set.overlapping(iv);
            if hits.is_empty() {
                cov.admitted += 1;
                continue;
            }
            let mut hit = Count::ZERO;
            for part in hits {
                let piece = Interval {
                    start: part.start.max(iv.start),
                    end: part.end.min(iv.end),
                };
                hit = hit.plus_interval(piece);
                blocked.push(family, piece);
            }
            if hit == iv.len() {
                cov.fully_blocked += 1;
            } else {
                cov.partly_blocked += 1;
            }
        }
    }
    let seen = IpSet {
        v4: IntervalSet::from_intervals(Family::V4, v4.to_vec()),
        v6: IntervalSet::from_intervals(Family::V6, v6.to_vec()),
    };
    let blocked = blocked.build();
    cov.addresses_v4 = seen.v4.count();
    cov.addresses_v6 = seen.v6.count();
    cov.blocked_v4 = blocked.v4.count();
    cov.blocked_v6 = blocked.v6.count();
    (cov, seen, blocked)
}

/// How the policy treats one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressStatus {
    /// No active Deny rule applies at all.
    NotFiltered,
    /// Deny rules exist, none matches the address.
    NotDenied,
    /// A Deny rule matches, and an Allow rule admits the address.
    Allowed,
    /// A Deny rule matches and no Allow rule does.
    Blocked,
}

impl AddressStatus {
    /// True when the instance refuses the address.
    pub fn is_blocked(self) -> bool {
        self == AddressStatus::Blocked
    }
}

/// Is this address (the caller's own, or a support-integration IP) blocked?
pub fn address_status(policy: &Policy, addr: IpAddr) -> AddressStatus {
    if !policy.filters() {
        AddressStatus::NotFiltered
    } else if policy.blocks(addr) {
        AddressStatus::Blocked
    } else if policy.deny.contains(addr) {
        AddressStatus::Allowed
    } else {
        AddressStatus::NotDenied
    }
}

/// The CSV header of [`allow_rules_csv`].
pub const ALLOW_CSV_HEADER: &str = "type,flow,active,range_start,range_end,description";

/// Allow rules for `ranges` as CSV ready to import into `ip_access`: one inbound, active Allow rule
/// per merged range, IPv4 first. Line endings are CRLF, as RFC 4180 asks and import tools expect.
pub fn allow_rules_csv(ranges: &IpSet, description: &str) -> String {
    let description = csv_field(description);
    let mut out = String::with_capacity(64 * (ranges.v4.len() + ranges.v6.len() + 1));
    out.push_str(ALLOW_CSV_HEADER);
    out.push_str("\r\n");
    for (start, end) in ranges.v4.ranges().chain(ranges.v6.ranges()) {
        out.push_str(&format!(
            "allow,inbound,true,{start},{end},{description}\r\n"
        ));
    }
    out
}
