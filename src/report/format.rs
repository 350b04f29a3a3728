//! The output formats a run or a saved report renders to. A domain type: the command line maps its
//! `--format`/`--report` values onto it (`src/cli.rs`), the library never sees clap.

/// One output format; each has its own file in `src/report/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Terminal,
    Json,
    Junit,
    Sarif,
    Md,
    Html,
    Har,
}

impl Format {
    /// Every format, in the order help and error messages list them.
    pub const ALL: &'static [Format] = &[
        Format::Terminal,
        Format::Json,
        Format::Junit,
        Format::Sarif,
        Format::Md,
        Format::Html,
        Format::Har,
    ];

    /// The name used on the command line (`--format json`, `--report junit=PATH`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Terminal => "terminal",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Sarif => "sarif",
            Format::Md => "md",
            Format::Html => "html",
            Format::Har => "har",
        }
    }

    /// The format with this name, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
