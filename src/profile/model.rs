//! The parts of a profile beyond "which app, entity, user and table": how the integration
//! authenticates, where it calls from, what it reads and writes, and which releases it supports.
//! Every field is optional in TOML, so a profile written for an older snowdoctor keeps working.

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who calls whom.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A Microsoft service calls the instance's REST API.
    #[default]
    Inbound,
    /// The instance polls Microsoft's APIs (the diagnosis can only read its configuration).
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Where the integration stands with its vendor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    #[default]
    Live,
    /// Still documented but being deprecated.
    Legacy,
    /// The vendor has retired it; kept for existing installs.
    Retired,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Live => "live",
            Lifecycle::Legacy => "legacy",
            Lifecycle::Retired => "retired",
        }
    }
}

/// A way the integration authenticates to the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    Basic,
    AuthorizationCode,
    Password,
    RefreshToken,
    ClientCredentials,
    /// An OIDC provider entity verifying an Entra ID token.
    Oidc,
    ApiKey,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::Basic => "basic",
            AuthKind::AuthorizationCode => "authorization_code",
            AuthKind::Password => "password",
            AuthKind::RefreshToken => "refresh_token",
            AuthKind::ClientCredentials => "client_credentials",
            AuthKind::Oidc => "oidc",
            AuthKind::ApiKey => "api_key",
        }
    }
}

/// The Microsoft cloud a value belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cloud {
    #[default]
    Public,
    Gov,
    China,
}

impl Cloud {
    /// Every cloud, for `--cloud`.
    pub const ALL: &'static [Cloud] = &[Cloud::Public, Cloud::Gov, Cloud::China];

    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::Gov => "gov",
            Cloud::China => "china",
        }
    }

    /// The name `--cloud` takes.
    pub fn name(&self) -> &'static str {
        self.as_str()
    }

    /// The embedded service-tag file of this cloud (`builtin:public`, `builtin:gov`, `builtin:china`).
    pub fn builtin_service_tags(self) -> &'static str {
        match self {
            Cloud::Public => "builtin:public",
            Cloud::Gov => "builtin:gov",
            Cloud::China => "builtin:china",
        }
    }

    /// The name of Microsoft's download for this cloud, for messages.
    pub fn download_name(self) -> &'static str {
        match self {
            Cloud::Public => "Azure IP Ranges and Service Tags – Public Cloud",
            Cloud::Gov => "Azure IP Ranges and Service Tags – US Government Cloud",
            Cloud::China => "Azure IP Ranges and Service Tags – China Cloud",
        }
    }
}

/// A callback URL the registry entry must list. `{name}` and `*` match one URL segment or host label
/// part (an Azure DevOps organisation, a Power Platform consent host).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectUrl {
    pub url: String,
    #[serde(default)]
    pub cloud: Cloud,
}

/// Addresses the integration calls from: Azure service-tag names and/or literal prefixes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRanges {
    #[serde(default)]
    pub cloud: Cloud,
    #[serde(default)]
    pub service_tags: Vec<String>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub cidrs: Vec<IpNet>,
}

/// A table the integration user must read, and the fields it must see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableRead {
    pub table: String,
    #[serde(default)]
    pub fields: Vec<String>,
    /// Needed only by some configurations (a missing read warns instead of failing).
    #[serde(default)]
    pub optional: bool,
}

/// An endpoint the integration calls to verify its connection, and what it expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointProbe {
    /// Path and query on the instance, e.g. `/api/x_mioms_azpipeline/app_version?app_major_version=4`.
    pub path: String,
    #[serde(default = "ok_status")]
    pub expect_status: u16,
    /// JSON pointer of a value the answer must hold (e.g. `/result/version`).
    #[serde(default)]
    pub expect_json: Option<String>,
    /// The value at `expect_json` must start with this (e.g. `4.`).
    #[serde(default)]
    pub expect_prefix: Option<String>,
    /// What a failure means for the integration.
    #[serde(default)]
    pub meaning: String,
}

fn ok_status() -> u16 {
    200
}

/// How the integration writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// Read-only: the round trip is not applicable.
    None,
    /// Table API create/update on the target table.
    #[default]
    Table,
    /// Inserts into an import set's staging table; a transform map writes the target.
    ImportSet,
}

impl WriteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteKind::None => "none",
            WriteKind::Table => "table",
            WriteKind::ImportSet => "import_set",
        }
    }
}

/// The write path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WritePath {
    #[serde(default)]
    pub kind: WriteKind,
    /// The import set's staging table.
    #[serde(default)]
    pub staging_table: Option<String>,
    /// The table written (default: the profile's `ticket_table`).
    #[serde(default)]
    pub target_table: Option<String>,
    /// The transform map's name, for messages.
    #[serde(default)]
    pub transform_map: Option<String>,
}

/// Token lifespans the integration's vendor recommends, seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPolicy {
    /// A shorter refresh-token lifespan warns.
    #[serde(default)]
    pub refresh_lifespan_min: Option<u64>,
    /// What the vendor's setup page says, for messages.
    #[serde(default)]
    pub note: String,
}

/// The release families the vendor lists as supported. Older than `min` fails; newer than `max` warns
/// (not listed is not known broken).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRange {
    #[serde(default)]
    pub min: Option<String>,
    #[serde(default)]
    pub max: Option<String>,
}
