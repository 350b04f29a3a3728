//! ServiceNow IP Address Access Control rules (`ip_access`, docs/reference/servicenow-platform.md §9).
//!
//! An address is blocked only if an active Deny rule of the traffic's direction matches and no
//! active Allow rule does. Stored codes of `type` and `flow` are not documented (same file, §15 item
//! 3), so both codes and labels are accepted case-insensitively; anything unreadable is reported by
//! sys_id and left out of the verdict rather than guessed (§15 item 11).

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;

use compact_str::{CompactString, format_compact};
use serde::Serialize;
use serde_json::Value;

use super::intervals::{Family, Interval, IpSet, IpSetBuilder, addr_value};
use crate::error::Error;
use crate::servicenow::Row;

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleType {
    Allow,
    Deny,
}

/// The `flow` (Direction) of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    Inbound,
    Outbound,
    Bidirectional,
}

/// The direction of the traffic being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Callers reaching the instance (the security center connector).
    Inbound,
    /// The instance calling out.
    Outbound,
}

impl Flow {
    /// True when a rule with this flow applies to traffic in `direction`.
    pub fn applies_to(self, direction: Direction) -> bool {
        matches!(
            (self, direction),
            (Flow::Bidirectional, _)
                | (Flow::Inbound, Direction::Inbound)
                | (Flow::Outbound, Direction::Outbound)
        )
    }
}

/// A readable rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub sys_id: CompactString,
    pub rule_type: RuleType,
    pub flow: Flow,
    pub active: bool,
    pub start: IpAddr,
    pub end: IpAddr,
    pub description: CompactString,
}

impl Rule {
    /// The rule's addresses as an interval of its family.
    pub fn interval(&self) -> (Family, Interval) {
        let (family, start) = addr_value(self.start);
        let (_, end) = addr_value(self.end);
        // reversed rules never become a Rule, so start <= end here
        (family, Interval { start, end })
    }

    /// True when the rule takes part in the verdict for `direction`.
    pub fn applies_to(&self, direction: Direction) -> bool {
        self.active && self.flow.applies_to(direction)
    }
}

/// A row that could not be read as a rule; excluded from the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Malformed {
    pub sys_id: String,
    pub reason: String,
}

/// Every rule read from an instance or a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub malformed: Vec<Malformed>,
}

/// The merged effect of the rules that apply to one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub direction: Direction,
    pub allow: IpSet,
    pub deny: IpSet,
    /// `deny \ allow`: the addresses the instance refuses.
    pub blocked: IpSet,
    pub allow_rules: usize,
    pub deny_rules: usize,
}

impl Policy {
    /// False when no active Deny rule applies: the instance does no IP filtering in this direction.
    pub fn filters(&self) -> bool {
        self.deny_rules > 0
    }

    /// True when the address is refused.
    pub fn blocks(&self, addr: IpAddr) -> bool {
        self.blocked.contains(addr)
    }
}

impl RuleSet {
    /// The rules that take part for `direction`, merged.
    pub fn policy(&self, direction: Direction) -> Policy {
        let (mut allow, mut deny) = (IpSetBuilder::default(), IpSetBuilder::default());
        let (mut allow_rules, mut deny_rules) = (0, 0);
        for rule in self.rules.iter().filter(|r| r.applies_to(direction)) {
            let (family, iv) = rule.interval();
            match rule.rule_type {
                RuleType::Allow => {
                    allow.push(family, iv);
                    allow_rules += 1;
                }
                RuleType::Deny => {
                    deny.push(family, iv);
                    deny_rules += 1;
                }
            }
        }
        let (allow, deny) = (allow.build(), deny.build());
        Policy {
            direction,
            blocked: deny.difference(&allow),
            allow,
            deny,
            allow_rules,
            deny_rules,
        }
    }

    /// Readable rules that do not take part for `direction` (inactive, or the other direction only).
    pub fn ignored(&self, direction: Direction) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(move |r| !r.applies_to(direction))
    }
}

/// Reads `ip_access` rows (plain or `sysparm_display_value=all` shape).
pub fn rules_from_rows(rows: &[Row]) -> RuleSet {
    let mut set = RuleSet::default();
    for (index, row) in rows.iter().enumerate() {
        push_rule(&mut set, row, row.sys_id(), index);
    }
    set
}

/// The fields of one rule record: a Table API row, or a CSV record read by its header.
trait Fields {
    /// The stored value of a field.
    fn stored(&self, field: &str) -> Option<&str>;
    /// The display value (label), falling back to the stored value.
    fn label(&self, field: &str) -> Option<&str>;

    /// The stored value, or "" when absent.
    fn text(&self, field: &str) -> &str {
        self.stored(field).unwrap_or("")
    }

