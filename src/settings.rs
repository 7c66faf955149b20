//! The backend's S3 settings resolved as the backend resolves them: process environment
//! first, then the `.env` file. Flags given to t3s3 come before both.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::aws::AppCredentials;
use std::collections::BTreeMap;

use crate::envfile::{EnvFile, EnvValue, LintIssue, Severity};
use crate::exit::Failure;
use crate::keys::Key;
pub use crate::region::{RegionName, is_region_name};

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Source {
    CommandLine,
    Environment,
    File { path: PathBuf, line: usize },
    Missing,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::CommandLine => f.write_str("command line"),
            Source::Environment => f.write_str("environment"),
            Source::File { path, line } => write!(f, "{} line {line}", path.display()),
            Source::Missing => f.write_str("not set"),
        }
    }
}

/// One setting: its value (if any) and where it came from.
#[derive(Debug, Clone)]
pub struct Setting {
    pub name: Key,
    pub value: Option<String>,
    pub source: Source,
}

/// Everything `verify` and `doctor` need to know about the backend's configuration.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The four required settings, in [`Key::REQUIRED`] order.
    pub required: Vec<Setting>,
    pub endpoint_url: Setting,
    /// Present with temporary (role) credentials, as CI has them.
    pub session_token: Setting,
    /// The environment's AWS_SESSION_TOKEN, left unused: the key came from the .env file, and
    /// a token belongs to the key it was issued with (boto3 given a key does the same).
    pub ignored_session_token: bool,
    /// The .env file read, if one was found.
    pub env_file: Option<PathBuf>,
    /// Every .env path looked for, in order.
    pub tried: Vec<PathBuf>,
    /// Findings of the .env lint that matter for the values used.
    pub lint: Vec<LintIssue>,
}

/// The `.env` files the backend would load, in the order t3s3 looks for them.
pub fn default_env_candidates() -> Vec<PathBuf> {
    // The project's own `[tool.t3s3] env-file`, when pyproject.toml names one.
    if let Some(path) = crate::project::defaults().ok().and_then(|d| d.env_file.clone()) {
        return vec![path];
    }
    vec![PathBuf::from(".env"), PathBuf::from("backend").join(".env")]
}

/// Overrides from t3s3's own flags.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub region: Option<RegionName>,
    pub endpoint_url: Option<String>,
}

impl AppSettings {
    /// Resolves the settings as the backend does: process environment, then the file.
    /// An explicit `env_file` that does not exist is bad input.
    pub fn resolve(env_file: Option<&Path>, overrides: &Overrides) -> Result<Self> {
        Self::resolve_with(env_file, overrides, true)
    }

    /// Resolves the settings from the file alone, ignoring the process environment
    /// (after `init` wrote them, they are what the backend will load).
    pub fn from_file(env_file: &Path) -> Result<Self> {
        Self::resolve_with(Some(env_file), &Overrides::default(), false)
    }

    /// The settings of a .env already read (the file alone, as [`AppSettings::from_file`]):
    /// a command that reads the file once builds its settings from that reading.
    pub fn of(file: &EnvFile) -> Self {
        let found = file.exists().then(|| file.path().to_path_buf());
        Self::from_reading(found, vec![file.path().to_path_buf()], Some(file), &Overrides::default(), false)
    }

    fn resolve_with(env_file: Option<&Path>, overrides: &Overrides, use_process_env: bool) -> Result<Self> {
        let tried = match env_file {
            Some(path) => vec![path.to_path_buf()],
            None => default_env_candidates(),
        };
        let found = tried.iter().find(|path| path.is_file()).cloned();
        if let (Some(path), None) = (env_file, &found) {
            // A folder, a link to nothing, a file that cannot be read: said as such.
            EnvFile::read(path)?;
            return Err(Failure::bad_input(format!("the env file {} does not exist", path.display()))
                .hint("pass the path of the backend's .env with --env-file, or run `t3s3 init` to create it")
                .into());
        }
        let file = match &found {
            Some(path) => Some(EnvFile::read(path)?),
            None => None,
        };
        Ok(Self::from_reading(found, tried, file.as_ref(), overrides, use_process_env))
    }

