//! `ticket-round-trip`: as the integration user, create a ticket carrying the connector's seven
//! data-exchange fields and a run marker, read it back, update it, delete (or close) it — and report a
//! record that could not be removed as a failure of its own.

use super::{Check, Context, Outcome};
use crate::connector::user::{discovery_query, holders, named, role_name, roles_query};
use crate::model::Status;
use crate::profile::WriteKind;
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::roundtrip::{Disposition, RoundTripOutcome, STEP_IMPORT, STEP_TRANSFORM};

/// See the module docs.
pub struct TicketRoundTrip;

impl Check for TicketRoundTrip {
    fn name(&self) -> &'static str {
        "ticket-round-trip"
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        if ctx.settings.read_only || ctx.settings.profile.write.kind == WriteKind::None {
            return Vec::new();
        }
        let mut keys = vec![FactKey::RoundTrip];
        keys.extend(roles_key(ctx));
        keys
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
            Ok(trip) => import_denied(
                ctx,
                trip,
                judge_with_roles(trip, held_roles(ctx, facts).as_deref()),
            ),
            Err(FactError::Unavailable(why)) => Outcome::skipped(why),
            Err(e) => Outcome::from_fact_error(&e, "the ticket round trip"),
        }
    }
}

/// An insert into the import set's staging table that an ACL denied: the fix names the roles the
/// profile expects (ITSMC's checklist grants `import_transformer` and `x_mioms_microsoft.user`).
fn import_denied(ctx: &Context, trip: &RoundTripOutcome, mut outcome: Outcome) -> Outcome {
    let Some(import) = &trip.import else {
        return outcome;
    };
    let denied = trip
        .failure
        .as_ref()
        .is_some_and(|f| f.step == STEP_IMPORT && f.http_status == Some(403));
    if !denied || !trip.leftovers().is_empty() {
        return outcome;
    }
    let profile = &ctx.settings.profile;
    let roles = if profile.expected_roles.is_empty() {
        format!("a role of the app's scope {}", profile.app_scope)
    } else {
        profile.expected_roles.join(", ")
    };
    outcome.remediation = Some(format!(
        "The integration user may not insert into the import set table {}: give it the roles the {} setup grants ({roles}; see `snowdoctor profiles show {}`) and check the create ACLs of {} (System Security > Access Control), then rerun.",
        import.staging_table, profile.integration, profile.name, import.staging_table
    ));
    outcome
}

/// The integration user's roles: read by name, or those of the app found with the user.
fn roles_key(ctx: &Context) -> Option<FactKey> {
    let profile = &ctx.settings.profile;
    match named(profile) {
        Some(name) => Some(FactKey::Table(roles_query(name))),
        None if !profile.app_scope.is_empty() => {
            Some(FactKey::Table(discovery_query(&profile.app_scope)))
        }
        None => None,
    }
}

/// The roles the integration user holds, when they could be read (an ACL's fix must not suggest
/// them again).
fn held_roles(ctx: &Context, facts: &Facts) -> Option<Vec<String>> {
    let profile = &ctx.settings.profile;
    let mut roles: Vec<String> = match named(profile) {
        Some(name) => facts
            .rows(&roles_query(name))
            .ok()?
            .iter()
            .map(role_name)
            .collect(),
        None => {
            let rows = facts.rows(&discovery_query(&profile.app_scope)).ok()?;
            holders(rows).into_values().next()?.1
        }
    };
    roles.retain(|r| !r.is_empty());
    roles.sort();
    roles.dedup();
    (!roles.is_empty()).then_some(roles)
}

/// The verdict on a finished round trip, without knowing the user's roles.
pub fn judge(trip: &RoundTripOutcome) -> Outcome {
    judge_with_roles(trip, None)
}

