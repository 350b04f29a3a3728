//! Read-back verification: what each column must read back as ([`Expected`]), and the comparison that
//! names every column that did not round-trip with its probable cause.

use super::priority::itil_priority;
use super::ticket::DATE_TIME;
use crate::servicenow::Row;

/// How a column is verified on read-back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Exact,
    /// Exact when the table has the column; a table without it simply drops it.
    ExactIfPresent,
    /// `YYYY-MM-DD HH:MM:SS` in UTC, exactly.
    DateTimeUtc,
    /// Set by the platform from impact and urgency.
    DerivedPriority {
        impact: u8,
        urgency: u8,
    },
}

/// What one column must read back as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub field: String,
    pub sent: String,
    pub rule: Rule,
    /// The data fields (keys of `field_mapping`) this column carries; empty for the marker's columns.
    pub carries: Vec<&'static str>,
}

impl Expected {
    pub(super) fn exact(field: &str, sent: &str, carries: &[&'static str]) -> Expected {
        Expected {
            field: field.to_string(),
            sent: sent.to_string(),
            rule: Rule::Exact,
            carries: carries.to_vec(),
        }
    }

    /// Why the column did not read back as sent, given what the instance returned.
    fn cause(&self, stored: Option<&str>) -> String {
        let column = &self.field;
        let mapped = if self.carries.is_empty() {
            String::new()
        } else {
            format!(" ({} → {column})", self.carries.join(", "))
        };
        match stored {
            None => format!(
                "{column} is not in the read-back{mapped}: the table has no column {column} (or a field ACL hides it); map the field to an existing column in the profile's field_mapping"
            ),
            Some(text) if text.trim().is_empty() => format!(
                "{column} came back empty{mapped}: the column does not keep what is written (a read-only, calculated or journal column, a field ACL, or a business rule that clears it)"
            ),
            Some(_) => {
                format!("a business rule or data policy on the table rewrites {column}{mapped}")
            }
        }
    }
}

/// A column that did not round-trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub field: String,
    pub sent: String,
    pub stored: String,
    /// Why it probably changed.
    pub cause: String,
}

/// The read-back verdict: hard mismatches, and notes that are not failures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
}

/// Compares a read-back record with what was sent.
pub fn verify(row: &Row, expected: &[Expected]) -> Verification {
    let mut out = Verification::default();
    for e in expected {
        let stored = row.value(&e.field);
        let stored_text = normalise(stored.unwrap_or(""));
        let mismatch = || Mismatch {
            field: e.field.clone(),
            sent: e.sent.clone(),
            stored: stored_text.clone(),
            cause: e.cause(stored),
        };
        match &e.rule {
            Rule::Exact if stored_text != normalise(&e.sent) => {
                out.mismatches.push(mismatch());
            }
            Rule::ExactIfPresent => match stored {
                None => out
                    .notes
                    .push(format!("the table has no {} column", e.field)),
                Some(_) if stored_text != normalise(&e.sent) => {
                    out.mismatches.push(mismatch());
                }
                Some(_) => {}
            },
            Rule::DateTimeUtc if stored_text != e.sent => {
                let mut mismatch = mismatch();
                if let Some(hours) = hour_shift(&e.sent, &stored_text) {
                    mismatch.cause = format!(
                        "{} was stored shifted by {hours:+} h: the value was taken as local time instead of UTC (a business rule, or sysparm_input_display_value)",
                        e.field
                    );
                }
                out.mismatches.push(mismatch);
            }
            Rule::DerivedPriority { impact, urgency } => {
                let itil = itil_priority(*impact, *urgency);
                match stored_text.parse::<u8>() {
                    Ok(p) if p == itil => {}
                    Ok(p) => out.notes.push(format!(
                        "{} stored as {p} for impact {impact} / urgency {urgency}; the ITIL default is {itil}: the Priority Lookup Rules are customised",
                        e.field
                    )),
                    Err(_) => out.mismatches.push(Mismatch {
                        field: e.field.clone(),
                        sent: format!("derived from impact {impact} / urgency {urgency}"),
                        stored: stored_text.clone(),
                        cause: format!(
                            "the platform did not derive {} from impact and urgency (Priority Lookup Rules missing or overridden); a table without them needs priority = \"priority\" (written directly) in the profile's field_mapping",
                            e.field
                        ),
                    }),
                }
            }
            _ => {}
        }
    }
    out
}

fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_string()
}

/// Whole hours between two `YYYY-MM-DD HH:MM:SS` values, when they differ by exactly that.
fn hour_shift(sent: &str, stored: &str) -> Option<i64> {
    let parse = |s: &str| chrono::NaiveDateTime::parse_from_str(s, DATE_TIME).ok();
    let seconds = (parse(stored)? - parse(sent)?).num_seconds();
    (seconds != 0 && seconds % 1800 == 0 && seconds.abs() <= 14 * 3600).then_some(seconds / 3600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servicenow::roundtrip::mapping::FieldMapping;
    use crate::servicenow::roundtrip::marker::Marker;
    use crate::servicenow::roundtrip::ticket::TicketData;
    use serde_json::json;

    #[test]
    fn verification_names_rewritten_fields_shifted_dates_and_custom_priority() {
        let marker = Marker::new();
        let (fields, expected) =
            FieldMapping::for_table("incident").build(&TicketData::fixed(), &marker);
        let mut stored = fields;
        stored.insert("short_description".into(), json!("rewritten by a rule"));
        stored.insert("due_date".into(), json!("2025-10-16 10:53:20"));
        stored.insert("priority".into(), json!("2"));
        stored.remove("correlation_id");
        let v = verify(&Row(stored), &expected);
        let fields: Vec<&str> = v.mismatches.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(fields, ["short_description", "due_date"]);
        assert!(v.mismatches[0].cause.contains("business rule"));
        assert!(
            v.mismatches[1].cause.contains("+2 h"),
            "{}",
            v.mismatches[1].cause
        );
        assert!(v.notes.iter().any(|n| n.contains("customised")));
        assert!(v.notes.iter().any(|n| n.contains("no correlation_id")));
    }

    #[test]
    fn an_underived_priority_is_a_mismatch() {
        let marker = Marker::new();
        let (fields, expected) =
            FieldMapping::for_table("incident").build(&TicketData::fixed(), &marker);
        let v = verify(&Row(fields), &expected);
        assert_eq!(v.mismatches.len(), 1);
        assert_eq!(v.mismatches[0].field, "priority");
    }
}
