//! One integration-test binary; a module per feature.

mod engine;
mod hostile;
mod hostile_server;
mod ip_allowlist;
mod reports;
mod support;
