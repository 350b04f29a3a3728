//! The check catalogue: TOML manifests in checks/, embedded, validated once.
