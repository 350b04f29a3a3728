//! What the connector is made of on an instance: its OAuth entity, the grant switches, the integration
//! user. Both the gatherer (`runner/gather.rs`, which must find the entity and the user before it can
//! connect) and the checks (which judge the same rows) read this knowledge from here, so the runner
//! never reaches into a check and no check calls another.

pub mod entity;
pub mod grant;
pub mod user;
