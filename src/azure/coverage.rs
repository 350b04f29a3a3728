//! Coverage of Azure ranges by an `ip_access` policy, and the repair hint.
//!
//! A prefix is fully admitted when none of its addresses is blocked (`Deny* \ Allow*`); the
//! minimal repair is the blocked part of the selected union, as merged start–end ranges, which is
//! exactly what ServiceNow's Allow rules take (they are ranges, never CIDR).

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;

use super::intervals::{Count, Family, Interval, IntervalSet, IpSet};
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
///
/// Each selection's prefixes become intervals in reused scratch lists (IPv4 as 32-bit numbers;
/// sorted only when the tag did not list them in order, which Microsoft's files always do), then one
/// sweep per family walks them and the sorted blocked intervals together: no allocation per prefix
/// or per tag beyond its name. The distinct prefixes of all selections are judged the same way, and
/// only that sweep keeps the merged union and the blocked part of it.
///
/// The judgements read the same inputs and nothing of each other, so a large selection (a whole
/// service-tag file) shares them between two threads; a small one, or a machine that cannot start
/// a thread, runs them one after the other.
pub fn diagnose(policy: &Policy, selections: &[Selection<'_>]) -> Coverage {
    diagnose_on(policy, selections, TWO_THREADS_FROM)
}

/// [`diagnose`], on two threads from `two_threads_from` prefixes on.
fn diagnose_on(policy: &Policy, selections: &[Selection<'_>], two_threads_from: usize) -> Coverage {
    let blocked = Blocked {
        v4: policy
            .blocked
            .v4
            .intervals()
            .iter()
            .map(|iv| (v4_number(iv.start), v4_number(iv.end)))
            .collect(),
        v6: policy
            .blocked
            .v6
            .intervals()
            .iter()
            .map(|iv| (iv.start, iv.end))
            .collect(),
    };
    let total: usize = selections.iter().map(|s| s.prefixes.len()).sum();
    let ((tags, distinct4), (tags_after, distinct6)) = if total >= two_threads_from {
        // four parts of similar size: each half of the selections on its own, and the distinct
        // prefixes of each family; one thread takes the first half and IPv4, the other the rest
        let (first, second) = selections.split_at(half_by_prefixes(selections, total));
        let one = || {
            (
                judge_each(&blocked, first),
                distinct_v4(&blocked, selections, total),
            )
        };
        std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("coverage".into())
                .spawn_scoped(scope, one);
            let two = (
                judge_each(&blocked, second),
                distinct_v6(&blocked, selections),
            );
            let one = match other {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => one(),
            };
            (one, two)
        })
    } else {
        (
            (
                judge_each(&blocked, selections),
                distinct_v4(&blocked, selections, total),
            ),
            (Vec::new(), distinct_v6(&blocked, selections)),
        )
    };
    let mut tags = tags;
    tags.extend(tags_after);
    let ((t4, union4, repair4), (t6, union6, repair6)) = (distinct4, distinct6);
    let mut overall = TagCoverage {
        name: "all selected".into(),
        ..TagCoverage::default()
    };
    tally(&mut overall, &t4, &t6);
    // both lists come out sorted and merged; `from_intervals` only checks that
    let union = IpSet {
        v4: IntervalSet::from_intervals(Family::V4, union4),
        v6: IntervalSet::from_intervals(Family::V6, union6),
    };
    let repair = IpSet {
        v4: IntervalSet::from_intervals(Family::V4, repair4),
        v6: IntervalSet::from_intervals(Family::V6, repair6),
    };
    Coverage {
        direction: policy.direction,
        filtering: policy.filters(),
        tags,
        overall,
        union,
        repair,
    }
}

