//! `t3s3 init`: create or converge the bucket, policy, access key and .env (guide sections 3-6),
//! looking before every change, then run the self-test with the result.

use anyhow::Result;

use crate::aws;
use crate::cli::InitArgs;
use crate::exit::{ExitStatus, Failure};
use crate::keys::Key;
use crate::ops::converge::{self, Local};
use crate::ops::selftest;
use crate::prompt;
use crate::settings::{RegionName, is_region_name};

/// The guide's four region suggestions, offered when no region is configured.
pub const SUGGESTED_REGIONS: [(&str, &str); 4] = [
    ("ap-south-1", "India (Mumbai)"),
    ("us-east-1", "US East (N. Virginia)"),
    ("us-west-2", "US West (Oregon)"),
    ("eu-west-1", "Europe (Ireland)"),
];

pub async fn run(args: &InitArgs, ctx: &super::Context<'_>) -> Result<ExitStatus> {
    let budget = match &args.budget_email {
        Some(email) => {
            if let Some(problem) = crate::budgets::check_email(email) {
                return Err(Failure::bad_input(problem).hint("pass --budget-email you@example.com").into());
            }
            if !(args.budget_usd.is_finite() && args.budget_usd > 0.0) {
                return Err(Failure::bad_input(format!("--budget-usd {} is not a positive amount", args.budget_usd))
                    .hint("pass --budget-usd 5 (US dollars a month)")
                    .into());
            }
            Some(converge::BudgetWish { email: email.clone(), usd: args.budget_usd })
        }
        None => None,
    };
    let target = ctx.target()?;
    let env_path = args.env_file.clone().unwrap_or_else(converge::default_env_path);
    let _lock = super::lock(&env_path, ctx.printer).await?;
    let mut local = Local::read(&env_path, args.bucket.as_deref())?;
    let chain = aws::acting_clients(&target).await?;
    // No credentials is said before a region is asked for.
    chain.check_credentials().await?;
    let region = choose_region(chain.region(), local.existing(Key::Region), args.yes)?;
    let clients = chain.in_region(&region);
    let mut options = converge::Options {
        env_path: env_path.clone(),
        bucket: args.bucket.clone(),
        region,
        user: args.user.clone(),
        create_user: args.create_user,
        policy_name: args.policy_name.clone(),
        group: args.group.clone(),
        versioning: args.versioning,
        global_namespace: args.global_namespace,
        tls: converge::Tls::choose(args.allow_http, args.require_tls, clients.endpoint_url().as_deref()),
        dry_run: args.dry_run,
        delete_unwritten_keys: args.yes,
        budget,
    };
    let mut report = converge_asking(&clients, &mut options, &mut local, args.yes).await?;
    report.verify_command = ctx.again("verify", args.env_file.as_deref(), "");
    if args.dry_run || args.no_verify {
        ctx.printer.report(&report);
        return Ok(ExitStatus::Success);
    }
    // Verify with what was written, exactly as the backend will read it.
    report.self_test_follows = true;
    ctx.printer.progress(&report);
    let test = selftest::Options {
        timeout: ctx.timeout(),
        wait_for_new_key: report.key_is_new.then_some(selftest::NEW_KEY_PROPAGATION),
        policy_name: args.policy_name.clone(),
    };
    let result = selftest::after_writing(&env_path, &test, ctx.printer).await?;
    ctx.printer.quiet_verdict(&result);
    report.ok = result.ok;
    report.verify = Some(result);
    ctx.printer.print_json(&report);
    Ok(if report.ok { ExitStatus::Success } else { ExitStatus::CheckFailed })
}

/// Runs init's work. Its first, read-only phase may stop at a question: a missing IAM user
/// (create it?) or keys an interrupted run never wrote (delete them?). At a terminal the
/// question is asked and the work runs again with the answer; else it is refused (exit 2,
/// nothing changed) with how to go on. Each question is asked at most once.
async fn converge_asking(
    clients: &crate::aws::ActingClients,
    options: &mut converge::Options,
    local: &mut Local,
    yes: bool,
) -> Result<converge::InitReport> {
    loop {
        let error = match converge::run(clients, options, local).await {
            Ok(report) => return Ok(report),
            Err(error) => error,
        };
        let ask = |question: String| -> Result<bool> {
            Ok(prompt::can_ask(yes) && crate::blocking::off_the_runtime(|| prompt::confirm(&question, false))?)
        };
        if let Some(missing) = error.downcast_ref::<converge::UserMissing>().filter(|_| !options.create_user) {
            if !ask(format!("{missing}. Create it (the guide's step 4)?"))? {
                return Err(Failure::bad_input(missing.to_string())
                    .hint(format!("create it with `{}`, or pass --user NAME of an existing user", with_create_user()))
                    .into());
            }
            options.create_user = true;
        } else if let Some(keys) =
            error.downcast_ref::<converge::UnwrittenKeys>().filter(|_| !options.delete_unwritten_keys)
        {
            if !ask(format!("{keys}. Delete them (nobody holds their secret)?"))? {
                return Err(Failure::bad_input(keys.to_string())
                    .hint("answer yes at a terminal, or pass --yes, to delete them (init then creates one key and writes it); or delete them yourself: `aws iam delete-access-key --user-name USER --access-key-id ID`")
                    .into());
            }
            options.delete_unwritten_keys = true;
        } else {
            return Err(error);
        }
    }
}

/// The command line as typed, with `--create-user` added after `init`: the exact command
/// to run again, the profile and region included.
fn with_create_user() -> String {
    let quote = |arg: String| {
        if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c)) {
            arg
        } else {
            format!("'{}'", arg.replace('\'', "'\\''"))
        }
    };
    let mut words = vec!["t3s3".to_string()];
    let mut added = false;
    for arg in std::env::args().skip(1) {
        let is_init = arg == "init";
        words.push(quote(arg));
        if is_init && !added {
            words.push("--create-user".into());
            added = true;
        }
    }
    words.join(" ")
}

/// `--region`, else the chain's, else the env file's; else asked on a terminal.
fn choose_region(from_chain: Option<String>, from_env_file: Option<String>, yes: bool) -> Result<RegionName> {
    let region = match from_chain.or(from_env_file) {
        Some(region) => region,
        None if prompt::can_ask(yes) => crate::blocking::off_the_runtime(prompt_region)?,
        None => {
            return Err(Failure::bad_input("no AWS region is configured")
                .hint("pass --region REGION (ap-south-1, us-east-1, us-west-2 or eu-west-1 are the guide's suggestions), or set AWS_REGION")
                .into());
        }
    };
    Ok(crate::settings::check_region(&region, "--region")?)
}

fn prompt_region() -> Result<String> {
    let mut choices =
        String::from("Which AWS region should the bucket live in? Choose the one closest to your users:\n");
    for (index, (code, name)) in SUGGESTED_REGIONS.iter().enumerate() {
        choices.push_str(&format!("  {}. {code}  {name}\n", index + 1));
    }
    let mut question = format!("{choices}Region [1-4 or a region code]: ");
    // An empty or unknown answer is asked again; only the end of input stops.
    loop {
        let Some(answer) = prompt::ask_line(&question)? else {
            return Err(Failure::bad_input("no region was chosen").hint("pass --region REGION").into());
        };
        match answer.parse::<usize>() {
            Ok(n) if (1..=SUGGESTED_REGIONS.len()).contains(&n) => return Ok(SUGGESTED_REGIONS[n - 1].0.to_string()),
            _ if is_region_name(&answer) => return Ok(answer),
            _ => question = "Please answer 1-4 or a region code such as ap-south-1: ".to_string(),
        }
    }
}