/// The verdict on a finished round trip; `roles` are the integration user's, when known.
pub fn judge_with_roles(trip: &RoundTripOutcome, roles: Option<&[String]>) -> Outcome {
    if let Some(why) = &trip.not_started {
        return Outcome::inconclusive(format!("the round trip did not start: {why}"))
            .with("table", trip.table.clone())
            .fix("Nothing was written. The round trip runs with the token oauth-connect obtains: supply what oauth-connect reports as missing (or fix what it found), then rerun.");
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
                .map(|f| format!("{} ", remedy_for(&f.cause, &trip.table, roles)))
                .unwrap_or_default(),
            trip.table
        ))
    } else if let Some(failure) = &trip.failure {
        let transform_fix = trip
            .import
            .as_ref()
            .filter(|_| failure.step == STEP_TRANSFORM)
            .and_then(|i| i.fix.clone());
        Outcome::fail(format!(
            "the {} step failed ({}{}): {}",
            failure.step,
            failure.status_prefix(),
            failure.message,
            failure.cause
        ))
        .fix(transform_fix.unwrap_or_else(|| remedy_for(&failure.cause, &trip.table, roles)))
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
        // The connector never deletes tickets: who removed the test ticket is the tool's own
        // bookkeeping, never a status.
        Outcome::pass(format!(
            "a ticket carrying the seven connector fields was created, read back and updated on {}; the integration user may not delete it (the connector never does), so {}",
            trip.table,
            cleanup_summary(trip)
        ))
    } else if let Some(import) = &trip.import {
        Outcome::pass(format!(
            "a row inserted into the import set table {} was transformed by {:?} into {} {}, read back with its fields and removed",
            import.staging_table,
            import.transform_map,
            trip.table,
            trip.records.first().map_or("", |r| r.number.as_str())
        ))
    } else {
        Outcome::pass(format!(
            "a ticket carrying the seven connector fields was created, read back, updated and removed on {}",
            trip.table
        ))
    };
    if let Some(import) = &trip.import {
        outcome = outcome
            .with(
                "import set",
                format!(
                    "{} ({})",
                    import.staging_table,
                    if import.import_set.is_empty() {
                        "no import set named"
                    } else {
                        &import.import_set
                    }
                ),
            )
            .with(
                "transform",
                format!(
                    "{:?}: {}{}",
                    import.transform_map,
                    if import.status.is_empty() {
                        "no result"
                    } else {
                        &import.status
                    },
                    if import.message.is_empty() {
                        String::new()
                    } else {
                        format!(" ({:?})", import.message)
                    }
                ),
            );
        if !import.import_set.is_empty() {
            outcome = outcome.with("kept by the platform", import.kept());
        }
    }
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

fn remedy_for(cause: &str, table: &str, roles: Option<&[String]>) -> String {
    if cause.contains("denied the integration user's insert") {
        match roles {
            Some(roles) => format!(
                "The integration user already holds {}, yet an ACL denied the insert: open the create ACLs of {table} (System Security > Access Control, Operation = create) and compare the roles and conditions they require with these; a data policy or business rule that aborts inserts answers the same way.",
                roles.join(", ")
            ),
            None => format!(
                "Give the integration user a role the create ACLs of {table} accept (for incident, itil or the connector app's role), and check those ACLs (System Security > Access Control, Operation = create)."
            ),
        }
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
            cause: "an ACL denied the integration user's insert on incident".into(),
            retry_after: None,
        });
        let out = judge(&t);
        assert_eq!(out.status, Status::Fail);
        assert!(out.summary.contains("HTTP 403") && out.summary.contains("ACL Exception"));
        assert!(out.remediation.unwrap_or_default().contains("itil"));
    }

    #[test]
    fn mismatches_fail_notes_pass_and_interruptions_are_inconclusive() {
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
        let out = judge(&t);
        assert_eq!(out.status, Status::Pass, "a note never changes a status");
        assert!(
            out.evidence
                .iter()
                .any(|e| e.value == "priority customised")
        );

        let mut t = trip(vec![record(deleted())]);
        t.interrupted = Some("read back".into());
        let out = judge(&t);
        assert_eq!(out.status, Status::Inconclusive);
        assert!(out.summary.contains("INC0010251 deleted"));

        let mut t = trip(vec![record(Disposition::Closed)]);
        t.delete_denied = true;
        let out = judge(&t);
        assert_eq!(
            out.status,
            Status::Pass,
            "who removed the test ticket is bookkeeping"
        );
        assert!(out.summary.contains("closed"));

        // A round trip that never started has a fix about its missing token, not about roles.
        let mut t = trip(vec![]);
        t.not_started = Some("no working token".into());
        let out = judge(&t);
        assert_eq!(out.status, Status::Inconclusive);
        let fix = out.remediation.unwrap_or_default();
        assert!(
            fix.contains("oauth-connect") && !fix.contains("role"),
            "{fix}"
        );
    }

    #[test]
    fn an_insert_denied_names_the_roles_already_held() {
        let mut t = trip(vec![]);
        t.failure = Some(crate::servicenow::roundtrip::StepFailure {
            step: "create".into(),
            http_status: Some(403),
            message: "ACL Exception".into(),
            cause: "an ACL denied the integration user's insert on incident".into(),
            retry_after: None,
        });
        let held = ["itil".to_string()];
        let fix = judge_with_roles(&t, Some(&held))
            .remediation
            .unwrap_or_default();
        assert!(fix.contains("already holds itil"), "{fix}");
        let fix = judge(&t).remediation.unwrap_or_default();
        assert!(fix.contains("Give the integration user"), "{fix}");
    }
}
