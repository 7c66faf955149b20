//! One module per subcommand; each runs library code and hands its report to [`crate::report`].

pub mod destroy;
pub mod doctor;
pub mod init;
pub mod policy;
pub mod rotate_key;
pub mod verify;

use std::path::{Path, PathBuf};

use crate::aws::Target;
use crate::cli::GlobalArgs;
use crate::exit::Failure;
use crate::settings::{self, AppSettings};

/// The .env a command works on: the one named, else ./.env, else ./backend/.env; it must exist.
pub fn existing_env_file(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let candidates = match explicit {
        Some(path) => vec![path.to_path_buf()],
        None => settings::default_env_candidates(),
    };
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        let tried = candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        Failure::bad_input(format!("no .env file found (looked for {tried})"))
            .hint("pass --env-file PATH, or run `t3s3 init` first")
            .into()
    })
}

/// Where the acting credentials go: the flags, else the backend's own region and endpoint,
/// so an audit or a change targets the same place the backend talks to.
pub fn acting_target(global: &GlobalArgs, settings: &AppSettings) -> Target {
    Target {
        profile: global.profile.clone(),
        region: global.region.clone().or_else(|| settings.get("AWS_REGION").map(str::to_string)),
        endpoint_url: global.endpoint_url.clone().or_else(|| settings.get(settings::ENDPOINT).map(str::to_string)),
    }
}
