//! The backend's bucket: who owns it, where it is, and its four security settings.

use anyhow::Result;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};

use crate::diagnose::{acting_error, facts};

/// Where the bucket stands for the acting account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The account owns it; it lives in `region`.
    Ours { region: String },
    /// No bucket of that name exists anywhere.
    Missing,
    /// Another account owns the name (bucket names are global).
    OtherOwner,
}

/// The settings t3s3 converges, as read back from S3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `BucketOwnerEnforced` means ACLs are disabled.
    pub ownership: Option<String>,
    /// The four Block Public Access flags, in the console's order.
    pub public_access_block: Option<[bool; 4]>,
    /// `AES256` (SSE-S3), `aws:kms`, ...
    pub encryption: Option<String>,
    /// `Enabled`, `Suspended`, or none (never enabled).
    pub versioning: Option<String>,
}

impl Settings {
    pub fn acls_disabled(&self) -> bool {
        self.ownership.as_deref() == Some("BucketOwnerEnforced")
    }

    pub fn all_public_access_blocked(&self) -> bool {
        self.public_access_block == Some([true; 4])
    }

    /// SSE-S3 as the guide asks; SSE-KMS is stronger and is left as it is.
    pub fn encrypted(&self) -> bool {
        matches!(self.encryption.as_deref(), Some("AES256" | "aws:kms" | "aws:kms:dsse"))
    }

    pub fn versioning_enabled(&self) -> bool {
        self.versioning.as_deref() == Some("Enabled")
    }
}

/// The region GetBucketLocation names: an empty constraint is us-east-1, `EU` is eu-west-1.
pub fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".into(),
        Some("EU") => "eu-west-1".into(),
        Some(region) => region.into(),
    }
}

/// Finds out whether `bucket` is the account's, missing, or someone else's.
/// ListBuckets shows only the account's own buckets, so it decides ownership.
pub async fn presence(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Presence> {
    let mut token = None;
    loop {
        let page = s3
            .list_buckets()
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| acting_error(e, "s3:ListAllMyBuckets", "the account's buckets"))?;
        if page.buckets().iter().any(|b| b.name() == Some(bucket)) {
            let location = s3
                .get_bucket_location()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| acting_error(e, "s3:GetBucketLocation", &format!("bucket `{bucket}`")))?;
            let region = location_region(location.location_constraint().map(|c| c.as_str()));
            return Ok(Presence::Ours { region });
        }
        token = page.continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(Presence::OtherOwner),
        Err(error) => {
            let facts = facts(&error);
            match facts.status {
                Some(404) => Ok(Presence::Missing),
                Some(403 | 301 | 400) => Ok(Presence::OtherOwner),
                _ => Err(acting_error(error, "s3:ListBucket", &format!("bucket `{bucket}`"))),
            }
        }
    }
}

/// Creates the bucket with ACLs disabled. A LocationConstraint is sent everywhere but
/// us-east-1, where sending one is an error (and leaving it out elsewhere is one too).
/// Returns `false` when the name turned out to be taken by another account.
pub async fn create(s3: &aws_sdk_s3::Client, bucket: &str, region: &str) -> Result<bool> {
    let mut request = s3.create_bucket().bucket(bucket).object_ownership(ObjectOwnership::BucketOwnerEnforced);
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(true),
        Err(error) => match facts(&error).code.as_deref() {
            Some("BucketAlreadyOwnedByYou") => Ok(true),
            Some("BucketAlreadyExists") => Ok(false),
            _ => Err(acting_error(error, "s3:CreateBucket", &format!("bucket `{bucket}` in {region}"))),
        },
    }
}