/// Where to cut the selections so both parts hold about half the prefixes.
fn half_by_prefixes(selections: &[Selection<'_>], total: usize) -> usize {
    let mut seen = 0;
    selections
        .iter()
        .position(|sel| {
            seen += sel.prefixes.len();
            seen >= total / 2
        })
        .map_or(selections.len(), |at| at + 1)
}

/// Prefixes in a selection from which [`diagnose`] uses a second thread: below this the work
/// takes less than starting a thread costs.
const TWO_THREADS_FROM: usize = 4096;

/// A policy's blocked intervals, per family, as the sweeps read them.
struct Blocked {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

/// The verdict for each selection on its own.
fn judge_each(blocked: &Blocked, selections: &[Selection<'_>]) -> Vec<TagCoverage> {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    let mut tags = Vec::with_capacity(selections.len());
    for sel in selections {
        v4.clear();
        v6.clear();
        split_keys(&sel.prefixes, &mut v4, &mut v6);
        if !v4.is_sorted() {
            v4.sort_unstable();
        }
        if !v6.is_sorted() {
            v6.sort_unstable();
        }
        let mut cov = TagCoverage {
            name: sel.name.to_string(),
            ..TagCoverage::default()
        };
        let t4 = sweep(&blocked.v4, v4.iter().map(|&k| v4_span(k)), None);
        let t6 = sweep(&blocked.v6, v6.iter().copied(), None);
        tally(&mut cov, &t4, &t6);
        tags.push(cov);
    }
    tags
}

/// What the sweep over one family's distinct prefixes found, with their merged union and the
/// blocked part of it (the repair), both sorted and merged.
type Distinct = (Tally, Vec<Interval>, Vec<Interval>);

/// The distinct IPv4 prefixes of all selections, judged.
fn distinct_v4(blocked: &Blocked, selections: &[Selection<'_>], total: usize) -> Distinct {
    let mut keys = Vec::with_capacity(total);
    for sel in selections {
        keys.extend(sel.prefixes.iter().filter_map(|net| match net {
            IpNet::V4(n) => Some(v4_key_of(n)),
            IpNet::V6(_) => None,
        }));
    }
    radix_sort_v4(&mut keys);
    keys.dedup();
    let (mut union, mut repair) = (Vec::new(), Vec::new());
    let tally = sweep(
        &blocked.v4,
        keys.iter().map(|&k| v4_span(k)),
        Some((&mut union, &mut repair)),
    );
    (tally, union, repair)
}

/// The distinct IPv6 prefixes of all selections, judged.
fn distinct_v6(blocked: &Blocked, selections: &[Selection<'_>]) -> Distinct {
    let mut spans = Vec::new();
    for sel in selections {
        spans.extend(sel.prefixes.iter().filter_map(|net| match net {
            IpNet::V6(n) => Some(v6_span(n)),
            IpNet::V4(_) => None,
        }));
    }
    spans.sort_unstable();
    spans.dedup();
    let (mut union, mut repair) = (Vec::new(), Vec::new());
    let tally = sweep(
        &blocked.v6,
        spans.iter().copied(),
        Some((&mut union, &mut repair)),
    );
    (tally, union, repair)
}

/// Appends prefixes as sweep input: IPv4 as [`v4_key`]s, IPv6 as (first, last) address.
fn split_keys(prefixes: &[IpNet], v4: &mut Vec<u64>, v6: &mut Vec<(u128, u128)>) {
    for net in prefixes {
        match *net {
            IpNet::V4(n) => v4.push(v4_key_of(&n)),
            IpNet::V6(n) => v6.push(v6_span(&n)),
        }
    }
}

/// An IPv4 prefix as its sweep key.
fn v4_key_of(net: &Ipv4Net) -> u64 {
    v4_key(u32::from(net.network()), net.prefix_len())
}

/// An IPv6 prefix as its first and last address.
fn v6_span(net: &Ipv6Net) -> (u128, u128) {
    (u128::from(net.network()), u128::from(net.broadcast()))
}

/// An IPv4 value of an interval set (never above `u32::MAX`: sets clamp to their family).
fn v4_number(value: u128) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// An IPv4 prefix as one number, `start << 6 | (32 - length)`: the order of (start, end), in 38
/// bits, so one small number per prefix to sort (by radix) and dedup.
fn v4_key(start: u32, len: u8) -> u64 {
    (u64::from(start) << 6) | u64::from(32 - len.min(32))
}

/// The (start, end) of a [`v4_key`].
fn v4_span(key: u64) -> (u32, u32) {
    let start = key >> 6;
    let end = start + (1u64 << (key & 63)) - 1;
    (start as u32, end.min(u64::from(u32::MAX)) as u32)
}

/// Sorts [`v4_key`]s: least significant digit first, three passes of 13 bits (a pass whose digit
/// is the same everywhere is skipped). Tens of thousands of keys sort several times faster than
/// by comparison.
fn radix_sort_v4(keys: &mut Vec<u64>) {
    const BITS: u32 = 13;
    const MASK: u64 = (1 << BITS) - 1;
    let mut other = vec![0u64; keys.len()];
    for pass in 0..3 {
        let shift = pass * BITS;
        let mut slots = [0usize; 1 << BITS];
        for key in keys.iter() {
            slots[((key >> shift) & MASK) as usize] += 1;
        }
        if slots.contains(&keys.len()) {
            continue;
        }
        let mut next = 0;
        for slot in &mut slots {
            (*slot, next) = (next, next + *slot);
        }
        for &key in keys.iter() {
            let slot = &mut slots[((key >> shift) & MASK) as usize];
            other[*slot] = key;
            *slot += 1;
        }
        std::mem::swap(keys, &mut other);
    }
}

/// An address of one family as a number: `u32` for IPv4 keeps the sweep's data small.
trait Addr: Copy + Ord {
    fn wide(self) -> u128;
    /// The next address; `None` after the family's last.
    fn next(self) -> Option<Self>;
}

impl Addr for u32 {
    fn wide(self) -> u128 {
        u128::from(self)
    }
    fn next(self) -> Option<u32> {
        self.checked_add(1)
    }
}

impl Addr for u128 {
    fn wide(self) -> u128 {
        self
    }
    fn next(self) -> Option<u128> {
        self.checked_add(1)
    }
}

fn interval<A: Addr>((start, end): (A, A)) -> Interval {
    Interval {
        start: start.wide(),
        end: end.wide(),
    }
}

/// The first blocked interval from `from` on that ends at or after `start`, by galloping: steps of
/// 1, 2, 4, … then a binary search in the last step. The distinct prefixes of all tags are dense, so
/// the next one is usually a step or two on; a single tag's are sparse, and this costs about what a
/// binary search would.
fn skip_before<A: Addr>(blocked: &[(A, A)], from: usize, start: A) -> usize {
    if blocked.get(from).is_none_or(|b| b.1 >= start) {
        return from;
    }
    // every interval before `low` ends before `start`
    let (mut low, mut step) = (from + 1, 1);
    while low + step <= blocked.len() && blocked[low + step - 1].1 < start {
        low += step;
        step *= 2;
    }
    let high = (low + step).min(blocked.len());
    low + blocked[low..high].partition_point(|b| b.1 < start)
}

/// What one sweep over one family's prefixes found.
#[derive(Default)]
struct Tally {
    prefixes: usize,
    admitted: usize,
    partly_blocked: usize,
    fully_blocked: usize,
    addresses: Count,
    blocked: Count,
}

fn tally(cov: &mut TagCoverage, v4: &Tally, v6: &Tally) {
    cov.prefixes = v4.prefixes + v6.prefixes;
    cov.admitted = v4.admitted + v6.admitted;
    cov.partly_blocked = v4.partly_blocked + v6.partly_blocked;
    cov.fully_blocked = v4.fully_blocked + v6.fully_blocked;
    cov.addresses_v4 = v4.addresses;
    cov.addresses_v6 = v6.addresses;
    cov.blocked_v4 = v4.blocked;
    cov.blocked_v6 = v6.blocked;
}

/// The merged union and its blocked part, written out by the overall sweep.
type Keep<'a> = Option<(&'a mut Vec<Interval>, &'a mut Vec<Interval>)>;

/// One pass over prefixes sorted by (start, end) and the sorted `blocked` intervals, which are
/// disjoint and never adjacent (an [`IntervalSet`]'s).
///
/// A prefix meets no blocked interval (admitted), lies inside one (fully blocked: being never
/// adjacent, two blocked intervals cannot cover it together) or neither (partly blocked). The
/// prefixes are merged on the way (a union interval closes when the next prefix starts beyond it),
/// and each closed union interval is cut by the blocked intervals: the union of the prefixes'
/// blocked pieces is exactly `blocked ∩ union`. Starts only grow, so the first blocked interval a
/// prefix can meet only moves forward. With `keep`, the merged union and its blocked part are
/// written out (both sorted, disjoint and not adjacent).
fn sweep<A: Addr>(
    blocked: &[(A, A)],
    prefixes: impl Iterator<Item = (A, A)>,
    mut keep: Keep<'_>,
) -> Tally {
    let mut out = Tally::default();
    // the first blocked interval that may meet the current prefix
    let mut first = 0;
    // the current union interval, and the first blocked interval that may meet it: the one found
    // for the prefix that opened it
    let mut current: Option<(A, A, usize)> = None;
    let close = |(start, end, first): (A, A, usize), out: &mut Tally, keep: &mut Keep<'_>| {
        out.addresses = out.addresses.plus_interval(interval((start, end)));
        for &(b_start, b_end) in blocked[first..].iter().take_while(|b| b.0 <= end) {
            let piece = interval((b_start.max(start), b_end.min(end)));
            out.blocked = out.blocked.plus_interval(piece);
            if let Some((_, repair)) = keep {
                repair.push(piece);
            }
        }
        if let Some((union, _)) = keep {
            union.push(interval((start, end)));
        }
    };
    for (start, end) in prefixes {
        out.prefixes += 1;
        first = skip_before(blocked, first, start);
        match blocked.get(first) {
            Some(&(b_start, b_end)) if b_start <= end => {
                if b_start <= start && end <= b_end {
                    out.fully_blocked += 1;
                } else {
                    out.partly_blocked += 1;
                }
            }
            _ => out.admitted += 1,
        }
        match &mut current {
            // an end at the family's last address absorbs everything after it
            Some(cur) if cur.1.next().is_none_or(|after| start <= after) => {
                cur.1 = cur.1.max(end);
            }
            _ => {
                if let Some(done) = current.replace((start, end, first)) {
                    close(done, &mut out, &mut keep);
                }
            }
        }
    }
    if let Some(done) = current {
        close(done, &mut out, &mut keep);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The whole Public file against Deny-all with a few Allow ranges: one thread or two, the same
    /// verdicts, union and repair.
    #[test]
    fn a_second_thread_changes_nothing() {
        let file =
            crate::azure::reference_data::load(&crate::azure::snapshot::PUBLIC).expect("embedded");
        let rules = crate::azure::rules::rules_from_text(
            "range_start,range_end,type,flow,active\n\
             0.0.0.0,255.255.255.255,deny,inbound,true\n\
             ::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,deny,inbound,true\n\
             13.64.0.0,13.107.255.255,allow,inbound,true\n\
             20.0.0.0,20.127.255.255,allow,inbound,true\n\
             2603:1000::,2603:1030:ffff:ffff:ffff:ffff:ffff:ffff,allow,inbound,true\n",
        )
        .expect("rules");
        let policy = rules.policy(Direction::Inbound);
        let selections: Vec<Selection<'_>> = file.tags.iter().map(Selection::tag).collect();
        let one = diagnose_on(&policy, &selections, usize::MAX);
        let two = diagnose_on(&policy, &selections, 0);
        assert_eq!(one.tags, two.tags);
        assert_eq!(one.overall, two.overall);
        assert_eq!((one.union, one.repair), (two.union, two.repair));
        assert!(
            !one.overall.is_admitted() && one.overall.admitted > 0,
            "{:?}",
            one.overall
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        /// The radix sort orders keys as a comparison sort does, and keys round-trip to (start, end).
        #[test]
        fn radix_sort_and_keys(nets in prop::collection::vec((any::<u32>(), 0u8..=32), 0..3000)) {
            let mut keys: Vec<u64> = nets
                .iter()
                .map(|&(addr, len)| {
                    let net = ipnet::Ipv4Net::new(addr.into(), len).expect("len <= 32").trunc();
                    let key = v4_key(u32::from(net.network()), len);
                    prop_assert_eq!(v4_span(key), (u32::from(net.network()), u32::from(net.broadcast())));
                    Ok(key)
                })
                .collect::<Result<_, TestCaseError>>()?;
            let mut want = keys.clone();
            want.sort_unstable();
            radix_sort_v4(&mut keys);
            prop_assert_eq!(keys, want);
        }
    }
}
