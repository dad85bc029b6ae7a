//! Reading a policy file: the one loader the CLI, the local server and the Lambda cold start use.

use leadclock_domain::policy::report_problems;
use leadclock_domain::Policy;
use std::path::Path;

/// Reads and validates a policy file; the error lists every problem with its line.
pub fn load(path: &Path) -> Result<Policy, String> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("cannot read policy {}: {e}", path.display()))?;
    Policy::parse(&src).map_err(|problems| report_problems(&path.display().to_string(), &problems))
}
