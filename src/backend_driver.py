"""t3s3's backend driver: the guide's seven-step test (section 8.1), run through the
backend's own settings and S3 client (`config.get_settings()` and
`storage.s3_client.get_s3_client()` in the guide's layout; T3S3_SETTINGS and T3S3_CLIENT name
them as MODULE:ATTR, docs/backend-interface.md).

t3s3 runs this with the backend's interpreter, from the backend's folder, as
`python -c <this file>`; it is never written into the project. Each event is one JSON
line on stdout; the backend's own prints go to stderr. Never prints a secret.
Arguments (environment): T3S3_BACKEND_DIR, T3S3_TEST_ID, and the protocol's one table, kept
in t3s3 (src/guide.rs): T3S3_STEPS (the step names, in order: each is a method of Run),
T3S3_TEST_CONTENT (the bytes uploaded) and T3S3_FIELDS (the settings step 1 checks; a
trailing `!` marks a secret, whose value is never shown).
"""

import json
import os
import re
import sys
import traceback

OUT = sys.stdout
sys.stdout = sys.stderr  # whatever the backend prints must not break the JSON lines

BACKEND = os.path.abspath(os.environ.get("T3S3_BACKEND_DIR", "."))
TEST_ID = os.environ["T3S3_TEST_ID"]  # unique to this run; the test object's key holds it
STEPS = os.environ["T3S3_STEPS"].split(",")
CONTENT = os.environ["T3S3_TEST_CONTENT"].encode()
FIELDS = [f.rstrip("!") for f in os.environ["T3S3_FIELDS"].split(",")]
SECRET_FIELDS = {f.rstrip("!") for f in os.environ["T3S3_FIELDS"].split(",") if f.endswith("!")}


# Secret values this run knows of; every line it prints has them masked. t3s3 masks the
# values it knows as well (the .env's), so a secret the backend loaded from elsewhere is
# covered here and one that never reached a settings object is covered there.
SECRETS = set()
for _name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    if os.environ.get(_name):
        SECRETS.add(os.environ[_name])
# pydantic's errors repeat the rejected value: `input_value='...'` (any field may be a secret).
INPUT_VALUE = re.compile(r"input_value=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,\]\s]+)")


def ok(text):
    """A line saying the step did what it should."""
    return {"ok": True, "text": text}


def info(text):
    """A line that only tells something."""
    return {"ok": False, "text": text}


def redact(text):
    text = INPUT_VALUE.sub("input_value='****'", text)
    for secret in SECRETS:
        if len(secret) >= 4:
            text = text.replace(secret, "****")
    return text


def emit(event, **fields):
    fields["event"] = event
    OUT.write(redact(json.dumps(fields, default=str)) + "\n")
    OUT.flush()


def where(tb):
    """The innermost frame of the backend's own code: `storage/s3_client.py line 42 in f`;
    never a file of a venv or site-packages inside the backend's folder."""
    found = None
    for frame in traceback.extract_tb(tb):
        path = os.path.abspath(frame.filename)
        parts = path.split(os.sep)
        installed = (
            "site-packages" in parts
            or "dist-packages" in parts
            or any(os.path.isfile(os.sep.join(parts[:i] + ["pyvenv.cfg"])) for i in range(1, len(parts)))
        )
        if path.startswith(BACKEND + os.sep) and not installed:
            found = f"{os.path.relpath(path, BACKEND)} line {frame.lineno} in {frame.name}"
    return found


def describe(error):
    """An exception as t3s3 reads it; botocore's ClientError with AWS's own fields."""
    found = {"type": type(error).__name__, "message": str(error)[:2000], "where": where(error.__traceback__)}
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        meta = response.get("ResponseMetadata", {}) or {}
        headers = meta.get("HTTPHeaders", {}) or {}
        err = response.get("Error", {}) or {}
        found.update(
            code=err.get("Code"),
            aws_message=err.get("Message"),
            status=meta.get("HTTPStatusCode"),
            request_id=meta.get("RequestId"),
            bucket_region=headers.get("x-amz-bucket-region") or err.get("Region"),
            operation=getattr(error, "operation_name", None),
        )
    if isinstance(error, ModuleNotFoundError):
        found["module"] = error.name
    return found


def versions():
    found = {"python": sys.version.split()[0], "executable": sys.executable}
    for name in ("boto3", "botocore", "pydantic_settings"):
        try:
            module = __import__(name)
            found[name] = getattr(module, "__version__", "?")
        except Exception:  # noqa: BLE001 - a broken package is reported as missing
            found[name] = None
    return found


def env_files(settings):
    """The .env file(s) a pydantic-settings model reads, resolved from the backend's folder."""
    config = getattr(type(settings), "model_config", None)
    if not isinstance(config, dict) or "env_file" not in config:
        return None
    files = config.get("env_file")
    if files is None:
        return []
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    return [os.path.abspath(os.fspath(f)) for f in files]


