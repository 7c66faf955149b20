//! The backend's bucket: who owns it, where it is, its security settings and its objects.
//! With sts.rs and iam.rs, the only modules that call the AWS SDK.

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint, BucketNamespace,
    BucketVersioningStatus, CreateBucketConfiguration, Delete, EncodingType, ExpirationStatus, LifecycleRule,
    LifecycleRuleFilter, ObjectIdentifier, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};

use crate::aws_error::{AwsError, During, ErrorCode, ErrorKind, xml_element};

type Result<T> = std::result::Result<T, AwsError>;

fn named(bucket: &str) -> String {
    format!("bucket `{bucket}`")
}

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

/// The ID of t3s3's lifecycle rule.
pub const ABORT_RULE_ID: &str = "t3s3-abort-incomplete-multipart-uploads";
/// Incomplete multipart uploads are aborted after this many days. boto3's upload_fileobj
/// goes multipart above 8 MB, and abandoned parts are billed without showing as objects.
pub const ABORT_AFTER_DAYS: i32 = 7;

/// The settings t3s3 converges, as read back from S3.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `BucketOwnerEnforced` means ACLs are disabled.
    pub ownership: Option<String>,
    /// The four Block Public Access flags, in the console's order.
    pub public_access_block: Option<[bool; 4]>,
    /// `AES256` (SSE-S3), `aws:kms`, ...
    pub encryption: Option<String>,
    /// `Enabled`, `Suspended`, or none (never enabled).
    pub versioning: Option<String>,
    /// The bucket policy's document, if it has one.
    pub policy: Option<String>,
    /// Every lifecycle rule, as S3 returned it (written back unchanged beside t3s3's).
    pub lifecycle: Vec<LifecycleRule>,
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

    /// t3s3's lifecycle rule is there, enabled, as written.
    pub fn has_abort_rule(&self) -> bool {
        self.lifecycle.iter().any(|rule| *rule == abort_rule())
    }

    /// The days after which an enabled rule for the whole bucket aborts incomplete uploads.
    pub fn aborts_incomplete_uploads_after(&self) -> Option<i32> {
        self.lifecycle
            .iter()
            .filter(|rule| rule.status == ExpirationStatus::Enabled && whole_bucket(rule))
            .filter_map(|rule| rule.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()))
            .min()
    }

    /// The lifecycle rules with t3s3's in them: every other rule kept as it is, an older
    /// rule with t3s3's ID replaced.
    pub fn lifecycle_with_abort_rule(&self) -> Vec<LifecycleRule> {
        let mut rules: Vec<LifecycleRule> =
            self.lifecycle.iter().filter(|rule| rule.id() != Some(ABORT_RULE_ID)).cloned().collect();
        rules.push(abort_rule());
        rules
    }
}

/// t3s3's lifecycle rule: every object, incomplete multipart uploads aborted after 7 days.
pub fn abort_rule() -> LifecycleRule {
    LifecycleRule::builder()
        .id(ABORT_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder().days_after_initiation(ABORT_AFTER_DAYS).build(),
        )
        .build()
        .expect("the rule has its status")
}

