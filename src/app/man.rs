//! `snowdoctor man`: the man page (roff) generated from the clap definitions, one section per
//! subcommand so every flag is documented where `man snowdoctor` shows it.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::exit;

/// Runs `snowdoctor man`.
pub fn run() -> Result<u8> {
    let page = render().map_err(|e| Error::Report(format!("cannot render the man page: {e}")))?;
    super::print_stdout(&page);
    Ok(exit::OK)
}

fn render() -> std::io::Result<String> {
    let command = Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("snowdoctor {}", sub.get_name());
        let sub_man = clap_mangen::Man::new(sub.clone());
        // One section per subcommand: what it does, then every option.
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        if let Some(about) = sub.get_about() {
            out.extend_from_slice(format!("{}\n", roff_escape(&about.to_string())).as_bytes());
        }
        render_options(&sub_man, &mut out)?;
    }
    man.render_version_section(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A subcommand's about line and options, under the section heading already written.
fn render_options(man: &clap_mangen::Man, out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut options = Vec::new();
    man.render_options_section(&mut options)?;
    // Drop the ".SH OPTIONS" heading: the subcommand's own heading stands above it.
    let text = String::from_utf8_lossy(&options);
    let body = text
        .split_once('\n')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_default();
    out.extend_from_slice(body.as_bytes());
    Ok(())
}

/// Text safe as a roff line: no leading control character, backslashes doubled.
fn roff_escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
