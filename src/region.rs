//! A region name, checked once where it enters; plain, no I/O.

/// Whether `region` looks like an AWS region name (`ap-south-1`, `us-gov-west-1`, `cn-north-1`).
pub fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// A region name, parsed once where it enters (a flag, the prompt, the .env, the profile):
/// `ap-south-1`, never `mumbai`. Everything past that point takes it as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionName(String);

impl RegionName {
    /// `typed` as a region name, when it is one.
    pub fn new(typed: &str) -> Option<RegionName> {
        is_region_name(typed).then(|| RegionName(typed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for RegionName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RegionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
