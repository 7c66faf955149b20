//! The only place that builds AWS SDK configuration and clients.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Where the acting credentials come from and where requests go, as the user asked.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `--profile` (the SDK also reads AWS_PROFILE).
    pub profile: Option<String>,
    /// `--region` (the SDK also reads AWS_REGION and the profile).
    pub region: Option<String>,
    /// `--endpoint-url` (the SDK also reads AWS_ENDPOINT_URL).
    pub endpoint_url: Option<String>,
}

/// Every request the acting clients sent (retries included), as `service:Operation`.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<String>>>);

impl RequestLog {
    pub fn operations(&self) -> Vec<String> {
        self.0.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// Requests that change something: Create*, Put*, Delete*, Attach*, ...
    pub fn mutating(&self) -> Vec<String> {
        const READ_ONLY: [&str; 4] = ["Get", "List", "Head", "Simulate"];
        self.operations()
            .into_iter()
            .filter(|op| {
                let name = op.split_once(':').map_or(op.as_str(), |(_, name)| name);
                !READ_ONLY.iter().any(|prefix| name.starts_with(prefix))
            })
            .collect()
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "t3s3::RequestLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = config
            .load::<Metadata>()
            .map_or_else(|| "unknown".to_string(), |m| format!("{}:{}", m.service(), m.name()));
        if let Ok(mut log) = self.0.lock() {
            log.push(name);
        }
        Ok(())
    }
}

/// Clients that act with the standard credential chain (profile, environment, SSO).
#[derive(Debug, Clone)]
pub struct ActingClients {
    pub config: SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub log: RequestLog,
}

impl ActingClients {
    /// The region in effect, from `--region`, AWS_REGION or the profile.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(ToString::to_string)
    }

    /// The endpoint override in effect, from `--endpoint-url` or AWS_ENDPOINT_URL.
    pub fn endpoint_url(&self) -> Option<String> {
        self.config.endpoint_url().map(ToString::to_string)
    }

    /// An S3 client for another region (bucket calls must go to the bucket's region).
    pub fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let config = self.config.to_builder().region(Region::new(region.to_string())).build();
        s3_client(&config, Some(&self.log))
    }
}

/// The backend's own settings: the static key from its `.env`, its region and endpoint.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    pub endpoint_url: Option<String>,
}

fn timeouts(operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3).min(operation))
        .read_timeout(operation)
        .operation_attempt_timeout(operation)
        .operation_timeout(operation.saturating_mul(2))
        .build()
}

/// Loads the standard chain, honouring `--profile`, `--region` and `--endpoint-url`.
pub async fn acting_clients(target: &Target) -> ActingClients {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts(Duration::from_secs(30)))
        .retry_config(RetryConfig::standard());
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &target.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &target.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    ActingClients::from_config(loader.load().await, RequestLog::default())
}

impl ActingClients {
    fn from_config(config: SdkConfig, log: RequestLog) -> Self {
        ActingClients {
            s3: s3_client(&config, Some(&log)),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&config).interceptor(log.clone()).build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&config).interceptor(log.clone()).build(),
            ),
            config,
            log,
        }
    }

    /// The same credentials and request log with `region` in effect (the chain's config is
    /// not loaded again).
    pub fn in_region(&self, region: &str) -> ActingClients {
        let config = self.config.to_builder().region(Region::new(region.to_string())).build();
        ActingClients::from_config(config, self.log.clone())
    }
}

/// Configuration for the backend's static key only: no profile, no machine credentials.
pub fn app_config(app: &AppCredentials, timeout: Duration) -> SdkConfig {
    let credentials = Credentials::new(&app.access_key_id, &app.secret_access_key, None, None, "t3s3-env-file");
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(app.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .timeout_config(timeouts(timeout))
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().expect("tokio sleep"))
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    if let Some(endpoint) = &app.endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    builder.build()
}

/// An S3 client for the backend's static key.
pub fn app_s3_client(app: &AppCredentials, timeout: Duration) -> aws_sdk_s3::Client {
    s3_client(&app_config(app, timeout), None)
}

/// An STS client for the backend's static key.
pub fn app_sts_client(app: &AppCredentials, timeout: Duration) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&app_config(app, timeout))
}

/// With an endpoint override, S3 uses path-style addressing: the SDK would otherwise put
/// the bucket in the host name, which no emulator on `127.0.0.1` or `localhost` answers.
fn s3_client(config: &SdkConfig, log: Option<&RequestLog>) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some());
    if let Some(log) = log {
        builder = builder.interceptor(log.clone());
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}
