//! HTTP client for one instance (being written).
