//! The backend's Python half (guide sections 7 and 8): where its code and interpreter are,
//! what that interpreter has installed, and a run of the guide's seven steps through the
//! backend's own `config.get_settings()` and `storage.s3_client.get_s3_client()`.
//!
//! The driver (`backend_driver.py`) is embedded in the binary and handed to the
//! interpreter with `-c`: nothing is written into the user's project. Secrets never pass
//! through arguments: the backend reads its own settings.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::exit::Failure;

/// The driver run by the backend's interpreter.
const DRIVER: &str = include_str!("backend_driver.py");

/// What the interpreter reports about itself and its packages.
const PROBE: &str = r#"
import json, sys
found = {"python": sys.version.split()[0], "executable": sys.executable}
for name in ("boto3", "botocore", "pydantic_settings"):
    try:
        found[name] = getattr(__import__(name), "__version__", "?")
    except Exception:
        found[name] = None
print(json.dumps(found))
"#;

/// How long the interpreter may take to start and import its packages (a cold disk, a big
/// venv); not the per-request --timeout, which is about the network.
pub const PROBE_LIMIT: Duration = Duration::from_secs(30);

/// The backend's code and the interpreter that runs it.
#[derive(Debug, Clone, Serialize)]
pub struct Backend {
    pub dir: PathBuf,
    pub python: PathBuf,
    /// The settings, `MODULE:ATTR` (`config:get_settings`).
    pub settings: String,
    /// The S3 client, `MODULE:ATTR` (`storage.s3_client:get_s3_client`).
    pub client: String,
    /// How the interpreter was found, for people: "--python", "backend/venv", "python3 on PATH".
    pub how: String,
}

/// The interpreter's own account of itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PythonFacts {
    pub python: String,
    pub executable: String,
    pub boto3: Option<String>,
    pub botocore: Option<String>,
    pub pydantic_settings: Option<String>,
}

/// The folder the backend lives in: the one named, else the folder holding the .env.
pub fn backend_dir(explicit: Option<&Path>, env_file: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit.filter(|d| !d.as_os_str().is_empty()) {
        return dir.to_path_buf();
    }
    env_file.map_or_else(|| PathBuf::from("."), |file| crate::fsio::folder(file).to_path_buf())
}

/// The settings modules of the common FastAPI layouts, relative to the backend folder.
pub const CONFIG_MODULES: [&str; 5] =
    ["config.py", "app/config.py", "app/core/config.py", "core/config.py", "settings.py"];

/// Whether the backend's settings module (any of [`CONFIG_MODULES`] in `dir`) names the
/// variable `name` (pydantic-settings fields are the lower-case name). Read, never run.
pub fn config_declares(dir: &Path, name: &str) -> bool {
    let field = name.to_ascii_lowercase();
    CONFIG_MODULES.iter().filter_map(|module| crate::fsio::read_text(&dir.join(module))).any(|text| {
        text.lines().map(str::trim_start).filter(|line| !line.starts_with('#')).any(|line| {
            line.contains(name)
                || line.strip_prefix(field.as_str()).is_some_and(|rest| rest.trim_start().starts_with([':', '=']))
        })
    })
}

/// The S3 client modules of the common layouts, relative to the backend folder.
pub const CLIENT_MODULES: [&str; 4] =
    ["storage/s3_client.py", "app/storage/s3_client.py", "app/services/s3_client.py", "s3_client.py"];

