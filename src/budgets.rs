//! AWS Budgets, the guide's "set up billing alerts": the one caller of the Budgets SDK. A
//! monthly cost budget with e-mail notifications at 80% of actual and 100% of forecast spend.
//! Budgets answers in us-east-1 whatever the bucket's region (`ActingClients::budgets`).

use aws_sdk_budgets::Client;
use aws_sdk_budgets::types::{
    Budget, BudgetType, ComparisonOperator, Notification, NotificationType, NotificationWithSubscribers, Spend,
    Subscriber, SubscriptionType, ThresholdType, TimeUnit,
};

use crate::aws_error::{AwsError, During, ErrorCode, ErrorKind};

type Result<T> = std::result::Result<T, AwsError>;

/// The name of the budget t3s3 makes; `destroy` deletes a budget of this name only.
pub const BUDGET_NAME: &str = "t3s3-monthly-cost";

/// The two alerts: (kind, percent) as AWS names them.
pub const ALERTS: [(NotificationType, f64); 2] =
    [(NotificationType::Actual, 80.0), (NotificationType::Forecasted, 100.0)];

fn budget_named(name: &str) -> String {
    format!("budget `{name}`")
}

/// A budget as it is: its monthly limit in USD and its notifications (kind, percent).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetState {
    pub limit_usd: Option<f64>,
    pub notifications: Vec<(NotificationType, f64)>,
}

impl BudgetState {
    /// The alerts of [`ALERTS`] it lacks.
    pub fn missing_alerts(&self) -> Vec<(NotificationType, f64)> {
        ALERTS
            .iter()
            .filter(|(kind, percent)| {
                !self.notifications.iter().any(|(k, p)| k == kind && (p - percent).abs() < f64::EPSILON)
            })
            .cloned()
            .collect()
    }
}

/// In words: "actual spend at 80%".
pub fn describe_alert((kind, percent): &(NotificationType, f64)) -> String {
    let kind = if *kind == NotificationType::Forecasted { "forecast" } else { "actual" };
    format!("{kind} spend at {percent}%")
}

fn monthly_cost(name: &str, limit_usd: f64) -> Budget {
    let limit = Spend::builder().amount(format!("{limit_usd}")).unit("USD").build();
    Budget::builder()
        .budget_name(name)
        .set_budget_limit(limit.ok())
        .time_unit(TimeUnit::Monthly)
        .budget_type(BudgetType::Cost)
        .build()
        .expect("budget name, time unit and type are set")
}

fn alert((kind, percent): &(NotificationType, f64)) -> Notification {
    Notification::builder()
        .notification_type(kind.clone())
        .comparison_operator(ComparisonOperator::GreaterThan)
        .threshold(*percent)
        .threshold_type(ThresholdType::Percentage)
        .build()
        .expect("every field of the notification is set")
}

fn email(address: &str) -> Subscriber {
    Subscriber::builder()
        .subscription_type(SubscriptionType::Email)
        .address(address)
        .build()
        .expect("subscription type and address are set")
}

/// The budget `name` of `account`, if it exists, with its notifications.
pub async fn find(client: &Client, account: &str, name: &str) -> Result<Option<BudgetState>> {
    let found = client.describe_budget().account_id(account).budget_name(name).send().await;
    let budget = match found.during("budgets:ViewBudget", budget_named(name)) {
        Ok(out) => out.budget,
        Err(error) if error.is(&ErrorCode::NotFound) || error.code_name().contains("NotFound") => return Ok(None),
        Err(error) => return Err(error),
    };
    let Some(budget) = budget else { return Ok(None) };
    let limit_usd = budget.budget_limit().and_then(|s| s.amount().parse::<f64>().ok());
    let notifications = notifications(client, account, name).await?;
    Ok(Some(BudgetState { limit_usd, notifications }))
}