def dotenv_files(files):
    """The .env files the backend may read: its settings model's, and those `load_dotenv`
    finds by itself (the backend's folder and the one above)."""
    candidates = list(files or []) + [os.path.join(BACKEND, ".env"), os.path.join(os.path.dirname(BACKEND), ".env")]
    seen = []
    for path in candidates:
        if os.path.isfile(path) and path not in seen:
            seen.append(path)
    return seen


def file_values(paths):
    """Each variable of those files (lower-case name) -> (value, path); the first file wins."""
    found = {}
    try:
        from dotenv import dotenv_values
    except Exception:  # noqa: BLE001 - without python-dotenv no file is read
        return found
    for path in paths:
        try:
            for name, value in dotenv_values(path).items():
                found.setdefault(name.lower(), (value, path))
        except Exception:  # noqa: BLE001, S110 - an unreadable file holds no value
            pass
    return found


def origins(settings, files):
    """Where each field's value came from, as pydantic-settings resolves it. A variable in the
    environment whose value one of the .env files holds came from that file (`load_dotenv`
    copies a file into the environment)."""
    in_files = file_values(dotenv_files(files))
    values = {}  # the settings model's own files: a later file wins, as in pydantic-settings
    for path in [f for f in files or [] if os.path.isfile(f)]:
        values.update({name: path for name in file_values([path])})
    found = {}
    for field in FIELDS:
        in_environment = [value for name, value in os.environ.items() if name.lower() == field]
        if in_environment and field in in_files and in_files[field][0] == in_environment[0]:
            found[field] = in_files[field][1]
        elif in_environment:
            found[field] = "environment"
        elif field in values:
            found[field] = values[field]
        elif files is None:
            found[field] = "config.py (not a pydantic-settings model)"
        else:
            found[field] = "default"
    return found


def botocore_clients(s3_client):
    """The botocore client(s) the backend's object holds, and its bucket attribute."""
    clients = []
    for value in vars(s3_client).values() if hasattr(s3_client, "__dict__") else []:
        meta = getattr(value, "meta", None)
        if meta is not None and hasattr(meta, "endpoint_url") and hasattr(value, "delete_object"):
            clients.append(value)
    return clients


def has_token(client):
    """Whether the credentials a botocore client signs with carry a session token (never the
    token itself); None when it cannot tell."""
    try:
        credentials = client._request_signer._credentials
        if credentials is None:
            return None
        return bool(credentials.get_frozen_credentials().token)
    except Exception:  # noqa: BLE001 - botocore internals: None means "cannot tell"
        return None


def resolve(variable, default):
    """The object `MODULE:ATTR` in `variable` names (t3s3 found it, or --settings/--client gave
    it), called when it is a function or class: `get_settings()`, `S3Client()`."""
    module_name, attr = os.environ.get(variable, default).split(":", 1)
    import importlib

    found = getattr(importlib.import_module(module_name), attr)
    return found() if callable(found) else found


