//! One integration-test binary; a module per feature.

mod reports;
mod support;
