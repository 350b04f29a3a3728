//! Azure service-tag files and the interval arithmetic for ip_access coverage.
