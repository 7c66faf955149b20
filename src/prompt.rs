//! Questions asked on a terminal, and the rule for when not to ask.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;

use crate::exit::Failure;

/// Whether questions can be asked: a terminal on stdin, and no `--yes`.
pub fn can_ask(yes: bool) -> bool {
    !yes && std::io::stdin().is_terminal()
}

/// Reads one answer to `question` (shown on stderr); empty at the end of input.
pub fn ask(question: &str) -> Result<String> {
    Ok(ask_line(question)?.unwrap_or_default())
}

/// Reads one answer to `question`; `None` at the end of input (Ctrl-D, a closed pipe).
pub fn ask_line(question: &str) -> Result<Option<String>> {
    let mut stderr = std::io::stderr();
    write!(stderr, "{}", crate::ui::for_terminal(question, false))?;
    stderr.flush()?;
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer)? == 0 {
        return Ok(None);
    }
    Ok(Some(answer.trim().to_string()))
}

/// `--yes` answers yes; a terminal is asked (default no); without either, the
/// command stops with exit 2 and says to pass `--yes`.
pub fn confirm(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::bad_input(format!(
            "t3s3 must ask \"{question}\" and there is no terminal to answer on, so nothing was changed"
        ))
        .hint("run it on a terminal, or pass --yes to agree in advance")
        .into());
    }
    let answer = ask(&format!("{question} [y/N] "))?;
    Ok(matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
}
