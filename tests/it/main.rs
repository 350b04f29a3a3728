//! One integration-test binary; a module per feature.

mod engine;
mod ip_allowlist;
mod reports;
mod support;
