//! Azure service-tag files and the interval arithmetic for ip_access coverage.
//!
//! Flow: [`service_tags`] parses Microsoft's weekly JSON file (read by `tag_reader`, prefixes by
//! `prefix`), [`rules`] reads ServiceNow's `ip_access` rows into a per-direction
//! [`rules::Policy`] (blocked = Deny \ Allow), [`coverage`] judges each selected tag's prefixes
//! against it and derives the minimal Allow rules, all on the sorted interval sets of
//! [`intervals`]. The offline `snowdoctor ranges` command is
//! `src/app/ranges.rs`.
//! [`snapshot`] holds the files shipped in the binary and resolves `--service-tags`.

pub mod coverage;
pub mod intervals;
mod prefix;
pub mod reference_data;
pub mod rules;
pub mod service_tags;
pub mod snapshot;
mod tag_reader;

#[cfg(test)]
mod tests;

/// `--service-tags builtin:sample`: a small file in the real format, embedded for the demo.
pub const SAMPLE_SERVICE_TAGS: &str = "builtin:sample";
/// The embedded sample's text.
pub const SAMPLE_TEXT: &str = include_str!("../../fixtures/azure/ServiceTags_Sample.json");
pub use coverage::{
    AddressStatus, Coverage, Selection, TagCoverage, address_status, allow_rules_csv, diagnose,
};
pub use intervals::{Count, Family, Interval, IntervalSet, IpSet};
pub use rules::{Direction, Policy, Rule, RuleSet, rules_from_file, rules_from_rows};
pub use service_tags::{ServiceTag, ServiceTagError, ServiceTagFile};
pub use snapshot::{Origin, STALE_AFTER_DAYS, Snapshot, TagSource};
