//! Azure "IP Ranges and Service Tags" JSON files (docs/reference/microsoft-integration.md §4.2).
//!
//! One parser for the weekly download files of every cloud and for the Service Tag Discovery API
//! shape (string `changeNumber`, extra `id`/`name`/`type`/`nextLink`). The file is parsed as JSON
//! into borrowed structs, never split by lines, so the layout (BOM, CRLF, indentation) does not
//! matter. Prefixes are validated here: an invalid CIDR is an error naming the tag, and a prefix
//! with host bits set is masked and reported, not trusted.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

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

/// `changeNumber`: a number in the download files, a string in the Discovery API. A visitor that takes
/// either, instead of an untagged enum, which buffers every value before trying its variants.
struct Change(String);

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Change;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a change number (number or string)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Change, E> {
                Ok(Change(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Change, E> {
                Ok(Change(v.to_string()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Change, E> {
                Ok(Change(v.to_string()))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A tag's `addressPrefixes`, parsed to prefixes as they stream past: no list of strings is built and
/// no string is copied unless it has to be reported.
#[derive(Default)]
struct Prefixes {
    nets: Vec<IpNet>,
    /// (given text, prefix used) for prefixes published with host bits set.
    host_bits: Vec<(String, IpNet)>,
    /// The first entry that is not a CIDR prefix: (text, reason).
    bad: Option<(String, String)>,
}

impl<'de> Deserialize<'de> for Prefixes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Prefixes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of CIDR prefix strings")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Prefixes, A::Error> {
                let mut out = Prefixes {
                    nets: Vec::with_capacity(seq.size_hint().unwrap_or(16)),
                    ..Prefixes::default()
                };
                while let Some(Text(text)) = seq.next_element::<Text<'de>>()? {
                    let given = text.trim();
                    let net = match parse_prefix(given) {
                        Ok(net) => net,
                        Err(reason) => {
                            if out.bad.is_none() {
                                out.bad = Some((text.to_string(), reason));
                            }
                            continue;
                        }
                    };
                    let used = net.trunc();
                    if used != net {
                        out.host_bits.push((given.to_string(), used));
                    }
                    out.nets.push(used);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Visit)
    }
}

/// One prefix: the allocation-free IPv4 path, else `ipnet` (IPv6, odd forms), which decides.
fn parse_prefix(given: &str) -> Result<IpNet, String> {
    match fast_v4_prefix(given) {
        Some(net) => Ok(net),
        None => given
            .parse()
            .map_err(|e: ipnet::AddrParseError| e.to_string()),
    }
}

/// A string that borrows from the input unless it holds escapes. Serde's own `Cow<str>` impl always
/// copies inside a `Vec`; 93,000 small allocations were a third of the parse time.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CIDR prefix string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(Visit)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile<'a> {
    #[serde(default)]
    change_number: Option<Change>,
    #[serde(borrow, default)]
    cloud: Option<Cow<'a, str>>,
    #[serde(borrow)]
    values: Vec<RawTag<'a>>,
}

#[derive(Deserialize)]
struct RawTag<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    properties: RawProperties<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProperties<'a> {
    #[serde(default)]
    change_number: Option<Change>,
    #[serde(borrow, default)]
    region: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    system_service: Option<Cow<'a, str>>,
    #[serde(default)]
    address_prefixes: Option<Prefixes>,
}

/// One service tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceTag {
    pub name: String,
    /// Region id such as `westeurope`; empty for cloud-wide tags.
    pub region: String,
    /// Empty for `AzureCloud` and its regional tags.
    pub system_service: String,
    /// The tag's own version ("" when absent).
    pub change_number: String,
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
        let raw: RawFile<'_> = serde_json::from_str(text)?;
        if raw.values.is_empty() {
            return Err(ServiceTagError::NoTags);
        }
        let mut host_bits = Vec::new();
        let mut tags = Vec::with_capacity(raw.values.len());
        for tag in raw.values {
            let name = tag.name.into_owned();
            let props = tag.properties;
            let prefixes = props.address_prefixes.unwrap_or_default();
            if let Some((prefix, reason)) = prefixes.bad {
                return Err(ServiceTagError::BadPrefix {
                    tag: name,
                    prefix,
                    reason,
                });
            }
            host_bits.extend(
                prefixes
                    .host_bits
                    .into_iter()
                    .map(|(given, used)| HostBits {
                        tag: name.clone(),
                        given,
                        used,
                    }),
            );
            tags.push(ServiceTag {
                name,
                region: props.region.map(Cow::into_owned).unwrap_or_default(),
                system_service: props
                    .system_service
                    .map(Cow::into_owned)
                    .unwrap_or_default(),
                change_number: props.change_number.map(|c| c.0).unwrap_or_default(),
                prefixes: prefixes.nets,
            });
        }
        Ok(ServiceTagFile {
            cloud: raw.cloud.map(Cow::into_owned).unwrap_or_default(),
            change_number: raw.change_number.map(|c| c.0).unwrap_or_default(),
            date: None,
            tags,
            host_bits,
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
                let have = t.name.to_ascii_lowercase();
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

/// `a.b.c.d/n` in plain decimal without leading zeros, parsed without the general parser; anything
/// else (IPv6, odd forms, errors) returns `None` and goes through `ipnet`, which decides.
pub(crate) fn fast_v4_prefix(text: &str) -> Option<IpNet> {
    let (addr, len) = text.split_once('/')?;
    let len = small_decimal(len)?;
    let mut octets = [0u8; 4];
    let mut parts = addr.split('.');
    for octet in &mut octets {
        *octet = u8::try_from(small_decimal(parts.next()?)?).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(octets), u8::try_from(len).ok()?)
        .ok()
        .map(IpNet::V4)
}

/// 1 to 3 ASCII digits, no leading zero except "0" itself.
fn small_decimal(text: &str) -> Option<u16> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 3 || (bytes.len() > 1 && bytes[0] == b'0') {
        return None;
    }
    bytes.iter().try_fold(0u16, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u16::from(b - b'0'))
    })
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
