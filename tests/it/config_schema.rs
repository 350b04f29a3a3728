//! `snowdoctor schema --config`: the JSON schema of the config file. The shipped example config, the
//! config examples in the README and every built-in profile validate against it, and what the binary
//! rejects (an unknown key, a wrong enum value) the schema rejects too.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Finished, snowdoctor};

fn schema() -> Value {
    let out = Finished::from(
        snowdoctor()
            .args(["schema", "--config"])
            .output()
            .expect("snowdoctor runs"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("the schema is JSON")
}

fn repo(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A TOML text as the JSON value the schema judges.
fn as_json(what: &str, text: &str) -> Value {
    toml::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_example_config_readme_examples_and_builtin_profiles_validate() {
    let schema = schema();
    assert_eq!(schema["title"], "snowdoctor config file");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");

    let example = as_json(
        "examples/snowdoctor.toml",
        &repo("examples/snowdoctor.toml"),
    );
    let bad = errors(&validator, &example);
    assert!(bad.is_empty(), "examples/snowdoctor.toml: {bad:?}");
    // and the binary reads it as the schema says
    let out = Finished::from(
        snowdoctor()
            .args(["profiles", "--json", "--config"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snowdoctor.toml"))
            .output()
            .expect("snowdoctor runs"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("contoso-itsmc-gov") && out.stdout.contains("acme-siem"));

    let readme = repo("README.md");
    let mut checked = 0;
    for block in readme.split("```toml\n").skip(1) {
        let text = block.split("```").next().unwrap_or("");
        if !(text.starts_with("[defaults]") || text.starts_with("[profiles.")) {
            continue;
        }
        let bad = errors(&validator, &as_json("README example", text));
        assert!(bad.is_empty(), "README example {text}: {bad:?}");
        checked += 1;
    }
    assert!(checked >= 2, "README config examples found: {checked}");

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut profiles = 0;
    for entry in std::fs::read_dir(&dir).expect("profiles/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let profile = as_json(&path.display().to_string(), &text);
        let name = profile["name"].as_str().unwrap_or("x").to_string();
        let config = json!({ "profiles": { name: profile } });
        let bad = errors(&validator, &config);
        assert!(bad.is_empty(), "{}: {bad:?}", path.display());
        profiles += 1;
    }
    assert!(profiles >= 8, "{profiles}");
}

#[test]
fn what_the_binary_rejects_the_schema_rejects() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, key) in [
        (
            "[profiles.x]\nredirect_url = \"https://a.example/cb\"\n",
            "redirect_url",
        ),
        ("[profiles.x]\nwrite = { kind = \"import\" }\n", "import"),
        ("[profiles.x]\nauth_kinds = [\"saml\"]\n", "saml"),
        ("[defaults]\ncloud = \"mooncake\"\n", "mooncake"),
        (
            "[profiles.x.field_mapping]\ntask = \"short_description\"\n",
            "task",
        ),
    ] {
        let bad = errors(&validator, &as_json("case", text));
        assert!(!bad.is_empty(), "the schema accepts {text:?}");
        let file = crate::support::write(dir.path(), "snowdoctor.toml", text);
        let out = Finished::from(
            snowdoctor()
                .args(["profiles", "--config"])
                .arg(&file)
                .output()
                .expect("snowdoctor runs"),
        );
        assert_ne!(out.code, 0, "the binary accepts {text:?}");
        assert!(out.stderr.contains(key), "{key}: {}", out.stderr);
    }
}
