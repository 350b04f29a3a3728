//! Known errors: the catalogue behind `snowdoctor why`. Admins paste what Azure, Microsoft 365 or
//! ServiceNow showed them; each entry of `errors/catalogue.toml` (embedded in the binary) says which
//! integration shows it, what it means on the instance, which checks confirm it and how to fix it.
//!
//! The catalogue is data, not code, so a new error string is a TOML edit; [`KnownErrors::embedded`]
//! validates it once (ids, patterns, examples), and the tests prove every example resolves to its entry and
//! every named check and profile exists.

mod pattern;

use serde::{Deserialize, Serialize};

pub use pattern::{Pattern, normalise};

use crate::config::line_of;
use crate::error::{Error, Result};

/// The catalogue text, embedded.
pub const CATALOGUE_TEXT: &str = include_str!("../../errors/catalogue.toml");

/// Where the embedded catalogue lives in the repository (for error messages).
const CATALOGUE_PATH: &str = "errors/catalogue.toml";

/// One known error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownError {
    /// Stable kebab-case id.
    pub id: String,
    /// The likely cause, in one line.
    pub title: String,
    /// Which integration shows it.
    pub integration: String,
    /// The built-in profile whose checks confirm it, when snowdoctor has one.
    #[serde(default)]
    pub profile: Option<String>,
    /// What the text looks like (alternatives; `{name}` stands for any text).
    pub patterns: Vec<String>,
    /// The exact published strings; each must resolve to this entry.
    pub examples: Vec<String>,
    pub meaning: String,
    /// Check ids that confirm or rule it out.
    #[serde(default)]
    pub checks: Vec<String>,
    pub fix: String,
    /// Where the string and its meaning are documented.
    pub source: String,
}

impl KnownError {
    /// The command that confirms this error on an instance, when snowdoctor has checks for it.
    pub fn confirm_command(&self) -> Option<String> {
        let profile = self.profile.as_deref()?;
        if self.checks.is_empty() {
            return None;
        }
        Some(format!(
            "snowdoctor run --profile {profile} --only {}",
            self.checks.join(",")
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    error: Vec<KnownError>,
}

/// A validated catalogue with its compiled patterns.
#[derive(Debug, Clone)]
pub struct KnownErrors {
    entries: Vec<(KnownError, Vec<Pattern>)>,
}

/// A catalogue entry that matches a pasted text.
#[derive(Debug, Clone, Serialize)]
pub struct Match<'a> {
    #[serde(flatten)]
    pub error: &'a KnownError,
    /// How much of the entry's pattern text matched; the best match has the highest score.
    pub score: usize,
    /// `snowdoctor run --profile … --only …`, when the instance can confirm it.
    pub confirm_command: Option<String>,
}

impl KnownErrors {
    /// The catalogue embedded in the binary.
    pub fn embedded() -> Result<KnownErrors> {
        KnownErrors::parse(CATALOGUE_PATH, CATALOGUE_TEXT)
    }

    /// Parses and validates a catalogue.
    pub fn parse(path: &str, text: &str) -> Result<KnownErrors> {
        let problem = |line: usize, message: String| Error::Manifest {
            path: path.into(),
            line,
            message,
        };
        let file: CatalogueFile = toml::from_str(text).map_err(|e| {
            problem(
                e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
                e.message().trim().to_string(),
            )
        })?;
        let mut entries = Vec::with_capacity(file.error.len());
        for error in file.error {
            let line = text
                .find(&format!("id = \"{}\"", error.id))
                .map_or(1, |offset| line_of(text, offset));
            let kebab = !error.id.is_empty()
                && error
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !kebab {
                return Err(problem(
                    line,
                    format!("id {:?} must be kebab-case (a-z, 0-9, -)", error.id),
                ));
            }
            if entries
                .iter()
                .any(|(e, _): &(KnownError, _)| e.id == error.id)
            {
                return Err(problem(line, format!("duplicate id {:?}", error.id)));
            }
            if error.patterns.is_empty() || error.examples.is_empty() {
                return Err(problem(
                    line,
                    format!("{:?} needs at least one pattern and one example", error.id),
                ));
            }
            let patterns = error
                .patterns
                .iter()
                .map(|p| Pattern::compile(p).map_err(|message| problem(line, message)))
                .collect::<Result<Vec<_>>>()?;
            entries.push((error, patterns));
        }
        Ok(KnownErrors { entries })
    }

    /// Every entry, in catalogue order.
    pub fn entries(&self) -> impl Iterator<Item = &KnownError> {
        self.entries.iter().map(|(e, _)| e)
    }

    /// The entries whose patterns match `text`, best first (ties keep catalogue order).
    pub fn lookup(&self, text: &str) -> Vec<Match<'_>> {
        let normalised = normalise(text);
        let mut matches: Vec<Match<'_>> = self
            .entries
            .iter()
            .filter_map(|(error, patterns)| {
                let score = patterns
                    .iter()
                    .filter(|p| p.is_match(&normalised))
                    .map(Pattern::specificity)
                    .max()?;
                Some(Match {
                    error,
                    score,
                    confirm_command: error.confirm_command(),
                })
            })
            .collect();
        matches.sort_by_key(|m| std::cmp::Reverse(m.score));
        matches
    }
}

#[cfg(test)]
mod tests;
