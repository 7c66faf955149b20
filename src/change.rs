//! What a run changed, typed: the kind of resource, what was done to it, and the sentence
//! that says so. init, ci-role, runtime-role, rotate-key and destroy record their changes as
//! these; a failure part way lists them (exit 4), and reports sort their rows by [`Kind`].

use std::fmt;

use serde::Serialize;

/// Every kind of resource t3s3 makes, changes or deletes. The order written here is the
/// order rows and changes are reported in, whatever order the work finished in; the JSON
/// name is the snake_case of the variant (`public_access_block`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bucket,
    ObjectOwnership,
    PublicAccessBlock,
    Encryption,
    Versioning,
    TlsOnly,
    Lifecycle,
    User,
    OidcProvider,
    Policy,
    Role,
    CiRole,
    RuntimeRole,
    TrustPolicy,
    SessionLimit,
    InstanceProfile,
    Group,
    Attachment,
    Membership,
    DirectAttachment,
    AccessKey,
    EnvFile,
    Gitignore,
    Budget,
}

impl Kind {
    /// Its JSON name: `public_access_block`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bucket => "bucket",
            Kind::ObjectOwnership => "object_ownership",
            Kind::PublicAccessBlock => "public_access_block",
            Kind::Encryption => "encryption",
            Kind::Versioning => "versioning",
            Kind::TlsOnly => "tls_only",
            Kind::Lifecycle => "lifecycle",
            Kind::User => "user",
            Kind::OidcProvider => "oidc_provider",
            Kind::Policy => "policy",
            Kind::Role => "role",
            Kind::CiRole => "ci_role",
            Kind::RuntimeRole => "runtime_role",
            Kind::TrustPolicy => "trust_policy",
            Kind::SessionLimit => "session_limit",
            Kind::InstanceProfile => "instance_profile",
            Kind::Group => "group",
            Kind::Attachment => "attachment",
            Kind::Membership => "membership",
            Kind::DirectAttachment => "direct_attachment",
            Kind::AccessKey => "access_key",
            Kind::EnvFile => "env_file",
            Kind::Gitignore => "gitignore",
            Kind::Budget => "budget",
        }
    }

    /// As a summary row labels it: `public access block`.
    pub fn label(self) -> String {
        self.name().replace('_', " ")
    }
}

/// What was done to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

/// One change made: its kind, what was done, and the sentence a report or an error shows
/// (`bucket `t3-chat-documents` created in ap-south-1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    pub action: Action,
    pub what: String,
}

impl Change {
    pub fn created(kind: Kind, what: impl Into<String>) -> Change {
        Change { kind, action: Action::Created, what: what.into() }
    }

    pub fn updated(kind: Kind, what: impl Into<String>) -> Change {
        Change { kind, action: Action::Updated, what: what.into() }
    }

    pub fn deleted(kind: Kind, what: impl Into<String>) -> Change {
        Change { kind, action: Action::Deleted, what: what.into() }
    }

    /// A new access key: AWS may take seconds to accept it.
    pub fn is_new_key(&self) -> bool {
        self.kind == Kind::AccessKey && self.action == Action::Created
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_json_names_and_the_order_is_the_reports() {
        assert_eq!(serde_json::to_value(Kind::PublicAccessBlock).unwrap(), Kind::PublicAccessBlock.name());
        assert_eq!(Kind::DirectAttachment.label(), "direct attachment");
        assert!(Kind::Bucket < Kind::User && Kind::Policy < Kind::Group && Kind::AccessKey < Kind::EnvFile);
        assert!(
            Kind::OidcProvider < Kind::Policy
                && Kind::Role < Kind::TrustPolicy
                && Kind::SessionLimit < Kind::Attachment
        );
    }

    #[test]
    fn only_a_created_key_is_new() {
        assert!(Change::created(Kind::AccessKey, "access key AKIA… created").is_new_key());
        assert!(!Change::deleted(Kind::AccessKey, "access key AKIA… (never written) deleted").is_new_key());
        assert!(!Change::created(Kind::User, "IAM user created").is_new_key());
    }
}
