//! snowdoctor: diagnoses a ServiceNow instance for the Microsoft 365 security center ticket connector
//! (store app scope `x_mioms_m365ticket`) and proves the connection with a real OAuth connect and a
//! ticket round trip.
//!
//! The binary is a thin shell over this library. `cli` (clap) and `app` (one file per subcommand, the only
//! code that prints) are the edge; below them nothing sees clap. Data flows one way: `config` validates the inputs once,
//! `catalogue` loads the check manifests, `runner` plans the checks and gathers the facts they need through
//! `servicenow` (the only code that talks HTTP to an instance), the checks in `checks` evaluate those facts
//! purely, and `report` renders the resulting [`model::RunReport`]. `emulator` is a local ServiceNow that
//! tests, benchmarks and the demo run against; `azure` is the IP-range engine.

pub mod app;
pub mod azure;
pub mod catalogue;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod config;
pub mod emulator;
pub mod error;
pub mod exit;
pub mod fleet;
pub mod known_errors;
pub mod model;
pub mod profile;
pub mod report;
pub mod runner;
pub mod secrets;
pub mod servicenow;
pub mod suggest;
