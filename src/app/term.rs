//! What stdout is: how wide, and whether it takes colour. Decided once here, at the edge, so every
//! renderer below stays a pure function of its inputs.

use std::ffi::OsString;
use std::io::IsTerminal;

use crate::cli::ColorChoice;

/// Width for files, pipes and anything whose size is unknown.
pub const DEFAULT_WIDTH: usize = 100;
/// Narrower than this, nothing useful fits; a smaller `COLUMNS` is raised to it.
pub const MIN_WIDTH: usize = 40;

/// The stdout width: `COLUMNS` when set to a number, else the terminal's width, else 100.
pub fn stdout_width() -> usize {
    let tty = terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0));
    width_from(std::env::var("COLUMNS").ok().as_deref(), tty)
}

/// [`stdout_width`] without the process: `COLUMNS` wins (an explicit request), then the tty.
pub fn width_from(columns: Option<&str>, tty: Option<usize>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or(tty.filter(|&w| w > 0))
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// Whether stdout gets colour.
pub fn stdout_color(choice: ColorChoice) -> bool {
    color_from(
        choice,
        |name| std::env::var_os(name),
        std::io::stdout().is_terminal(),
    )
}

/// `--color` against the conventions: `always`/`never` win; `auto` is off with a non-empty `NO_COLOR`
/// (<https://no-color.org>), on with `CLICOLOR_FORCE` other than `0`
/// (<https://bixense.com/clicolors/>), off for `TERM=dumb`, else on only for a terminal.
pub fn color_from(
    choice: ColorChoice,
    env: impl Fn(&str) -> Option<OsString>,
    is_terminal: bool,
) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE") && env("CLICOLOR_FORCE") != Some("0".into()) => {
            true
        }
        ColorChoice::Auto if env("TERM").is_some_and(|t| t == "dumb") => false,
        ColorChoice::Auto => is_terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_wins_then_the_tty_then_100() {
        assert_eq!(width_from(Some("60"), Some(200)), 60);
        assert_eq!(width_from(None, Some(132)), 132);
        assert_eq!(width_from(None, None), DEFAULT_WIDTH);
        assert_eq!(width_from(Some("wide"), None), DEFAULT_WIDTH);
        assert_eq!(width_from(Some("10"), None), MIN_WIDTH);
    }

    #[test]
    fn colour_matrix() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(*v))
            }
        };
        use ColorChoice::*;
        assert!(color_from(Auto, env(&[]), true));
        assert!(!color_from(Auto, env(&[]), false));
        assert!(!color_from(Auto, env(&[("NO_COLOR", "1")]), true));
        assert!(color_from(Auto, env(&[("NO_COLOR", "")]), true));
        assert!(color_from(Auto, env(&[("CLICOLOR_FORCE", "1")]), false));
        assert!(!color_from(Auto, env(&[("CLICOLOR_FORCE", "0")]), false));
        assert!(!color_from(
            Auto,
            env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
            false
        ));
        assert!(!color_from(Auto, env(&[("TERM", "dumb")]), true));
        assert!(color_from(
            Always,
            env(&[("NO_COLOR", "1"), ("TERM", "dumb")]),
            false
        ));
        assert!(!color_from(Never, env(&[("CLICOLOR_FORCE", "1")]), true));
    }
}
