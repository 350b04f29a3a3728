//! Bookkeeping shared by the configuration checks. A problem seen in readable data fails or warns; a
//! table the diagnosing account cannot read (403, or no rows returned to a non-admin, which ACLs may
//! have filtered) makes the check `inconclusive` — never a pass built on what could not be seen, and
//! never a failure invented from it.

use super::Outcome;
use super::code::{self, Code, Found};
use crate::connector::entity::{Selection, entities_query, select};
use crate::model::Evidence;
use crate::profile::Profile;
use crate::runner::facts::{FactError, Facts};
use crate::servicenow::{ClientError, Row, TableQuery};

/// True unless the diagnosing account is known to hold `admin` — the one admin predicate. Unknown
/// roles count as "may lack admin": an admin can always read its own roles, so unreadable roles point
/// to a non-admin. Its fix is [`code::NEEDS_ADMIN`].
pub fn may_lack_admin(facts: &Facts) -> bool {
    facts
        .identity()
        .map_or(true, |identity| !identity.is_admin())
}

/// Problems, warnings, unreadable sources and evidence collected by one check.
#[derive(Debug, Default)]
pub struct Findings {
    fails: Vec<String>,
    warns: Vec<String>,
    unreadable: Vec<String>,
    /// Whether an unreadable source is an access problem (so "run with an admin account" applies).
    access: bool,
    fail_codes: Vec<Found>,
    warn_codes: Vec<Found>,
    /// Codes of sources read fine that still leave the question open (see [`Findings::undecided`]).
    undecided_codes: Vec<Found>,
    evidence: Vec<Evidence>,
}

impl Findings {
    /// Records a problem that breaks the integration; `code` names it and picks its fix.
    pub fn fail(&mut self, code: impl Into<Found>, summary: impl Into<String>) {
        let code = code.into();
        debug_assert_eq!(code.code.status, crate::model::Status::Fail, "{code:?}");
        self.fails.push(summary.into());
        push_unique(&mut self.fail_codes, code);
    }

    /// Records something fragile or unusual; `code` names it and picks its fix.
    pub fn warn(&mut self, code: impl Into<Found>, summary: impl Into<String>) {
        let code = code.into();
        debug_assert_eq!(code.code.status, crate::model::Status::Warn, "{code:?}");
        self.warns.push(summary.into());
        push_unique(&mut self.warn_codes, code);
    }

    /// Records a source that could not be read because of access rights.
    pub fn hidden(&mut self, what: impl Into<String>) {
        self.unreadable.push(what.into());
        self.access = true;
    }

    /// Records why the check cannot decide although it read everything (e.g. the grant snowdoctor
    /// tests with is switched off); `code` says what would decide it.
    pub fn undecided(&mut self, code: impl Into<Found>, summary: impl Into<String>) {
        self.unreadable.push(summary.into());
        push_unique(&mut self.undecided_codes, code.into());
    }

    /// Records a source that could not be read for another reason.
    pub fn unreadable(&mut self, what: impl Into<String>) {
        self.unreadable.push(what.into());
    }

    /// Adds an evidence line.
    pub fn note(&mut self, label: impl Into<String>, value: impl Into<String>) {
        self.evidence.push(Evidence::new(label, value));
    }

    /// True when some source could not be read.
    pub fn has_unreadable(&self) -> bool {
        !self.unreadable.is_empty()
    }

    /// Records why a fact is missing.
    pub fn cannot_read(&mut self, what: &str, error: &FactError) {
        match error {
            FactError::Client(ClientError::Forbidden { message, .. }) => {
                self.hidden(format!("cannot read {what}: access denied (403 {message})"));
            }
            FactError::Client(e @ ClientError::TransactionCancelled) => {
                self.undecided(code::TRANSACTION_QUOTA, format!("cannot read {what}: {e}"));
            }
            FactError::Client(e @ ClientError::RateLimited { .. }) => {
                self.undecided(code::RATE_LIMITED, format!("cannot read {what}: {e}"));
            }
            other => self.unreadable(format!("cannot read {what}: {other}")),
        }
    }

