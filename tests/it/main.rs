//! One integration-test binary; a module per feature.

mod command_line;
mod config_checks;
mod diagnosis;
mod emulator;
mod engine;
mod fleet;
mod hostile;
mod hostile_server;
mod integrations;
mod ip_allowlist;
mod live_reports;
mod mapping;
mod own_records;
mod profiles;
mod proxy;
mod ranges_cli;
mod reports;
mod round_trip;
mod signals;
mod support;
mod version;
mod why;
