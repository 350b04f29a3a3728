//! `snowdoctor why "PASTED ERROR TEXT"`: looks the text up in the known-error catalogue
//! (`errors/catalogue.toml`) and prints the likely cause, the fix, its source and the exact run that
//! confirms it on the instance. Exit 0 when something matches, 1 (saying so) when nothing does.

use std::fmt::Write as _;
use std::io::Read;

use serde_json::json;

use crate::cli::{WhyArgs, WhyFormat};
use crate::error::{Error, Result};
use crate::exit;
use crate::known_errors::{KnownErrors, Match};

/// Pasted text beyond this is cut: error messages are short, and a whole log adds nothing.
const MAX_INPUT: usize = 256 * 1024;

/// Runs `why`.
pub fn run(args: &WhyArgs) -> Result<u8> {
    let catalogue = KnownErrors::embedded()?;
    if args.list {
        super::print_stdout(&list(&catalogue, args.format));
        return Ok(exit::OK);
    }
    let text = input(&args.text)?;
    if text.trim().is_empty() {
        return Err(Error::Usage(
            "no error text: pass it as an argument (quoted) or on stdin".into(),
        ));
    }
    let matches = catalogue.lookup(&text);
    let output = match args.format {
        WhyFormat::Json => serde_json::to_string_pretty(&json!({
            "matched": !matches.is_empty(),
            "matches": matches,
        }))
        .unwrap_or_default(),
        WhyFormat::Text => render(&matches),
    };
    super::print_stdout(&output);
    Ok(if matches.is_empty() {
        exit::UNKNOWN_ERROR
    } else {
        exit::OK
    })
}

/// The text from the arguments, or stdin when there are none (or just `-`).
fn input(args: &[String]) -> Result<String> {
    if !(args.is_empty() || args == ["-"]) {
        return Ok(args.join(" "));
    }
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_INPUT as u64)
        .read_to_string(&mut text)
        .map_err(|e| Error::Usage(format!("cannot read the error text from stdin: {e}")))?;
    Ok(text)
}

fn render(matches: &[Match<'_>]) -> String {
    let Some((best, others)) = matches.split_first() else {
        return "No known error matches this text.\nsnowdoctor knows the errors listed by `snowdoctor why --list`; paste the message as the integration shows it, or run `snowdoctor run --profile NAME` to diagnose the instance.".into();
    };
    let e = best.error;
    let mut out = format!("Likely cause: {}\n\n", e.title);
    let _ = writeln!(out, "  integration   {}", e.integration);
    let _ = writeln!(out, "  known error   {}", e.id);
    let _ = writeln!(out, "\nWhat it means\n  {}", indent(&e.meaning));
    let _ = writeln!(out, "\nFix\n  {}", indent(&e.fix));
    match &best.confirm_command {
        Some(command) => {
            let _ = writeln!(out, "\nConfirm on the instance\n  {command}");
        }
        None => {
            let _ = writeln!(
                out,
                "\nConfirm on the instance\n  nothing on the ServiceNow side shows this; it is fixed where the message appears"
            );
        }
    }
    let _ = writeln!(out, "\nSource\n  {}", e.source);
    if !others.is_empty() {
        out.push_str("\nAlso possible:\n");
        for other in others {
            let _ = writeln!(out, "  - {} ({})", other.error.title, other.error.id);
        }
    }
    out
}

fn indent(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn list(catalogue: &KnownErrors, format: WhyFormat) -> String {
    if format == WhyFormat::Json {
        let entries: Vec<_> = catalogue.entries().collect();
        return serde_json::to_string_pretty(&entries).unwrap_or_default();
    }
    let mut out = String::new();
    for e in catalogue.entries() {
        let _ = writeln!(out, "{:<38} {} — {}", e.id, e.integration, e.title);
    }
    out
}
