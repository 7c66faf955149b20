//! Guide section 7: the backend's interpreter, boto3 in it and in its declared dependencies.

use std::path::Path;

use crate::backend;
use crate::git;
use crate::keys::Key;
use crate::settings::AppSettings;

use super::{Audit, CheckId, CheckStatus, Options};

/// The checks of this module.
const SECTION_7: [CheckId; 5] = [
    CheckId::BackendPython,
    CheckId::Boto3Installed,
    CheckId::Boto3Declared,
    CheckId::Boto3EndpointEnv,
    CheckId::BackendSessionToken,
];

/// Guide section 7: the backend's interpreter, boto3 in it and in its dependency files, and
/// a botocore that reads the .env's AWS_ENDPOINT_URL.
pub(super) async fn python_checks(audit: &Audit, options: &Options, env_path: &Path, settings: &AppSettings) {
    let dir = backend::backend_dir(options.backend_dir.as_deref(), Some(env_path));
    let later = [CheckId::Boto3Installed, CheckId::Boto3EndpointEnv];
    let named = options.backend_dir.is_some() || options.python.is_some();
    if !named && !backend::has_python_code(&dir) {
        let reason =
            format!("no backend code in {} (no config.py, venv or dependency file); pass --backend DIR", dir.display());
        audit.skip(&SECTION_7, &reason);
        return;
    }
    // doctor reads; it runs the backend's interpreter only when --python names it (then
    // isolated, from a neutral folder). A venv's packages are read from its files.
    let found = backend::find_python(&dir, options.python.as_deref());
    let facts = match &found {
        Ok((python, _)) if options.python.is_some() => {
            backend::probe(python, backend::PROBE_LIMIT).await.map_err(|f| f.message)
        }
        Ok((python, _)) => backend::installed(python).ok_or_else(String::new),
        Err(failure) => Err(failure.message.clone()),
    };
    declared_check(audit, &dir, env_path);
    session_token_check(audit, &dir, settings);
    // A plain interpreter (no venv) is one `verify --backend` runs happily: doctor only
    // declines to run it unasked, which is a warning, not a broken backend.
    if let (Ok((python, how)), Err(unread)) = (&found, &facts)
        && unread.is_empty()
    {
        return plain_interpreter(audit, python, how, &dir.join("venv"), &later);
    }
    let ((python, how), facts) = match (found, facts) {
        (Ok(found), Ok(facts)) => (found, facts),
        (_, facts) => {
            let why = facts.err().unwrap_or_default();
            audit.add(
                CheckId::BackendPython,
                CheckStatus::Fail,
                why,
                format!(
                    "create the backend's venv (`python3 -m venv {}`), or pass --python PATH to let doctor run that interpreter (isolated)",
                    dir.join("venv").display()
                ),
            );
            audit.skip(&later, "no working interpreter for the backend");
            return;
        }
    };
    let evidence = format!("{} ({how}): Python {}", python.display(), facts.python);
    audit.add(CheckId::BackendPython, CheckStatus::Pass, evidence, "");
    let Some(botocore) = facts.botocore.as_deref().filter(|_| facts.boto3.is_some()) else {
        audit.add(
            CheckId::Boto3Installed,
            CheckStatus::Fail,
            format!("{} cannot import boto3", python.display()),
            format!("{} -m pip install boto3", python.display()),
        );
        audit.skip(&[CheckId::Boto3EndpointEnv], "boto3 is not installed");
        return;
    };
    let boto3 = facts.boto3.clone().unwrap_or_default();
    audit.add(CheckId::Boto3Installed, CheckStatus::Pass, format!("boto3 {boto3}, botocore {botocore}"), "");
    match settings.get(Key::EndpointUrl) {
        None => audit.skip(&[CheckId::Boto3EndpointEnv], "the .env sets no AWS_ENDPOINT_URL"),
        Some(_) if backend::honours_endpoint_env(botocore) => audit.add(
            CheckId::Boto3EndpointEnv,
            CheckStatus::Pass,
            format!("botocore {botocore} reads AWS_ENDPOINT_URL from the environment"),
            "",
        ),
        Some(_) => audit.add(
            CheckId::Boto3EndpointEnv,
            CheckStatus::Warn,
            format!(
                "the .env sets AWS_ENDPOINT_URL, but botocore {botocore} ignores it in the environment (read from {}.{})",
                backend::ENDPOINT_ENV_BOTOCORE.0,
                backend::ENDPOINT_ENV_BOTOCORE.1
            ),
            format!("{} -m pip install --upgrade 'boto3>=1.28' (botocore 1.31+), or pass endpoint_url= to boto3.client", python.display()),
        ),
    }
}

/// boto3 in the backend's dependency files (its folder's, the project root's).
fn declared_check(audit: &Audit, dir: &Path, env_path: &Path) {
    let mut roots = vec![dir.to_path_buf()];
    roots.extend(git::repo_root(env_path));
    let declared = backend::declared_dependencies(&roots);
    match (&declared.boto3_in, declared.files.is_empty()) {
        (Some(file), _) => {
            audit.add(CheckId::Boto3Declared, CheckStatus::Pass, format!("boto3 is in {}", file.display()), "")
        }
        (None, true) => audit.add(
            CheckId::Boto3Declared,
            CheckStatus::Warn,
            format!("no requirements*.txt, pyproject.toml or Pipfile in {}", dir.display()),
            format!(
                "declare boto3 where the backend's dependencies live, e.g. `echo boto3 >> {}`",
                dir.join("requirements.txt").display()
            ),
        ),
        (None, false) => audit.add(
            CheckId::Boto3Declared,
            CheckStatus::Warn,
            format!(
                "boto3 is not in {}",
                declared.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
            format!("add boto3 to {} so every install of the backend gets it", declared.files[0].display()),
        ),
    }
}

/// backend_session_token: with role credentials in the .env (AWS_SESSION_TOKEN), the
/// backend's client must pass the token on; one built with the key and secret alone is refused.
fn session_token_check(audit: &Audit, dir: &Path, settings: &AppSettings) {
    let id = CheckId::BackendSessionToken;
    let Some(_) = settings.get(Key::SessionToken) else {
        return audit.add(id, CheckStatus::Pass, "no AWS_SESSION_TOKEN: a long-term key needs none", "");
    };
    match backend::drops_session_token(dir) {
        Some((file, line)) => audit.add(
            id,
            CheckStatus::Fail,
            format!(
                "the .env holds role credentials, but {} line {line} builds boto3's client with the key and secret only: AWS refuses them without AWS_SESSION_TOKEN",
                dir.join(&file).display()
            ),
            "pass aws_session_token=settings.aws_session_token to boto3.client (add the field to Settings), or pass no keys and let boto3 find the credentials",
        ),
        None => audit.add(id, CheckStatus::Pass, "the backend's client passes the session token on (or lets boto3 find the credentials)", ""),
    }
}

/// An interpreter outside any venv: doctor will not run it unasked, so it cannot say what
/// it holds; a warning with the two ways on.
fn plain_interpreter(audit: &Audit, python: &Path, how: &str, venv: &Path, later: &[CheckId]) {
    audit.add(
        CheckId::BackendPython,
        CheckStatus::Warn,
        format!(
            "{} ({how}) is not in a venv (no pyvenv.cfg), so doctor cannot read its packages, and it runs no interpreter it was not given",
            python.display()
        ),
        format!(
            "pass --python {} to let doctor run it (isolated), or give the backend a venv: `python3 -m venv {}`",
            python.display(),
            venv.display()
        ),
    );
    audit.skip(later, "doctor did not run the backend's interpreter (pass --python PATH)");
}
