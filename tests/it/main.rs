//! One integration-test binary; a module per feature.

mod ip_allowlist;
mod support;
