//! `ticket-round-trip`: as the integration user, create a ticket carrying the connector's seven
//! data-exchange fields and a run marker, read it back, update it, delete (or close) it — and report a
//! record that could not be removed as a failure of its own.

use super::{Check, Context, Outcome};
use crate::model::Status;
use crate::profile::WriteKind;
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::roundtrip::{Disposition, RoundTripOutcome};

/// See the module docs.
pub struct TicketRoundTrip;

impl Check for TicketRoundTrip {
    fn name(&self) -> &'static str {
        "ticket-round-trip"
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        if ctx.settings.read_only || ctx.settings.profile.write.kind == WriteKind::None {
            Vec::new()
        } else {
            vec![FactKey::RoundTrip]
        }
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        if profile.write.kind == WriteKind::None {
            return Outcome::skipped(format!(
                "not applicable: the {} only reads (the {} profile's write path is none)",
                profile.integration, profile.name
            ));
        }
        if ctx.settings.read_only {
            return Outcome::skipped(format!(
                "read-only run (--read-only): no ticket was written to {}",
                ctx.settings.profile.ticket_table
            ));
        }
        match facts.round_trip() {
            Ok(trip) => judge(trip),
            Err(FactError::Unavailable(why)) => Outcome::skipped(why),
            Err(e) => Outcome::from_fact_error(&e, "the ticket round trip"),
        }
    }
}

/// The verdict on a finished round trip.
pub fn judge(trip: &RoundTripOutcome) -> Outcome {
    if let Some(why) = &trip.not_started {
        return Outcome::inconclusive(format!("the round trip did not start: {why}"))
            .with("table", trip.table.clone());
    }
    let leftovers = trip.leftovers();
    let mut outcome = if !leftovers.is_empty() {
        let list: Vec<String> = leftovers
            .iter()
            .map(|r| format!("{} {} (sys_id {})", r.table, r.number, r.sys_id))
            .collect();
        let cause = trip
            .failure
            .as_ref()
            .map(|f| format!("the {} step failed ({}) and ", f.step, f.cause))
            .unwrap_or_default();
        Outcome::fail(format!(
            "{cause}the round trip could not remove {}: run `snowdoctor cleanup`",
            list.join(", ")
        ))
        .fix(format!(
            "{}Run `snowdoctor cleanup --instance URL --user ADMIN --ticket-table {}` to remove records carrying a snowdoctor marker, or delete them by hand.",
            trip.failure
                .as_ref()
                .map(|f| format!("{} ", remedy_for(&f.cause, &trip.table)))
                .unwrap_or_default(),
            trip.table
        ))
    } else if let Some(failure) = &trip.failure {
        Outcome::fail(format!(
            "the {} step failed ({}{}): {}",
            failure.step,
            failure.status_prefix(),
            failure.message,
            failure.cause
        ))
        .fix(remedy_for(&failure.cause, &trip.table))
    } else if let Some(step) = &trip.interrupted {
        Outcome::inconclusive(format!(
            "interrupted during the {step} step; {}",
            cleanup_summary(trip)
        ))
    } else if !trip.mismatches.is_empty() {
        let fields: Vec<String> = trip
            .mismatches
            .iter()
            .map(|m| format!("{} (sent {:?}, stored {:?})", m.field, m.sent, m.stored))
            .collect();
        Outcome::fail(format!(
            "{} field(s) did not round-trip: {}",
            trip.mismatches.len(),
            fields.join("; ")
        ))
        .fix(mismatch_remedy(trip))
    } else if trip.delete_denied {
        Outcome::warn(format!(
            "the ticket round-tripped on {}, but the integration user may not delete it; {}",
            trip.table,
            cleanup_summary(trip)
        ))
        .fix("The connector does not delete tickets, so this is only a cleanup concern: rerun with --close-if-delete-denied to close the test ticket instead, or grant delete on the table to the integration user.")
    } else if !trip.notes.is_empty() {
        Outcome::warn(format!(
            "the ticket round-tripped on {}, with notes: {}",
            trip.table,
            trip.notes.join("; ")
        ))
    } else {
        Outcome::pass(format!(
            "a ticket carrying the seven connector fields was created, read back, updated and removed on {}",
            trip.table
        ))
    };
    for m in &trip.mismatches {
        outcome = outcome.with(
            format!("field {}", m.field),
            format!("sent {:?}, stored {:?}: {}", m.sent, m.stored, m.cause),
        );
    }
    for note in &trip.notes {
        outcome = outcome.with("note", note.clone());
    }
    outcome = outcome
        .with("table", trip.table.clone())
        .with("marker", trip.marker.clone());
    for record in &trip.records {
        outcome = outcome.with(
            format!("record {}", record.number),
            format!(
                "{} sys_id {}: {}",
                record.table,
                record.sys_id,
                match &record.disposition {
                    Disposition::Deleted { by } => format!("deleted by {by}"),
                    Disposition::Closed => "closed (not deleted)".into(),
                    Disposition::Leftover { reason } => format!("LEFT BEHIND: {reason}"),
                    Disposition::Pending => "LEFT BEHIND: cleanup did not run".into(),
                }
            ),
        );
    }
    if outcome.status == Status::Fail
        && leftovers.is_empty()
        && !trip.records.is_empty()
        && let Some(fix) = outcome.remediation.take()
    {
        outcome.remediation = Some(format!(
            "{fix} (The test ticket was removed: {}.)",
            cleanup_summary(trip)
        ));
    }
    outcome.steps = trip.steps.clone();
    outcome
}

