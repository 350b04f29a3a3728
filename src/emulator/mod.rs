//! A local ServiceNow instance (axum) serving fixtures/instances.
