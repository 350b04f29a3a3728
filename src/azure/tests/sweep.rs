//! The one-sweep coverage ([`diagnose`]) against a naive model on random prefixes and rules: every
//! prefix judged on its own by binary search, unions and blocked parts merged from scratch.
//! Selections hold duplicates, nested and overlapping prefixes, /0, host routes and unsorted lists.

use compact_str::CompactString;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

use crate::azure::coverage::{Selection, TagCoverage, diagnose};
use crate::azure::intervals::{Count, Family, Interval, IntervalSet, IpSet};
use crate::azure::rules::{Direction, Flow, Policy, Rule, RuleSet, RuleType};

fn v4_value() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0),
        Just(u32::MAX),
        0u32..4096,
        (u32::MAX - 4096)..=u32::MAX,
        any::<u32>()
    ]
}

fn v6_value() -> impl Strategy<Value = u128> {
    prop_oneof![
        Just(0),
        Just(u128::MAX),
        0u128..4096,
        (u128::MAX - 4096)..=u128::MAX,
        any::<u128>()
    ]
}

fn net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (v4_value(), prop_oneof![0u8..=32, 20u8..=32]).prop_map(|(a, len)| {
            IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(a), len)
                    .expect("len <= 32")
                    .trunc(),
            )
        }),
        (v6_value(), prop_oneof![0u8..=128, 116u8..=128]).prop_map(|(a, len)| {
            IpNet::V6(
                Ipv6Net::new(Ipv6Addr::from(a), len)
                    .expect("len <= 128")
                    .trunc(),
            )
        }),
    ]
}

fn selection() -> impl Strategy<Value = Vec<IpNet>> {
    (
        prop::collection::vec(net(), 0..10),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(mut nets, sorted, doubled)| {
            if sorted {
                nets.sort_by_key(Interval::of_net);
            }
            if doubled && !nets.is_empty() {
                nets.push(nets[0]);
            }
            nets
        })
}

fn rule() -> impl Strategy<Value = Rule> {
    let range = prop_oneof![
        (v4_value(), v4_value()).prop_map(|(a, b)| (
            IpAddr::from(Ipv4Addr::from(a.min(b))),
            IpAddr::from(Ipv4Addr::from(a.max(b)))
        )),
        (v6_value(), v6_value()).prop_map(|(a, b)| (
            IpAddr::from(Ipv6Addr::from(a.min(b))),
            IpAddr::from(Ipv6Addr::from(a.max(b)))
        )),
    ];
    (range, any::<bool>()).prop_map(|((start, end), allow)| Rule {
        sys_id: CompactString::default(),
        rule_type: if allow {
            RuleType::Allow
        } else {
            RuleType::Deny
        },
        flow: Flow::Bidirectional,
        active: true,
        start,
        end,
        description: CompactString::default(),
    })
}

fn set(family: Family, intervals: impl Iterator<Item = Interval>) -> IntervalSet {
    IntervalSet::from_intervals(family, intervals.collect())
}

/// The verdict computed the slow, obvious way.
fn model(policy: &Policy, name: &str, nets: &[IpNet]) -> (TagCoverage, IpSet, IpSet) {
    let mut cov = TagCoverage {
        name: name.into(),
        prefixes: nets.len(),
        ..TagCoverage::default()
    };
    for net in nets {
        let (family, iv) = Interval::of_net(net);
        let hit = policy.blocked.family(family).covered(iv);
        if hit.is_zero() {
            cov.admitted += 1;
        } else if hit == iv.len() {
            cov.fully_blocked += 1;
        } else {
            cov.partly_blocked += 1;
        }
    }
    let of = |family| {
        set(
            family,
            nets.iter()
                .map(Interval::of_net)
                .filter(|(f, _)| *f == family)
                .map(|(_, iv)| iv),
        )
    };
    let union = IpSet {
        v4: of(Family::V4),
        v6: of(Family::V6),
    };
    let blocked = union.intersection(&policy.blocked);
    cov.addresses_v4 = union.v4.count();
    cov.addresses_v6 = union.v6.count();
    cov.blocked_v4 = blocked.v4.count();
    cov.blocked_v6 = blocked.v6.count();
    (cov, union, blocked)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sweep_matches_model(
        selections in prop::collection::vec(selection(), 0..5),
        rules in prop::collection::vec(rule(), 0..8),
    ) {
        let policy = RuleSet { rules, malformed: Vec::new() }.policy(Direction::Inbound);
        let sel: Vec<Selection> = selections
            .iter()
            .enumerate()
            .map(|(i, nets)| Selection { name: format!("tag{i}").into(), prefixes: nets.as_slice().into() })
            .collect();
        let cov = diagnose(&policy, &sel);
        prop_assert_eq!(cov.tags.len(), selections.len());
        for (i, (got, nets)) in cov.tags.iter().zip(&selections).enumerate() {
            let (want, _, _) = model(&policy, &format!("tag{i}"), nets);
            prop_assert_eq!(got, &want);
        }
        let distinct: Vec<IpNet> = selections
            .iter()
            .flatten()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (overall, union, repair) = model(&policy, "all selected", &distinct);
        prop_assert_eq!(&cov.overall, &overall);
        prop_assert_eq!(&cov.union, &union);
        prop_assert_eq!(&cov.repair, &repair);
    }
}

#[test]
fn whole_spaces_and_host_routes() {
    let deny_all = |start: &str, end: &str| Rule {
        sys_id: CompactString::default(),
        rule_type: RuleType::Deny,
        flow: Flow::Bidirectional,
        active: true,
        start: start.parse().expect("address"),
        end: end.parse().expect("address"),
        description: CompactString::default(),
    };
    let policy = RuleSet {
        rules: vec![
            deny_all("0.0.0.0", "255.255.255.255"),
            deny_all("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ],
        malformed: Vec::new(),
    }
    .policy(Direction::Inbound);
    let nets: Vec<IpNet> = ["0.0.0.0/0", "::/0", "10.0.0.1/32", "::1/128", "::/0"]
        .iter()
        .map(|t| t.parse().expect("prefix"))
        .collect();
    let cov = diagnose(
        &policy,
        &[Selection {
            name: "all".into(),
            prefixes: nets.as_slice().into(),
        }],
    );
    let tag = &cov.tags[0];
    assert_eq!((tag.prefixes, tag.fully_blocked), (5, 5));
    assert_eq!(
        tag.addresses_v4,
        Count {
            value: 1 << 32,
            saturated: false
        }
    );
    // 2^128 addresses: one more than a u128 holds
    assert!(tag.addresses_v6.saturated && tag.blocked_v6.saturated);
    // the duplicate ::/0 counts once overall
    assert_eq!(cov.overall.prefixes, 4);
    assert_eq!(cov.repair.v4.len(), 1);
    assert_eq!(
        cov.repair.v6.intervals(),
        [Interval {
            start: 0,
            end: u128::MAX
        }]
    );
}
