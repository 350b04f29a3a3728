//! Instance snapshots embedded in the binary: the baseline tables, the schema file, rows generated
//! deterministically (a few hundred users and incidents, so paging matters without bloating the repo),
//! and the scenario overlays.

use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use serde_json::Value;

use super::scenario::{Modes, Scenario};
use super::store::{Row, Schema, Store, Table, stable_id, text};
use super::{EmulatorError, ScenarioInfo};

static INSTANCES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/instances");

/// Timestamp given to fixture rows without one.
pub const FIXTURE_TIME: &str = "2025-11-03 09:14:27";

/// The connector's OAuth entity name and integration user in the baseline.
pub const CONNECTOR_ENTITY: &str = "Microsoft 365 Security Center Connector";
pub const INTEGRATION_USER: &str = "m365.integration";
/// Their sys_ids: a scenario may rename both to an integration's own names (the Copilot connectors'
/// "Microsoft Search" entity), so the demo's credentials follow the ids, not the names.
pub const CONNECTOR_ENTITY_ID: &str = "4d2c8e6a1b3f4c5d9e7f8a0b1c2d3e4f";
pub const INTEGRATION_USER_ID: &str = "5b7c2e1fa3d04c6e9f1b2a3c4d5e6f70";

/// A loaded instance: data plus modes.
#[derive(Debug, Clone)]
pub struct Instance {
    pub store: Store,
    pub modes: Modes,
    /// The baseline before the overlay (credentials come from it, so `user-missing` still has them).
    pub baseline: Store,
}

