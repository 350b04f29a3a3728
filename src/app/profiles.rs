//! `snowdoctor profiles [show NAME]`: the built-in profiles and those of `--config`.

use crate::cli::{ProfilesArgs, ProfilesCommand};
use crate::config::{self, Profile};
use crate::error::Result;
use crate::exit;
use crate::profile::describe;

/// Runs `profiles`.
pub fn run(args: &ProfilesArgs) -> Result<u8> {
    let file = config::config_file(args.config.as_deref())?;
    match &args.command {
        None => {
            let mut profiles = Profile::builtin();
            for (name, profile) in &file.profiles {
                let mut profile = profile.clone();
                profile.name = name.clone();
                profile.settle();
                profiles.retain(|p| p.name != *name);
                profiles.push(profile);
            }
            super::print_stdout(&if args.json {
                describe::list_json(&profiles)
            } else {
                describe::list(&profiles)
            });
        }
        Some(ProfilesCommand::Show { name }) => {
            let profile = config::resolve_profile(Some(name), &file)?;
            super::print_stdout(&if args.json {
                serde_json::to_string_pretty(&describe::to_json(&profile)).unwrap_or_default()
            } else {
                describe::show(&profile)
            });
        }
    }
    Ok(exit::OK)
}
