//! One short file per subcommand: arguments -> options -> operation -> report -> exit status.
//! The work is in [`crate::ops`]; no command imports another.

pub mod destroy;
pub mod doctor;
pub mod init;
pub mod policy;
pub mod rotate_key;
pub mod verify;

use crate::aws::Target;
use crate::cli::GlobalArgs;

/// Where the acting credentials come from and where requests go, as the flags say.
fn target(global: &GlobalArgs) -> Target {
    Target { profile: global.profile.clone(), region: global.region.clone(), endpoint_url: global.endpoint_url.clone() }
}
