//! Coverage of Azure ranges by an `ip_access` policy, and the repair hint.
//!
//! A prefix is fully admitted when none of its addresses is blocked (`Deny* \ Allow*`); the
//! minimal repair is the blocked part of the selected union, as merged start–end ranges, which is
//! exactly what ServiceNow's Allow rules take (they are ranges, never CIDR).

use std::borrow::Cow;
use std::net::IpAddr;

use compact_str::CompactString;
use ipnet::{IpNet, Ipv6Net};
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
    pub name: CompactString,
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

/// Judges each selection against the policy's blocked set, and all of them together.
///
/// Per family, the prefixes of every selection become one list of (prefix, selection) entries
/// (IPv4 prefixes packed with their selection in one 64-bit number, radix-sorted), sorted by
/// prefix, and one sweep walks it with the sorted blocked intervals. Each distinct prefix is judged
/// once where it first appears, and that verdict goes to every selection listing it; the sweep also
/// merges the distinct prefixes into the union and cuts out its blocked part (the repair). So a
/// whole service-tag file, whose regional and service tags repeat most prefixes, costs one sort
/// and one pass per family, with no allocation per prefix or per tag beyond its name.
///
/// The two families read the same policy and nothing of each other, so a large selection judges
/// them on two threads; a small one, or a machine that cannot start a thread, one after the other.
pub fn diagnose(policy: &Policy, selections: &[Selection<'_>]) -> Coverage {
    diagnose_on(policy, selections, TWO_THREADS_FROM)
}

/// [`diagnose`], on two threads from `two_threads_from` prefixes on.
fn diagnose_on(policy: &Policy, selections: &[Selection<'_>], two_threads_from: usize) -> Coverage {
    let blocked4 = v4_spans(&policy.blocked.v4);
    let blocked6: Vec<(u128, u128)> = policy
        .blocked
        .v6
        .intervals()
        .iter()
        .map(|iv| (iv.start, iv.end))
        .collect();
    let total: usize = selections.iter().map(|s| s.prefixes.len()).sum();
    let pack = selections.len() < 1 << SELECTION_BITS;
    let v4 = || judge_v4(&blocked4, selections, total, pack);
    let v6 = || judge_v6(&blocked6, selections);
    let (v4, v6) = if total >= two_threads_from {
        std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("coverage".into())
                .spawn_scoped(scope, v4);
            let v6 = v6();
            let v4 = match other {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => v4(),
            };
            (v4, v6)
        })
    } else {
        (v4(), v6())
    };
    let tags = selections
        .iter()
        .zip(v4.each.iter().zip(&v6.each))
        .map(|(sel, (t4, t6))| {
            let mut cov = TagCoverage {
                name: CompactString::from(&*sel.name),
                ..TagCoverage::default()
            };
            tally(&mut cov, &t4.tally, &t6.tally);
            cov
        })
        .collect();
    let mut overall = TagCoverage {
        name: "all selected".into(),
        ..TagCoverage::default()
    };
    tally(&mut overall, &v4.all, &v6.all);
    // both lists come out sorted and merged; `from_intervals` only checks that
    let union = IpSet {
        v4: IntervalSet::from_intervals(Family::V4, v4.union),
        v6: IntervalSet::from_intervals(Family::V6, v6.union),
    };
    let repair = IpSet {
        v4: IntervalSet::from_intervals(Family::V4, v4.repair),
        v6: IntervalSet::from_intervals(Family::V6, v6.repair),
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

/// Prefixes in a selection from which [`diagnose`] uses a second thread: below this the work
/// takes less than starting a thread costs.
const TWO_THREADS_FROM: usize = 4096;

/// Bits of an IPv4 entry that hold the selection's index; the [`v4_key`] takes the 38 above.
const SELECTION_BITS: u32 = 26;

/// Every IPv4 prefix of the selections, judged; `pack` (fewer than 2^26 selections) packs each
/// entry into one number.
fn judge_v4(
    blocked: &[(u32, u32)],
    selections: &[Selection<'_>],
    total: usize,
    pack: bool,
) -> Verdicts<u32> {
    if !pack {
        // tens of millions of selections: too many to pack; never seen, but still answered
        return judge_family(blocked, selections.len(), {
            let mut entries: Vec<(u64, usize)> = Vec::with_capacity(total);
            for (at, sel) in selections.iter().enumerate() {
                entries.extend(v4_keys(&sel.prefixes).map(|key| (key, at)));
            }
            entries.sort_unstable();
            entries.into_iter().map(|(key, at)| (v4_span(key), at))
        });
    }
    let mut entries = Vec::with_capacity(total);
    for (at, sel) in selections.iter().enumerate() {
        entries.extend(v4_keys(&sel.prefixes).map(|key| (key << SELECTION_BITS) | at as u64));
    }
    radix_sort_v4(&mut entries);
    let index = (1 << SELECTION_BITS) - 1;
    judge_family(
        blocked,
        selections.len(),
        entries
            .into_iter()
            .map(|entry| (v4_span(entry >> SELECTION_BITS), (entry & index) as usize)),
    )
}

/// Every IPv6 prefix of the selections, judged.
fn judge_v6(blocked: &[(u128, u128)], selections: &[Selection<'_>]) -> Verdicts<u128> {
    let mut entries = Vec::new();
    for (at, sel) in selections.iter().enumerate() {
        entries.extend(sel.prefixes.iter().filter_map(|net| match net {
            IpNet::V6(n) => Some((v6_span(n), at)),
            IpNet::V4(_) => None,
        }));
    }
    sort_v6(&mut entries);
    judge_family(blocked, selections.len(), entries.into_iter())
}

/// A selection's IPv4 prefixes as [`v4_key`]s.
fn v4_keys(prefixes: &[IpNet]) -> impl Iterator<Item = u64> + '_ {
    prefixes.iter().filter_map(|net| match net {
        IpNet::V4(n) => Some(v4_key(u32::from(n.network()), n.prefix_len())),
        IpNet::V6(_) => None,
    })
}

/// An IPv6 prefix as its first and last address.
fn v6_span(net: &Ipv6Net) -> (u128, u128) {
    (u128::from(net.network()), u128::from(net.broadcast()))
}

/// An IPv4 interval set's intervals as the sweep reads them: 32-bit numbers (never above
/// `u32::MAX`: sets clamp to their family).
fn v4_spans(set: &IntervalSet) -> Vec<(u32, u32)> {
    let number = |value: u128| u32::try_from(value).unwrap_or(u32::MAX);
    set.intervals()
        .iter()
        .map(|iv| (number(iv.start), number(iv.end)))
        .collect()
}

/// An IPv4 prefix as one number, `start << 6 | (32 - length)`: the order of (start, end), in 38
/// bits, so one small number per prefix to sort (by radix), with room for the selection's index.
fn v4_key(start: u32, len: u8) -> u64 {
    (u64::from(start) << 6) | u64::from(32 - len.min(32))
}

/// The (start, end) of a [`v4_key`].
fn v4_span(key: u64) -> (u32, u32) {
    let start = key >> 6;
    let end = start + (1u64 << (key & 63)) - 1;
    (start as u32, end.min(u64::from(u32::MAX)) as u32)
}

/// Sorts IPv4 entries by their [`v4_key`], the 38 bits above [`SELECTION_BITS`]; the order among
/// equal keys does not matter. Tens of thousands of entries sort several times faster by radix
/// than by comparison.
fn radix_sort_v4(entries: &mut Vec<u64>) {
    radix_sort(entries, |entry| entry >> SELECTION_BITS, 38);
}

/// Sorts IPv6 entries by (start, end, selection): by radix on the top 64 bits of the start, then
/// each run of equal top bits by comparison. Microsoft's runs are short (the Public file's 24,429
/// IPv6 entries make 4,746 runs, the longest 81), and comparing 48-byte entries was most of the
/// IPv6 side's time.
fn sort_v6(entries: &mut Vec<((u128, u128), usize)>) {
    let top = |start: u128| (start >> 64) as u64;
    let Ok(count) = u32::try_from(entries.len()) else {
        entries.sort_unstable();
        return;
    };
    let mut order: Vec<(u64, u32)> = entries
        .iter()
        .zip(0..count)
        .map(|(((start, _), _), at)| (top(*start), at))
        .collect();
    radix_sort(&mut order, |(key, _)| key, 64);
    let mut sorted: Vec<_> = order.iter().map(|(_, at)| entries[*at as usize]).collect();
    for run in sorted.chunk_by_mut(|a, b| top(a.0.0) == top(b.0.0)) {
        run.sort_unstable();
    }
    *entries = sorted;
}

/// Sorts `items` by the low `bits` bits of `key`: least significant digit first, in passes of 13
/// bits (a pass whose digit is the same everywhere is skipped); the order among equal keys is not
/// kept.
fn radix_sort<T: Copy + Default>(items: &mut Vec<T>, key: impl Fn(T) -> u64, bits: u32) {
    const BITS: u32 = 13;
    const MASK: u64 = (1 << BITS) - 1;
    let mut other = vec![T::default(); items.len()];
    for pass in 0..bits.div_ceil(BITS) {
        let shift = pass * BITS;
        let mut slots = [0usize; 1 << BITS];
        for item in items.iter() {
            slots[((key(*item) >> shift) & MASK) as usize] += 1;
        }
        if slots.contains(&items.len()) {
            continue;
        }
        let mut next = 0;
        for slot in &mut slots {
            (*slot, next) = (next, next + *slot);
        }
        for &item in items.iter() {
            let slot = &mut slots[((key(item) >> shift) & MASK) as usize];
            other[*slot] = item;
            *slot += 1;
        }
        std::mem::swap(items, &mut other);
    }
}

/// An address of one family as a number: `u32` for IPv4 keeps the sweep's data small.
trait Addr: Copy + Ord {
    /// Addresses of this family added up: `u64` for IPv4 (a selection's union, or its blocked
    /// part, holds 2^32 addresses at most), a saturating [`Count`] for IPv6. Each selection keeps
    /// two, so a small one keeps the IPv4 sweep's data in cache.
    type Sum: Copy + Default + PartialEq + std::fmt::Debug;
    fn wide(self) -> u128;
    /// The next address; `None` after the family's last.
    fn next(self) -> Option<Self>;
    /// `sum` plus the addresses from `start` to `end`.
    fn add(sum: Self::Sum, start: Self, end: Self) -> Self::Sum;
    fn add_sums(a: Self::Sum, b: Self::Sum) -> Self::Sum;
    fn count(sum: Self::Sum) -> Count;
}

impl Addr for u32 {
    type Sum = u64;
    fn wide(self) -> u128 {
        u128::from(self)
    }
    fn next(self) -> Option<u32> {
        self.checked_add(1)
    }
    fn add(sum: u64, start: u32, end: u32) -> u64 {
        sum + u64::from(end - start) + 1
    }
    fn add_sums(a: u64, b: u64) -> u64 {
        a + b
    }
    fn count(sum: u64) -> Count {
        Count {
            value: u128::from(sum),
            saturated: false,
        }
    }
}

impl Addr for u128 {
    type Sum = Count;
    fn wide(self) -> u128 {
        self
    }
    fn next(self) -> Option<u128> {
        self.checked_add(1)
    }
    fn add(sum: Count, start: u128, end: u128) -> Count {
        sum.plus_interval(Interval { start, end })
    }
    fn add_sums(a: Count, b: Count) -> Count {
        a.plus(b)
    }
    fn count(sum: Count) -> Count {
        sum
    }
}

fn interval<A: Addr>((start, end): (A, A)) -> Interval {
    Interval {
        start: start.wide(),
        end: end.wide(),
    }
}

/// The first blocked interval from `from` on that ends at or after `start`, by galloping: steps of
/// 1, 2, 4, … then a binary search in the last step. The distinct prefixes are dense, so the next
/// one is usually a step or two on.
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

/// The blocked addresses in `span`, counted from `blocked[first]` on (every interval before it
/// ends before the span starts); each piece also goes to `pieces`, when given.
fn blocked_in<A: Addr>(
    blocked: &[(A, A)],
    first: usize,
    (start, end): (A, A),
    mut pieces: Option<&mut Vec<Interval>>,
) -> A::Sum {
    let mut sum = A::Sum::default();
    for &(b_start, b_end) in blocked[first..].iter().take_while(|b| b.0 <= end) {
        if b_end < start {
            continue;
        }
        let piece = (b_start.max(start), b_end.min(end));
        sum = A::add(sum, piece.0, piece.1);
        if let Some(pieces) = pieces.as_deref_mut() {
            pieces.push(interval(piece));
        }
    }
    sum
}

/// What a sweep found over some prefixes of one family, addresses added up as `S`.
#[derive(Debug, Default, PartialEq)]
struct Tally<S> {
    prefixes: usize,
    admitted: usize,
    partly_blocked: usize,
    fully_blocked: usize,
    addresses: S,
    blocked: S,
}

fn tally(cov: &mut TagCoverage, v4: &Tally<u64>, v6: &Tally<Count>) {
    cov.prefixes = v4.prefixes + v6.prefixes;
    cov.admitted = v4.admitted + v6.admitted;
    cov.partly_blocked = v4.partly_blocked + v6.partly_blocked;
    cov.fully_blocked = v4.fully_blocked + v6.fully_blocked;
    cov.addresses_v4 = u32::count(v4.addresses);
    cov.addresses_v6 = v6.addresses;
    cov.blocked_v4 = u32::count(v4.blocked);
    cov.blocked_v6 = v6.blocked;
}

/// How a prefix meets the blocked intervals.
#[derive(Clone, Copy)]
enum Verdict {
    Admitted,
    PartlyBlocked,
    FullyBlocked,
}

impl<S> Tally<S> {
    fn count(&mut self, verdict: Verdict) {
        self.prefixes += 1;
        match verdict {
            Verdict::Admitted => self.admitted += 1,
            Verdict::PartlyBlocked => self.partly_blocked += 1,
            Verdict::FullyBlocked => self.fully_blocked += 1,
        }
    }
}

/// One selection's tally in a family, and how far its merged prefixes reach so far.
#[derive(Debug, PartialEq)]
struct Each<A: Addr> {
    tally: Tally<A::Sum>,
    covered_to: Option<A>,
}

/// One family's verdicts: each selection's, and over the distinct prefixes of all of them, with
/// their merged union and its blocked part (the repair), both sorted, disjoint and not adjacent.
#[derive(Debug, PartialEq)]
struct Verdicts<A: Addr> {
    each: Vec<Each<A>>,
    all: Tally<A::Sum>,
    union: Vec<Interval>,
    repair: Vec<Interval>,
}

/// One pass over (prefix, selection) entries sorted by prefix (start, then end) and the sorted
/// `blocked` intervals, which are disjoint and never adjacent (an [`IntervalSet`]'s).
///
/// A prefix meets no blocked interval (admitted), lies inside one (fully blocked: being never
/// adjacent, two blocked intervals cannot cover it together) or neither (partly blocked); it is
/// judged once, when it first appears. Starts only grow, so the first blocked interval a prefix can
/// meet only moves forward, and each selection's own prefixes come in its order too: its addresses
/// are what its prefixes add beyond the furthest end it has reached, and so is its blocked part.
/// The distinct prefixes are merged on the way (a union interval closes when the next prefix
/// starts beyond it), and each closed union interval is cut by the blocked intervals: the union of
/// the prefixes' blocked pieces is exactly `blocked ∩ union`.
fn judge_family<A: Addr>(
    blocked: &[(A, A)],
    selections: usize,
    entries: impl Iterator<Item = ((A, A), usize)>,
) -> Verdicts<A> {
    let mut out = Verdicts {
        each: (0..selections)
            .map(|_| Each {
                tally: Tally::default(),
                covered_to: None,
            })
            .collect(),
        all: Tally::default(),
        union: Vec::new(),
        repair: Vec::new(),
    };
    // the first blocked interval that may meet the current prefix
    let mut first = 0;
    // the distinct prefix last judged, and its verdict
    let mut last: Option<((A, A), Verdict)> = None;
    // the current union interval, and the first blocked interval that may meet it: the one found
    // for the prefix that opened it
    let mut current: Option<(A, A, usize)> = None;
    let close = |(start, end, first): (A, A, usize), out: &mut Verdicts<A>| {
        out.all.addresses = A::add(out.all.addresses, start, end);
        let blocked = blocked_in(blocked, first, (start, end), Some(&mut out.repair));
        out.all.blocked = A::add_sums(out.all.blocked, blocked);
        out.union.push(interval((start, end)));
    };
    for (span, at) in entries {
        let (start, end) = span;
        let verdict = match last {
            Some((seen, verdict)) if seen == span => verdict,
            _ => {
                first = skip_before(blocked, first, start);
                let verdict = match blocked.get(first) {
                    Some(&(b_start, b_end)) if b_start <= end => {
                        if b_start <= start && end <= b_end {
                            Verdict::FullyBlocked
                        } else {
                            Verdict::PartlyBlocked
                        }
                    }
                    _ => Verdict::Admitted,
                };
                out.all.count(verdict);
                last = Some((span, verdict));
                match &mut current {
                    // an end at the family's last address absorbs everything after it
                    Some(cur) if cur.1.next().is_none_or(|after| start <= after) => {
                        cur.1 = cur.1.max(end);
                    }
                    _ => {
                        if let Some(done) = current.replace((start, end, first)) {
                            close(done, &mut out);
                        }
                    }
                }
                verdict
            }
        };
        let Some(each) = out.each.get_mut(at) else {
            continue;
        };
        each.tally.count(verdict);
        // the part of this prefix beyond what the selection's earlier prefixes reached
        let new_start = match each.covered_to {
            None => Some(start),
            Some(reached) if reached < end => Some(reached.next().map_or(start, |n| n.max(start))),
            Some(_) => None,
        };
        if let Some(new_start) = new_start {
            each.tally.addresses = A::add(each.tally.addresses, new_start, end);
            let blocked = blocked_in(blocked, first, (new_start, end), None);
            each.tally.blocked = A::add_sums(each.tally.blocked, blocked);
            each.covered_to = Some(end);
        }
    }
    if let Some(done) = current {
        close(done, &mut out);
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
    /// verdicts, union and repair; IPv4 entries packed into numbers or not, the same verdicts.
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
        let blocked4 = v4_spans(&one.repair.v4);
        let total = file.prefix_count();
        assert_eq!(
            judge_v4(&blocked4, &selections, total, true),
            judge_v4(&blocked4, &selections, total, false),
            "packed and unpacked IPv4 entries"
        );
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

        /// IPv6 entries sort as a comparison sort orders them: starts that share their top 64 bits
        /// (most do, in runs) or not, ends and selections breaking ties.
        #[test]
        fn ipv6_entries_sort_as_by_comparison(
            entries in prop::collection::vec((0u64..4, any::<u64>(), 0u32..4, 0usize..5), 0..2000),
        ) {
            let mut entries: Vec<((u128, u128), usize)> = entries
                .into_iter()
                .map(|(top, low, width, at)| {
                    let start = (u128::from(top) << 64) | u128::from(low);
                    ((start, start.saturating_add(u128::from(width))), at)
                })
                .collect();
            let mut want = entries.clone();
            want.sort_unstable();
            sort_v6(&mut entries);
            prop_assert_eq!(entries, want);
        }

        /// The radix sort orders entries by key as a comparison sort does, keeping each entry's
        /// selection, and keys round-trip to (start, end).
        #[test]
        fn radix_sort_and_keys(nets in prop::collection::vec((any::<u32>(), 0u8..=32, 0u64..(1 << SELECTION_BITS)), 0..3000)) {
            let mut entries: Vec<u64> = nets
                .iter()
                .map(|&(addr, len, at)| {
                    let net = ipnet::Ipv4Net::new(addr.into(), len).expect("len <= 32").trunc();
                    let key = v4_key(u32::from(net.network()), len);
                    prop_assert_eq!(v4_span(key), (u32::from(net.network()), u32::from(net.broadcast())));
                    Ok((key << SELECTION_BITS) | at)
                })
                .collect::<Result<_, TestCaseError>>()?;
            let mut want = entries.clone();
            want.sort_unstable();
            radix_sort_v4(&mut entries);
            prop_assert!(entries.is_sorted_by_key(|e| e >> SELECTION_BITS));
            entries.sort_unstable();
            prop_assert_eq!(entries, want);
        }
    }
}
