//! The check catalogue: one TOML manifest per check in `checks/`, embedded in the binary, optionally
//! extended or overridden by `--checks-dir`. Manifests are validated once (unknown keys, duplicate ids,
//! unknown or cyclic dependencies, unknown built-ins) and every error names the file and line.

pub mod describe;
mod manifest;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

pub use manifest::{
    Assertion, FindingFix, Manifest, Probe, RowExpectation, TableProbe, parse as parse_manifest,
};

use crate::error::{Error, Result};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/checks");

/// A validated set of manifests, in a stable order (dependencies before dependants).
#[derive(Debug, Clone)]
pub struct Catalogue {
    checks: Vec<Manifest>,
}

/// A manifest's text and where it came from.
struct Source {
    path: PathBuf,
    text: String,
}

impl Catalogue {
    /// The embedded catalogue plus the manifests in `extra_dir` (which override by id).
    pub fn load(extra_dir: Option<&Path>) -> Result<Catalogue> {
        let mut sources: Vec<Source> = EMBEDDED
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
            .map(|f| Source {
                path: Path::new("checks").join(f.path()),
                text: f.contents_utf8().unwrap_or("").to_string(),
            })
            .collect();
        sources.sort_by(|a, b| a.path.cmp(&b.path));
        let embedded_count = sources.len();
        if let Some(dir) = extra_dir {
            sources.extend(read_dir(dir)?);
        }
        let mut by_id: BTreeMap<String, (Manifest, usize)> = BTreeMap::new();
        for (index, source) in sources.iter().enumerate() {
            let manifest = manifest::parse(&source.path, &source.text)?;
            let overriding = index >= embedded_count;
            if let Some((previous, previous_index)) = by_id.get(&manifest.id) {
                // An extra directory may override an embedded check, never duplicate within one source.
                if !(overriding && *previous_index < embedded_count) {
                    return Err(Error::Manifest {
                        path: source.path.clone(),
                        line: line_of_key(&source.text, "id"),
                        message: format!(
                            "duplicate check id {:?} (also defined in {})",
                            manifest.id, previous.manifest_path
                        ),
                    });
                }
            }
            by_id.insert(manifest.id.clone(), (manifest, index));
        }
        let texts: HashMap<String, &Source> = by_id
            .iter()
            .map(|(id, (_, index))| (id.clone(), &sources[*index]))
            .collect();
        let checks: Vec<Manifest> = by_id.into_values().map(|(m, _)| m).collect();
        validate_references(&checks, &texts)?;
        let ordered = topological_order(&checks, &texts)?;
        Ok(Catalogue { checks: ordered })
    }

    /// Every check, dependencies first.
    pub fn checks(&self) -> &[Manifest] {
        &self.checks
    }

    /// The check with this id.
    pub fn get(&self, id: &str) -> Option<&Manifest> {
        self.checks.iter().find(|c| c.id == id)
    }
}

fn read_dir(dir: &Path) -> Result<Vec<Source>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut sources = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = crate::local_file::read_to_string(&path)?;
            sources.push(Source { path, text });
        }
    }
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(sources)
}

/// Line of the first `key =` in a manifest, for errors that are not TOML syntax errors.
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let trimmed = line.trim_start();
            trimmed.starts_with(key) && trimmed[key.len()..].trim_start().starts_with('=')
        })
        .map(|i| i + 1)
        .unwrap_or(1)
}