/// A rule that applies to every object: no filter, or an empty prefix and nothing else.
fn whole_bucket(rule: &LifecycleRule) -> bool {
    #[allow(deprecated)]
    let legacy_prefix = rule.prefix().unwrap_or_default().is_empty();
    match rule.filter() {
        None => legacy_prefix,
        Some(filter) => {
            filter.prefix().unwrap_or_default().is_empty()
                && filter.tag().is_none()
                && filter.and().is_none()
                && filter.object_size_greater_than().is_none()
                && filter.object_size_less_than().is_none()
        }
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

/// The bucket's region, as GetBucketLocation tells.
pub async fn region_of(s3: &Client, bucket: &str) -> Result<String> {
    let location =
        s3.get_bucket_location().bucket(bucket).send().await.during("s3:GetBucketLocation", named(bucket))?;
    Ok(location_region(location.location_constraint().map(|c| c.as_str())))
}

/// Whether the account's bucket list holds `bucket` (every page).
async fn listed(s3: &Client, bucket: &str) -> Result<bool> {
    let mut pages = s3.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.during("s3:ListAllMyBuckets", "the account's buckets")?;
        if page.buckets().iter().any(|b| b.name() == Some(bucket)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Finds out whether `bucket` is the account's, missing, or someone else's. ListBuckets
/// shows only the account's own buckets, so it decides ownership; GetBucketLocation, sent at
/// the same time, gives the region of ours and tells a missing name (NoSuchBucket) from
/// another account's (refused).
pub async fn presence(s3: &Client, bucket: &str) -> Result<Presence> {
    let (listed, location) = tokio::join!(listed(s3, bucket), region_of(s3, bucket));
    if listed? {
        return Ok(Presence::Ours { region: location? });
    }
    match location {
        Err(error) if error.is(&ErrorCode::NoSuchBucket) || error.status == Some(404) => Ok(Presence::Missing),
        Err(error) if matches!(error.status, Some(403 | 301 | 400)) => Ok(Presence::OtherOwner),
        // Answered, but not in our list: someone else's bucket that lets us read its location.
        Ok(_) => Ok(Presence::OtherOwner),
        Err(error) => Err(error),
    }
}

/// Creates the bucket with ACLs disabled. A LocationConstraint is sent everywhere but
/// us-east-1, where sending one is an error (and leaving it out elsewhere is one too).
/// Returns `false` when the name turned out to be taken by another account.
pub async fn create(s3: &Client, bucket: &str, region: &str) -> Result<bool> {
    let mut request = s3.create_bucket().bucket(bucket).object_ownership(ObjectOwnership::BucketOwnerEnforced);
    // A name of the account regional namespace is created there (x-amz-bucket-namespace).
    if crate::bucket_name::account_regional_parts(bucket).is_some() {
        request = request.bucket_namespace(BucketNamespace::AccountRegional);
    }
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(true),
        Err(error) => match error.as_service_error() {
            Some(CreateBucketError::BucketAlreadyOwnedByYou(_)) => Ok(true),
            Some(CreateBucketError::BucketAlreadyExists(_)) => Ok(false),
            _ => Err(AwsError::from_sdk(&error, "s3:CreateBucket", format!("bucket `{bucket}` in {region}"))),
        },
    }
}

/// "Not configured" answers read as `None`.
fn unless_not_configured<T>(result: Result<Option<T>>) -> Result<Option<T>> {
    match result {
        Err(error) if matches!(error.code(), Some(ErrorCode::NotConfigured(_))) => Ok(None),
        other => other,
    }
}

/// Reads the four settings, all at once.
pub async fn read_settings(s3: &Client, bucket: &str) -> Result<Settings> {
    read_settings_but_versioning(s3, bucket, None).await
}

/// Reads the settings at once; with `versioning` known (nothing changed it), that one is
/// not asked for.
pub async fn read_settings_but_versioning(
    s3: &Client,
    bucket: &str,
    versioning: Option<Option<String>>,
) -> Result<Settings> {
    let resource = named(bucket);
    let known = versioning.clone();
    let versioning_read = async {
        match known {
            Some(_) => None,
            None => Some(s3.get_bucket_versioning().bucket(bucket).send().await),
        }
    };
    let (ownership, public, encryption, versioning_read, policy, lifecycle) = tokio::join!(
        s3.get_bucket_ownership_controls().bucket(bucket).send(),
        s3.get_public_access_block().bucket(bucket).send(),
        s3.get_bucket_encryption().bucket(bucket).send(),
        versioning_read,
        self::policy(s3, bucket),
        s3.get_bucket_lifecycle_configuration().bucket(bucket).send(),
    );
    let policy = policy?;
    let lifecycle = unless_not_configured(
        lifecycle.during("s3:GetLifecycleConfiguration", &resource).map(|out| Some(out.rules().to_vec())),
    )?
    .unwrap_or_default();
    let ownership = unless_not_configured(ownership.during("s3:GetBucketOwnershipControls", &resource).map(|out| {
        out.ownership_controls().and_then(|c| c.rules().first()).map(|r| r.object_ownership().as_str().to_string())
    }))?;
    let public_access_block =
        unless_not_configured(public.during("s3:GetBucketPublicAccessBlock", &resource).map(|out| {
            out.public_access_block_configuration().map(|c| {
                [
                    c.block_public_acls().unwrap_or(false),
                    c.ignore_public_acls().unwrap_or(false),
                    c.block_public_policy().unwrap_or(false),
                    c.restrict_public_buckets().unwrap_or(false),
                ]
            })
        }))?;
    let encryption = unless_not_configured(encryption.during("s3:GetEncryptionConfiguration", &resource).map(|out| {
        out.server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_string())
    }))?;
    let versioning = match versioning_read {
        None => versioning.flatten(),
        Some(read) => versioning_status(read, &resource)?,
    };
    Ok(Settings { ownership, public_access_block, encryption, versioning, policy, lifecycle })
}

type VersioningRead = std::result::Result<
    aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningOutput,
    aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningError>,
>;

/// GetBucketVersioning's `Status` (`None`: versioning was never turned on).
fn versioning_status(read: VersioningRead, resource: &str) -> Result<Option<String>> {
    match read {
        Ok(out) => Ok(out.status().map(|s| s.as_str().to_string())),
        // A 200 answer the SDK could not parse (moto names the root element differently
        // when versioning was never enabled): read the status from the body itself.
        Err(error) if error.raw_response().is_some_and(|raw| raw.status().as_u16() == 200) => {
            let body = error.raw_response().and_then(|raw| raw.body().bytes()).unwrap_or_default();
            Ok(xml_element(&String::from_utf8_lossy(body), "Status"))
        }
        Err(error) => Err(AwsError::from_sdk(&error, "s3:GetBucketVersioning", resource)),
    }
}

pub async fn disable_acls(s3: &Client, bucket: &str) -> Result<()> {
    let rule = OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerEnforced).build();
    let controls =
        rule.and_then(|rule| OwnershipControls::builder().rules(rule).build()).map_err(|e| built(e, bucket))?;
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(controls)
        .send()
        .await
        .during("s3:PutBucketOwnershipControls", named(bucket))?;
    Ok(())
}

pub async fn block_public_access(s3: &Client, bucket: &str) -> Result<()> {
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
        .during("s3:PutBucketPublicAccessBlock", named(bucket))?;
    Ok(())
}

pub async fn encrypt_sse_s3(s3: &Client, bucket: &str) -> Result<()> {
    let by_default = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build();
    let configuration = by_default
        .and_then(|d| {
            let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(d).build();
            ServerSideEncryptionConfiguration::builder().rules(rule).build()
        })
        .map_err(|e| built(e, bucket))?;
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(configuration)
        .send()
        .await
        .during("s3:PutEncryptionConfiguration", named(bucket))?;
    Ok(())
}

pub async fn enable_versioning(s3: &Client, bucket: &str) -> Result<()> {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .during("s3:PutBucketVersioning", named(bucket))?;
    Ok(())
}

/// Replaces the bucket policy with `document`.
pub async fn put_policy(s3: &Client, bucket: &str, document: &str) -> Result<()> {
    s3.put_bucket_policy().bucket(bucket).policy(document).send().await.during("s3:PutBucketPolicy", named(bucket))?;
    Ok(())
}

/// Replaces the bucket's lifecycle rules with `rules`.
pub async fn put_lifecycle(s3: &Client, bucket: &str, rules: Vec<LifecycleRule>) -> Result<()> {
    let configuration =
        BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build().map_err(|e| built(e, bucket))?;
    s3.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(configuration)
        .send()
        .await
        .during("s3:PutLifecycleConfiguration", named(bucket))?;
    Ok(())
}

/// The bucket policy's document, if it has one.
pub async fn policy(s3: &Client, bucket: &str) -> Result<Option<String>> {
    match s3.get_bucket_policy().bucket(bucket).send().await.during("s3:GetBucketPolicy", named(bucket)) {
        Ok(out) => Ok(Some(out.policy().unwrap_or_default().to_string())),
        Err(error) if error.is(&ErrorCode::NoSuchBucketPolicy) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The bucket that receives the bucket's access logs, if logging is on.
pub async fn logging_target(s3: &Client, bucket: &str) -> Result<Option<String>> {
    let out = s3.get_bucket_logging().bucket(bucket).send().await.during("s3:GetBucketLogging", named(bucket))?;
    Ok(out.logging_enabled().map(|logging| logging.target_bucket().to_string()))
}

/// How many bytes and objects the bucket holds (current versions).
pub async fn stored_bytes(s3: &Client, bucket: &str) -> Result<(u64, u64)> {
    let (mut bytes, mut objects) = (0u64, 0u64);
    let mut pages = s3.list_objects_v2().bucket(bucket).encoding_type(EncodingType::Url).into_paginator().send();
    while let Some(page) = pages.next().await {
        for object in page.during("s3:ListBucket", named(bucket))?.contents() {
            bytes += object.size().unwrap_or(0).max(0) as u64;
            objects += 1;
        }
    }
    Ok((bytes, objects))
}

/// One object as ListObjectsV2 describes it (never its contents).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    /// RFC 3339, as S3 gives it.
    pub last_modified: Option<String>,
    pub storage_class: Option<String>,
}

/// S3's `EncodingType=url`: every key comes back percent-encoded (`+` for a space), so a key
/// holding characters XML 1.0 cannot carry (ESC, BEL, other controls) lists at all; asked
/// for by every listing, as boto3 does, and decoded here.
fn url_decoded(listing: &'static str, bucket: &str, encoded: &str) -> Result<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(index + 1..index + 3).unwrap_or_default()).unwrap_or_default();
                let Ok(byte) = u8::from_str_radix(hex, 16) else {
                    return Err(unreadable_listing(
                        listing,
                        bucket,
                        &format!("a key with a broken escape: {encoded:?}"),
                    ));
                };
                out.push(byte);
                index += 2;
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8(out)
        .map_err(|_| unreadable_listing(listing, bucket, &format!("a key that is not UTF-8 once decoded: {encoded:?}")))
}

fn unreadable_listing(listing: &'static str, bucket: &str, what: &str) -> AwsError {
    AwsError::new(listing, named(bucket), ErrorKind::Unreadable(format!("the listing holds {what}")))
}

/// Every object under `prefix`, page by page (1,000 keys a page).
pub async fn list_objects(s3: &Client, bucket: &str, prefix: Option<&str>) -> Result<Vec<Listed>> {
    let mut found = Vec::new();
    let request =
        s3.list_objects_v2().bucket(bucket).set_prefix(prefix.map(str::to_string)).encoding_type(EncodingType::Url);
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        for object in page.during("s3:ListBucket", named(bucket))?.contents() {
            found.push(Listed {
                key: url_decoded("s3:ListBucket", bucket, object.key().unwrap_or_default())?,
                size: object.size().unwrap_or(0).max(0) as u64,
                last_modified: object
                    .last_modified()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
                storage_class: object.storage_class().map(|c| c.as_str().to_string()),
            });
        }
    }
    Ok(found)
}

/// Every object version and delete marker in the bucket, as (key, version ID). A bucket
/// whose versioning was never turned on holds only current objects, which ListObjectsV2
/// lists (asked at the same time as GetBucketVersioning: no extra round trip).
pub async fn all_versions(s3: &Client, bucket: &str) -> Result<Vec<(String, Option<String>)>> {
    let (versioning, current) =
        tokio::join!(s3.get_bucket_versioning().bucket(bucket).send(), list_objects(s3, bucket, None));
    if versioning_status(versioning, &named(bucket))?.is_none() {
        return Ok(current?.into_iter().map(|object| (object.key, None)).collect());
    }
    every_version(s3, bucket).await
}

/// Every version and delete marker, from ListObjectVersions with URL-encoded keys. It has no
/// SDK paginator (its model names two markers), so the markers are followed here.
pub async fn every_version(s3: &Client, bucket: &str) -> Result<Vec<(String, Option<String>)>> {
    let mut found = Vec::new();
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .encoding_type(EncodingType::Url)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
            .during("s3:ListBucketVersions", named(bucket))?;
        let decoded = |key: Option<&str>| url_decoded("s3:ListBucketVersions", bucket, key.unwrap_or_default());
        for version in page.versions() {
            found.push((decoded(version.key())?, version.version_id().map(str::to_string)));
        }
        for marker in page.delete_markers() {
            found.push((decoded(marker.key())?, marker.version_id().map(str::to_string)));
        }
        if !page.is_truncated().unwrap_or(false) {
            return Ok(found);
        }
        key_marker = page.next_key_marker().map(|marker| decoded(Some(marker))).transpose()?;
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
}

/// Deletes the given object versions, 1000 per request; an unversioned object's "null"
/// version is deleted by key.
pub async fn delete_versions(s3: &Client, bucket: &str, versions: &[(String, Option<String>)]) -> Result<()> {
    let resource = format!("objects in `{bucket}`");
    // DeleteObjects names keys in an XML body, which cannot carry most control characters;
    // those go one request each, with the key in the URL.
    let (in_xml, in_url): (Vec<_>, Vec<_>) = versions.iter().cloned().partition(|(key, _)| xml_can_carry(key));
    for (key, version) in &in_url {
        s3.delete_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version.clone().filter(|v| v != "null"))
            .send()
            .await
            .during("s3:DeleteObjectVersion", format!("`{key}` in `{bucket}`"))?;
    }
    for chunk in in_xml.chunks(1000) {
        let objects = chunk
            .iter()
            .map(|(key, version)| {
                ObjectIdentifier::builder().key(key).set_version_id(version.clone().filter(|v| v != "null")).build()
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .and_then(|objects| Delete::builder().set_objects(Some(objects)).quiet(true).build())
            .map_err(|e| built(e, bucket))?;
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(objects)
            .send()
            .await
            .during("s3:DeleteObjectVersion", &resource)?;
        if let Some(error) = out.errors().first() {
            let code = ErrorCode::parse(error.code().unwrap_or("UnknownError"));
            return Err(AwsError {
                message: error.message().map(str::to_string),
                ..AwsError::new(
                    "s3:DeleteObjectVersion",
                    format!("`{}` in `{bucket}`", error.key().unwrap_or_default()),
                    ErrorKind::Service(code),
                )
            });
        }
    }
    Ok(())
}

/// Whether XML 1.0 can hold `key` (as text or a character reference): not C0 controls
/// other than tab, line feed and carriage return, nor U+FFFE and U+FFFF.
fn xml_can_carry(key: &str) -> bool {
    !key.chars().any(|c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

pub async fn delete_bucket(s3: &Client, bucket: &str) -> Result<()> {
    s3.delete_bucket().bucket(bucket).send().await.during("s3:DeleteBucket", named(bucket))?;
    Ok(())
}

/// Writes an object (the self-test's).
pub async fn put_object(s3: &Client, bucket: &str, key: &str, body: &'static [u8]) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("text/plain")
        .body(ByteStream::from_static(body))
        .send()
        .await
        .during("s3:PutObject", format!("`{key}` in `{bucket}`"))?;
    Ok(())
}

/// Reads an object's bytes.
pub async fn get_object(s3: &Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let resource = format!("`{key}` in `{bucket}`");
    let out = s3.get_object().bucket(bucket).key(key).send().await.during("s3:GetObject", &resource)?;
    match out.body.collect().await {
        Ok(aggregated) => Ok(aggregated.into_bytes().to_vec()),
        Err(error) => Err(AwsError::new(
            "s3:GetObject",
            resource,
            ErrorKind::Unreachable(format!("the download stopped part way: {error}")),
        )),
    }
}

/// A presigned GET URL for an object, and the headers to send with it.
pub async fn presign_get(
    s3: &Client,
    bucket: &str,
    key: &str,
    expires: std::time::Duration,
) -> Result<(String, Vec<(String, String)>)> {
    let resource = format!("`{key}` in `{bucket}`");
    let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires)
        .map_err(|e| AwsError::new("s3:GetObject", &resource, ErrorKind::Other(e.to_string())))?;
    let presigned =
        s3.get_object().bucket(bucket).key(key).presigned(config).await.during("s3:GetObject", &resource)?;
    let headers = presigned.headers().map(|(name, value)| (name.to_string(), value.to_string())).collect();
    Ok((presigned.uri().to_string(), headers))
}

pub async fn delete_object(s3: &Client, bucket: &str, key: &str) -> Result<()> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .during("s3:DeleteObject", format!("`{key}` in `{bucket}`"))?;
    Ok(())
}

/// Whether an object exists (HeadObject; a 404 is `false`).
pub async fn object_exists(s3: &Client, bucket: &str, key: &str) -> Result<bool> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
        Err(error) => Err(AwsError::from_sdk(&error, "s3:ListBucket", format!("`{key}` in `{bucket}`"))),
    }
}