fn cleanup_summary(trip: &RoundTripOutcome) -> String {
    if trip.records.is_empty() {
        return "no record was created".into();
    }
    trip.records
        .iter()
        .map(|r| match &r.disposition {
            Disposition::Deleted { by } => format!("{} deleted by {by}", r.number),
            Disposition::Closed => format!("{} closed", r.number),
            Disposition::Leftover { .. } | Disposition::Pending => {
                format!("{} left behind", r.number)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn remedy_for(cause: &str, table: &str) -> String {
    if cause.contains("lacks the role to create") {
        format!(
            "Give the integration user a role that may create records on {table} (for incident, itil or the connector app's role), and check the table's create ACLs."
        )
    } else if cause.contains("rate limit") {
        "Raise or remove the REST rate limit that applies to the integration user (System Web Services > REST > Rate Limit Rules), or wait for the hourly reset, then rerun.".into()
    } else if cause.contains("does not exist") {
        "Pass the table the connector writes to with --ticket-table.".into()
    } else if cause.contains("not accepted") {
        "The token stopped working during the round trip: check the OAuth entity's Access Token Lifespan and rerun.".into()
    } else {
        format!(
            "Check the failing request in the transcript (--bundle or -vv) and the instance's system log for {table}."
        )
    }
}

/// One fix line per field, following its probable cause, then where to look.
fn mismatch_remedy(trip: &RoundTripOutcome) -> String {
    let mut fix: Vec<String> = trip
        .mismatches
        .iter()
        .map(|m| format!("{}: {}.", m.field, m.cause))
        .collect();
    let missing_column = trip
        .mismatches
        .iter()
        .any(|m| m.cause.contains("no column") || m.cause.contains("came back empty"));
    let rewritten = trip
        .mismatches
        .iter()
        .any(|m| !(m.cause.contains("no column") || m.cause.contains("came back empty")));
    if rewritten {
        fix.push(format!(
            "Find the business rule or data policy on {} that changes these fields (System Definition > Business Rules, System Policy > Data Policies, filtered on the table) and exempt the integration user or the connector's records.",
            trip.table
        ));
    }
    if missing_column {
        fix.push("Map the connector's fields to columns the table keeps as written ([profiles.NAME.field_mapping] in the config file), or add the missing columns.".into());
    }
    fix.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servicenow::roundtrip::verify::Mismatch;
    use crate::servicenow::roundtrip::{StepFailure, TrackedRecord};

    fn record(disposition: Disposition) -> TrackedRecord {
        TrackedRecord {
            table: "incident".into(),
            sys_id: "abc123".into(),
            number: "INC0010251".into(),
            disposition,
        }
    }

    fn trip(records: Vec<TrackedRecord>) -> RoundTripOutcome {
        RoundTripOutcome {
            table: "incident".into(),
            marker: "[snowdoctor:x]".into(),
            records,
            ..RoundTripOutcome::default()
        }
    }

    fn deleted() -> Disposition {
        Disposition::Deleted {
            by: "the integration user".into(),
        }
    }

    #[test]
    fn a_clean_trip_passes_and_a_leftover_fails_naming_the_record() {
        assert_eq!(judge(&trip(vec![record(deleted())])).status, Status::Pass);
        let mut t = trip(vec![record(Disposition::Leftover {
            reason: "500".into(),
        })]);
        t.failure = Some(StepFailure {
            step: "delete".into(),
            http_status: Some(500),
            message: "boom".into(),
            cause: "the instance failed".into(),
            retry_after: None,
        });
        let out = judge(&t);
        assert_eq!(out.status, Status::Fail);
        assert!(out.summary.contains("INC0010251") && out.summary.contains("abc123"));
        assert!(out.summary.contains("delete step failed"));
        assert!(
            out.remediation
                .unwrap_or_default()
                .contains("snowdoctor cleanup")
        );
    }

    #[test]
    fn a_failed_step_names_status_message_and_cause() {
        let mut t = trip(Vec::new());
        t.failure = Some(StepFailure {
            step: "create".into(),
            http_status: Some(403),
            message: "Operation Failed: ACL Exception Insert Failed".into(),
            cause: "the integration user lacks the role to create tickets on incident".into(),
            retry_after: None,
        });
        let out = judge(&t);
        assert_eq!(out.status, Status::Fail);
        assert!(out.summary.contains("HTTP 403") && out.summary.contains("ACL Exception"));
        assert!(out.remediation.unwrap_or_default().contains("itil"));
    }

    #[test]
    fn mismatches_fail_notes_warn_and_interruptions_are_inconclusive() {
        let mut t = trip(vec![record(deleted())]);
        t.mismatches.push(Mismatch {
            field: "due_date".into(),
            sent: "2026-01-01 00:00:00".into(),
            stored: "2026-01-01 05:00:00".into(),
            cause: "shifted".into(),
        });
        let out = judge(&t);
        assert_eq!(out.status, Status::Fail);
        assert!(out.summary.contains("due_date"));

        let mut t = trip(vec![record(deleted())]);
        t.notes.push("priority customised".into());
        assert_eq!(judge(&t).status, Status::Warn);

        let mut t = trip(vec![record(deleted())]);
        t.interrupted = Some("read back".into());
        let out = judge(&t);
        assert_eq!(out.status, Status::Inconclusive);
        assert!(out.summary.contains("INC0010251 deleted"));

        let mut t = trip(vec![record(Disposition::Closed)]);
        t.delete_denied = true;
        let out = judge(&t);
        assert_eq!(out.status, Status::Warn);
        assert!(out.summary.contains("closed"));
    }
}