    fn from_reading(
        found: Option<PathBuf>,
        tried: Vec<PathBuf>,
        file: Option<&EnvFile>,
        overrides: &Overrides,
        use_process_env: bool,
    ) -> Self {
        let mut values = file.map(|file| file.values().0).unwrap_or_default();
        let mut lint = file.map(EnvFile::lint).unwrap_or_default();
        drop_placeholders(&mut values, &mut lint);

        let setting = |name: Key, flag: Option<&str>| {
            if let Some(value) = flag {
                return Setting { name, value: Some(value.to_string()), source: Source::CommandLine };
            }
            if let Some(value) = std::env::var(name.name()).ok().filter(|v| use_process_env && !v.is_empty()) {
                return Setting { name, value: Some(value), source: Source::Environment };
            }
            match (values.get(name.name()), &found) {
                (Some(found_value), Some(path)) if !found_value.value.is_empty() => Setting {
                    name,
                    value: Some(found_value.value.clone()),
                    source: Source::File { path: path.clone(), line: found_value.line },
                },
                _ => Setting { name, value: None, source: Source::Missing },
            }
        };
        let required = Key::REQUIRED
            .into_iter()
            .map(|name| setting(name, if name == Key::Region { overrides.region.as_deref() } else { None }))
            .collect::<Vec<_>>();
        let endpoint_url = either_endpoint(
            setting(Key::EndpointUrl, overrides.endpoint_url.as_deref()),
            setting(Key::S3EndpointUrl, None),
            &mut lint,
        );
        let mut session_token = setting(Key::SessionToken, None);
        let key_from_file = matches!(required[0].source, Source::File { .. });
        let ignored_session_token = key_from_file && session_token.source == Source::Environment;
        if ignored_session_token {
            session_token = Setting { name: Key::SessionToken, value: None, source: Source::Missing };
        }

        // A finding about a key whose value came from elsewhere does not affect what is used.
        let from_file = |key: &str| {
            required
                .iter()
                .chain([&endpoint_url, &session_token])
                .find(|s| s.name.name() == key)
                .is_none_or(|s| matches!(s.source, Source::File { .. } | Source::Missing))
        };
        lint.retain(|issue| issue.key.as_deref().is_none_or(from_file));

        AppSettings { required, endpoint_url, session_token, ignored_session_token, env_file: found, tried, lint }
    }

    pub fn get(&self, name: Key) -> Option<&str> {
        self.setting(name).and_then(|s| s.value.as_deref())
    }

    pub fn setting(&self, name: Key) -> Option<&Setting> {
        // The endpoint is AWS_ENDPOINT_URL's, or S3_ENDPOINT_URL's when only that is set.
        if name == Key::EndpointUrl {
            return Some(&self.endpoint_url);
        }
        self.required.iter().chain([&self.endpoint_url, &self.session_token]).find(|s| s.name == name)
    }

    /// A .env with the region and bucket but neither key nor secret: the backend runs on the
    /// default credential chain (a role), as a production server without a key does.
    pub fn keyless(&self) -> bool {
        [Key::AccessKeyId, Key::SecretAccessKey].iter().all(|k| self.get(*k).is_none())
            && [Key::Region, Key::Bucket].iter().all(|k| self.get(*k).is_some())
    }