class Run:
    def __init__(self):
        self.settings = None
        self.client = None
        self.key = None
        # Only an object this run can prove it wrote is ever deleted: its key holds the
        # run's unique id, or its bytes are the test content.
        self.owned = False
        self.confirmed = False

    def step(self, number, body):
        try:
            lines = body()
        except StepFailed as failed:
            emit("step", number=number, ok=False, lines=failed.lines, problem=failed.problem)
            return False
        except BaseException as error:  # noqa: BLE001 - the backend's code may raise anything
            emit("step", number=number, ok=False, lines=[], error=describe(error))
            return False
        emit("step", number=number, ok=True, lines=lines)
        return True

    def environment(self):
        self.settings = resolve("T3S3_SETTINGS", "config:get_settings")
        secret = getattr(self.settings, "aws_secret_access_key", None)
        secret = getattr(secret, "get_secret_value", lambda: secret)()  # pydantic's SecretStr
        if isinstance(secret, str) and secret:
            SECRETS.add(secret)
        files = env_files(self.settings)
        shown = {}
        for field in FIELDS:
            value = getattr(self.settings, field, None)
            shown[field] = {"set": bool(value)}
            if field not in SECRET_FIELDS and value is not None:
                shown[field]["value"] = str(value)
        endpoint = {
            "AWS_ENDPOINT_URL (environment)": os.environ.get("AWS_ENDPOINT_URL"),
        }
        for name in dir(self.settings):
            if "endpoint" in name.lower() and not name.startswith("_"):
                value = getattr(self.settings, name, None)
                if value is None or isinstance(value, str):
                    endpoint[f"settings.{name}"] = value
        emit(
            "settings",
            fields=shown,
            env_files=files,
            env_files_exist=[os.path.isfile(f) for f in files or []],
            origins=origins(self.settings, files),
            endpoint=endpoint,
        )
        missing = [f.upper() for f in FIELDS if not shown[f]["set"]]
        if missing:
            raise StepFailed([], {"kind": "missing", "missing": missing})
        return [
            info(f"Region: {self.settings.aws_region}"),
            info(f"Bucket: {self.settings.s3_bucket_name}"),
        ]

    def connection(self):
        self.client = resolve("T3S3_CLIENT", "storage.s3_client:get_s3_client")
        clients = botocore_clients(self.client)
        if clients:
            meta = clients[0].meta
            emit("client", endpoint_url=meta.endpoint_url, region=meta.region_name, session_token=has_token(clients[0]))
        return [ok("S3 client created successfully")]

    def upload(self):
        result = self.client.upload_file(
            file_content=CONTENT,
            filename="test_file.txt",
            user_id="t3s3_selftest",
            conversation_id=TEST_ID,
            document_id="test_document",
            content_type="text/plain",
        )
        if not isinstance(result, dict) or not result.get("s3_key"):
            raise StepFailed([], {"kind": "no_key", "returned": repr(result)[:200]})
        self.key = str(result["s3_key"])
        self.owned = TEST_ID in self.key or self.holds_test_content(self.key)
        emit("object", key=self.key, owned=self.owned)
        if not self.owned:
            raise StepFailed([], {"kind": "foreign_key", "key": self.key, "test_id": TEST_ID})
        return [ok("Upload successful!"), info(f"S3 Key: {self.key}")]

    def holds_test_content(self, key):
        """Whether `key` holds exactly the bytes this run uploaded (read, never changed)."""
        try:
            return self.client.download_file(key) == CONTENT
        except BaseException:  # noqa: BLE001 - any failure means "not the test bytes"
            return False

    def download(self):
        downloaded = self.client.download_file(self.key)
        if downloaded != CONTENT:
            size = len(downloaded) if isinstance(downloaded, (bytes, bytearray)) else None
            raise StepFailed([], {"kind": "mismatch", "got": repr(type(downloaded).__name__), "size": size})
        return [ok("Download successful! Content matches.")]

    def presigned_url(self):
        import urllib.error
        import urllib.request

        url = self.client.get_presigned_url(self.key, expiration=60)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise StepFailed([], {"kind": "not_a_url", "returned": repr(url)[:200]})
        lines = [ok("Presigned URL generated!"), info(f"URL (valid for 60 seconds): {url[:80]}...")]
        try:
            with urllib.request.urlopen(url, timeout=float(os.environ.get("T3S3_TIMEOUT", "20"))) as answer:
                status, body, headers = answer.status, answer.read(), answer.headers
        except urllib.error.HTTPError as error:
            status, body, headers = error.code, error.read(), error.headers
        except Exception as error:  # noqa: BLE001 - any failure to fetch is reported
            raise StepFailed(
                lines, {"kind": "unreachable", "message": str(error)[:500], "host": url.split("/")[2]}
            ) from error
        if status == 200 and body == CONTENT:
            return lines + [ok("Fetched over HTTP: content matches.")]
        raise StepFailed(
            lines,
            {
                "kind": "refused",
                "status": status,
                "body": body[:2000].decode("utf-8", "replace"),
                "bucket_region": headers.get("x-amz-bucket-region"),
                "host": url.split("/")[2],
                "path": url.split("?")[0].split("/", 3)[-1],
                "key": self.key,
            },
        )

    def delete(self):
        if not self.owned:  # unreachable: upload() fails first; kept as the rule's second lock
            raise StepFailed([], {"kind": "foreign_key", "key": self.key, "test_id": TEST_ID})
        self.client.delete_file(self.key)
        return [ok("File deleted successfully!")]

    def confirm_deletion(self):
        if self.client.file_exists(self.key):
            raise StepFailed([], {"kind": "still_exists"})
        self.confirmed = True
        return [ok("File no longer exists (deletion confirmed)")]

    def clean_up(self):
        """Deletes the test object with the backend's own boto3 client, then checks."""
        if self.key is None or self.confirmed or not self.owned:
            return
        bucket = getattr(self.client, "bucket_name", None) or getattr(self.settings, "s3_bucket_name", None)
        clients = botocore_clients(self.client) if self.client is not None else []
        if not clients or not bucket:
            emit("cleanup", key=self.key, deleted=False, bucket=bucket, how=None, error="no boto3 client found")
            return
        client = clients[0]
        try:
            client.delete_object(Bucket=bucket, Key=self.key)
            try:
                client.head_object(Bucket=bucket, Key=self.key)
                emit("cleanup", key=self.key, bucket=bucket, deleted=False, how="boto3", error="still there")
            except Exception as error:  # noqa: BLE001 - HeadObject's 404 is the answer wanted
                gone = getattr(error, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")
                emit(
                    "cleanup",
                    key=self.key,
                    bucket=bucket,
                    deleted=gone,
                    how="boto3",
                    error=None if gone else str(error)[:500],
                )
        except Exception as error:  # noqa: BLE001 - cleanup reports, never raises
            emit("cleanup", key=self.key, bucket=bucket, deleted=False, how="boto3", error=str(error)[:500])


class StepFailed(Exception):
    def __init__(self, lines, problem):
        super().__init__(problem.get("kind"))
        self.lines = lines
        self.problem = problem


def main():
    sys.path.insert(0, BACKEND)
    os.chdir(BACKEND)
    emit("python", **versions())
    run = Run()
    try:
        for number, name in enumerate(STEPS, start=1):
            if not run.step(number, getattr(run, name)):
                break
    finally:
        run.clean_up()
        emit("done")


if __name__ == "__main__":
    main()