/// Where the backend builds a boto3 client (or session) with an explicit key and secret but
/// no `aws_session_token`: role credentials (a key, a secret and a token) then reach AWS
/// without their token and are refused. `(file, line)` of the call, read, never run.
pub fn drops_session_token(dir: &Path) -> Option<(String, usize)> {
    for module in CLIENT_MODULES {
        let Some(text) = crate::fsio::read_text(&dir.join(module)) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            let code = line.split('#').next().unwrap_or_default();
            if !(code.contains("boto3.client(") || code.contains("boto3.Session(") || code.contains("boto3.resource("))
            {
                continue;
            }
            // The call's arguments: from this line until its parentheses close.
            let (mut depth, mut call) = (0i32, String::new());
            for next in &lines[index..] {
                let code = next.split('#').next().unwrap_or_default();
                call.push_str(code);
                depth += code.matches('(').count() as i32 - code.matches(')').count() as i32;
                if depth <= 0 {
                    break;
                }
            }
            if call.contains("aws_secret_access_key") && !call.contains("aws_session_token") {
                return Some((module.to_string(), index + 1));
            }
        }
    }
    None
}

/// Where the backend's settings require a key to count as configured (`s3_configured`
/// returning `... aws_access_key_id and ...`): `(file, line)`, read, never run.
pub fn requires_a_key(dir: &Path) -> Option<(String, usize)> {
    for module in CONFIG_MODULES {
        let Some(text) = crate::fsio::read_text(&dir.join(module)) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        let Some(at) = lines.iter().position(|l| l.contains("def s3_configured") || l.contains("s3_configured ="))
        else {
            continue;
        };
        for (offset, line) in lines[at..].iter().take(8).enumerate() {
            if line.contains("aws_access_key_id") || line.contains("AWS_ACCESS_KEY_ID") {
                return Some((module.to_string(), at + offset + 1));
            }
        }
    }
    None
}

/// Where the backend's client passes an explicit key to boto3 (empty when the .env has none,
/// so the role's credentials are never looked for): `(file, line)`.
pub fn passes_explicit_keys(dir: &Path) -> Option<(String, usize)> {
    for module in CLIENT_MODULES {
        let Some(text) = crate::fsio::read_text(&dir.join(module)) else { continue };
        for (index, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap_or_default();
            if code.contains("aws_access_key_id=") && !code.contains(" if ") {
                return Some((module.to_string(), index + 1));
            }
        }
    }
    None
}

/// Whether `dir` looks like a Python backend: config.py, a venv, or a dependency file.
pub fn has_python_code(dir: &Path) -> bool {
    ["config.py", "venv", ".venv", "pyproject.toml", "Pipfile"].iter().any(|name| dir.join(name).exists())
        || !declared_dependencies(&[dir.to_path_buf()]).files.is_empty()
}

/// Where the backend's settings and S3 client are, as `MODULE:ATTR`.
#[derive(Debug, Clone, Default)]
pub struct Entrypoints<'a> {
    pub settings: Option<&'a str>,
    pub client: Option<&'a str>,
}

/// The backend's code and interpreter; exit 2 naming what is missing.
pub fn locate(dir: &Path, python: Option<&Path>, named: Entrypoints<'_>) -> Result<Backend, Failure> {
    if !dir.is_dir() {
        return Err(Failure::bad_input(format!("the backend folder {} does not exist", dir.display()))
            .hint("pass --backend DIR, the folder holding the backend's config.py and storage/s3_client.py"));
    }
    let settings = entrypoint(dir, named.settings, &CONFIG_MODULES, &["get_settings", "settings"], "--settings")?;
    let client =
        entrypoint(dir, named.client, &CLIENT_MODULES, &["get_s3_client", "S3Client", "s3_client"], "--client")?;
    let (python, how) = find_python(dir, python)?;
    Ok(Backend { dir: dir.to_path_buf(), python, how, settings, client })
}

