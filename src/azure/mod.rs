//! Azure service-tag files and the interval arithmetic for ip_access coverage. (Being built on the
//! `azure` branch; this placeholder only carries the interface.)

/// `snowdoctor ranges`.
pub fn ranges_command(
    _args: &crate::cli::RangesArgs,
    _out: &mut dyn std::io::Write,
) -> Result<u8, crate::error::Error> {
    Err(crate::error::Error::Usage("ranges: not built yet".into()))
}
