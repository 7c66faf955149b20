//! The only place that builds AWS SDK configuration and clients.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{HttpConnectorSettings, SharedHttpConnector};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::exit::Failure;

/// How long one request may take, retries included, unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Where the acting credentials come from and where requests go, as the user asked.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `--profile` (the SDK also reads AWS_PROFILE).
    pub profile: Option<String>,
    /// `--region` (the SDK also reads AWS_REGION and the profile).
    pub region: Option<crate::region::RegionName>,
    /// `--endpoint-url` (the SDK also reads AWS_ENDPOINT_URL).
    pub endpoint_url: Option<String>,
    /// `--timeout`: the most one request may take, retries included.
    pub timeout: Option<Duration>,
}

/// Checks an endpoint URL before any request is signed for it: `http` or `https`, a host,
/// a port from 1 to 65535, no user name or password.
pub fn validate_endpoint(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.starts_with(scheme).then(|| &url[scheme.len()..]))
        .ok_or_else(|| format!("`{url}` is not an http:// or https:// URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(format!("`{url}` carries a user name or password; give the endpoint alone"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').ok_or_else(|| format!("`{url}` has an unclosed [IPv6] host"))?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || "-._:%".contains(c)) {
        return Err(format!("`{url}` has no valid host name"));
    }
    if let Some(port) = port {
        if !port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p)) {
            return Err(format!("`{url}` has port `{port}`; a port is a number from 1 to 65535"));
        }
    }
    Ok(())
}

/// The files the SDK reads profiles from: the config file, then the credentials file.
fn profile_files() -> [std::path::PathBuf; 2] {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default();
    let from = |var: &str, default: &str| std::env::var_os(var).map_or_else(|| home.join(default), Into::into);
    [from("AWS_CONFIG_FILE", ".aws/config"), from("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")]
}

/// The profiles the two files define.
fn defined_profiles(files: &[std::path::PathBuf]) -> Vec<String> {
    let mut names = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let text = crate::fsio::read_text(file).unwrap_or_default();
        for line in text.lines().map(str::trim) {
            let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else { continue };
            let section = section.trim();
            // The config file names profiles `[profile NAME]` (and `[default]`).
            let name =
                if index == 0 { section.strip_prefix("profile ").map(str::trim).unwrap_or(section) } else { section };
            if !name.starts_with("sso-session ") && !name.starts_with("services ") && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// A profile named with --profile or AWS_PROFILE must exist: the SDK would otherwise report
/// only that it found no credentials.
pub fn check_profile(explicit: Option<&str>) -> Result<(), Failure> {
    let env = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    let (name, how) = match (explicit, env.as_deref()) {
        (Some(name), _) => (name.to_string(), "--profile"),
        (None, Some(name)) => (name.to_string(), "AWS_PROFILE"),
        (None, None) => return Ok(()),
    };
    let files = profile_files();
    let defined = defined_profiles(&files);
    if defined.contains(&name) {
        return Ok(());
    }
    let looked = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" and ");
    let known = if defined.is_empty() {
        "no profiles are defined there".to_string()
    } else {
        format!("defined: {}", defined.join(", "))
    };
    let close = defined.iter().min_by_key(|p| crate::suggest::edit_distance(p, &name));
    let hint = match close.filter(|p| crate::suggest::edit_distance(p, &name) <= 2 || p.eq_ignore_ascii_case(&name)) {
        Some(meant) => format!("did you mean `{meant}`? Pass --profile {meant}"),
        None => format!("run `aws configure --profile {name}` (or `aws configure sso`), or pass a profile that exists"),
    };
    Err(Failure::bad_input(format!("the AWS profile `{name}` ({how}) is not defined in {looked} ({known})")).hint(hint))
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
        const READ_ONLY: [&str; 5] = ["Get", "List", "Head", "Simulate", "Describe"];
        self.operations()
            .into_iter()
            .filter(|op| {
                let name = op.split_once(':').map_or(op.as_str(), |(_, name)| name);
                !READ_ONLY.iter().any(|prefix| name.starts_with(prefix))
            })
            .collect()
    }
}

/// `service:Operation` of the request at hand, the service name spelled by `service`
/// (the log keeps the SDK's `S3`, `--verbose` shows IAM's style, `s3`).
/// The service of the request at hand, in lower case (`s3`, `iam`): what the run's trace
/// keys origins and connect failures by.
fn service_of(config: &ConfigBag) -> String {
    config.load::<Metadata>().map(|m| m.service().to_ascii_lowercase()).unwrap_or_default()
}