/// `MODULE:ATTR` as given (checked: its module is a file of `dir`), else found: the first of
/// `modules` that exists and defines one of `attrs` (read, never run).
fn entrypoint(
    dir: &Path,
    given: Option<&str>,
    modules: &[&str],
    attrs: &[&str],
    flag: &str,
) -> Result<String, Failure> {
    if let Some(given) = given {
        let (module, attr) = given.split_once(':').unwrap_or((given, ""));
        let word = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !module.split('.').all(word) || !word(attr) {
            return Err(Failure::bad_input(format!(
                "{flag} `{given}` is not MODULE:ATTR (e.g. app.core.config:get_settings)"
            ))
            .hint(format!("pass {flag} as a dotted module and a name in it, relative to the backend folder")));
        }
        let file = dir.join(module.replace('.', "/"));
        if !file.with_extension("py").is_file() && !file.join("__init__.py").is_file() {
            return Err(Failure::bad_input(format!("{flag} `{given}`: {} has no module {module}", dir.display()))
                .hint(format!("pass {flag} with a module path relative to {}", dir.display())));
        }
        return Ok(given.to_string());
    }
    for module in modules {
        let Some(text) = crate::fsio::read_text(&dir.join(module)) else { continue };
        let defines = |name: &str| {
            text.lines().any(|line| {
                let line = line.trim_start();
                line.starts_with(&format!("def {name}("))
                    || line.starts_with(&format!("class {name}("))
                    || line.starts_with(&format!("class {name}:"))
                    || line.starts_with(&format!("{name} ="))
                    || line.starts_with(&format!("{name}: "))
            })
        };
        if let Some(attr) = attrs.iter().find(|a| defines(a)) {
            return Ok(format!("{}:{attr}", module.trim_end_matches(".py").replace('/', ".")));
        }
    }
    let looked: Vec<String> = modules.iter().map(|m| dir.join(m).display().to_string()).collect();
    Err(Failure::bad_input(format!(
        "no {} found in {} (looked in {} for {})",
        if flag == "--settings" { "settings" } else { "S3 client" },
        dir.display(),
        looked.join(", "),
        attrs.join(" or ")
    ))
    .hint(format!("pass {flag} MODULE:ATTR naming it (docs/backend-interface.md says what t3s3 needs)")))
}

/// Where a venv keeps its interpreter.
fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) { venv.join("Scripts").join("python.exe") } else { venv.join("bin").join("python") }
}

/// `--python`, else the backend's `venv/` or `.venv/`, the project root's, `$VIRTUAL_ENV`,
/// then `python3` on PATH. The path is absolute: the interpreter runs in the backend's
/// folder, where a relative path would miss it.
pub fn find_python(dir: &Path, explicit: Option<&Path>) -> Result<(PathBuf, String), Failure> {
    let (python, how) = search_python(dir, explicit)?;
    Ok((std::path::absolute(&python).unwrap_or(python), how))
}

fn search_python(dir: &Path, explicit: Option<&Path>) -> Result<(PathBuf, String), Failure> {
    if let Some(path) = explicit {
        let found = if path.components().count() == 1 { on_path(path) } else { Some(path.to_path_buf()) };
        return match found.filter(|p| p.is_file()) {
            Some(path) => Ok((path, "--python".into())),
            None => Err(Failure::bad_input(format!("the interpreter {} does not exist", path.display()))
                .hint("pass --python PATH to the backend's Python (e.g. backend/venv/bin/python)")),
        };
    }
    let mut roots = vec![dir.to_path_buf()];
    if let Some(root) = crate::git::repo_root(&dir.join("config.py")) {
        roots.push(root);
    }
    roots.push(PathBuf::from("."));
    for root in &roots {
        for venv in ["venv", ".venv"] {
            let python = venv_python(&root.join(venv));
            if python.is_file() {
                return Ok((python, root.join(venv).display().to_string()));
            }
        }
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let python = venv_python(Path::new(&venv));
        if python.is_file() {
            return Ok((python, "$VIRTUAL_ENV".into()));
        }
    }
    for name in ["python3", "python"] {
        if let Some(python) = on_path(Path::new(name)) {
            return Ok((python, format!("{name} on PATH")));
        }
    }
    // Windows' Python launcher, run as `py -3` (see `isolated`).
    if cfg!(windows) {
        if let Some(launcher) = on_path(Path::new("py")) {
            return Ok((launcher, "py -3 (the Python launcher)".into()));
        }
    }
    Err(Failure::bad_input(format!(
        "no Python interpreter for the backend in {}: no venv/ or .venv/, no $VIRTUAL_ENV, no python3 on PATH{}",
        dir.display(),
        if cfg!(windows) { ", no py launcher" } else { "" }
    ))
    .hint("create the backend's venv (`python3 -m venv venv`) or pass --python PATH"))
}