    /// The required settings that have no value, by name.
    pub fn missing(&self) -> Vec<&'static str> {
        self.required.iter().filter(|s| s.value.is_none()).map(|s| s.name.name()).collect()
    }

    pub fn lint_errors(&self) -> Vec<&LintIssue> {
        self.lint.iter().filter(|issue| issue.severity == Severity::Error).collect()
    }

    pub fn bucket(&self) -> &str {
        self.get(Key::Bucket).unwrap_or_default()
    }

    pub fn region(&self) -> &str {
        self.get(Key::Region).unwrap_or_default()
    }

    /// Where a setting is (or should be) written, for messages: "backend/.env line 3".
    pub fn where_set(&self, name: Key) -> String {
        match self.setting(name).map(|s| &s.source) {
            Some(Source::Missing) | None => match &self.env_file {
                Some(path) => format!("{} (add a `{name}=` line)", path.display()),
                None => "your .env".to_string(),
            },
            Some(source) => source.to_string(),
        }
    }

    /// The .env path to name in messages.
    pub fn env_display(&self) -> String {
        match &self.env_file {
            Some(path) => path.display().to_string(),
            None => self.tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" or "),
        }
    }

    /// The static credentials, region and endpoint, once all four are set.
    pub fn app_credentials(&self) -> Option<AppCredentials> {
        Some(AppCredentials {
            access_key_id: self.get(Key::AccessKeyId)?.to_string(),
            secret_access_key: self.get(Key::SecretAccessKey)?.to_string(),
            region: self.get(Key::Region)?.to_string(),
            endpoint_url: self.get(Key::EndpointUrl).map(str::to_string),
            session_token: self.get(Key::SessionToken).map(str::to_string),
        })
    }
}

/// A template's stand-in (`your_bucket_name`) is no value: unset, and said where.
fn drop_placeholders(values: &mut BTreeMap<String, EnvValue>, lint: &mut Vec<LintIssue>) {
    values.retain(|name, found| {
        let placeholder = Key::from_name(name).is_some() && crate::keys::is_placeholder(&found.value);
        if placeholder {
            lint.push(LintIssue {
                line: found.line,
                key: None,
                severity: Severity::Warning,
                message: format!("{name}={} is a placeholder: treated as unset (`t3s3 init` fills it in)", found.value),
            });
        }
        !placeholder
    });
}

/// AWS_ENDPOINT_URL, else the backend's own S3_ENDPOINT_URL: an emulator's address in the
/// latter alone must never leave t3s3 testing real AWS. Two different values are a warning.
fn either_endpoint(ours: Setting, theirs: Setting, lint: &mut Vec<LintIssue>) -> Setting {
    match (&ours.value, &theirs.value) {
        (None, Some(_)) => return theirs,
        (Some(a), Some(b)) if a != b => lint.push(LintIssue {
            line: match theirs.source {
                Source::File { line, .. } => line,
                _ => 0,
            },
            key: None,
            severity: Severity::Warning,
            message: format!(
                "AWS_ENDPOINT_URL ({a}, {}) and S3_ENDPOINT_URL ({b}, {}) differ: t3s3 and boto3 use the first, the T3 Chat backend's config the second; make them the same",
                ours.source, theirs.source
            ),
        }),
        _ => {}
    }
    ours
}

/// Parses a region where it enters; a name that is not one is refused, saying which region
/// was meant when it can tell.
pub fn check_region(region: &str, how: &str) -> Result<RegionName, Failure> {
    if let Some(name) = RegionName::new(region) {
        return Ok(name);
    }
    let hint = match crate::suggest::region(region) {
        Some(code) => format!("did you mean `{code}`? Pass {how} {code}"),
        None => "use a region code such as ap-south-1, us-east-1, us-west-2 or eu-west-1".to_string(),
    };
    Err(Failure::bad_input(format!("`{region}` ({how}) is not an AWS region name")).hint(hint))
}

#[cfg(test)]
mod tests {
    use super::is_region_name;

    #[test]
    fn region_names() {
        for ok in ["ap-south-1", "us-east-1", "us-west-2", "eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"]
        {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in ["", "us-east", "US-EAST-1", "mumbai", "us_east_1", "us-east-1a", "eu--1", "ap-south-1 "] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