fn validate_references(checks: &[Manifest], texts: &HashMap<String, &Source>) -> Result<()> {
    for check in checks {
        let source = texts[&check.id];
        for dep in &check.depends_on {
            if !checks.iter().any(|c| &c.id == dep) {
                return Err(Error::Manifest {
                    path: source.path.clone(),
                    line: line_of_key(&source.text, "depends_on"),
                    message: format!("check {:?} depends on unknown check {dep:?}", check.id),
                });
            }
        }
        if let Probe::Builtin { builtin } = &check.probe
            && crate::checks::builtin(builtin).is_none()
        {
            return Err(Error::Manifest {
                path: source.path.clone(),
                line: line_of_key(&source.text, "builtin"),
                message: format!(
                    "unknown built-in probe {builtin:?}; known: {}",
                    crate::checks::builtin_names().join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// Kahn's algorithm; ties broken by area order then id, so output is stable.
fn topological_order(
    checks: &[Manifest],
    texts: &HashMap<String, &Source>,
) -> Result<Vec<Manifest>> {
    let mut remaining: Vec<Manifest> = checks.to_vec();
    remaining.sort_by(|a, b| (a.area_rank(), &a.id).cmp(&(b.area_rank(), &b.id)));
    let mut ordered: Vec<Manifest> = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|c| {
            c.depends_on
                .iter()
                .all(|d| ordered.iter().any(|o| &o.id == d))
        });
        match ready {
            Some(index) => ordered.push(remaining.remove(index)),
            None => {
                let cyclic = &remaining[0];
                let source = texts[&cyclic.id];
                let cycle: Vec<&str> = remaining.iter().map(|c| c.id.as_str()).collect();
                return Err(Error::Manifest {
                    path: source.path.clone(),
                    line: line_of_key(&source.text, "depends_on"),
                    message: format!("dependency cycle among checks: {}", cycle.join(" → ")),
                });
            }
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_is_valid_and_ids_are_unique_and_match_file_names() {
        let catalogue = Catalogue::load(None).expect("embedded catalogue loads");
        assert!(!catalogue.checks().is_empty());
        let mut ids: Vec<&str> = catalogue.checks().iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate ids");
        for check in catalogue.checks() {
            assert_eq!(check.manifest_path, format!("checks/{}.toml", check.id));
            for dep in &check.depends_on {
                let dep_pos = catalogue.checks().iter().position(|c| &c.id == dep);
                let pos = catalogue.checks().iter().position(|c| c.id == check.id);
                assert!(dep_pos < pos, "{} must come after {dep}", check.id);
            }
        }
    }

    /// Like cargo-deny's diagnostic codes: every code a built-in check reports is unique, written in
    /// kebab-case, and has a fix in its manifest; no manifest carries a fix for a code nobody reports.
    #[test]
    fn finding_codes_are_unique_and_each_has_a_fix() {
        use crate::checks::code::COMMON;
        let catalogue = Catalogue::load(None).expect("embedded catalogue loads");
        let kebab = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        let mut all = std::collections::BTreeSet::new();
        for (code, fix) in COMMON {
            assert!(code.common && kebab(code.name) && !fix.trim().is_empty());
            assert!(all.insert(code.name.to_string()), "duplicate {}", code.name);
        }
        for check in crate::checks::BUILTIN {
            let manifest = catalogue
                .get(check.name())
                .unwrap_or_else(|| panic!("no manifest for {}", check.name()));
            for code in check.codes() {
                let full = code.full(check.name());
                assert!(kebab(code.name) && !code.common, "{full}");
                assert!(all.insert(full.clone()), "duplicate code {full}");
                let fix = manifest
                    .findings
                    .get(code.name)
                    .unwrap_or_else(|| panic!("{full} has no [findings.{}]", code.name));
                assert!(!fix.fix.trim().is_empty(), "{full}");
            }
            for name in manifest.findings.keys() {
                assert!(
                    check.codes().iter().any(|c| c.name == name.as_str()),
                    "{}: [findings.{name}] fixes a code the check never reports",
                    manifest.manifest_path
                );
            }
        }
        for manifest in catalogue.checks() {
            if let Probe::Table(_) = manifest.probe {
                assert!(!manifest.remediation.trim().is_empty());
                for name in manifest.findings.keys() {
                    assert!(["rows", "value"].contains(&name.as_str()), "{name}");
                }
            }
        }
    }
}
