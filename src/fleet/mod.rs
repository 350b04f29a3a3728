//! Many instances in one run (`snowdoctor run --targets FILE`): the targets file and the fleet's
//! summary. Each target is an ordinary run (its own client, rate-limit budget, round trip and cleanup);
//! `src/app/fleet.rs` runs them side by side and `src/report/fleet.rs` renders the result.

pub mod summary;
pub mod targets;

pub use summary::{FLEET_SCHEMA_VERSION, FleetReport, FleetSummary, TargetSummary};
pub use targets::Target;
