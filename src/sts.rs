//! Who a set of credentials is (STS GetCallerIdentity).

use crate::aws::ActingClients;
use crate::aws_error::{AwsError, During, ErrorKind};

/// Who the credentials are.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

impl Caller {
    /// The IAM user name of a `...:user/path/name` ARN.
    pub fn user_name(&self) -> Option<String> {
        self.arn.split(":user/").nth(1).map(|path| path.rsplit('/').next().unwrap_or(path).to_string())
    }
}

/// Who is acting. Without a region nothing is sent: the error says to pass one.
pub async fn acting_caller(clients: &ActingClients) -> Result<Caller, AwsError> {
    if clients.region().is_none() {
        return Err(AwsError::new("sts:GetCallerIdentity", "the acting credentials", ErrorKind::NoRegion));
    }
    identity(&clients.sts, "the acting credentials").await
}

/// Who the holder of `sts`'s credentials is.
pub async fn identity(sts: &aws_sdk_sts::Client, whose: &str) -> Result<Caller, AwsError> {
    let out = sts.get_caller_identity().send().await.during("sts:GetCallerIdentity", whose)?;
    Ok(Caller {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
    })
}
