//! One integration-test binary; a module per feature.

mod config_checks;
mod diagnosis;
mod emulator;
mod engine;
mod ip_allowlist;
mod reports;
mod round_trip;
mod support;