async fn notifications(client: &Client, account: &str, name: &str) -> Result<Vec<(NotificationType, f64)>> {
    let request = client.describe_notifications_for_budget().account_id(account).budget_name(name);
    let out = match request.send().await.during("budgets:ViewBudget", budget_named(name)) {
        Ok(out) => out,
        Err(error) if error.is(&ErrorCode::NotFound) || error.code_name().contains("NotFound") => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    Ok(out.notifications().iter().map(|n| (n.notification_type().clone(), n.threshold())).collect())
}

/// Creates the monthly cost budget with both alerts to `address`.
pub async fn create(client: &Client, account: &str, name: &str, limit_usd: f64, address: &str) -> Result<()> {
    let with = |alert_spec: &(NotificationType, f64)| {
        NotificationWithSubscribers::builder()
            .notification(alert(alert_spec))
            .subscribers(email(address))
            .build()
            .expect("notification and subscriber are set")
    };
    client
        .create_budget()
        .account_id(account)
        .budget(monthly_cost(name, limit_usd))
        .set_notifications_with_subscribers(Some(ALERTS.iter().map(with).collect()))
        .send()
        .await
        .during("budgets:ModifyBudget", budget_named(name))?;
    Ok(())
}

/// Sets the budget's monthly limit.
pub async fn update_limit(client: &Client, account: &str, name: &str, limit_usd: f64) -> Result<()> {
    let request = client.update_budget().account_id(account).new_budget(monthly_cost(name, limit_usd));
    request.send().await.during("budgets:ModifyBudget", budget_named(name))?;
    Ok(())
}

/// Adds one alert to `address`.
pub async fn add_alert(
    client: &Client,
    account: &str,
    name: &str,
    spec: &(NotificationType, f64),
    address: &str,
) -> Result<()> {
    let request = client
        .create_notification()
        .account_id(account)
        .budget_name(name)
        .notification(alert(spec))
        .subscribers(email(address));
    request.send().await.during("budgets:ModifyBudget", budget_named(name))?;
    Ok(())
}

/// Deletes the budget (and its notifications).
pub async fn delete(client: &Client, account: &str, name: &str) -> Result<()> {
    let request = client.delete_budget().account_id(account).budget_name(name);
    request.send().await.during("budgets:ModifyBudget", budget_named(name))?;
    Ok(())
}

/// The account's cost budgets and how many notifications each has.
pub async fn cost_budgets(client: &Client, account: &str) -> Result<Vec<(String, usize)>> {
    let mut names = Vec::new();
    let mut pages = client.describe_budgets().account_id(account).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.during("budgets:ViewBudget", "the account's budgets")?;
        names.extend(
            page.budgets().iter().filter(|b| *b.budget_type() == BudgetType::Cost).map(|b| b.budget_name().to_string()),
        );
    }
    let mut found = Vec::new();
    for name in names {
        let count = notifications(client, account, &name).await?.len();
        found.push((name, count));
    }
    Ok(found)
}

/// An unusable e-mail address, or `None`: one `@`, something either side, a dot after it.
pub fn check_email(address: &str) -> Option<String> {
    let ok = address.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !address.contains(char::is_whitespace)
        && address.matches('@').count() == 1;
    (!ok).then(|| format!("--budget-email `{address}` is not an e-mail address"))
}

/// Whether an error means the credentials may not use Budgets (then init goes on without it).
pub fn is_denied(error: &AwsError) -> bool {
    error.is(&ErrorCode::AccessDenied)
        || matches!(&error.kind, ErrorKind::Service(code) if code.as_str().contains("AccessDenied"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_alerts_are_named_by_kind_and_percent() {
        let state = BudgetState { limit_usd: Some(5.0), notifications: vec![(NotificationType::Actual, 80.0)] };
        assert_eq!(state.missing_alerts(), vec![(NotificationType::Forecasted, 100.0)]);
        assert_eq!(describe_alert(&state.missing_alerts()[0]), "forecast spend at 100%");
        let full = BudgetState { limit_usd: Some(5.0), notifications: ALERTS.to_vec() };
        assert!(full.missing_alerts().is_empty());
    }

    #[test]
    fn email_addresses_are_checked_before_any_request() {
        assert_eq!(check_email("dev@example.com"), None);
        for bad in ["dev", "dev@", "@example.com", "dev@example", "a b@example.com", "a@b@c.com"] {
            assert!(check_email(bad).is_some(), "{bad}");
        }
    }
}
