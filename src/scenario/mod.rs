//! Scenario files: the format ([`model`]), loading and validation.

pub mod model;

pub use model::*;

/// Temporary: replaced by the full loader (validation, positioned diagnostics).
pub fn load_file(path: &std::path::Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ron::from_str(&text).map_err(|e| format!("{}:{e}", path.display()))
}
