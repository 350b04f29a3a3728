//! Unit and property tests of the allowlist engine.

mod coverage;
mod parse;
mod props;
mod snapshot;
mod sweep;
