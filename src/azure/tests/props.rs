//! The interval engine against a naive model on random inputs.
//!
//! The model keeps the raw, unmerged intervals and answers membership by scanning them all. Both the
//! model and the engine can only change membership at a raw start or just after a raw end, so
//! comparing them at every such point (and its neighbours, and the family's edges) compares the two
//! sets exactly, even over the full 2^32 / 2^128 spaces.

use proptest::prelude::*;

use crate::azure::intervals::{Count, Family, Interval, IntervalSet};

fn value(family: Family) -> impl Strategy<Value = u128> {
    let max = family.max();
    prop_oneof![
        Just(0u128),
        Just(1u128),
        Just(max - 1),
        Just(max),
        0u128..48,
        (max - 48)..=max,
        (0u128..=max),
        // a small window in the middle so neighbours and overlaps are common there too
        (max / 2 - 32)..(max / 2 + 32),
    ]
}

fn interval(family: Family) -> impl Strategy<Value = Interval> {
    (value(family), value(family)).prop_map(|(a, b)| Interval {
        start: a.min(b),
        end: a.max(b),
    })
}

fn intervals(family: Family) -> impl Strategy<Value = Vec<Interval>> {
    prop::collection::vec(interval(family), 0..12)
}

fn member(raw: &[Interval], x: u128) -> bool {
    raw.iter().any(|iv| iv.start <= x && x <= iv.end)
}

/// Every point where membership of any of the raw sets may change, with neighbours and edges.
fn probes(family: Family, sets: &[&[Interval]]) -> Vec<u128> {
    let mut points = vec![0, family.max()];
    for iv in sets.iter().flat_map(|s| s.iter()) {
        for p in [iv.start, iv.end] {
            points.push(p);
            points.extend(p.checked_sub(1));
            points.extend(p.checked_add(1).filter(|q| *q <= family.max()));
        }
    }
    points.sort_unstable();
    points.dedup();
    points
}

/// Naive count of the addresses in `[lo, hi]` for which `pred` holds, by elementary segments.
fn naive_count(
    family: Family,
    sets: &[&[Interval]],
    lo: u128,
    hi: u128,
    pred: impl Fn(u128) -> bool,
) -> Count {
    let mut cuts: Vec<u128> = vec![lo];
    for iv in sets.iter().flat_map(|s| s.iter()) {
        cuts.push(iv.start);
        cuts.extend(iv.end.checked_add(1));
    }
    cuts.retain(|c| *c >= lo && *c <= hi && *c <= family.max());
    cuts.sort_unstable();
    cuts.dedup();
    let mut total = Count::ZERO;
    for (i, &from) in cuts.iter().enumerate() {
        let to = cuts.get(i + 1).map_or(hi, |next| next - 1);
        if pred(from) {
            total = total.plus_interval(Interval {
                start: from,
                end: to,
            });
        }
    }
    total
}

fn check_canonical(set: &IntervalSet) -> Result<(), TestCaseError> {
    for iv in set.intervals() {
        prop_assert!(iv.start <= iv.end && iv.end <= set.family().max());
    }
    for pair in set.intervals().windows(2) {
        // disjoint and not adjacent: adjacent intervals must have been merged
        prop_assert!(pair[0].end.saturating_add(1) < pair[1].start, "{pair:?}");
    }
    Ok(())
}

fn families() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::V4), Just(Family::V6)]
}

