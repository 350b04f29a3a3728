//! Integration profiles: what one Microsoft ↔ ServiceNow integration looks like on the instance. Checks
//! read everything integration-specific from the selected [`Profile`], so another integration needs a
//! profile, not code. The built-in profiles are TOML files in `profiles/` (embedded in the binary), in
//! the same shape as `[profiles.NAME]` in a config file, so user-defined profiles get every field.

pub mod describe;
mod model;

use include_dir::{Dir, include_dir};
use serde::Deserialize;

pub use model::{
    AuthKind, Cloud, Direction, EndpointProbe, Lifecycle, RedirectUrl, ReleaseRange, SourceRanges,
    TableRead, TokenPolicy, WriteKind, WritePath,
};

use crate::config::line_of;
use crate::error::{Error, Result};
use crate::servicenow::roundtrip::mapping::MappingOverrides;

/// The default profile: the Microsoft 365 security center ticket connector.
pub const DEFAULT_PROFILE: &str = "m365-security-center";

static BUILTIN_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/profiles");

/// What the integration looks like on the instance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The integration's product name, for `profiles` and messages.
    #[serde(default)]
    pub integration: String,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// Why the lifecycle is what it is (e.g. the vendor's retirement notice).
    #[serde(default)]
    pub lifecycle_note: String,
    /// Public pages the profile's requirements come from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Application scope of the store app (`x_mioms_m365ticket`); empty when no app is required.
    #[serde(default)]
    pub app_scope: String,
    /// Display name of the app, for messages.
    #[serde(default)]
    pub app_name: String,
    /// Name of the OAuth application registry entity; found through the app when absent.
    #[serde(default)]
    pub oauth_entity: Option<String>,
    /// Where `oauth_entity` came from (`--oauth-entity`, a profile, the demo emulator), for evidence.
    #[serde(skip)]
    pub oauth_entity_origin: String,
    /// The integration user; found through the app's roles when absent.
    #[serde(default)]
    pub integration_user: Option<String>,
    /// Roles the integration user must hold; empty means "at least one role of the app's scope".
    #[serde(default)]
    pub expected_roles: Vec<String>,
    /// Roles the integration user must not hold (e.g. `snc_read_only` for the Copilot connectors).
    #[serde(default)]
    pub forbidden_roles: Vec<String>,
    /// How the integration authenticates (any of them is accepted).
    #[serde(default)]
    pub auth_kinds: Vec<AuthKind>,
    /// Callback URLs the registry entry must list (one per cloud variant).
    #[serde(default)]
    pub redirect_urls: Vec<RedirectUrl>,
    /// Plugin ids that must be active.
    #[serde(default)]
    pub required_plugins: Vec<String>,
    /// Where the integration calls from, per cloud.
    #[serde(default)]
    pub source_ranges: Vec<SourceRanges>,
    /// Tables (and fields) the integration user must read.
    #[serde(default)]
    pub read_tables: Vec<TableRead>,
    /// System properties the integration user must read.
    #[serde(default)]
    pub read_properties: Vec<String>,
    /// Endpoints the integration calls to verify its connection.
    #[serde(default)]
    pub probes: Vec<EndpointProbe>,
    /// How the integration writes.
    #[serde(default)]
    pub write: WritePath,
    /// Token lifespans the vendor recommends.
    #[serde(default)]
    pub tokens: TokenPolicy,
    /// Releases the vendor lists as supported.
    #[serde(default)]
    pub releases: ReleaseRange,
    /// Table of the ticket round trip.
    #[serde(default = "default_ticket_table")]
    pub ticket_table: String,
    /// Columns of the round trip's seven data fields (`[profiles.NAME.field_mapping]`); absent keys keep
    /// the defaults of `FieldMapping::for_table`.
    #[serde(default)]
    pub field_mapping: MappingOverrides,
    /// How to reach the instance this profile is for (`[profiles.NAME.connection]` in a config file);
    /// flags and the environment win, `[defaults]` fills the gaps.
    #[serde(default)]
    pub connection: crate::config::ConnectionDefaults,
}

fn default_ticket_table() -> String {
    "incident".into()
}

impl Profile {
    /// The built-in profiles, default first. A test proves every embedded file parses, so an entry
    /// that does not is a build defect, reported on stderr rather than hidden.
    pub fn builtin() -> Vec<Profile> {
        let mut profiles: Vec<Profile> = builtin_sources()
            .into_iter()
            .filter_map(|(path, text)| match parse(&path, &text) {
                Ok(profile) => Some(profile),
                Err(e) => {
                    tracing::error!("built-in profile {path}: {e}");
                    None
                }
            })
            .collect();
        profiles.sort_by_key(|p| (p.name != DEFAULT_PROFILE, p.name.clone()));
        profiles
    }

    /// Settles the fields that follow from others (called once a profile is resolved).
    pub fn settle(&mut self) {
        if let Some(target) = &self.write.target_table {
            self.ticket_table = target.clone();
        }
    }

    /// The table the integration writes (or would).
    pub fn target_table(&self) -> &str {
        self.write
            .target_table
            .as_deref()
            .unwrap_or(&self.ticket_table)
    }

    /// What the integration writes, in words.
    pub fn writes(&self) -> String {
        match self.write.kind {
            WriteKind::None => "nothing (read-only)".into(),
            WriteKind::Table => format!("{} (Table API)", self.target_table()),
            WriteKind::ImportSet => format!(
                "{} via import set {}",
                self.target_table(),
                self.write.staging_table.as_deref().unwrap_or("?")
            ),
        }
    }

    /// The source ranges of one cloud.
    pub fn source_ranges_for(&self, cloud: Cloud) -> Option<&SourceRanges> {
        self.source_ranges.iter().find(|r| r.cloud == cloud)
    }
}

/// The embedded profile files as (repository path, text).
fn builtin_sources() -> Vec<(String, String)> {
    BUILTIN_DIR
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
        .map(|f| {
            (
                format!("profiles/{}", f.path().display()),
                f.contents_utf8().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Parses one profile file.
pub fn parse(path: &str, text: &str) -> Result<Profile> {
    let mut profile: Profile = toml::from_str(text).map_err(|e| Error::Manifest {
        path: path.into(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        message: e.message().trim().to_string(),
    })?;
    profile.settle();
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_profile_parses_and_names_its_sources() {
        let sources = builtin_sources();
        assert!(sources.len() >= 7, "{sources:?}");
        for (path, text) in sources {
            let profile = parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                format!("profiles/{}.toml", profile.name),
                path,
                "file name = profile name"
            );
            assert!(!profile.sources.is_empty(), "{path} cites no source");
            assert!(
                !profile.integration.is_empty(),
                "{path} names no integration"
            );
        }
        assert_eq!(Profile::builtin()[0].name, DEFAULT_PROFILE);
    }

    #[test]
    fn the_default_profile_is_marked_retired_and_keeps_its_behaviour() {
        let default = Profile::builtin()
            .into_iter()
            .find(|p| p.name == DEFAULT_PROFILE)
            .expect("default profile");
        assert_eq!(default.lifecycle, Lifecycle::Retired);
        assert_eq!(default.app_scope, "x_mioms_m365ticket");
        assert_eq!(default.ticket_table, "incident");
        assert!(default.expected_roles.is_empty());
        assert_eq!(default.write.kind, WriteKind::Table);
    }
}
