//! The ticket round trip and `snowdoctor cleanup` (being built).

use crate::cli::CleanupArgs;
use crate::error::{Error, Result};

/// `snowdoctor cleanup`.
pub async fn cleanup_command(_args: &CleanupArgs) -> Result<u8> {
    Err(Error::Usage("cleanup: not built yet".into()))
}
