//! Microsoft's service-tag files shipped inside the binary, and where a run's file comes from.
//!
//! The Public, Azure Government and China files live compressed in `data/azure/` (provenance and
//! checksums in `data/azure/SOURCE.md`, verified by a test) and are embedded with `include_bytes!`:
//! about 0.34 MB for 4.7 MB of JSON. Without `--service-tags` a run uses the Public snapshot, so the
//! `ip-allowlist` check always has ranges to judge; the snapshot is dated, and every report says how
//! old it is ([`STALE_AFTER_DAYS`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use super::service_tags::ServiceTagFile;
use crate::error::Error;

/// A file older than this at run time is stale: Microsoft republishes weekly.
pub const STALE_AFTER_DAYS: i64 = 60;

/// One embedded file (a row of `data/azure/SOURCE.md`).
pub struct Snapshot {
    /// `builtin:<key>` selects it.
    pub key: &'static str,
    /// The file's `cloud`.
    pub cloud: &'static str,
    /// Microsoft's file name (carries the date).
    pub file_name: &'static str,
    /// The file's top-level `changeNumber`.
    pub change_number: &'static str,
    /// Size and SHA-256 of the uncompressed bytes.
    pub bytes: usize,
    pub sha256: &'static str,
    /// The Download Center page of this cloud's weekly file.
    pub download_page: &'static str,
    compressed: &'static [u8],
}

/// `builtin:public`, the default.
pub static PUBLIC: Snapshot = Snapshot {
    key: "public",
    cloud: "Public",
    file_name: "ServiceTags_Public_20251028.json",
    change_number: "375",
    bytes: 4_108_133,
    sha256: "9cb4e5f9371cec1297b05a6f5d742768921a28bd854a3a9cbd80673a6399dc40",
    download_page: "https://www.microsoft.com/en-us/download/details.aspx?id=56519",
    compressed: include_bytes!("../../data/azure/ServiceTags_Public_20251028.json.zst"),
};

/// `builtin:gov`.
pub static GOVERNMENT: Snapshot = Snapshot {
    key: "gov",
    cloud: "AzureGovernment",
    file_name: "ServiceTags_AzureGovernment_20260720.json",
    change_number: "402",
    bytes: 326_446,
    sha256: "526a500736740f22077bf7846b46243f6e0d823353042461e6e90212c5e6849e",
    download_page: "https://www.microsoft.com/en-us/download/details.aspx?id=57063",
    compressed: include_bytes!("../../data/azure/ServiceTags_AzureGovernment_20260720.json.zst"),
};

/// `builtin:china`.
pub static CHINA: Snapshot = Snapshot {
    key: "china",
    cloud: "China",
    file_name: "ServiceTags_China_20260720.json",
    change_number: "405",
    bytes: 263_189,
    sha256: "bd83fd5acb17c1ed9c0bf1ad47b291787fccd06436fd6509169a6a0a506ca94a",
    download_page: "https://www.microsoft.com/en-us/download/details.aspx?id=57062",
    compressed: include_bytes!("../../data/azure/ServiceTags_China_20260720.json.zst"),
};

/// Every embedded snapshot.
pub const SNAPSHOTS: [&Snapshot; 3] = [&PUBLIC, &GOVERNMENT, &CHINA];

/// The prefix of the built-in sources.
pub const BUILTIN: &str = "builtin:";

/// `builtin:sample`: a small file in the real format, for the demo and tests; not Microsoft's list.
pub const SAMPLE_KEY: &str = "sample";

impl Snapshot {
    /// The date in the file name.
    pub fn date(&self) -> Option<NaiveDate> {
        super::service_tags::date_from_file_name(self.file_name)
    }

    /// The uncompressed file, checked against its recorded size.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        let mut decoder = ruzstd::decoding::StreamingDecoder::new(self.compressed)
            .map_err(|e| format!("embedded {}: not zstd data ({e})", self.file_name))?;
        let mut out = Vec::with_capacity(self.bytes);
        decoder
            .read_to_end(&mut out)
            .map_err(|e| format!("embedded {}: cannot decompress ({e})", self.file_name))?;
        if out.len() != self.bytes {
            return Err(format!(
                "embedded {} decompressed to {} bytes, data/azure/SOURCE.md records {}",
                self.file_name,
                out.len(),
                self.bytes
            ));
        }
        Ok(out)
    }

    /// The parsed file, dated and marked as embedded.
    pub fn load(&'static self) -> Result<ServiceTagFile, Error> {
        let bytes = self.bytes().map_err(Error::Config)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| Error::Config(format!("embedded {}: not UTF-8 ({e})", self.file_name)))?;
        let mut file = ServiceTagFile::parse(text)
            .map_err(|e| Error::Config(format!("embedded {}: {e}", self.file_name)))?;
        file.date = self.date();
        file.origin = Origin::Builtin(self);
        Ok(file)
    }
}

/// Where a parsed file came from; reports name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origin {
    /// Parsed from text handed to [`ServiceTagFile::parse`].
    #[default]
    Text,
    /// `builtin:sample`.
    Sample,
    /// An embedded snapshot.
    Builtin(&'static Snapshot),
    /// `--service-tags FILE`.
    File(PathBuf),
}

impl std::fmt::Debug for Snapshot {
    // the compressed bytes would fill a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Snapshot({BUILTIN}{}, {})", self.key, self.file_name)
    }
}