fn case() -> impl Strategy<Value = (Family, Vec<Interval>, Vec<Interval>, Interval)> {
    families().prop_flat_map(|f| (Just(f), intervals(f), intervals(f), interval(f)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn merge_matches_model((family, a, _b, _q) in case()) {
        let set = IntervalSet::from_intervals(family, a.clone());
        check_canonical(&set)?;
        for p in probes(family, &[&a]) {
            prop_assert_eq!(set.contains(p), member(&a, p), "at {}", p);
        }
        let naive = naive_count(family, &[&a], 0, family.max(), |x| member(&a, x));
        prop_assert_eq!(set.count(), naive);
    }

    #[test]
    fn difference_and_intersection_match_model((family, a, b, _q) in case()) {
        let (sa, sb) = (IntervalSet::from_intervals(family, a.clone()), IntervalSet::from_intervals(family, b.clone()));
        let diff = sa.difference(&sb);
        let both = sa.intersection(&sb);
        check_canonical(&diff)?;
        check_canonical(&both)?;
        for p in probes(family, &[&a, &b]) {
            prop_assert_eq!(diff.contains(p), member(&a, p) && !member(&b, p), "diff at {}", p);
            prop_assert_eq!(both.contains(p), member(&a, p) && member(&b, p), "inter at {}", p);
        }
    }

    #[test]
    fn coverage_query_matches_model((family, deny, allow, q) in case()) {
        let blocked = IntervalSet::from_intervals(family, deny.clone())
            .difference(&IntervalSet::from_intervals(family, allow.clone()));
        let is_blocked = |x| member(&deny, x) && !member(&allow, x);
        let naive = naive_count(family, &[&deny, &allow], q.start, q.end, is_blocked);
        prop_assert_eq!(blocked.covered(q), naive);
        let any_blocked = probes(family, &[&deny, &allow, &[q]])
            .into_iter()
            .any(|p| q.start <= p && p <= q.end && is_blocked(p));
        prop_assert_eq!(!blocked.overlapping(q).is_empty(), any_blocked);
    }

    #[test]
    fn cidrs_cover_exactly_the_set((family, a, _b, _q) in case()) {
        let set = IntervalSet::from_intervals(family, a);
        let cidrs = set.to_cidrs();
        let back: Vec<Interval> = cidrs.iter().map(|n| Interval::of_net(n).1).collect();
        let total = back.iter().fold(Count::ZERO, |c, iv| c.plus_interval(*iv));
        // equal counts plus equal unions means the prefixes do not overlap
        prop_assert_eq!(total, set.count());
        prop_assert_eq!(IntervalSet::from_intervals(family, back), set);
    }
}

#[test]
fn edges_of_both_families() {
    let all_v6 = IntervalSet::from_intervals(
        Family::V6,
        vec![Interval {
            start: 0,
            end: u128::MAX,
        }],
    );
    assert_eq!(all_v6.count().to_string(), "2^128");
    assert!(all_v6.count().saturated);
    assert_eq!(
        all_v6.to_cidrs(),
        vec!["::/0".parse::<ipnet::IpNet>().expect("valid prefix")]
    );

    let max4 = Family::V4.max();
    // adjacent at the top edge: [0, max-1] and [max, max] merge into one, no overflow
    let v4 = IntervalSet::from_intervals(
        Family::V4,
        vec![
            Interval {
                start: max4,
                end: max4,
            },
            Interval {
                start: 0,
                end: max4 - 1,
            },
        ],
    );
    assert_eq!(
        v4.intervals(),
        &[Interval {
            start: 0,
            end: max4
        }]
    );
    assert_eq!(
        v4.count(),
        Count {
            value: 1 << 32,
            saturated: false
        }
    );
    assert_eq!(
        v4.to_cidrs(),
        vec!["0.0.0.0/0".parse::<ipnet::IpNet>().expect("valid prefix")]
    );

    // deny everything, allow the two edge addresses: blocked is everything in between
    let edges = IntervalSet::from_intervals(
        Family::V4,
        vec![
            Interval { start: 0, end: 0 },
            Interval {
                start: max4,
                end: max4,
            },
        ],
    );
    let blocked = v4.difference(&edges);
    assert_eq!(
        blocked.intervals(),
        &[Interval {
            start: 1,
            end: max4 - 1
        }]
    );
    // and the reverse at the IPv6 top edge
    let top = IntervalSet::from_intervals(
        Family::V6,
        vec![Interval {
            start: u128::MAX,
            end: u128::MAX,
        }],
    );
    assert_eq!(
        all_v6.difference(&top).intervals(),
        &[Interval {
            start: 0,
            end: u128::MAX - 1
        }]
    );
    assert_eq!(all_v6.difference(&all_v6).len(), 0);
}
