//! t3s3: set up, verify and audit the S3 bucket, IAM policy and `.env` of a T3 Chat backend.

pub mod aws;
pub mod bucket;
pub mod bucket_name;
pub mod cli;
pub mod commands;
pub mod diagnose;
pub mod envfile;
pub mod exit;
pub mod git;
pub mod iam;
pub mod policy;
pub mod prompt;
pub mod report;
pub mod run;
pub mod settings;
