//! A single self-contained HTML file: inline CSS, no script, no external asset, a Content Security
//! Policy that forbids loading anything, and minijinja with autoescaping (the template name ends in
//! `.html`) so text from the instance can never become markup.

use minijinja::Environment;
use serde::Serialize;

use super::view;
use crate::error::Error;
use crate::model::{CheckResult, Evidence, RunReport, Step, WrittenRecord};

const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("templates/report.html");

/// Everything the template shows, precomputed so the template only lays out.
#[derive(Serialize)]
struct Page<'a> {
    title: String,
    verdict_status: &'static str,
    verdict_word: &'static str,
    headline: &'a str,
    instance: &'a str,
    profile: &'a str,
    user: &'a str,
    started_at: &'a str,
    duration: String,
    counts: Vec<Count>,
    root_causes: Vec<CheckView<'a>>,
    groups: Vec<Group<'a>>,
    notes: &'a [String],
    writes: &'a [WrittenRecord],
    tool: String,
    schema_version: &'a str,
}

#[derive(Serialize)]
struct Count {
    status: &'static str,
    n: usize,
}

#[derive(Serialize)]
struct Group<'a> {
    title: &'static str,
    area: &'static str,
    checks: Vec<CheckView<'a>>,
}

#[derive(Serialize)]
struct CheckView<'a> {
    id: &'a str,
    title: &'a str,
    status: &'static str,
    status_word: &'static str,
    mark: &'static str,
    severity: &'static str,
    summary: &'a str,
    blocked: Option<String>,
    evidence: &'a [Evidence],
    remediation: Option<&'a str>,
    docs: Vec<Link<'a>>,
    steps: Vec<StepView<'a>>,
    root_cause: bool,
    open: bool,
    duration: String,
    manifest: &'a str,
}

/// A documentation link; only http(s) targets become links, anything else (`javascript:`) stays text.
#[derive(Serialize)]
struct Link<'a> {
    text: &'a str,
    href: Option<&'a str>,
}

#[derive(Serialize)]
struct StepView<'a> {
    name: &'a str,
    status: &'static str,
    status_word: &'static str,
    detail: &'a str,
    duration: String,
}

/// Renders the HTML page.
pub fn render(report: &RunReport) -> Result<String, Error> {
    let mut env = Environment::new();
    env.add_filter("emphasis", emphasis);
    env.add_template(TEMPLATE_NAME, TEMPLATE)
        .map_err(|e| Error::Report(format!("the HTML template is invalid: {e}")))?;
    let template = env
        .get_template(TEMPLATE_NAME)
        .map_err(|e| Error::Report(format!("the HTML template is missing: {e}")))?;
    template
        .render(page(report))
        .map_err(|e| Error::Report(format!("cannot render the HTML report: {e}")))
}

/// Remediation texts mark UI labels as `*Can read*` (Markdown emphasis): escape the text, then turn those
/// spans into `<em>`, so the label reads as a label and nothing else can become markup.
fn emphasis(text: &str) -> minijinja::Value {
    let escaped = minijinja::HtmlEscape(text).to_string();
    minijinja::Value::from_safe_string(view::map_labels(&escaped, |label| {
        format!("<em>{label}</em>")
    }))
}

fn page(report: &RunReport) -> Page<'_> {
    let status = report.verdict.status;
    Page {
        title: format!(
            "snowdoctor: {} — {}",
            view::status_word(status),
            report.instance
        ),
        verdict_status: status.as_str(),
        verdict_word: view::status_word(status),
        headline: &report.verdict.headline,
        instance: &report.instance,
        profile: &report.profile,
        user: if report.user.is_empty() {
            "-"
        } else {
            &report.user
        },
        started_at: &report.started_at,
        duration: view::duration(report.duration_ms),
        counts: report
            .counts()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(status, n)| Count {
                status: status.as_str(),
                n,
            })
            .collect(),
        root_causes: view::root_causes(report)
            .into_iter()
            .map(|c| check_view(report, c))
            .collect(),
        groups: view::by_area(report)
            .into_iter()
            .map(|(area, checks)| Group {
                title: view::area_title(area),
                area: area.as_str(),
                checks: checks.into_iter().map(|c| check_view(report, c)).collect(),
            })
            .collect(),
        notes: &report.notes,
        writes: &report.writes,
        tool: format!("{} {}", report.tool.name, report.tool.version),
        schema_version: &report.schema_version,
    }
}

fn check_view<'a>(report: &'a RunReport, check: &'a CheckResult) -> CheckView<'a> {
    CheckView {
        id: &check.id,
        title: &check.title,
        status: check.status.as_str(),
        status_word: view::status_word(check.status),
        mark: view::status_mark(check.status),
        severity: view::severity_word(check.severity),
        summary: &check.summary,
        blocked: view::blocked_reason(report, check),
        evidence: &check.evidence,
        remediation: check.remediation.as_deref(),
        docs: check
            .docs
            .iter()
            .map(|doc| Link {
                text: doc,
                href: (doc.starts_with("https://") || doc.starts_with("http://"))
                    .then_some(doc.as_str()),
            })
            .collect(),
        steps: check.steps.iter().map(step_view).collect(),
        root_cause: check.root_cause,
        open: view::is_problem(check.status),
        duration: view::duration(check.duration_ms),
        manifest: &check.manifest,
    }
}

fn step_view(step: &Step) -> StepView<'_> {
    StepView {
        name: &step.name,
        status: step.status.as_str(),
        status_word: view::status_word(step.status),
        detail: &step.detail,
        duration: view::duration(step.duration_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::emphasis;

    #[test]
    fn emphasis_marks_labels_and_escapes_everything_else() {
        let html = emphasis("set *Accessible from* to *All application scopes* <script>x</script>");
        assert_eq!(
            html.to_string(),
            "set <em>Accessible from</em> to <em>All application scopes</em> &lt;script&gt;x&lt;&#x2f;script&gt;"
        );
        // A lone asterisk or one followed by a space is text, not emphasis.
        assert_eq!(emphasis("2 * 3 and *x").to_string(), "2 * 3 and *x");
        assert_eq!(emphasis("*<b>*").to_string(), "<em>&lt;b&gt;</em>");
    }
}