    /// True when the stored value or the label equals one of `candidates`, case-insensitively.
    fn is_one_of(&self, field: &str, candidates: &[&str]) -> bool {
        let value = self.stored(field).unwrap_or("");
        let label = self.label(field).unwrap_or("");
        candidates
            .iter()
            .any(|c| c.eq_ignore_ascii_case(value) || c.eq_ignore_ascii_case(label))
    }

    /// A boolean field, as [`Row::flag`] reads it.
    fn flag(&self, field: &str) -> Option<bool> {
        let raw = self.stored(field)?.trim();
        let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(raw));
        if is(&["true", "1", "yes"]) {
            Some(true)
        } else if is(&["false", "0", "no", ""]) {
            Some(false)
        } else {
            None
        }
    }
}

impl Fields for Row {
    fn stored(&self, field: &str) -> Option<&str> {
        self.value(field)
    }
    fn label(&self, field: &str) -> Option<&str> {
        self.display(field)
    }
}

/// Reads the `index`th record into a rule, or into `malformed` with the reason.
fn push_rule(set: &mut RuleSet, record: &impl Fields, sys_id: &str, index: usize) {
    let sys_id = match sys_id.trim() {
        "" => format_compact!("row {}", index + 1),
        id => CompactString::from(id),
    };
    match rule_from_row(record) {
        Ok(rule) => set.rules.push(Rule { sys_id, ..rule }),
        Err(reason) => set.malformed.push(Malformed {
            sys_id: sys_id.into(),
            reason,
        }),
    }
}

/// A record's rule, its sys_id left for the caller (which also needs it for a malformed record).
fn rule_from_row(row: &impl Fields) -> Result<Rule, String> {
    let rule_type = if row.is_one_of("type", &["allow"]) {
        RuleType::Allow
    } else if row.is_one_of("type", &["deny"]) {
        RuleType::Deny
    } else {
        return Err(format!(
            "unknown type {:?} (expected Allow or Deny)",
            row.label("type").unwrap_or("")
        ));
    };
    let flow = if row.is_one_of("flow", &["inbound"]) {
        Flow::Inbound
    } else if row.is_one_of("flow", &["outbound"]) {
        Flow::Outbound
    } else if row.is_one_of("flow", &["bidirectional"]) {
        Flow::Bidirectional
    } else {
        return Err(format!(
            "unknown direction (flow) {:?} (expected Inbound, Outbound or Bidirectional)",
            row.label("flow").unwrap_or("")
        ));
    };
    // a missing column means the export left it out; ServiceNow's default for a new rule is active
    let active = match row.stored("active") {
        None => true,
        Some(_) => row
            .flag("active")
            .ok_or_else(|| format!("unreadable active flag {:?}", row.text("active")))?,
    };
    let start = parse_addr(row.text("range_start"), "range_start")?;
    let end = match row.text("range_end").trim() {
        "" => start,
        _ => parse_addr(row.text("range_end"), "range_end")?,
    };
    let (start_family, start_value) = addr_value(start);
    let (end_family, end_value) = addr_value(end);
    if start_family != end_family {
        return Err(format!(
            "range_start {start} and range_end {end} are of different address families"
        ));
    }
    if start_value > end_value {
        return Err(format!(
            "range_start {start} is after range_end {end} (reversed range)"
        ));
    }
    Ok(Rule {
        sys_id: CompactString::default(),
        rule_type,
        flow,
        active,
        start,
        end,
        description: row.text("description").into(),
    })
}

fn parse_addr(text: &str, field: &str) -> Result<IpAddr, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{field} is empty"));
    }
    text.parse()
        .map_err(|_| format!("{field} {text:?} is not an IPv4 or IPv6 address"))
}

/// Reads rules from a Table API JSON export (`{"result": [...]}` or a bare array) or a CSV file
/// with a header row (`range_start,range_end,type,flow,active,description`, any order, `sys_id`
/// optional).
pub fn rules_from_file(path: &Path) -> Result<RuleSet, Error> {
    let bytes = crate::local_file::read(path)?;
    rules_from_text(&String::from_utf8_lossy(&bytes))
        .map_err(|msg| Error::Config(format!("rules {}: {msg}", path.display())))
}

/// [`rules_from_file`] on the file's text: a JSON export or a CSV file; `Err` says what is wrong.
pub fn rules_from_text(text: &str) -> Result<RuleSet, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with(['{', '[']) {
        Ok(rules_from_rows(&rows_from_json(text)?))
    } else {
        rules_from_csv(text)
    }
}

fn rows_from_json(text: &str) -> Result<Vec<Row>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
    let list = match value {
        Value::Array(list) => list,
        Value::Object(mut obj) => match obj.remove("result") {
            Some(Value::Array(list)) => list,
            _ => return Err("expected {\"result\": [...]} or a JSON array of rows".into()),
        },
        _ => return Err("expected {\"result\": [...]} or a JSON array of rows".into()),
    };
    Ok(list.into_iter().map(Row::from_value).collect())
}