/// Reads the four settings; "not configured" answers read as `None`.
pub async fn read_settings(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Settings> {
    let resource = format!("bucket `{bucket}`");
    let not_configured = |code: Option<&str>| {
        matches!(
            code,
            Some(
                "OwnershipControlsNotFoundError"
                    | "NoSuchPublicAccessBlockConfiguration"
                    | "ServerSideEncryptionConfigurationNotFoundError"
            )
        )
    };
    let ownership = match s3.get_bucket_ownership_controls().bucket(bucket).send().await {
        Ok(out) => {
            out.ownership_controls().and_then(|c| c.rules().first()).map(|r| r.object_ownership().as_str().to_string())
        }
        Err(e) if not_configured(facts(&e).code.as_deref()) => None,
        Err(e) => return Err(acting_error(e, "s3:GetBucketOwnershipControls", &resource)),
    };
    let public_access_block = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => out.public_access_block_configuration().map(|c| {
            [
                c.block_public_acls().unwrap_or(false),
                c.ignore_public_acls().unwrap_or(false),
                c.block_public_policy().unwrap_or(false),
                c.restrict_public_buckets().unwrap_or(false),
            ]
        }),
        Err(e) if not_configured(facts(&e).code.as_deref()) => None,
        Err(e) => return Err(acting_error(e, "s3:GetBucketPublicAccessBlock", &resource)),
    };
    let encryption = match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_string()),
        Err(e) if not_configured(facts(&e).code.as_deref()) => None,
        Err(e) => return Err(acting_error(e, "s3:GetEncryptionConfiguration", &resource)),
    };
    let versioning = match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(out) => out.status().map(|s| s.as_str().to_string()),
        // A 200 answer the SDK could not parse (moto names the root element differently
        // when versioning was never enabled): read the status from the body itself.
        Err(e) if facts(&e).status == Some(200) => crate::diagnose::xml_element(&facts(&e).body, "Status"),
        Err(e) => return Err(acting_error(e, "s3:GetBucketVersioning", &resource)),
    };
    Ok(Settings { ownership, public_access_block, encryption, versioning })
}

pub async fn disable_acls(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let controls = OwnershipControls::builder()
        .rules(OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerEnforced).build()?)
        .build()?;
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(controls)
        .send()
        .await
        .map_err(|e| acting_error(e, "s3:PutBucketOwnershipControls", &format!("bucket `{bucket}`")))?;
    Ok(())
}

pub async fn block_public_access(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let all = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(all)
        .send()
        .await
        .map_err(|e| acting_error(e, "s3:PutBucketPublicAccessBlock", &format!("bucket `{bucket}`")))?;
    Ok(())
}

pub async fn encrypt_sse_s3(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build()?,
        )
        .build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(ServerSideEncryptionConfiguration::builder().rules(rule).build()?)
        .send()
        .await
        .map_err(|e| acting_error(e, "s3:PutEncryptionConfiguration", &format!("bucket `{bucket}`")))?;
    Ok(())
}

pub async fn enable_versioning(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .map_err(|e| acting_error(e, "s3:PutBucketVersioning", &format!("bucket `{bucket}`")))?;
    Ok(())
}

/// Every object version and delete marker in the bucket, as (key, version ID).
pub async fn all_versions(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Vec<(String, Option<String>)>> {
    let mut found = Vec::new();
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
            .map_err(|e| acting_error(e, "s3:ListBucketVersions", &format!("bucket `{bucket}`")))?;
        for version in page.versions() {
            found.push((version.key().unwrap_or_default().to_string(), version.version_id().map(str::to_string)));
        }
        for marker in page.delete_markers() {
            found.push((marker.key().unwrap_or_default().to_string(), marker.version_id().map(str::to_string)));
        }
        if !page.is_truncated().unwrap_or(false) {
            return Ok(found);
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
}

/// Deletes the given object versions, 1000 per request; an unversioned object's "null"
/// version is deleted by key.
pub async fn delete_versions(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    versions: &[(String, Option<String>)],
) -> Result<()> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    for chunk in versions.chunks(1000) {
        let objects = chunk
            .iter()
            .map(|(key, version)| {
                ObjectIdentifier::builder().key(key).set_version_id(version.clone().filter(|v| v != "null")).build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(Delete::builder().set_objects(Some(objects)).quiet(true).build()?)
            .send()
            .await
            .map_err(|e| acting_error(e, "s3:DeleteObjectVersion", &format!("objects in `{bucket}`")))?;
        if let Some(error) = out.errors().first() {
            anyhow::bail!(
                "could not delete {} in `{bucket}`: {}",
                error.key().unwrap_or_default(),
                error.message().or(error.code()).unwrap_or("unknown error")
            );
        }
    }
    Ok(())
}

pub async fn delete_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| acting_error(e, "s3:DeleteBucket", &format!("bucket `{bucket}`")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_location_names_map_to_regions() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(location_region(Some("")), "us-east-1");
        assert_eq!(location_region(Some("EU")), "eu-west-1");
        assert_eq!(location_region(Some("ap-south-1")), "ap-south-1");
    }

    #[test]
    fn settings_predicates() {
        let good = Settings {
            ownership: Some("BucketOwnerEnforced".into()),
            public_access_block: Some([true; 4]),
            encryption: Some("AES256".into()),
            versioning: None,
        };
        assert!(good.acls_disabled() && good.all_public_access_blocked() && good.encrypted());
        assert!(!good.versioning_enabled());
        let loose = Settings { public_access_block: Some([true, true, false, true]), ..good.clone() };
        assert!(!loose.all_public_access_blocked());
        assert!(!Settings::default().encrypted());
    }
}