/// Every scenario, sorted by name.
pub fn scenarios() -> Vec<ScenarioInfo> {
    let mut out: Vec<ScenarioInfo> = INSTANCES
        .get_dir("scenarios")
        .map(|dir| {
            dir.files()
                .filter_map(|f| {
                    let name = f.path().file_stem()?.to_str()?.to_string();
                    let text = f.contents_utf8()?;
                    let description = Scenario::parse(&name, text)
                        .map(|s| s.description)
                        .unwrap_or_else(|e| format!("(unreadable: {e})"));
                    Some(ScenarioInfo { name, description })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Loads the baseline and applies the named scenario.
pub fn load(scenario: &str) -> Result<Instance, EmulatorError> {
    // Parsing and generating the baseline is the slow part; do it once per process.
    static BASELINE: OnceLock<Result<Store, String>> = OnceLock::new();
    let baseline = BASELINE
        .get_or_init(|| load_baseline().map_err(|e| e.to_string()))
        .clone()
        .map_err(EmulatorError::Fixture)?;
    let mut store = baseline.clone();
    let mut modes = Modes::default();
    apply_named(scenario, &mut store, &mut modes, 0)?;
    Ok(Instance {
        store,
        modes,
        baseline,
    })
}

fn apply_named(
    name: &str,
    store: &mut Store,
    modes: &mut Modes,
    depth: usize,
) -> Result<(), EmulatorError> {
    if depth > 4 {
        return Err(EmulatorError::Fixture(format!(
            "scenario {name}: includes nest too deeply"
        )));
    }
    let file = INSTANCES
        .get_file(format!("scenarios/{name}.toml"))
        .ok_or_else(|| {
            let names = super::scenarios();
            let hint = crate::suggest::hint(name, names.iter().map(|s| s.name.as_str()));
            EmulatorError::UnknownScenario(name.to_string(), hint)
        })?;
    let text = file
        .contents_utf8()
        .ok_or_else(|| EmulatorError::Fixture(format!("scenario {name}: not UTF-8")))?;
    let scenario = Scenario::parse(name, text)?;
    for included in &scenario.include {
        apply_named(included, store, modes, depth + 1)?;
    }
    scenario.apply(name, store, FIXTURE_TIME)?;
    modes.merge(&scenario.modes);
    Ok(())
}

fn baseline_file(name: &str) -> Result<&'static str, EmulatorError> {
    INSTANCES
        .get_file(format!("baseline/{name}"))
        .and_then(|f| f.contents_utf8())
        .ok_or_else(|| EmulatorError::Fixture(format!("baseline/{name} is missing")))
}

fn load_baseline() -> Result<Store, EmulatorError> {
    let schema: Schema = serde_json::from_str(baseline_file("_schema.json")?)
        .map_err(|e| EmulatorError::Fixture(format!("baseline/_schema.json: {e}")))?;
    let mut store = Store {
        schema: schema.tables.clone(),
        ..Store::default()
    };
    let dir = INSTANCES
        .get_dir("baseline")
        .ok_or_else(|| EmulatorError::Fixture("baseline/ is missing".into()))?;
    for file in dir.files() {
        let Some(name) = file.path().file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(table) = name.strip_suffix(".json") else {
            continue;
        };
        if table.starts_with('_') {
            continue;
        }
        let text = file
            .contents_utf8()
            .ok_or_else(|| EmulatorError::Fixture(format!("baseline/{name}: not UTF-8")))?;
        let rows: Vec<Row> = serde_json::from_str(text)
            .map_err(|e| EmulatorError::Fixture(format!("baseline/{name}: {e}")))?;
        store.tables.insert(
            table.to_string(),
            Table {
                columns: Vec::new(),
                rows,
            },
        );
    }
    for (table, count) in &schema.generated {
        generate(&mut store, table, *count)?;
    }
    store.normalise(FIXTURE_TIME);
    for (table, t) in &store.tables {
        if let Some(prefix) = store.schema(table).number_prefix {
            let max = t
                .rows
                .iter()
                .filter_map(|r| text(r, "number").strip_prefix(&prefix)?.parse::<u64>().ok())
                .max()
                .unwrap_or(10_000);
            store.counters.insert(table.clone(), max + 1);
        }
    }
    Ok(store)
}

const FIRST: [&str; 20] = [
    "Ada", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Luis", "Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tomas",
];
const LAST: [&str; 15] = [
    "Almeida", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jansen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor",
];
const TOPICS: [&str; 8] = [
    "Suspicious sign-in flagged by Microsoft Defender",
    "Mailbox forwarding rule created",
    "Unusual file deletion in SharePoint",
    "Impossible travel activity",
    "Malware detected on endpoint",
    "Secure Score recommendation: enable MFA",
    "Phishing email reported by user",
    "Admin role assigned outside change window",
];

/// Deterministic rows: `sys_user` people and `incident` tickets.
fn generate(store: &mut Store, table: &str, count: usize) -> Result<(), EmulatorError> {
    let rows = match table {
        "sys_user" => (0..count).map(generated_user).collect::<Vec<_>>(),
        "incident" => {
            let callers: Vec<String> = (0..count.max(1))
                .map(|i| stable_id("sys_user", i as u64))
                .collect();
            (0..count)
                .map(|i| generated_incident(i, &callers))
                .collect()
        }
        other => {
            return Err(EmulatorError::Fixture(format!(
                "_schema.json: no generator for table {other}"
            )));
        }
    };
    store
        .tables
        .entry(table.to_string())
        .or_default()
        .rows
        .extend(rows);
    Ok(())
}

fn obj(pairs: &[(&str, String)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), Value::String(v.clone())))
        .collect()
}

fn generated_user(i: usize) -> Row {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let round = i / (FIRST.len() * LAST.len());
    let suffix = if round == 0 {
        String::new()
    } else {
        round.to_string()
    };
    let user_name = format!("{}.{}{suffix}", first.to_lowercase(), last.to_lowercase());
    obj(&[
        ("sys_id", stable_id("sys_user", i as u64)),
        ("user_name", user_name.clone()),
        ("first_name", first.into()),
        ("last_name", last.into()),
        ("name", format!("{first} {last}")),
        ("email", format!("{user_name}@example.com")),
        ("title", "Employee".into()),
        ("active", (i % 17 != 0).to_string()),
        ("locked_out", "false".into()),
        ("failed_attempts", "0".into()),
        ("password_needs_reset", "false".into()),
        ("web_service_access_only", "false".into()),
        ("internal_integration_user", "false".into()),
        ("identity_type", "human".into()),
        ("user_password", String::new()),
    ])
}

/// ITIL default priority matrix (impact, urgency) → priority.
pub fn priority(impact: &str, urgency: &str) -> Option<&'static str> {
    let i: u8 = impact.parse().ok()?;
    let u: u8 = urgency.parse().ok()?;
    match (i, u) {
        (1, 1) => Some("1"),
        (1, 2) | (2, 1) => Some("2"),
        (1, 3) | (2, 2) | (3, 1) => Some("3"),
        (2, 3) | (3, 2) => Some("4"),
        (3, 3) => Some("5"),
        _ => None,
    }
}

fn generated_incident(i: usize, callers: &[String]) -> Row {
    let impact = (i % 3 + 1).to_string();
    let urgency = ((i / 3) % 3 + 1).to_string();
    let prio = priority(&impact, &urgency).unwrap_or("5");
    let states = ["1", "2", "3", "6", "7"];
    let state = states[i % states.len()];
    let day = 1 + (i % 28);
    let month = 1 + (i / 28) % 9;
    let opened = format!(
        "2026-{month:02}-{day:02} {:02}:{:02}:00",
        i % 24,
        (i * 7) % 60
    );
    let caller = callers.get((i * 7) % callers.len().max(1)).cloned();
    obj(&[
        ("sys_id", stable_id("incident", i as u64)),
        ("number", format!("INC{:07}", 10_001 + i)),
        ("short_description", TOPICS[i % TOPICS.len()].into()),
        (
            "description",
            format!("Generated ticket {i} for the emulator baseline."),
        ),
        ("caller_id", caller.unwrap_or_default()),
        ("opened_by", stable_id("sys_user", (i % 5) as u64)),
        ("opened_at", opened.clone()),
        ("state", state.into()),
        ("impact", impact),
        ("urgency", urgency),
        ("priority", prio.into()),
        ("category", "security".into()),
        ("active", (state != "7").to_string()),
        ("sys_created_on", opened.clone()),
        ("sys_updated_on", opened),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_loads_and_healthy_equals_baseline() {
        let list = scenarios();
        assert!(list.len() >= 30, "only {} scenarios", list.len());
        for info in &list {
            let loaded = load(&info.name);
            assert!(loaded.is_ok(), "{}: {:?}", info.name, loaded.err());
        }
        let healthy = load("healthy").ok();
        let rows = healthy.map(|h| h.store.tables["incident"].rows.len());
        assert_eq!(rows, Some(250));
    }

    #[test]
    fn unknown_scenario_is_an_error() {
        assert!(matches!(
            load("no-such"),
            Err(EmulatorError::UnknownScenario(..))
        ));
    }

    #[test]
    fn priority_matrix_is_itil_default() {
        assert_eq!(priority("1", "1"), Some("1"));
        assert_eq!(priority("2", "3"), Some("4"));
        assert_eq!(priority("3", "3"), Some("5"));
        assert_eq!(priority("x", "3"), None);
    }
}