fn operation(config: &ConfigBag, service: impl Fn(&str) -> String) -> String {
    config
        .load::<Metadata>()
        .map_or_else(|| "unknown".to_string(), |m| format!("{}:{}", service(m.service()), m.name()))
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
        let name = operation(config, str::to_string);
        if let Ok(mut log) = self.0.lock() {
            log.push(name);
        }
        Ok(())
    }

    /// How the attempt ended, for a timeout's explanation: retries of a refused connection
    /// that outlast --timeout are still a refused connection, not a slow service.
    fn read_after_attempt(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let failure = match context.output_or_error() {
            Some(Err(error)) => error.as_connector_error().filter(|c| c.is_io()).map(|c| {
                let mut text = c.to_string();
                let mut source = std::error::Error::source(c);
                while let Some(cause) = source {
                    text.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                text
            }),
            _ => None,
        };
        let service = service_of(config);
        crate::aws_error::remember_attempt(&service, failure);
        Ok(())
    }
}

/// Records where each request goes, by service, for "cannot reach" messages: on every client.
#[derive(Debug, Clone)]
struct Origins;

impl Intercept for Origins {
    fn name(&self) -> &'static str {
        "t3s3::Origins"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let service = service_of(config);
        crate::aws_error::remember_request(&service, context.request().uri());
        Ok(())
    }
}

/// Tells each request on stderr: action, method and path (no query, no header, no body: never
/// a secret), status and milliseconds. Each attempt of a retried request is its own line.
#[derive(Debug, Clone)]
struct Verbose;

/// When the request at hand went out, and what it was.
#[derive(Debug, Clone)]
struct Sent {
    at: std::time::Instant,
    what: String,
}

impl aws_smithy_types::config_bag::Storable for Sent {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl Intercept for Verbose {
    fn name(&self) -> &'static str {
        "t3s3::Verbose"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let action = operation(config, str::to_ascii_lowercase);
        let request = context.request();
        let path = request.uri().split('?').next().unwrap_or_default().to_string();
        let what = format!("{action} {} {path}", request.method());
        config.interceptor_state().store_put(Sent { at: std::time::Instant::now(), what });
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(sent) = config.load::<Sent>() {
            let line = format!(
                "aws: {} -> {} ({} ms)\n",
                sent.what,
                context.response().status().as_u16(),
                sent.at.elapsed().as_millis()
            );
            crate::ui::to_stderr(&line);
        }
        Ok(())
    }
}

/// The `--verbose` interceptor when this run asked for it.
fn verbose() -> Option<Verbose> {
    crate::aws_error::verbose().then_some(Verbose)
}

/// Where AWS Budgets lives: one endpoint, in us-east-1, for every account.
pub const BUDGETS_REGION: &str = "us-east-1";

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
    /// The acting credentials can be found (the standard chain, or --profile): checked before
    /// anything else is asked of the user, so a missing key is said first, not after a region.
    pub async fn check_credentials(&self) -> Result<(), Failure> {
        use aws_credential_types::provider::ProvideCredentials;
        let none = || {
            Failure::bad_input("no AWS credentials were found for the acting (administrator) credentials").hint(
                "run `aws configure` or `aws sso login`, pass --profile NAME, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            )
        };
        let Some(provider) = self.config.credentials_provider() else { return Err(none()) };
        match tokio::time::timeout(DEFAULT_TIMEOUT, provider.provide_credentials()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_))) => Err(none()),
            Ok(Err(error)) => Err(Failure::bad_input(format!(
                "the acting credentials could not be loaded: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&error)
            ))
            .hint("check the profile (`aws configure list`), or run `aws sso login` if it uses SSO")),
            Err(_) => Err(Failure::bad_input("loading the acting credentials took too long")
                .hint("check the profile's credential_process or SSO settings")),
        }
    }

    /// The region in effect, from `--region`, AWS_REGION or the profile.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(ToString::to_string)
    }

    /// The endpoint override in effect, from `--endpoint-url` or AWS_ENDPOINT_URL.
    pub fn endpoint_url(&self) -> Option<String> {
        self.config.endpoint_url().map(ToString::to_string)
    }

    /// An AWS Budgets client: Budgets answers in us-east-1 whatever the bucket's region.
    pub fn budgets(&self) -> aws_sdk_budgets::Client {
        let config = self.config.to_builder().region(Region::new(BUDGETS_REGION)).build();
        let mut builder =
            aws_sdk_budgets::config::Builder::from(&config).interceptor(self.log.clone()).interceptor(Origins);
        if let Some(verbose) = verbose() {
            builder = builder.interceptor(verbose);
        }
        aws_sdk_budgets::Client::from_conf(builder.build())
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
    /// With temporary (role) credentials: requests carry it as `x-amz-security-token`.
    pub session_token: Option<String>,
}

