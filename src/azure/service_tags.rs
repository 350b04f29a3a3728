//! Azure "IP Ranges and Service Tags" JSON files (docs/reference/microsoft-integration.md §4.2).
//!
//! One parser for the weekly download files of every cloud and for the Service Tag Discovery API
//! shape (string `changeNumber`, extra `id`/`name`/`type`/`nextLink`). The file is parsed as JSON
//! into borrowed structs, never split by lines, so the layout (BOM, CRLF, indentation) does not
//! matter. Prefixes are validated here: an invalid CIDR is an error naming the tag, and a prefix
//! with host bits set is masked and reported, not trusted.

use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use compact_str::CompactString;
use ipnet::IpNet;
use serde::Serialize;

use super::snapshot::{Origin, TagSource};

/// Why a service-tag file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ServiceTagError {
    #[error("not a ServiceTags JSON file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("service tag {tag:?}: {prefix:?} is not a valid CIDR prefix ({reason})")]
    BadPrefix {
        tag: String,
        prefix: String,
        reason: String,
    },
    #[error("service tag {tag:?}: \"addressPrefixes\" is not a list of prefix strings ({reason})")]
    BadPrefixList { tag: String, reason: String },
    #[error("the file has no service tags (empty \"values\")")]
    NoTags,
    #[error("unknown service tag {name:?}{}", suggest(.close))]
    UnknownTag { name: String, close: Vec<String> },
}

fn suggest(close: &[String]) -> String {
    if close.is_empty() {
        "; tag names are case-sensitive and listed in the file's \"values\"".into()
    } else {
        format!("; close names: {}", close.join(", "))
    }
}

/// One service tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceTag {
    pub name: CompactString,
    /// Region id such as `westeurope`; empty for cloud-wide tags.
    pub region: CompactString,
    /// Empty for `AzureCloud` and its regional tags.
    pub system_service: CompactString,
    /// The tag's own version ("" when absent).
    pub change_number: CompactString,
    #[serde(skip)]
    pub prefixes: Vec<IpNet>,
}

/// A prefix published with host bits set, e.g. `10.0.0.1/24`; it is used as `10.0.0.0/24`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostBits {
    pub tag: String,
    pub given: String,
    pub used: IpNet,
}

/// A parsed service-tag file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTagFile {
    /// `Public`, `AzureGovernment`, `China`, … ("" when absent).
    pub cloud: String,
    /// The file's version ("" when absent).
    pub change_number: String,
    /// From a `_YYYYMMDD` in the file name; `None` when the name has none.
    pub date: Option<NaiveDate>,
    pub tags: Vec<ServiceTag>,
    /// Prefixes with host bits set (masked before use).
    pub host_bits: Vec<HostBits>,
    /// Where the file came from (embedded snapshot, sample, a path).
    pub origin: Origin,
}

impl ServiceTagFile {
    /// Parses file contents. A leading UTF-8 BOM is skipped.
    pub fn parse(text: &str) -> Result<ServiceTagFile, ServiceTagError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let parts = super::tag_reader::read(text)?;
        Ok(ServiceTagFile {
            cloud: parts.cloud,
            change_number: parts.change_number,
            date: None,
            tags: parts.tags,
            host_bits: parts.host_bits,
            origin: Origin::Text,
        })
    }

    /// Loads what a `--service-tags` value names: `builtin:public|gov|china|sample` or a file path.
    pub fn load(path: &Path) -> Result<ServiceTagFile, crate::error::Error> {
        TagSource::from_arg(Some(path))?.load()
    }

    /// Reads and parses a file on disk; the date comes from its name.
    pub fn load_file(path: &Path) -> Result<ServiceTagFile, crate::error::Error> {
        let bytes = crate::local_file::read(path)?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            crate::error::Error::Config(format!(
                "service tags {}: not UTF-8 text ({e}); Microsoft's files are UTF-8 JSON",
                path.display()
            ))
        })?;
        let mut file = ServiceTagFile::parse(text).map_err(|e| {
            crate::error::Error::Config(format!("service tags {}: {e}", path.display()))
        })?;
        file.date = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(date_from_file_name);
        file.origin = Origin::File(path.to_path_buf());
        Ok(file)
    }

    /// The tag with exactly this name.
    pub fn tag(&self, name: &str) -> Option<&ServiceTag> {
        self.tags.iter().find(|t| t.name == name)
    }

    /// The named tags (exact names), or every tag when `names` is empty.
    pub fn select(&self, names: &[String]) -> Result<Vec<&ServiceTag>, ServiceTagError> {
        if names.is_empty() {
            return Ok(self.tags.iter().collect());
        }
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            match self.tag(name) {
                Some(tag) if !out.iter().any(|t: &&ServiceTag| t.name == tag.name) => out.push(tag),
                Some(_) => {}
                None => {
                    return Err(ServiceTagError::UnknownTag {
                        name: name.clone(),
                        close: self.close_names(name),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Up to five tag names that resemble `name` (case, prefix, or a few typos).
    pub fn close_names(&self, name: &str) -> Vec<String> {
        let wanted = name.to_ascii_lowercase();
        let mut scored: Vec<(usize, &str)> = self
            .tags
            .iter()
            .filter_map(|t| {
                let have = t.name.as_str().to_ascii_lowercase();
                let score = if have == wanted {
                    0
                } else if have.starts_with(&wanted) || wanted.starts_with(&have) {
                    1
                } else {
                    let d = edit_distance(&have, &wanted);
                    if d > 3 {
                        return None;
                    }
                    1 + d
                };
                Some((score, t.name.as_str()))
            })
            .collect();
        scored.sort();
        scored
            .into_iter()
            .take(5)
            .map(|(_, n)| n.to_string())
            .collect()
    }

    /// Total number of prefixes over all tags (with repeats across tags).
    pub fn prefix_count(&self) -> usize {
        self.tags.iter().map(|t| t.prefixes.len()).sum()
    }
}

/// `ServiceTags_Public_20251028.json` → 2025-10-28: the last `_YYYYMMDD` group that is a real date.
pub fn date_from_file_name(name: &str) -> Option<NaiveDate> {
    name.split(['_', '.', '-'])
        .filter(|part| part.len() == 8 && part.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|part| NaiveDate::parse_from_str(part, "%Y%m%d").ok())
        .next_back()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl fmt::Display for ServiceTagFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = self
            .date
            .map_or_else(|| "date unknown".to_string(), |d| d.to_string());
        write!(
            f,
            "cloud {}, change number {}, {date}, {} tags, {} prefixes",
            if self.cloud.is_empty() {
                "unknown"
            } else {
                &self.cloud
            },
            if self.change_number.is_empty() {
                "unknown"
            } else {
                &self.change_number
            },
            self.tags.len(),
            self.prefix_count()
        )
    }
}