/// `name` in a folder of PATH; on Windows `name.exe` too, as the shell finds it.
fn on_path(name: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let mut candidates = vec![dir.join(name)];
        if cfg!(windows) && name.extension().is_none() {
            candidates.push(dir.join(name).with_extension("exe"));
        }
        candidates.into_iter().find(|candidate| candidate.is_file())
    })
}

/// Whether `python` is Windows' Python launcher (`py.exe`), which takes `-3` first.
fn is_launcher(python: &Path) -> bool {
    python.file_stem().is_some_and(|stem| stem.eq_ignore_ascii_case("py"))
}

/// Runs the interpreter once to learn its version and packages; exit 2 when it cannot run.
pub async fn probe(python: &Path, timeout: Duration) -> Result<PythonFacts, Failure> {
    let cannot = |why: String| {
        Failure::bad_input(format!("the backend's interpreter {} cannot be run: {why}", python.display()))
            .hint("pass --python PATH to a working Python 3 (the one the backend runs with)")
    };
    let mut command = isolated(python);
    command.arg(PROBE).stdin(Stdio::null()).kill_on_drop(true);
    let output = match tokio::time::timeout(timeout, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => return Err(cannot(error.to_string())),
        Err(_) => return Err(cannot(format!("no answer within {} s", timeout.as_secs()))),
    };
    if !output.status.success() {
        return Err(cannot(last_line(&String::from_utf8_lossy(&output.stderr))));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|_| cannot(format!("it printed {:?}", String::from_utf8_lossy(&output.stdout).trim())))
}

/// What a venv's interpreter has installed, read from its files without running anything:
/// the Python version from `pyvenv.cfg`, package versions from the `*.dist-info` folders
/// of its site-packages and of the folders its `.pth` files add. `None` when `python` is not
/// a venv's interpreter (no `pyvenv.cfg` beside its folder).
pub fn installed(python: &Path) -> Option<PythonFacts> {
    let venv = python.parent()?.parent()?;
    let config = crate::fsio::read_text(&venv.join("pyvenv.cfg"))?;
    let setting = |name: &str| {
        config.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == name).then(|| value.trim().to_string())
        })
    };
    let version = setting("version_info").or_else(|| setting("version"))?;
    let mut sites: Vec<PathBuf> = vec![venv.join("Lib").join("site-packages")];
    if let Ok(entries) = std::fs::read_dir(venv.join("lib")) {
        sites.extend(entries.filter_map(|e| e.ok()).map(|e| e.path().join("site-packages")));
    }
    sites.retain(|dir| dir.is_dir());
    let mut folders = sites.clone();
    for site in &sites {
        for entry in std::fs::read_dir(site).into_iter().flatten().filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "pth") {
                let text = crate::fsio::read_text(&path).unwrap_or_default();
                // A .pth line is a folder, or code (`import ...`), which is never run here.
                let added = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with(['#']) && !l.starts_with("import"));
                folders.extend(added.map(|line| site.join(line)).filter(|dir| dir.is_dir()));
            }
        }
    }
    let version_of = |package: &str| {
        folders.iter().find_map(|folder| {
            std::fs::read_dir(folder).ok()?.filter_map(|e| e.ok()).find_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let (dist, version) = name.strip_suffix(".dist-info")?.split_once('-')?;
                (dist.to_ascii_lowercase().replace('-', "_") == package).then(|| version.to_string())
            })
        })
    };
    Some(PythonFacts {
        python: version,
        executable: python.display().to_string(),
        boto3: version_of("boto3"),
        botocore: version_of("botocore"),
        pydantic_settings: version_of("pydantic_settings"),
    })
}