/// One CSV record, its fields read by the header's (trimmed, lowercase) column names.
struct CsvRecord<'a> {
    header: &'a [String],
    fields: Vec<Cow<'a, str>>,
}

impl Fields for CsvRecord<'_> {
    fn stored(&self, field: &str) -> Option<&str> {
        let column = self.header.iter().position(|h| h == field)?;
        // `0.0.0.0, 255.255.255.255, deny` is as much a deny as `0.0.0.0,255.255.255.255,deny`.
        self.fields.get(column).map(|f| f.trim())
    }
    fn label(&self, field: &str) -> Option<&str> {
        self.stored(field)
    }
}

/// Rules straight from CSV records: no row objects, and fields borrowed from the text unless quoted.
fn rules_from_csv(text: &str) -> Result<RuleSet, String> {
    let mut records = parse_csv(text)?.into_iter();
    let Some(header) = records.next() else {
        return Err("the CSV file is empty".into());
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    // A repeated column would let the later value silently win (a second `type` turning a deny into
    // an allow): refuse it.
    for (index, name) in header.iter().enumerate() {
        if !name.is_empty() && header[..index].contains(name) {
            return Err(format!(
                "the CSV header names the column {name:?} twice; keep one"
            ));
        }
    }
    for needed in ["range_start", "type", "flow"] {
        if !header.iter().any(|h| h == needed) {
            return Err(format!(
                "the CSV header has no {needed:?} column (expected range_start,range_end,type,flow,active,description)"
            ));
        }
    }
    let mut set = RuleSet::default();
    let mut rows = 0;
    for (index, fields) in records.enumerate() {
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        // the header is line 1, so data record i is at least on line i + 2
        if fields.len() > header.len() {
            return Err(format!(
                "record {} has {} fields but the header names {} columns (an unquoted comma in a description?)",
                index + 2,
                fields.len(),
                header.len()
            ));
        }
        let record = CsvRecord {
            header: &header,
            fields,
        };
        let numbered;
        let sys_id = match record.stored("sys_id") {
            Some(id) => id,
            None => {
                numbered = format_compact!("csv record {}", index + 2);
                &numbered
            }
        };
        push_rule(&mut set, &record, sys_id, rows);
        rows += 1;
    }
    Ok(set)
}

/// RFC 4180 fields: quotes, doubled quotes inside quotes, any line ending. A field borrows the text
/// unless quotes made it differ from it.
fn parse_csv(text: &str) -> Result<Vec<Vec<Cow<'_, str>>>, String> {
    let bytes = text.as_bytes();
    let mut records = Vec::new();
    let mut record: Vec<Cow<'_, str>> = Vec::new();
    // a field is `owned` (once a quote opened in it) followed by `text[start..at]`
    let mut owned: Option<String> = None;
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            // A quote opens a quoted field after leading spaces too (`a, "b, c"`).
            b'"' if owned.as_deref().unwrap_or("").trim().is_empty()
                && text[start..at].trim().is_empty() =>
            {
                let mut field = String::new();
                let mut from = at + 1;
                loop {
                    let Some(quote) = bytes[from..].iter().position(|&b| b == b'"') else {
                        return Err("unterminated quoted field".into());
                    };
                    field.push_str(&text[from..from + quote]);
                    from += quote + 1;
                    if bytes.get(from) == Some(&b'"') {
                        field.push('"');
                        from += 1;
                    } else {
                        break;
                    }
                }
                owned = Some(field);
                (start, at) = (from, from);
            }
            b',' => {
                record.push(take(&mut owned, &text[start..at]));
                at += 1;
                start = at;
            }
            end @ (b'\r' | b'\n') => {
                record.push(take(&mut owned, &text[start..at]));
                records.push(std::mem::take(&mut record));
                at += if end == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = at;
            }
            _ => at += 1,
        }
    }
    let field = take(&mut owned, &text[start..]);
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// The field read so far: `owned` (when quotes opened it) followed by `tail`.
fn take<'a>(owned: &mut Option<String>, tail: &'a str) -> Cow<'a, str> {
    match owned.take() {
        None => Cow::Borrowed(tail),
        Some(mut field) => {
            field.push_str(tail);
            Cow::Owned(field)
        }
    }
}

/// The previous, character-by-character reader: the model [`parse_csv`] is tested against.
#[cfg(test)]
pub(crate) fn parse_csv_model(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// [`parse_csv`] with owned fields, for comparing with the model.
#[cfg(test)]
pub(crate) fn parse_csv_owned(text: &str) -> Result<Vec<Vec<String>>, String> {
    Ok(parse_csv(text)?
        .into_iter()
        .map(|r| r.into_iter().map(Cow::into_owned).collect())
        .collect())
}

/// Quotes a CSV field when needed.
pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
