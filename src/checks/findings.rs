//! Bookkeeping shared by the configuration checks. A problem seen in readable data fails or warns; a
//! table the diagnosing account cannot read (403, or no rows returned to a non-admin, which ACLs may
//! have filtered) makes the check `inconclusive` — never a pass built on what could not be seen, and
//! never a failure invented from it.

use super::Outcome;
use crate::model::Evidence;
use crate::runner::facts::{FactError, Facts};
use crate::servicenow::{ClientError, Row, TableQuery};

/// The one remediation of an `inconclusive` caused by missing read access (every check, the
/// declarative probes and the verdict's headline use it).
pub const ADMIN_FIX: &str = "Rerun snowdoctor with an account that has the admin role: the configuration tables these checks read (sys_db_object, sys_scope_privilege, oauth_entity, sys_properties, sys_plugins, the SSO tables and the account fields of sys_user) are readable by admins only, and a non-admin sees them as forbidden or empty.";

/// The fix when the instance cancelled a request (a transaction quota rule), not an access problem.
pub const QUOTA_FIX: &str = "The instance cancelled the request at its transaction quota (System Definition > Transaction Quota Rules, e.g. the REST Table API request timeout): find what makes the query slow (a large table, a heavy business rule or ACL script) or raise the quota, then rerun.";

/// True unless the diagnosing account is known to hold `admin`. Unknown roles count as "may lack
/// admin": an admin can always read its own roles, so unreadable roles point to a non-admin.
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
    fail_fixes: Vec<String>,
    warn_fixes: Vec<String>,
    /// Fixes of sources read fine that still leave the question open (see [`Findings::undecided`]).
    undecided_fixes: Vec<String>,
    /// Text put before the specific fixes (e.g. Microsoft's remedy for this area).
    lead: Option<String>,
    evidence: Vec<Evidence>,
}

impl Findings {
    /// Records a problem that breaks the integration and how to fix it.
    pub fn fail(&mut self, summary: impl Into<String>, fix: impl Into<String>) {
        self.fails.push(summary.into());
        push_unique(&mut self.fail_fixes, fix.into());
    }

    /// Records something fragile or unusual and how to fix it.
    pub fn warn(&mut self, summary: impl Into<String>, fix: impl Into<String>) {
        self.warns.push(summary.into());
        push_unique(&mut self.warn_fixes, fix.into());
    }

    /// Records a source that could not be read because of access rights.
    pub fn hidden(&mut self, what: impl Into<String>) {
        self.unreadable.push(what.into());
        self.access = true;
    }

    /// Records why the check cannot decide although it read everything (e.g. the grant snowdoctor
    /// tests with is switched off), and what would decide it.
    pub fn undecided(&mut self, summary: impl Into<String>, fix: impl Into<String>) {
        self.unreadable.push(summary.into());
        push_unique(&mut self.undecided_fixes, fix.into());
    }

    /// Records a source that could not be read for another reason.
    pub fn unreadable(&mut self, what: impl Into<String>) {
        self.unreadable.push(what.into());
    }

    /// Adds an evidence line.
    pub fn note(&mut self, label: impl Into<String>, value: impl Into<String>) {
        self.evidence.push(Evidence::new(label, value));
    }

    /// Sets the text that opens the remediation of a failure or warning.
    pub fn lead(&mut self, text: impl Into<String>) {
        self.lead = Some(text.into());
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
                self.undecided(format!("cannot read {what}: {e}"), QUOTA_FIX);
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

    /// The check's outcome: fail > inconclusive > warn > pass.
    pub fn outcome(self, pass_summary: impl Into<String>) -> Outcome {
        let Findings {
            fails,
            warns,
            unreadable,
            access,
            fail_fixes,
            warn_fixes,
            undecided_fixes,
            lead,
            evidence,
        } = self;
        let mut outcome = if !fails.is_empty() {
            let mut fixes = fail_fixes;
            for fix in warn_fixes {
                push_unique(&mut fixes, fix);
            }
            let mut outcome = Outcome::fail(fails.join("; ")).fix(remediation(lead, fixes));
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
                Outcome::inconclusive(summary).fix(ADMIN_FIX)
            } else if !undecided_fixes.is_empty() {
                Outcome::inconclusive(summary).fix(remediation(None, undecided_fixes))
            } else {
                Outcome::inconclusive(summary).fix(
                    "Rerun when the instance answers these reads; the evidence shows what failed.",
                )
            };
            for warning in warns {
                outcome = outcome.with("also", warning);
            }
            outcome
        } else if !warns.is_empty() {
            Outcome::warn(warns.join("; ")).fix(remediation(lead, warn_fixes))
        } else {
            Outcome::pass(pass_summary)
        };
        let mut all = evidence;
        all.append(&mut outcome.evidence);
        outcome.evidence = all;
        outcome
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !item.is_empty() && !list.contains(&item) {
        list.push(item);
    }
}

/// Joins fixes: one stands alone, several are numbered.
fn remediation(lead: Option<String>, fixes: Vec<String>) -> String {
    let body = match fixes.len() {
        0 => String::new(),
        1 => fixes.into_iter().next().unwrap_or_default(),
        _ => fixes
            .iter()
            .enumerate()
            .map(|(i, fix)| format!("{}. {fix}", i + 1))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    match lead {
        Some(lead) if body.is_empty() => lead,
        Some(lead) => format!("{lead}\n{body}"),
        None => body,
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

    #[test]
    fn failure_outranks_unreadable_and_warnings() {
        let mut f = Findings::default();
        f.warn("w", "fix w");
        f.hidden("cannot read x");
        f.fail("broken", "fix it");
        let outcome = f.outcome("ok");
        assert_eq!(outcome.status, Status::Fail);
        assert_eq!(outcome.remediation.as_deref(), Some("1. fix it\n2. fix w"));
        assert!(outcome.evidence.iter().any(|e| e.label == "not assessed"));
    }

    #[test]
    fn unreadable_is_inconclusive_with_admin_advice_never_pass() {
        let mut f = Findings::default();
        f.warn("w", "fix w");
        f.hidden("cannot read sys_db_object: access denied (403 x)");
        let outcome = f.outcome("ok");
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.summary.contains("run with an admin account"));
        assert_eq!(outcome.remediation.as_deref(), Some(ADMIN_FIX));
    }

    #[test]
    fn empty_findings_pass_and_lead_opens_remediation() {
        assert_eq!(Findings::default().outcome("fine").status, Status::Pass);
        let mut f = Findings::default();
        f.lead("Microsoft says:");
        f.warn("w", "do this");
        assert_eq!(
            f.outcome("").remediation.as_deref(),
            Some("Microsoft says:\ndo this")
        );
    }
}