fn last_line(text: &str) -> String {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim().to_string()
}

/// The first botocore that honours `AWS_ENDPOINT_URL` from the environment (boto3 1.28).
pub const ENDPOINT_ENV_BOTOCORE: (u32, u32) = (1, 31);

/// Whether a botocore version reads `AWS_ENDPOINT_URL` from the environment.
pub fn honours_endpoint_env(botocore: &str) -> bool {
    let mut parts = botocore.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= ENDPOINT_ENV_BOTOCORE
}

/// Where the backend declares its dependencies, and whether boto3 is among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    /// Dependency files found (requirements*.txt, pyproject.toml, Pipfile).
    pub files: Vec<PathBuf>,
    /// The one that names boto3, if any.
    pub boto3_in: Option<PathBuf>,
}

/// Looks for boto3 in the dependency files of `dirs` (the backend folder, the project root).
pub fn declared_dependencies(dirs: &[PathBuf]) -> Declared {
    let mut declared = Declared::default();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                (name.starts_with("requirements") && name.ends_with(".txt"))
                    || name == "pyproject.toml"
                    || name == "Pipfile"
            })
            .collect();
        names.sort();
        for path in names {
            if declared.files.contains(&path) {
                continue;
            }
            let text = crate::fsio::read_text(&path).unwrap_or_default();
            if declared.boto3_in.is_none() && names_boto3(&path, &text) {
                declared.boto3_in = Some(path.clone());
            }
            declared.files.push(path);
        }
    }
    declared
}

/// Whether a dependency file's text declares boto3 (not in a comment, not another package
/// whose name starts with it, like boto3-stubs).
fn names_boto3(path: &Path, text: &str) -> bool {
    let toml = path.extension().is_some_and(|e| e == "toml") || path.file_name().is_some_and(|n| n == "Pipfile");
    text.lines().any(|line| {
        let line = line.split('#').next().unwrap_or_default().trim().trim_start_matches(['"', '\'']).to_lowercase();
        let Some(rest) = line.strip_prefix("boto3") else { return false };
        let next = rest.chars().next();
        match next {
            None => !toml,
            Some(c) => matches!(c, '=' | '<' | '>' | '~' | '!' | ' ' | '[' | ';' | '"' | '\'' | ','),
        }
    })
}

/// One line the driver prints.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Python(Box<PythonFacts>),
    Settings(Box<LoadedSettings>),
    Client {
        endpoint_url: Option<String>,
        region: Option<String>,
        /// Whether the credentials the backend's boto3 client resolved carry a session
        /// token (None: the driver could not tell).
        #[serde(default)]
        session_token: Option<bool>,
    },
    Step(Box<DriverStep>),
    /// The key `upload_file()` returned, and whether the driver proved it is the run's own
    /// object (the key holds the run's id, or the object holds the test bytes).
    Object {
        key: String,
        #[serde(default)]
        owned: bool,
    },
    Cleanup(DriverCleanup),
    Done,
}

