//! `t3s3 guard [PATH...]`: a commit guard. With no paths it reads what git has staged (as the
//! commit would hold it); with paths (as pre-commit passes them), those files. Exit 1 when it
//! finds a .env file or an AWS secret, 0 when clean.

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::GuardArgs;
use crate::exit::{ExitStatus, Failure};
use crate::git;
use crate::guard::{self, GuardReport};
use crate::ui::Printer;

pub fn run(args: &GuardArgs, printer: &Printer) -> Result<ExitStatus> {
    let mut findings = Vec::new();
    let mut binary = Vec::new();
    let mut scan = |path: &str, bytes: &[u8]| {
        let (found, is_binary) = guard::scan_file(path, bytes);
        if is_binary {
            binary.push(path.to_string());
        }
        found
    };
    let files = if args.history {
        history(&mut findings, &mut scan)?
    } else if args.paths.is_empty() {
        let Some((root, staged)) = git::staged(&PathBuf::from(".")) else {
            // A repository git cannot read (someone else's, a corrupt index, no git) is not
            // "no repository": say what git said.
            if let Err(unanswered) = git::check_answers(&PathBuf::from(".").join("x")) {
                return Err(Failure::bad_input(format!("cannot list what is staged: {}", unanswered.message))
                    .hint(unanswered.hint)
                    .into());
            }
            return Err(Failure::bad_input("not in a git repository: there is nothing staged to check")
                .hint("run it inside the repository, or name files: `t3s3 guard PATH...`")
                .into());
        };
        let staged = match staged {
            Ok(staged) => staged,
            Err(why) => {
                findings.push(guard::unreadable("the staged files", &why));
                Vec::new()
            }
        };
        let ids: Vec<&str> = staged.iter().filter_map(|blob| blob.object.as_deref()).collect();
        let mut contents = git::read_objects(&root, &ids).into_iter();
        for blob in &staged {
            let path = String::from_utf8_lossy(&blob.path);
            if blob.object.is_none() {
                findings.extend(guard::scan(&path, b""));
                continue;
            }
            match contents.next() {
                Some(Ok(bytes)) => findings.extend(scan(&path, &bytes)),
                Some(Err(why)) => findings.push(guard::unreadable(&path, &why)),
                None => findings.push(guard::unreadable(&path, "git gave no content")),
            }
        }
        staged.len()
    } else {
        for path in &args.paths {
            let shown = path.display().to_string();
            // A named .env is reported even when it cannot be read.
            let bytes = match crate::fsio::read_capped(path, guard::FILE_CAP) {
                Ok(bytes) => bytes,
                Err(_) if guard::is_env_file(&shown) => Vec::new(),
                Err(why @ (crate::fsio::ReadError::NotAFile(_) | crate::fsio::ReadError::TooLarge(_))) => {
                    findings.push(guard::unreadable(&shown, &why.to_string()));
                    continue;
                }
                Err(why) => {
                    return Err(Failure::bad_input(format!("cannot read {shown}: {why}"))
                        .hint("name files that exist, or run with no paths to check what git has staged")
                        .into());
                }
            };
            findings.extend(scan(&shown, &bytes));
        }
        args.paths.len()
    };
    // The committed ignore file of the repository guard looks at (or of this folder).
    let root = git::repo_root(&PathBuf::from(".").join("x")).unwrap_or_else(|| PathBuf::from("."));
    let ignore = crate::fsio::read_text(&root.join(guard::IGNORE_FILE)).unwrap_or_default();
    let report = GuardReport::new(files, findings, binary, &ignore);
    printer.report(&report);
    Ok(if report.ok { ExitStatus::Success } else { ExitStatus::CheckFailed })
}

/// `--history`: every file version reachable from HEAD, each once, read in batches by object
/// id (`git cat-file --batch`); a finding names the commit that introduced the version.
fn history(
    findings: &mut Vec<guard::Finding>,
    scan: &mut impl FnMut(&str, &[u8]) -> Vec<guard::Finding>,
) -> Result<usize> {
    let Some(root) = git::repo_root(&PathBuf::from(".").join("x")) else {
        return Err(Failure::bad_input("not in a git repository: there is no history to scan")
            .hint("run it inside the repository")
            .into());
    };
    let blobs = git::history_blobs(&root).map_err(|why| {
        Failure::bad_input(format!("git cannot list the history: {why}")).hint("run `git log` to see what git says")
    })?;
    for batch in blobs.chunks(500) {
        let ids: Vec<&str> = batch.iter().map(|(id, ..)| id.as_str()).collect();
        for ((_, path, commit), bytes) in batch.iter().zip(git::read_objects(&root, &ids)) {
            let shown = format!("{}:{}", &commit[..commit.len().min(12)], String::from_utf8_lossy(path));
            match bytes {
                Ok(bytes) => findings.extend(scan(&shown, &bytes)),
                Err(why) => findings.push(guard::unreadable(&shown, &why)),
            }
        }
    }
    Ok(blobs.len())
}