/// A new HTTPS connector (one connection pool) as the SDK builds its default: rustls with
/// aws-lc, tokio's sleep for the connect timeout, the environment's proxy settings.
fn new_connector(settings: &HttpConnectorSettings) -> SharedHttpConnector {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{ConnectorBuilder, tls};
    let mut connector =
        ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
    connector.set_connector_settings(Some(settings.clone()));
    connector.set_sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep());
    connector.set_proxy_config(Some(ProxyConfig::from_env()));
    SharedHttpConnector::new(connector.build())
}

/// The run's connector for `settings`: one connection pool for every SDK client the run
/// builds (acting, the .env key's, every region and service) and for the presigned GET, so a
/// connection opened for one request serves the next to that host, whichever client sends
/// it. Outside a run (a unit test), a new one.
pub fn run_connector(settings: &HttpConnectorSettings) -> SharedHttpConnector {
    let key = (settings.connect_timeout(), settings.read_timeout());
    crate::aws_error::traced(|trace| {
        let mut known = trace.connectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, connector)) = known.iter().find(|(k, _)| *k == key) {
            return connector.clone();
        }
        let connector = new_connector(settings);
        known.push((key, connector.clone()));
        connector
    })
    .unwrap_or_else(|| new_connector(settings))
}

/// The SDK clients' HTTP client within a run: [`run_connector`]'s pool. Outside a run the SDK
/// keeps its own default (the SDK asks for a connector on every attempt).
fn run_http_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    crate::aws_error::traced(|_| ())?;
    Some(aws_smithy_runtime_api::client::http::http_client_fn(|settings, _components| run_connector(settings)))
}

/// The connector settings of `timeouts(limit)`: what the presigned GET uses.
pub fn connector_settings(limit: Duration) -> HttpConnectorSettings {
    HttpConnectorSettings::builder().connect_timeout(Duration::from_secs(3).min(limit)).read_timeout(limit).build()
}

/// `limit` bounds each request, its retries included (a silent endpoint takes `limit`, not
/// a multiple of it); a connection gets at most 3 s of it.
fn timeouts(limit: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3).min(limit))
        .read_timeout(limit)
        .operation_attempt_timeout(limit)
        .operation_timeout(limit)
        .build()
}