/// The settings the backend's `get_settings()` returned: values of everything but the
/// secret, and where each came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadedSettings {
    pub fields: std::collections::BTreeMap<String, LoadedField>,
    /// The .env files its pydantic-settings model reads (None: not such a model).
    pub env_files: Option<Vec<String>>,
    #[serde(default)]
    pub env_files_exist: Vec<bool>,
    #[serde(default)]
    pub origins: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub endpoint: std::collections::BTreeMap<String, Option<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadedField {
    pub set: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One of the seven steps as the driver saw it.
#[derive(Debug, Clone, Deserialize)]
pub struct DriverStep {
    pub number: u8,
    pub ok: bool,
    #[serde(default)]
    pub lines: Vec<DriverLine>,
    /// An exception the backend's code raised.
    pub error: Option<PythonError>,
    /// A wrong answer from the backend's code (no exception).
    pub problem: Option<Problem>,
}

/// A line a step printed, and whether it says the step did what it should ("Upload
/// successful!") or only tells something ("S3 Key: …"): the driver says which.
#[derive(Debug, Clone, Deserialize)]
pub struct DriverLine {
    pub ok: bool,
    pub text: String,
}

/// A wrong answer from the backend's code, as the driver names it (`"kind"` on the wire).
/// An answer of a kind this build does not know is `Unknown`, never a parse failure.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// Step 1: get_settings() left these upper-case names empty.
    Missing { missing: Vec<String> },
    /// Step 3: upload_file() returned no dict with `s3_key` (its answer, shortened).
    NoKey { returned: String },
    /// Step 3: the key returned is not the object just uploaded.
    ForeignKey { key: String, test_id: String },
    /// Step 4: download_file() returned other bytes (their type, and size when bytes).
    Mismatch { got: String, size: Option<u64> },
    /// Step 5: get_presigned_url() returned something that is not a URL.
    NotAUrl { returned: String },
    /// Step 5: the URL's host could not be reached.
    Unreachable { message: String, host: String },
    /// Step 5: S3 refused the URL.
    Refused {
        status: u16,
        #[serde(default)]
        body: String,
        bucket_region: Option<String>,
        #[serde(default)]
        host: String,
        #[serde(default)]
        path: String,
        #[serde(default)]
        key: String,
    },
    /// Step 7: file_exists() still says True after the delete.
    StillExists,
    #[serde(other)]
    Unknown,
}

/// An exception, with botocore's error fields when it is a ClientError.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PythonError {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    /// `storage/s3_client.py line 42 in download_file`: the innermost frame in the backend.
    #[serde(rename = "where")]
    pub location: Option<String>,
    pub code: Option<String>,
    pub aws_message: Option<String>,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub bucket_region: Option<String>,
    pub operation: Option<String>,
    pub module: Option<String>,
}

/// What the driver did with the test object after a failed step.
#[derive(Debug, Clone, Deserialize)]
pub struct DriverCleanup {
    pub key: String,
    pub bucket: Option<String>,
    pub deleted: bool,
    pub error: Option<String>,
}

/// How a driver run ended.
#[derive(Debug, Default)]
pub struct DriverRun {
    pub events: Vec<Event>,
    /// The end of what the backend printed on stderr (its own prints, a crash).
    pub stderr_tail: String,
    /// Set when the run was stopped: it took longer than the limit.
    pub timed_out: bool,
    pub exit_code: Option<i32>,
}

/// Runs the driver with the backend's interpreter in its folder, calling `on_event` for
/// each line as it arrives; stops it after `limit`.
/// `python -I -B -u -c`, started in a neutral folder (the temp folder): isolated mode puts
/// neither the working folder nor PYTHON* variables nor the user's site-packages on its
/// path, so a `json.py` in the project cannot stand in for the standard library's. The
/// driver itself adds the backend's folder to the path after its own imports.
fn isolated(python: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(python);
    if is_launcher(python) {
        command.arg("-3");
    }
    command.args(["-I", "-B", "-u", "-c"]).current_dir(std::env::temp_dir());
    command
}

/// `text` with every secret of `secrets` (4 characters or more) masked as `****`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().filter(|s| s.len() >= 4).fold(text.to_string(), |text, secret| text.replace(secret.as_str(), "****"))
}