/// HeadBucket: reachable, and the region the answer names.
pub async fn head(s3: &Client, bucket: &str) -> Result<Option<String>> {
    let out = s3.head_bucket().bucket(bucket).send().await.during("s3:ListBucket", named(bucket))?;
    Ok(out.bucket_region().map(str::to_string))
}

fn built(error: aws_sdk_s3::error::BuildError, bucket: &str) -> AwsError {
    AwsError::new("build request", named(bucket), ErrorKind::Other(error.to_string()))
}

/// What a presigned URL answered.
pub struct PresignedAnswer {
    pub status: u16,
    pub bucket_region: Option<String>,
    pub body: Vec<u8>,
}

/// Fetches a presigned URL with a plain HTTP GET, as a browser would: outside the SDK, so
/// nothing signs it again. Here beside the S3 calls, as the one other request t3s3 sends to S3.
pub async fn fetch_presigned(
    url: &str,
    headers: &[(String, String)],
    timeout: std::time::Duration,
) -> std::result::Result<PresignedAnswer, ErrorKind> {
    use aws_smithy_runtime_api::client::http::HttpConnector;
    // The run's connection pool: a connection the SDK's requests left idle serves this one.
    let connector = crate::aws::run_connector(&crate::aws::connector_settings(timeout));
    let mut request = aws_smithy_runtime_api::http::Request::new(aws_smithy_types::body::SdkBody::empty());
    *request.uri_mut() = url.try_into().map_err(|error: aws_smithy_runtime_api::http::HttpError| {
        ErrorKind::Other(format!("the presigned URL cannot be sent: {error}"))
    })?;
    for (name, value) in headers {
        request.headers_mut().try_insert(name.clone(), value.clone()).map_err(|error| {
            ErrorKind::Other(format!("the presigned URL's header `{name}` cannot be sent: {error}"))
        })?;
    }
    let answer = async {
        let response = connector.call(request).await.map_err(|error| {
            if error.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Unreachable(format!("{error:?}")) }
        })?;
        let status = response.status().as_u16();
        let bucket_region = response.headers().get("x-amz-bucket-region").map(str::to_string);
        let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body()).collect().await;
        let body = body.map(|b| b.into_bytes().to_vec()).unwrap_or_default();
        Ok(PresignedAnswer { status, bucket_region, body })
    };
    tokio::time::timeout(timeout, answer).await.unwrap_or(Err(ErrorKind::Timeout))
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
            policy: None,
            lifecycle: Vec::new(),
        };
        assert!(good.acls_disabled() && good.all_public_access_blocked() && good.encrypted());
        assert!(!good.versioning_enabled());
        let loose = Settings { public_access_block: Some([true, true, false, true]), ..good.clone() };
        // Lifecycle: t3s3's rule is added beside another rule, which is kept; a rule for a
        // prefix does not count as aborting uploads for the whole bucket.
        let theirs = LifecycleRule::builder()
            .id("archive-logs")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder().days_after_initiation(1).build(),
            )
            .build()
            .unwrap();
        let with_theirs = Settings { lifecycle: vec![theirs.clone()], ..good.clone() };
        assert!(!with_theirs.has_abort_rule());
        assert_eq!(with_theirs.aborts_incomplete_uploads_after(), None);
        let merged = Settings { lifecycle: with_theirs.lifecycle_with_abort_rule(), ..good.clone() };
        assert_eq!(merged.lifecycle, vec![theirs, abort_rule()]);
        assert!(merged.has_abort_rule());
        assert_eq!(merged.aborts_incomplete_uploads_after(), Some(ABORT_AFTER_DAYS));
        assert_eq!(merged.lifecycle_with_abort_rule(), merged.lifecycle, "merging twice adds nothing");
        assert!(!loose.all_public_access_blocked());
        assert!(!Settings::default().encrypted());
    }
}