/// Loads the standard chain, honouring `--profile` (checked by [`check_profile`] when the
/// command starts), `--region`, `--endpoint-url` and `--timeout`. An endpoint URL that is
/// not one is bad input before anything is sent.
pub async fn acting_clients(target: &Target) -> Result<ActingClients, Failure> {
    let environment_endpoint = std::env::var("AWS_ENDPOINT_URL").ok().filter(|e| !e.is_empty());
    if let Some(url) = target.endpoint_url.as_ref().or(environment_endpoint.as_ref()) {
        validate_endpoint(url).map_err(|problem| {
            Failure::bad_input(format!("the endpoint URL {problem}"))
                .hint("pass --endpoint-url http://HOST:PORT, or unset AWS_ENDPOINT_URL to use AWS")
        })?;
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts(target.timeout.unwrap_or(DEFAULT_TIMEOUT)))
        .retry_config(RetryConfig::standard());
    if let Some(http) = run_http_client() {
        loader = loader.http_client(http);
    }
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &target.region {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(endpoint) = &target.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    Ok(ActingClients::from_config(loader.load().await, RequestLog::default()))
}

impl ActingClients {
    fn from_config(config: SdkConfig, log: RequestLog) -> Self {
        ActingClients {
            s3: s3_client(&config, Some(&log)),
            iam: aws_sdk_iam::Client::from_conf({
                let mut builder =
                    aws_sdk_iam::config::Builder::from(&config).interceptor(log.clone()).interceptor(Origins);
                if let Some(verbose) = verbose() {
                    builder = builder.interceptor(verbose);
                }
                builder.build()
            }),
            sts: sts_client(&config, Some(&log)),
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

/// The default credential chain, in boto3's order, and the first source that answers: what
/// a backend with no key in its .env runs on (a role on EC2, ECS, Lambda or Fly.io). Returns
/// the credentials as they are now (a snapshot; the self-test is short), with `region` and
/// `endpoint_url`, and the source's name; or why none answered.
pub async fn chain_credentials(
    region: &str,
    endpoint_url: Option<&str>,
    limit: Duration,
) -> Result<(AppCredentials, &'static str), String> {
    use aws_credential_types::provider::ProvideCredentials;
    let region = Region::new(region.to_string());
    let sources: [(&'static str, SharedCredentialsProvider); 5] = [
        (
            "environment (AWS_ACCESS_KEY_ID)",
            SharedCredentialsProvider::new(aws_config::environment::EnvironmentVariableCredentialsProvider::new()),
        ),
        (
            "profile (~/.aws, AWS_PROFILE)",
            SharedCredentialsProvider::new(aws_config::profile::ProfileFileCredentialsProvider::builder().build()),
        ),
        (
            "web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN: Fly.io, EKS)",
            SharedCredentialsProvider::new(
                aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                    .configure(
                        &aws_config::provider_config::ProviderConfig::default().with_region(Some(region.clone())),
                    )
                    .build(),
            ),
        ),
        (
            "container (the ECS task role)",
            SharedCredentialsProvider::new(aws_config::ecs::EcsCredentialsProvider::builder().build()),
        ),
        (
            "instance metadata (the EC2 instance profile)",
            SharedCredentialsProvider::new(aws_config::imds::credentials::ImdsCredentialsProvider::builder().build()),
        ),
    ];
    let mut tried = Vec::new();
    for (name, provider) in sources {
        match tokio::time::timeout(limit, provider.provide_credentials()).await {
            Ok(Ok(found)) => {
                let app = AppCredentials {
                    access_key_id: found.access_key_id().to_string(),
                    secret_access_key: found.secret_access_key().to_string(),
                    region: region.to_string(),
                    endpoint_url: endpoint_url.map(str::to_string),
                    session_token: found.session_token().map(str::to_string),
                };
                crate::mask::know(&app.secret_access_key);
                if let Some(token) = &app.session_token {
                    crate::mask::know(token);
                }
                return Ok((app, name));
            }
            Ok(Err(_)) | Err(_) => tried.push(name.split(' ').next().unwrap_or(name)),
        }
    }
    Err(format!("no source of the default credential chain answered ({})", tried.join(", ")))
}

/// Configuration for the backend's static key only: no profile, no machine credentials.
pub fn app_config(app: &AppCredentials, timeout: Duration) -> SdkConfig {
    let credentials =
        Credentials::new(&app.access_key_id, &app.secret_access_key, app.session_token.clone(), None, "t3s3-env-file");
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(app.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .timeout_config(timeouts(timeout))
        .retry_config(RetryConfig::standard())
        .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().expect("tokio sleep"))
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    if let Some(endpoint) = &app.endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    if let Some(http) = run_http_client() {
        builder = builder.http_client(http);
    }
    builder.build()
}

/// An S3 client for the backend's static key.
pub fn app_s3_client(app: &AppCredentials, timeout: Duration) -> aws_sdk_s3::Client {
    s3_client(&app_config(app, timeout), None)
}

/// An STS client for the backend's static key.
pub fn app_sts_client(app: &AppCredentials, timeout: Duration) -> aws_sdk_sts::Client {
    sts_client(&app_config(app, timeout), None)
}

fn sts_client(config: &SdkConfig, log: Option<&RequestLog>) -> aws_sdk_sts::Client {
    let mut builder = aws_sdk_sts::config::Builder::from(config).interceptor(Origins);
    if let Some(log) = log {
        builder = builder.interceptor(log.clone());
    }
    if let Some(verbose) = verbose() {
        builder = builder.interceptor(verbose);
    }
    aws_sdk_sts::Client::from_conf(builder.build())
}

/// With an endpoint override, S3 uses path-style addressing: the SDK would otherwise put
/// the bucket in the host name, which no emulator on `127.0.0.1` or `localhost` answers.
fn s3_client(config: &SdkConfig, log: Option<&RequestLog>) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .interceptor(Origins);
    if let Some(log) = log {
        builder = builder.interceptor(log.clone());
    }
    if let Some(verbose) = verbose() {
        builder = builder.interceptor(verbose);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_checked_before_use() {
        for good in [
            "http://127.0.0.1:5000",
            "https://s3.ap-south-1.amazonaws.com",
            "http://localhost",
            "http://[::1]:9000/",
            "HTTP://host:1",
        ] {
            assert_eq!(validate_endpoint(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("http://127.0.0.1:99999", "port `99999`"),
            ("http://127.0.0.1:0", "port `0`"),
            ("http://", "no valid host"),
            ("not a url", "not an http:// or https:// URL"),
            ("ftp://host", "not an http"),
            ("http://user:pw@host", "user name or password"),
            ("http://host:port", "port `port`"),
            ("http://ho st", "no valid host"),
            ("http://[::1", "unclosed"),
        ] {
            let problem = validate_endpoint(bad).expect_err(bad);
            assert!(problem.contains(why), "{bad}: {problem}");
        }
    }

    #[test]
    fn profiles_are_read_from_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let credentials = dir.path().join("credentials");
        std::fs::write(&config, "[default]\nregion=x\n[profile admin]\n[sso-session corp]\n").unwrap();
        std::fs::write(&credentials, "[ci]\naws_access_key_id=x\n").unwrap();
        assert_eq!(defined_profiles(&[config, credentials]), ["default", "admin", "ci"]);
    }
}
