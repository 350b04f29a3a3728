//! The tool around the diagnosis, through the binary: terminal width, colour, quiet mode, help,
//! completions, the man page, config discovery, typo suggestions and saved-report rendering.

mod bundle;
mod color;
mod completions;
mod config;
mod emulate;
mod layout;
mod render;
mod secrets;
mod tty;
mod typos;
