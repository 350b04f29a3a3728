//! Sorted, merged interval sets of IP addresses, one address family per set.
//!
//! ServiceNow `ip_access` rules are start–end ranges and Azure publishes CIDR prefixes, so both are
//! normalised to closed intervals `[start, end]` of `u128` (IPv4 addresses use the low 32 bits). A
//! set never mixes families: [`IpSet`] keeps one [`IntervalSet`] per family. Every operation is a
//! sort or a linear sweep (docs/reference/microsoft-integration.md §5.4); no CIDR splitting is needed except for
//! the optional [`IntervalSet::to_cidrs`] output.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};
use serde::{Serialize, Serializer};

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The largest address of the family.
    pub const fn max(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }

    /// The family of an address.
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Turns a number of this family back into an address (IPv4 keeps the low 32 bits).
    pub fn addr(self, value: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(value as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(value)),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// An address as a number, with its family.
pub fn addr_value(addr: IpAddr) -> (Family, u128) {
    match addr {
        IpAddr::V4(a) => (Family::V4, u128::from(u32::from(a))),
        IpAddr::V6(a) => (Family::V6, u128::from(a)),
    }
}

/// A closed interval `[start, end]`; `start <= end` always holds for intervals made here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub start: u128,
    pub end: u128,
}

impl Interval {
    /// An interval, or `None` when reversed.
    pub fn new(start: u128, end: u128) -> Option<Interval> {
        (start <= end).then_some(Interval { start, end })
    }

    /// The addresses of a prefix, host bits ignored.
    pub fn of_net(net: &IpNet) -> (Family, Interval) {
        match net {
            IpNet::V4(n) => (
                Family::V4,
                Interval {
                    start: u128::from(u32::from(n.network())),
                    end: u128::from(u32::from(n.broadcast())),
                },
            ),
            IpNet::V6(n) => (
                Family::V6,
                Interval {
                    start: u128::from(n.network()),
                    end: u128::from(n.broadcast()),
                },
            ),
        }
    }

    /// Number of addresses; 2^128 (the whole IPv6 space) saturates.
    pub fn len(&self) -> Count {
        Count::ZERO.plus_interval(*self)
    }

    /// Always false: a closed interval holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn intersect(&self, other: &Interval) -> Option<Interval> {
        Interval::new(self.start.max(other.start), self.end.min(other.end))
    }
}

/// An address count that cannot overflow silently: the whole IPv6 space has 2^128 addresses, one
/// more than `u128::MAX`. Counts here are of disjoint sets, so a saturated count means exactly 2^128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Count {
    pub value: u128,
    pub saturated: bool,
}

impl Count {
    pub const ZERO: Count = Count {
        value: 0,
        saturated: false,
    };

    /// 2^128 or more: more than a `u128` holds.
    const SATURATED: Count = Count {
        value: u128::MAX,
        saturated: true,
    };

    /// A count that is exact, or saturated when `value` overflowed.
    fn exact_or_saturated(value: Option<u128>) -> Count {
        match value {
            Some(value) => Count {
                value,
                saturated: false,
            },
            None => Count::SATURATED,
        }
    }

    /// Adds another count, saturating at 2^128.
    pub fn plus(self, other: Count) -> Count {
        if self.saturated || other.saturated {
            return Count::SATURATED;
        }
        Count::exact_or_saturated(self.value.checked_add(other.value))
    }

    /// Adds the size of an interval (`end - start + 1`, which overflows only for `::/0`).
    pub fn plus_interval(self, iv: Interval) -> Count {
        self.plus(Count::exact_or_saturated(
            (iv.end - iv.start).checked_add(1),
        ))
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        !self.saturated && self.value == 0
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.saturated {
            f.write_str("2^128")
        } else {
            write!(f, "{}", self.value)
        }
    }
}

/// JSON numbers when they fit in a u64 (every IPv4 count), else a decimal string ("2^128" when saturated).
impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match u64::try_from(self.value) {
            Ok(small) if !self.saturated => s.serialize_u64(small),
            _ => s.collect_str(self),
        }
    }
}

/// A sorted list of disjoint, non-adjacent intervals of one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalSet {
    family: Family,
    intervals: Vec<Interval>,
}

impl IntervalSet {
    /// The empty set.
    pub fn empty(family: Family) -> IntervalSet {
        IntervalSet {
            family,
            intervals: Vec::new(),
        }
    }

