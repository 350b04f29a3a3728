//! `plugins-active`: the plugins the profile requires are installed and active (Azure Pipelines needs
//! Change Management Core and its State Model for the change request dropdowns).

use super::findings::Findings;
use super::{Check, Code, Context, Outcome};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::TableQuery;

/// See the module docs.
pub struct PluginsActive;

const NOT_INSTALLED: Code = Code::fail("not-installed");
const INACTIVE: Code = Code::fail("inactive");

/// The required plugins' rows.
pub fn plugins_query(ids: &[String]) -> TableQuery {
    TableQuery::new("v_plugin")
        .query(format!("idIN{}", ids.join(",")))
        .fields(["id", "name", "active", "state"])
}

impl Check for PluginsActive {
    fn name(&self) -> &'static str {
        "plugins-active"
    }

    fn codes(&self) -> &'static [Code] {
        &[NOT_INSTALLED, INACTIVE]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let ids = &ctx.settings.profile.required_plugins;
        if ids.is_empty() {
            return Vec::new();
        }
        vec![FactKey::WhoAmI, FactKey::Table(plugins_query(ids))]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        let ids = &profile.required_plugins;
        if ids.is_empty() {
            return Outcome::skipped(format!(
                "not applicable: the {} profile requires no plugin",
                profile.name
            ));
        }
        let mut f = Findings::default();
        let Some(rows) = f.rows(facts, &plugins_query(ids)) else {
            return f.outcome("");
        };
        for id in ids {
            match rows.iter().find(|r| r.text("id") == id) {
                None => f.fail(
                    NOT_INSTALLED.arg("plugin", id),
                    format!("the plugin {id} is not installed"),
                ),
                Some(row) => {
                    let state = row
                        .value("active")
                        .filter(|v| !v.is_empty())
                        .unwrap_or(row.text("state"));
                    f.note(
                        format!("v_plugin[{id}]"),
                        format!("{} ({state})", row.text("name")),
                    );
                    if !state.eq_ignore_ascii_case("active") {
                        f.fail(
                            INACTIVE.arg("plugin", id),
                            format!(
                                "the plugin {id} ({}) is installed but {state}",
                                row.text("name")
                            ),
                        );
                    }
                }
            }
        }
        f.outcome(format!("{} active", ids.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{admin, context_with, rows};
    use crate::model::Status;

    #[test]
    fn missing_and_inactive_plugins_fail() {
        let ids = vec!["a.core".to_string(), "a.model".to_string()];
        let ctx = context_with(|s| s.profile.required_plugins = ids.clone());
        let run = |found: Vec<serde_json::Value>| {
            let facts =
                Facts::from_pairs([admin(), rows(FactKey::Table(plugins_query(&ids)), found)]);
            PluginsActive.evaluate(&ctx, &facts)
        };
        let active =
            |id: &str, state: &str| serde_json::json!({"id": id, "name": id, "active": state});
        assert_eq!(
            run(vec![
                active("a.core", "active"),
                active("a.model", "active")
            ])
            .status,
            Status::Pass
        );
        assert_eq!(
            run(vec![
                active("a.core", "active"),
                active("a.model", "inactive")
            ])
            .status,
            Status::Fail
        );
        assert_eq!(run(vec![active("a.core", "active")]).status, Status::Fail);
    }
}
