//! One integration-test binary; a module per feature.

mod command_line;
mod config_checks;
mod diagnosis;
mod emulator;
mod engine;
mod fuzz;
mod hostile;
mod hostile_server;
mod ip_allowlist;
mod live_reports;
mod local_input;
mod mapping;
mod output_paths;
mod own_records;
mod profiles;
mod proxy;
mod ranges_cli;
mod reports;
mod response_budget;
mod round_trip;
mod secret_encodings;
mod secret_scan;
mod support;
mod terminal_safety;
mod version;
mod why;