impl PartialEq for Snapshot {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Snapshot {}

/// What `--service-tags` names: nothing (the Public snapshot), `builtin:<name>`, or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagSource {
    Builtin(&'static Snapshot),
    Sample,
    File(PathBuf),
}

impl TagSource {
    /// Reads the flag's value; `None` is the embedded Public snapshot.
    pub fn from_arg(arg: Option<&Path>) -> Result<TagSource, Error> {
        let Some(path) = arg else {
            return Ok(TagSource::Builtin(&PUBLIC));
        };
        let Some(name) = path.to_str().and_then(|p| p.strip_prefix(BUILTIN)) else {
            return Ok(TagSource::File(path.to_path_buf()));
        };
        if name == SAMPLE_KEY {
            return Ok(TagSource::Sample);
        }
        SNAPSHOTS
            .iter()
            .find(|s| s.key == name)
            .map(|s| TagSource::Builtin(s))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--service-tags {BUILTIN}{name}: no such built-in file; use one of {}, or a file downloaded from {}",
                    builtin_names().join(", "),
                    PUBLIC.download_page
                ))
            })
    }

    /// Loads and parses the file.
    pub fn load(&self) -> Result<ServiceTagFile, Error> {
        match self {
            TagSource::Builtin(snapshot) => snapshot.load(),
            TagSource::Sample => {
                let mut file = ServiceTagFile::parse(super::SAMPLE_TEXT)
                    .map_err(|e| Error::Config(format!("embedded sample: {e}")))?;
                file.origin = Origin::Sample;
                Ok(file)
            }
            TagSource::File(path) => ServiceTagFile::load_file(path),
        }
    }

    /// [`TagSource::load`], and the exported rules read from `rules` meanwhile, on a second
    /// thread: neither needs the other, and the tag file's reading does not use both cores from
    /// its first byte. Both results are returned, so that the caller reports errors in its order.
    #[allow(clippy::type_complexity)]
    pub fn load_with_rules(
        &self,
        rules: Option<&Path>,
    ) -> (
        Result<ServiceTagFile, Error>,
        Option<Result<super::RuleSet, Error>>,
    ) {
        let Some(rules) = rules else {
            return (self.load(), None);
        };
        std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("rules".into())
                .spawn_scoped(scope, || super::rules_from_file(rules));
            let file = self.load();
            let rules = match other {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => super::rules_from_file(rules),
            };
            (file, Some(rules))
        })
    }
}

/// `builtin:public`, `builtin:gov`, `builtin:china`, `builtin:sample`.
pub fn builtin_names() -> Vec<String> {
    SNAPSHOTS
        .iter()
        .map(|s| s.key)
        .chain([SAMPLE_KEY])
        .map(|k| format!("{BUILTIN}{k}"))
        .collect()
}

/// How old a file is at `now`, and whether that makes it stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age {
    pub days: i64,
    pub stale: bool,
}

impl Age {
    /// `60 days old`; for a file dated after the run's date (a wrong clock, `SNOWDOCTOR_NOW`, or a
    /// misnamed file) it says so instead of printing a negative age.
    pub fn phrase(&self) -> String {
        match self.days {
            days if days >= 0 => format!("{days} days old"),
            -1 => "dated a day after the run's date (check the clock and the file's name)".into(),
            days => format!(
                "dated {} days after the run's date (check the clock and the file's name)",
                -days
            ),
        }
    }
}

impl ServiceTagFile {
    /// Days since the file's date at `now`; `None` when undated.
    pub fn age(&self, now: DateTime<Utc>) -> Option<Age> {
        let days = now
            .date_naive()
            .signed_duration_since(self.date?)
            .num_days();
        Some(Age {
            days,
            stale: days > STALE_AFTER_DAYS,
        })
    }

    /// The Download Center page for this file's cloud (Public when unknown).
    pub fn download_page(&self) -> &'static str {
        SNAPSHOTS
            .iter()
            .find(|s| s.cloud.eq_ignore_ascii_case(&self.cloud))
            .map_or(PUBLIC.download_page, |s| s.download_page)
    }

    /// What the file is, for evidence and report notes: `embedded Public snapshot builtin:public of
    /// 2025-10-28 (changeNumber 375)`.
    pub fn provenance(&self) -> String {
        let date = self
            .date
            .map_or_else(|| "undated".to_string(), |d| d.to_string());
        let change = if self.change_number.is_empty() {
            "unknown".to_string()
        } else {
            self.change_number.clone()
        };
        let cloud = if self.cloud.is_empty() {
            "unknown cloud"
        } else {
            &self.cloud
        };
        match &self.origin {
            Origin::Builtin(s) => format!(
                "embedded {cloud} snapshot {BUILTIN}{} of {date} (changeNumber {change})",
                s.key
            ),
            Origin::Sample => format!(
                "built-in sample {BUILTIN}{SAMPLE_KEY} ({cloud}, {date}): a small illustrative file, not Microsoft's full list"
            ),
            Origin::File(path) => format!(
                "file {} ({cloud}, {date}, changeNumber {change})",
                path.display()
            ),
            Origin::Text => format!("given file ({cloud}, {date}, changeNumber {change})"),
        }
    }

    /// The run-level notice every report carries: which ranges were used and how old they are.
    /// Starts with `warning:` when the file is stale.
    pub fn notice(&self, now: DateTime<Utc>) -> String {
        let what = self.provenance();
        match self.age(now) {
            Some(age) if age.stale => format!(
                "warning: Azure IP ranges from the {what}, {} at run time (stale after {STALE_AFTER_DAYS}): Microsoft republishes the file weekly, so newer ranges are not judged; download the current file from {} and pass --service-tags FILE",
                age.phrase(),
                self.download_page()
            ),
            Some(age) if age.days < 0 => {
                format!("Azure IP ranges from the {what}, {}", age.phrase())
            }
            Some(age) => format!(
                "Azure IP ranges from the {what}, {} at run time",
                age.phrase()
            ),
            None => format!("Azure IP ranges from the {what}"),
        }
    }
}