    /// The rows of a table read, or `None` (recorded as unreadable) when the read failed or returned
    /// nothing to an account that may lack admin.
    pub fn rows<'f>(&mut self, facts: &'f Facts, query: &TableQuery) -> Option<&'f [Row]> {
        match facts.rows(query) {
            Ok(rows) if rows.is_empty() && may_lack_admin(facts) => {
                self.hidden(format!(
                    "{} returned no rows to an account without admin (ACLs may hide them)",
                    query.table
                ));
                self.note(query.describe(), "0 rows (caller lacks admin)");
                None
            }
            Ok(rows) => Some(rows),
            Err(error) => {
                self.cannot_read(&query.table, &error);
                None
            }
        }
    }

    /// The check's outcome: fail > inconclusive > warn > pass. Its codes are the failures' (then the
    /// warnings'), or what left it undecided.
    pub fn outcome(self, pass_summary: impl Into<String>) -> Outcome {
        let Findings {
            fails,
            warns,
            unreadable,
            access,
            fail_codes,
            warn_codes,
            undecided_codes,
            evidence,
        } = self;
        let mut outcome = if !fails.is_empty() {
            let mut outcome = with_codes(Outcome::fail(fails.join("; ")), fail_codes);
            outcome = with_codes(outcome, warn_codes);
            for warning in warns {
                outcome = outcome.with("also", warning);
            }
            for what in unreadable {
                outcome = outcome.with("not assessed", what);
            }
            outcome
        } else if !unreadable.is_empty() {
            let mut summary = unreadable.join("; ");
            let mut outcome = if access {
                summary.push_str("; run with an admin account");
                Outcome::inconclusive(summary).code(code::NEEDS_ADMIN)
            } else if !undecided_codes.is_empty() {
                with_codes(Outcome::inconclusive(summary), undecided_codes)
            } else {
                Outcome::inconclusive(summary).code(code::READ_FAILED)
            };
            for warning in warns {
                outcome = outcome.with("also", warning);
            }
            outcome
        } else if !warns.is_empty() {
            with_codes(Outcome::warn(warns.join("; ")), warn_codes)
        } else {
            Outcome::pass(pass_summary)
        };
        let mut all = evidence;
        all.append(&mut outcome.evidence);
        outcome.evidence = all;
        outcome
    }
}

fn with_codes(outcome: Outcome, codes: Vec<Found>) -> Outcome {
    codes.into_iter().fold(outcome, Outcome::code)
}

fn push_unique(list: &mut Vec<Found>, item: Found) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The connector's registry entry (`oauth_entity`) for a check that judges one of its fields, with the
/// findings to go on with; or the outcome to return at once: the rows could not be read (the findings
/// say why), or no entry was selected (`code`, for "no registry entry to `doing`").
pub fn connector_entity<'f>(
    mut f: Findings,
    facts: &'f Facts,
    profile: &Profile,
    doing: &str,
    code: Code,
) -> Result<(Findings, &'f Row), Box<Outcome>> {
    let Some(rows) = f.rows(facts, &entities_query()) else {
        return Err(Box::new(f.outcome("")));
    };
    match select(profile, rows) {
        Selection::Found { row, .. } => Ok((f, row)),
        Selection::NotFound { why } => Err(Box::new(
            Outcome::inconclusive(format!("no registry entry to {doing}: {why}")).code(code),
        )),
    }
}

/// A row's value with its label when they differ: `public (All application scopes)`.
pub fn shown(row: &Row, field: &str) -> String {
    let value = row.value(field).unwrap_or("(absent)");
    match row.display(field) {
        Some(label) if label != value && !label.is_empty() => format!("{value} ({label})"),
        _ if value.is_empty() => "(empty)".to_string(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    const BROKEN: Code = Code::fail("broken");
    const ODD: Code = Code::warn("odd");

    #[test]
    fn failure_outranks_unreadable_and_warnings() {
        let mut f = Findings::default();
        f.warn(ODD, "w");
        f.hidden("cannot read x");
        f.fail(BROKEN, "broken");
        let outcome = f.outcome("ok");
        assert_eq!(outcome.status, Status::Fail);
        let names: Vec<&str> = outcome.codes.iter().map(|c| c.code.name).collect();
        assert_eq!(names, ["broken", "odd"]);
        assert!(outcome.evidence.iter().any(|e| e.label == "not assessed"));
    }

    #[test]
    fn unreadable_is_inconclusive_with_admin_advice_never_pass() {
        let mut f = Findings::default();
        f.warn(ODD, "w");
        f.hidden("cannot read sys_db_object: access denied (403 x)");
        let outcome = f.outcome("ok");
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.summary.contains("run with an admin account"));
        assert_eq!(outcome.codes, vec![Found::from(code::NEEDS_ADMIN)]);
    }

    #[test]
    fn empty_findings_pass_and_several_fixes_are_numbered() {
        assert_eq!(Findings::default().outcome("fine").status, Status::Pass);
        assert_eq!(code::join_fixes(&["a".into()]), "a");
        assert_eq!(code::join_fixes(&["a".into(), "b".into()]), "1. a\n2. b");
    }
}
