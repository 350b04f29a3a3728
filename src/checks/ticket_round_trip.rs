//! `ticket-round-trip`: as the integration user, create a ticket carrying the connector's seven
//! data-exchange fields and a run marker, read it back, update it, delete (or close) it — and report a
//! record that could not be removed as a failure of its own.
//!
//! Over 500 lines with its unit tests: the check's own logic is under 400; the tests mirror each
//! failure the round trip can report.

use super::{Check, Code, Context, Found, Outcome};
use crate::connector::user::{discovery_query, holders, named, role_names, roles_query};
use crate::model::Status;
use crate::profile::WriteKind;
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::roundtrip::{
    Disposition, ImportRecord, RoundTripOutcome, STEP_IMPORT, STEP_TRANSFORM, TransformProblem,
};

/// See the module docs.
pub struct TicketRoundTrip;

const NOT_STARTED: Code = Code::inconclusive("not-started");
const LEFTOVER: Code = Code::fail("leftover");
const INTERRUPTED: Code = Code::inconclusive("interrupted");
const INSERT_DENIED: Code = Code::fail("insert-denied");
const INSERT_DENIED_DESPITE_ROLES: Code = Code::fail("insert-denied-despite-roles");
const RATE_LIMITED: Code = Code::fail("rate-limited");
const NO_TABLE: Code = Code::fail("no-table");
const TOKEN_EXPIRED: Code = Code::fail("token-expired");
const STEP_FAILED: Code = Code::fail("step-failed");
const FIELD_REWRITTEN: Code = Code::fail("field-rewritten");
const FIELD_NOT_KEPT: Code = Code::fail("field-not-kept");
const IMPORT_DENIED: Code = Code::fail("import-denied");
const NO_TRANSFORM_MAP: Code = Code::fail("no-transform-map");
const TRANSFORM_OTHER_TABLE: Code = Code::fail("transform-other-table");
const TRANSFORM_NO_SYS_ID: Code = Code::fail("transform-no-sys-id");
const TRANSFORM_COALESCED: Code = Code::fail("transform-coalesced");
const TRANSFORM_IGNORED: Code = Code::fail("transform-ignored");
const TRANSFORM_FAILED: Code = Code::fail("transform-failed");

