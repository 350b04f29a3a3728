//! Built-in checks: one file per check, file name = check id.