/// Runs the driver. Every line it prints, on stdout or stderr, has `secrets` masked before
/// anything reads it: the backend's own errors may repeat a value it loaded.
pub async fn drive(
    backend: &Backend,
    test_id: &str,
    secrets: &[String],
    request_timeout: Duration,
    limit: Duration,
    mut on_event: impl FnMut(&Event),
) -> Result<DriverRun, String> {
    let mut child = isolated(&backend.python)
        .arg(DRIVER)
        .env("T3S3_BACKEND_DIR", std::path::absolute(&backend.dir).unwrap_or_else(|_| backend.dir.clone()))
        .env("T3S3_SETTINGS", &backend.settings)
        .env("T3S3_CLIENT", &backend.client)
        .env("T3S3_TEST_ID", test_id)
        .env("T3S3_TIMEOUT", request_timeout.as_secs().to_string())
        // The protocol's one table (crate::guide): the steps to run, the bytes, the settings.
        .env("T3S3_STEPS", crate::guide::STEPS.map(|step| step.name).join(","))
        .env("T3S3_TEST_CONTENT", String::from_utf8_lossy(crate::guide::TEST_CONTENT).as_ref())
        .env(
            "T3S3_FIELDS",
            crate::guide::FIELDS
                .map(|(field, secret)| if secret { format!("{field}!") } else { field.to_string() })
                .join(","),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("{} could not be started: {error}", backend.python.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let mut run = DriverRun::default();
    let read_events = async {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(event) = serde_json::from_str::<Event>(&redact(&line, secrets)) {
                on_event(&event);
                run.events.push(event);
            }
        }
    };
    let mut errors = Vec::new();
    let read_errors = stderr.read_to_end(&mut errors);
    let finished = tokio::time::timeout(limit, async { tokio::join!(read_events, read_errors) }).await;
    run.timed_out = finished.is_err();
    if run.timed_out {
        let _ = child.kill().await;
    }
    run.exit_code = child.wait().await.ok().and_then(|status| status.code());
    let text = redact(&String::from_utf8_lossy(&errors), secrets);
    let tail: Vec<&str> = text.lines().rev().take(12).collect();
    run.stderr_tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `StepFailed(..., {"kind": ...})` the driver can raise parses into a [`Problem`]:
    /// the two sides of the wire cannot drift apart unnoticed.
    #[test]
    fn every_problem_the_driver_sends_parses() {
        let mut kinds = Vec::new();
        for piece in DRIVER.split("{\"kind\": \"").skip(1) {
            kinds.push(piece.split('"').next().unwrap().to_string());
        }
        for piece in DRIVER.split("\"kind\": \"").skip(1) {
            kinds.push(piece.split('"').next().unwrap().to_string());
        }
        kinds.sort();
        kinds.dedup();
        assert!(kinds.len() >= 8, "{kinds:?}");
        let sample = |kind: &str| -> serde_json::Value {
            match kind {
                "missing" => serde_json::json!({"kind": kind, "missing": ["AWS_REGION"]}),
                "no_key" | "not_a_url" => serde_json::json!({"kind": kind, "returned": "None"}),
                "foreign_key" => serde_json::json!({"kind": kind, "key": "users/42/a.pdf", "test_id": "1-2"}),
                "mismatch" => serde_json::json!({"kind": kind, "got": "'str'", "size": null}),
                "unreachable" => serde_json::json!({"kind": kind, "message": "refused", "host": "h"}),
                "refused" => {
                    serde_json::json!({"kind": kind, "status": 403, "body": "", "bucket_region": null, "host": "h", "path": "p", "key": "k"})
                }
                _ => serde_json::json!({"kind": kind}),
            }
        };
        for kind in &kinds {
            let problem: Problem = serde_json::from_value(sample(kind)).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_ne!(problem, Problem::Unknown, "{kind} is sent by the driver but unknown to t3s3");
        }
        let unknown: Problem = serde_json::from_value(serde_json::json!({"kind": "new_kind"})).unwrap();
        assert_eq!(unknown, Problem::Unknown);
    }

    #[test]
    fn the_backend_folder_is_the_env_files_folder_unless_named() {
        assert_eq!(backend_dir(None, Some(Path::new("backend/.env"))), PathBuf::from("backend"));
        assert_eq!(backend_dir(None, Some(Path::new(".env"))), PathBuf::from("."));
        assert_eq!(backend_dir(None, None), PathBuf::from("."));
        assert_eq!(backend_dir(Some(Path::new("api")), Some(Path::new("backend/.env"))), PathBuf::from("api"));
    }

    #[test]
    fn windows_layouts_are_found_by_their_own_names() {
        assert!(is_launcher(Path::new("C:/Windows/py.exe")) && is_launcher(Path::new("/usr/bin/py")));
        assert!(!is_launcher(Path::new("venv/Scripts/python.exe")) && !is_launcher(Path::new("pypy3")));
        let venv = venv_python(Path::new("backend/venv"));
        let expected = if cfg!(windows) { "backend/venv/Scripts/python.exe" } else { "backend/venv/bin/python" };
        assert_eq!(venv, Path::new("backend/venv").join(expected.trim_start_matches("backend/venv/")));
    }

    #[test]
    fn a_venv_is_read_from_its_files_on_either_layout() {
        let dir = tempfile::tempdir().unwrap();
        for (bin, site) in [("Scripts", "Lib/site-packages"), ("bin", "lib/python3.12/site-packages")] {
            let venv = dir.path().join(bin);
            std::fs::create_dir_all(venv.join(bin)).unwrap();
            std::fs::create_dir_all(venv.join(site).join("boto3-1.40.1.dist-info")).unwrap();
            std::fs::create_dir_all(venv.join(site).join("botocore-1.40.1.dist-info")).unwrap();
            std::fs::write(venv.join("pyvenv.cfg"), "home = /usr\nversion_info = 3.12.4\n").unwrap();
            let facts = installed(&venv.join(bin).join("python")).unwrap();
            assert_eq!((facts.python.as_str(), facts.boto3.as_deref()), ("3.12.4", Some("1.40.1")), "{bin}");
            assert_eq!(facts.pydantic_settings, None);
        }
        assert!(installed(&dir.path().join("nothing/bin/python")).is_none(), "no pyvenv.cfg: cannot tell");
    }

    #[test]
    fn botocore_reads_aws_endpoint_url_from_1_31() {
        assert!(!honours_endpoint_env("1.30.9"));
        assert!(honours_endpoint_env("1.31.0"));
        assert!(honours_endpoint_env("1.44.8"));
        assert!(honours_endpoint_env("2.0"));
    }

    #[test]
    fn boto3_is_found_in_each_kind_of_dependency_file() {
        let yes = [
            ("requirements.txt", "fastapi\nboto3==1.44.8\n"),
            ("requirements.txt", "BOTO3\n"),
            ("requirements.txt", "boto3 >= 1.28 ; python_version >= '3.9'\n"),
            ("pyproject.toml", "dependencies = [\n  \"fastapi\",\n  \"boto3>=1.28\",\n]\n"),
            ("pyproject.toml", "[tool.poetry.dependencies]\nboto3 = \"^1.28\"\n"),
            ("Pipfile", "[packages]\nboto3 = \"*\"\n"),
        ];
        for (name, text) in yes {
            assert!(names_boto3(Path::new(name), text), "{name}: {text:?}");
        }
        let no = [
            ("requirements.txt", "# boto3\nfastapi\n"),
            ("requirements.txt", "boto3-stubs\n"),
            ("pyproject.toml", "name = \"boto3ish\"\n"),
            ("pyproject.toml", "[tool.x]\nboto3\n"),
        ];
        for (name, text) in no {
            assert!(!names_boto3(Path::new(name), text), "{name}: {text:?}");
        }
    }

    #[test]
    fn driver_events_parse() {
        let line = r#"{"event":"step","number":3,"ok":false,"lines":[],"error":{"type":"ClientError","message":"denied","where":"storage/s3_client.py line 9 in upload_file","code":"AccessDenied","status":403}}"#;
        let Event::Step(step) = serde_json::from_str(line).unwrap() else { panic!("not a step") };
        let error = step.error.unwrap();
        assert_eq!((error.code.as_deref(), error.status), (Some("AccessDenied"), Some(403)));
        assert_eq!(error.location.as_deref(), Some("storage/s3_client.py line 9 in upload_file"));
    }
}
