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
                    let given = trim(&text);
                    let (used, host_bits) = match parse_prefix(given) {
                        Ok(parsed) => parsed,
                        Err(reason) => {
                            if out.bad.is_none() {
                                out.bad = Some((text.to_string(), reason));
                            }
                            continue;
                        }
                    };
                    if host_bits {
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

/// One prefix and whether it had host bits set: the allocation-free path for the plain forms
/// Microsoft publishes, else `ipnet` (odd forms such as leading zeros, and every error), which
/// decides.
fn parse_prefix(given: &str) -> Result<(IpNet, bool), String> {
    let invalid = |e: ipnet::PrefixLenError| e.to_string();
    match fast_parts(given.as_bytes()) {
        Some(Fast::V4(addr, len)) => {
            let net = addr & u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            let used = ipnet::Ipv4Net::new(net.into(), len).map_err(invalid)?;
            Ok((IpNet::V4(used), net != addr))
        }
        Some(Fast::V6(addr, len)) => {
            let net = addr & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            let used = ipnet::Ipv6Net::new(net.into(), len).map_err(invalid)?;
            Ok((IpNet::V6(used), net != addr))
        }
        None => {
            let net: IpNet = given
                .parse()
                .map_err(|e: ipnet::AddrParseError| e.to_string())?;
            let used = net.trunc();
            Ok((used, used != net))
        }
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

/// `str::trim`, after a quick look at both ends: prefixes almost never carry blanks.
fn trim(text: &str) -> &str {
    match text.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// A prefix read by [`fast_parts`]: the address as given (host bits included) and the length.
enum Fast {
    V4(u32, u8),
    V6(u128, u8),
}

/// `address/length` in the plain forms Microsoft publishes (dotted decimal without leading zeros;
/// hexadecimal groups with at most one `::`; a decimal length without leading zeros), read from the
/// bytes in one pass without allocating. Anything else (odd forms such as an IPv4 tail in an IPv6
/// address, and every error) returns `None` and goes through `ipnet`, which decides: this path only
/// ever accepts what `ipnet` accepts, with the same result (property-tested through [`fast_prefix`]).
fn fast_parts(text: &[u8]) -> Option<Fast> {
    // dotted decimal first: three prefixes in four are IPv4, and IPv6 text fails it at once
    if let Some((addr, at)) = fast_v4(text) {
        let len = prefix_len(text, at).filter(|len| *len <= 32)?;
        return Some(Fast::V4(addr, len));
    }
    let (addr, at) = fast_v6(text)?;
    let len = prefix_len(text, at).filter(|len| *len <= 128)?;
    Some(Fast::V6(addr, len))
}

/// [`fast_parts`] as the prefix `ipnet` would give (host bits kept), for the tests.
#[cfg(test)]
pub(crate) fn fast_prefix(text: &str) -> Option<IpNet> {
    match fast_parts(text.as_bytes())? {
        Fast::V4(addr, len) => ipnet::Ipv4Net::new(addr.into(), len).ok().map(IpNet::V4),
        Fast::V6(addr, len) => ipnet::Ipv6Net::new(addr.into(), len).ok().map(IpNet::V6),
    }
}

/// `/n` at `at`, ending the text.
fn prefix_len(text: &[u8], at: usize) -> Option<u8> {
    if text.get(at) != Some(&b'/') {
        return None;
    }
    let mut at = at + 1;
    let len = decimal(text, &mut at)?;
    if at != text.len() {
        return None;
    }
    u8::try_from(len).ok()
}

/// 1 to 3 ASCII digits at `*at`, no leading zero except "0" itself; moves `*at` past them.
fn decimal(text: &[u8], at: &mut usize) -> Option<u16> {
    let start = *at;
    let mut value = 0u16;
    while let Some(digit) = text.get(*at).filter(|b| b.is_ascii_digit()) {
        value = value * 10 + u16::from(digit - b'0');
        *at += 1;
        if *at - start > 3 {
            return None;
        }
    }
    match *at - start {
        0 => None,
        1 => Some(value),
        _ if text[start] == b'0' => None,
        _ => Some(value),
    }
}

/// `a.b.c.d` at the start: four decimal octets without leading zeros; the value and where it ends.
fn fast_v4(text: &[u8]) -> Option<(u32, usize)> {
    let mut at = 0;
    let mut value = 0u32;
    for octet in 0..4 {
        if octet > 0 {
            if text.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        value = (value << 8) | u32::from(u8::try_from(decimal(text, &mut at)?).ok()?);
    }
    Some((value, at))
}

/// An IPv6 address at the start, up to a `/` or the end: up to eight groups of 1 to 4 hex digits,
/// with at most one `::` standing for one or more zero groups; no IPv4 tail (that form goes to the
/// general parser). The value and where it ends.
fn fast_v6(text: &[u8]) -> Option<(u128, usize)> {
    let (mut head, mut heads) = (0u128, 0u32);
    let (mut tail, mut tails) = (0u128, 0u32);
    let mut gap = false;
    let mut at = 0;
    let ends = |at: usize| matches!(text.get(at), None | Some(b'/'));
    if text.starts_with(b"::") {
        gap = true;
        at = 2;
    }
    while !ends(at) {
        let (mut group, mut digits) = (0u32, 0);
        while let Some(digit) = text.get(at).and_then(|b| char::from(*b).to_digit(16)) {
            group = (group << 4) | digit;
            digits += 1;
            at += 1;
            if digits > 4 {
                return None;
            }
        }
        if digits == 0 {
            return None;
        }
        if gap {
            (tail, tails) = ((tail << 16) | u128::from(group), tails + 1);
        } else {
            (head, heads) = ((head << 16) | u128::from(group), heads + 1);
        }
        if heads + tails > 8 {
            return None;
        }
        if ends(at) {
            break;
        }
        // a colon, then another group, or a second colon: the gap (once)
        if text[at] != b':' {
            return None;
        }
        at += 1;
        if text.get(at) == Some(&b':') {
            if gap {
                return None;
            }
            gap = true;
            at += 1;
        } else if ends(at) {
            return None;
        }
    }
    let value = if gap {
        // `::` stands for at least one group; `head << 128` (no group before it) is 0
        if heads + tails > 7 {
            return None;
        }
        head.checked_shl(16 * (8 - heads)).unwrap_or(0) | tail
    } else if heads == 8 {
        head
    } else {
        return None;
    };
    Some((value, at))
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