impl Check for TicketRoundTrip {
    fn name(&self) -> &'static str {
        "ticket-round-trip"
    }

    fn codes(&self) -> &'static [Code] {
        &[
            NOT_STARTED,
            LEFTOVER,
            INTERRUPTED,
            INSERT_DENIED,
            INSERT_DENIED_DESPITE_ROLES,
            RATE_LIMITED,
            NO_TABLE,
            TOKEN_EXPIRED,
            STEP_FAILED,
            FIELD_REWRITTEN,
            FIELD_NOT_KEPT,
            IMPORT_DENIED,
            NO_TRANSFORM_MAP,
            TRANSFORM_OTHER_TABLE,
            TRANSFORM_NO_SYS_ID,
            TRANSFORM_COALESCED,
            TRANSFORM_IGNORED,
            TRANSFORM_FAILED,
        ]
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
    // a role the integration-user check finds missing explains the denial
    outcome
        .explained_by
        .push("integration-user/missing-roles".to_string());
    // The staging insert's own fix replaces the generic one for an ACL denial.
    outcome.codes = vec![
        IMPORT_DENIED
            .arg("staging", import.staging_table.as_str())
            .arg("integration", profile.integration.as_str())
            .arg("roles", roles)
            .arg("profile", profile.name.as_str()),
    ];
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
        Some(name) => facts.rows(&roles_query(name)).ok().map(role_names)?,
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
            .code(NOT_STARTED);
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
        .codes(
            trip.failure
                .as_ref()
                .map(|f| remedy_for(&f.cause, &trip.table, roles)),
        )
        .code(LEFTOVER.arg("table", trip.table.clone()))
    } else if let Some(failure) = &trip.failure {
        let transform_fix = trip
            .import
            .as_ref()
            .filter(|_| failure.step == STEP_TRANSFORM)
            .and_then(transform_code);
        Outcome::fail(format!(
            "the {} step failed ({}{}): {}",
            failure.step,
            failure.status_prefix(),
            failure.message,
            failure.cause
        ))
        .code(transform_fix.unwrap_or_else(|| remedy_for(&failure.cause, &trip.table, roles)))
    } else if let Some(step) = &trip.interrupted {
        Outcome::inconclusive(format!(
            "interrupted during the {step} step; {}",
            cleanup_summary(trip)
        ))
        .code(INTERRUPTED)
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
        .codes(mismatch_remedy(trip))
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
    if outcome.status == Status::Fail && leftovers.is_empty() && !trip.records.is_empty() {
        outcome = outcome.with("cleanup", cleanup_summary(trip));
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

/// The code of a transform that did not write the target record, with what its fix names.
fn transform_code(record: &ImportRecord) -> Option<Found> {
    let staging = record.staging_table.clone();
    Some(match record.problem.as_ref()? {
        TransformProblem::NoMap { map, target } => NO_TRANSFORM_MAP
            .arg("map", map.as_str())
            .arg("target", target.as_str())
            .arg("staging", staging),
        TransformProblem::OtherTable { map, table, target } => TRANSFORM_OTHER_TABLE
            .arg("map", map.as_str())
            .arg("table", table.as_str())
            .arg("target", target.as_str()),
        TransformProblem::NoSysId { map } => TRANSFORM_NO_SYS_ID.arg("map", map.as_str()),
        TransformProblem::Coalesced {
            map,
            target,
            record,
        } => TRANSFORM_COALESCED
            .arg("map", map.as_str())
            .arg("target", target.as_str())
            .arg("record", record.as_str()),
        TransformProblem::Ignored { map } => TRANSFORM_IGNORED.arg("map", map.as_str()),
        TransformProblem::Failed { map } => TRANSFORM_FAILED
            .arg("map", map.as_str())
            .arg("staging", staging),
    })
}

/// The code of a failed step, from its cause; an ACL's fix names the roles the user already holds.
fn remedy_for(cause: &str, table: &str, roles: Option<&[String]>) -> Found {
    if cause.contains("denied the integration user's insert") {
        match roles {
            Some(roles) => INSERT_DENIED_DESPITE_ROLES
                .arg("roles", roles.join(", "))
                .arg("table", table),
            None => INSERT_DENIED.arg("table", table),
        }
    } else if cause.contains("rate limit") {
        RATE_LIMITED.into()
    } else if cause.contains("does not exist") {
        NO_TABLE.into()
    } else if cause.contains("not accepted") {
        TOKEN_EXPIRED.into()
    } else {
        STEP_FAILED.arg("table", table)
    }
}

/// The codes of the fields that did not round-trip: rewritten by the instance, or not kept at all.
/// Each field's own cause is in the evidence.
fn mismatch_remedy(trip: &RoundTripOutcome) -> Vec<Found> {
    let lost = |m: &&crate::servicenow::roundtrip::verify::Mismatch| {
        m.cause.contains("no column") || m.cause.contains("came back empty")
    };
    let mut codes = Vec::new();
    if trip.mismatches.iter().any(|m| !lost(&m)) {
        codes.push(FIELD_REWRITTEN.arg("table", trip.table.clone()));
    }
    if trip.mismatches.iter().any(|m| lost(&m)) {
        codes.push(FIELD_NOT_KEPT.into());
    }
    codes
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
            out.rendered_fix("ticket-round-trip")
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
        assert!(out.rendered_fix("ticket-round-trip").contains("itil"));
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
        let fix = out.rendered_fix("ticket-round-trip");
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
        let fix = judge_with_roles(&t, Some(&held)).rendered_fix("ticket-round-trip");
        assert!(fix.contains("already holds itil"), "{fix}");
        let fix = judge(&t).rendered_fix("ticket-round-trip");
        assert!(fix.contains("Give the integration user"), "{fix}");
    }
}