    /// Sorts and merges overlapping and adjacent intervals. Values above the family's maximum are
    /// clamped to it, so a caller mixing families cannot create IPv4 numbers beyond 2^32.
    pub fn from_intervals(family: Family, mut intervals: Vec<Interval>) -> IntervalSet {
        let max = family.max();
        intervals.retain(|iv| iv.start <= max);
        for iv in &mut intervals {
            iv.end = iv.end.min(max);
        }
        // tags list their prefixes in order, so most inputs are already sorted
        if !intervals.is_sorted() {
            intervals.sort_unstable();
        }
        let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
        for iv in intervals {
            match merged.last_mut() {
                // saturating: a last end of u128::MAX absorbs everything after it
                Some(last) if iv.start <= last.end.saturating_add(1) => {
                    last.end = last.end.max(iv.end);
                }
                _ => merged.push(iv),
            }
        }
        IntervalSet {
            family,
            intervals: merged,
        }
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The merged intervals, ascending.
    pub fn intervals(&self) -> &[Interval] {
        &self.intervals
    }

    /// Number of merged intervals.
    pub fn len(&self) -> usize {
        self.intervals.len()
    }

    /// True when the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    /// Total addresses in the set.
    pub fn count(&self) -> Count {
        self.intervals
            .iter()
            .fold(Count::ZERO, |c, iv| c.plus_interval(*iv))
    }

    /// `self \ other` by one linear sweep over both lists.
    pub fn difference(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::with_capacity(self.intervals.len());
        let sub = &other.intervals;
        let mut j = 0;
        for iv in &self.intervals {
            // skip subtrahends wholly before this interval; they cannot touch later ones either
            while j < sub.len() && sub[j].end < iv.start {
                j += 1;
            }
            let mut cursor = iv.start;
            let mut k = j;
            let mut consumed = false;
            while k < sub.len() && sub[k].start <= iv.end {
                if sub[k].start > cursor {
                    out.push(Interval {
                        start: cursor,
                        end: sub[k].start - 1,
                    });
                }
                match sub[k].end.checked_add(1) {
                    Some(next) if sub[k].end < iv.end => cursor = next,
                    _ => {
                        consumed = true;
                        break;
                    }
                }
                k += 1;
            }
            if !consumed {
                out.push(Interval {
                    start: cursor,
                    end: iv.end,
                });
            }
        }
        IntervalSet {
            family: self.family,
            intervals: out,
        }
    }

    /// `self ∩ other` by one linear sweep.
    pub fn intersection(&self, other: &IntervalSet) -> IntervalSet {
        let (a, b) = (&self.intervals, &other.intervals);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            if let Some(iv) = a[i].intersect(&b[j]) {
                out.push(iv);
            }
            if a[i].end < b[j].end {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet {
            family: self.family,
            intervals: out,
        }
    }

    /// The stored intervals that overlap `query`, found by binary search.
    pub fn overlapping(&self, query: Interval) -> &[Interval] {
        let first = self.intervals.partition_point(|iv| iv.end < query.start);
        let rest = &self.intervals[first..];
        // a prefix usually meets zero or one interval: scanning beats a second binary search
        let n = rest
            .iter()
            .position(|iv| iv.start > query.end)
            .unwrap_or(rest.len());
        &rest[..n]
    }

    /// How many addresses of `query` lie in the set.
    pub fn covered(&self, query: Interval) -> Count {
        self.overlapping(query)
            .iter()
            .filter_map(|iv| iv.intersect(&query))
            .fold(Count::ZERO, Count::plus_interval)
    }

    /// True when the address (of this set's family) is in the set.
    pub fn contains(&self, value: u128) -> bool {
        !self
            .overlapping(Interval {
                start: value,
                end: value,
            })
            .is_empty()
    }

    /// The set as the fewest CIDR prefixes.
    pub fn to_cidrs(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for iv in &self.intervals {
            match self.family {
                Family::V4 => out.extend(
                    Ipv4Subnets::new(
                        Ipv4Addr::from(iv.start as u32),
                        Ipv4Addr::from(iv.end as u32),
                        0,
                    )
                    .map(IpNet::V4),
                ),
                Family::V6 => out.extend(
                    Ipv6Subnets::new(Ipv6Addr::from(iv.start), Ipv6Addr::from(iv.end), 0)
                        .map(IpNet::V6),
                ),
            }
        }
        out
    }

    /// Start and end addresses of each interval.
    pub fn ranges(&self) -> impl Iterator<Item = (IpAddr, IpAddr)> + '_ {
        self.intervals
            .iter()
            .map(|iv| (self.family.addr(iv.start), self.family.addr(iv.end)))
    }
}

/// One interval set per family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSet {
    pub v4: IntervalSet,
    pub v6: IntervalSet,
}

impl Default for IpSet {
    fn default() -> Self {
        IpSet {
            v4: IntervalSet::empty(Family::V4),
            v6: IntervalSet::empty(Family::V6),
        }
    }
}

impl IpSet {
    /// Merges prefixes of both families.
    pub fn from_nets<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> IpSet {
        let mut builder = IpSetBuilder::default();
        for net in nets {
            builder.push_net(net);
        }
        builder.build()
    }

    /// The set of one family.
    pub fn family(&self, family: Family) -> &IntervalSet {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// True when neither family holds an address.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// `self \ other`, per family.
    pub fn difference(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: self.v4.difference(&other.v4),
            v6: self.v6.difference(&other.v6),
        }
    }

    /// `self ∩ other`, per family.
    pub fn intersection(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: self.v4.intersection(&other.v4),
            v6: self.v6.intersection(&other.v6),
        }
    }

    /// True when the address is in the set.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let (family, value) = addr_value(addr);
        self.family(family).contains(value)
    }
}

/// Collects intervals of both families, then sorts and merges once.
#[derive(Debug, Default)]
pub struct IpSetBuilder {
    v4: Vec<Interval>,
    v6: Vec<Interval>,
}

impl IpSetBuilder {
    /// Adds an interval of a family.
    pub fn push(&mut self, family: Family, iv: Interval) {
        match family {
            Family::V4 => self.v4.push(iv),
            Family::V6 => self.v6.push(iv),
        }
    }

    /// Adds a prefix.
    pub fn push_net(&mut self, net: &IpNet) {
        let (family, iv) = Interval::of_net(net);
        self.push(family, iv);
    }

    /// Sorts and merges.
    pub fn build(self) -> IpSet {
        IpSet {
            v4: IntervalSet::from_intervals(Family::V4, self.v4),
            v6: IntervalSet::from_intervals(Family::V6, self.v6),
        }
    }
}
