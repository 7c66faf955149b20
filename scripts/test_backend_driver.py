#!/usr/bin/env python3
"""Unit tests of the backend driver's functions (src/backend_driver.py), with no backend and
no network: the driver is imported (its main() runs only as a script) with the environment
t3s3 gives it. tests/it/shape.rs runs this with the test venv's Python (python-dotenv in it).

    .venv/bin/python scripts/test_backend_driver.py
"""

import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
BACKEND = tempfile.mkdtemp(prefix="t3s3-driver-test-")
os.environ.update(
    T3S3_BACKEND_DIR=BACKEND,
    T3S3_TEST_ID="18a3f00-1c2",
    T3S3_STEPS="environment,connection,upload,download,presigned_url,delete,confirm_deletion",
    T3S3_TEST_CONTENT="Hello, this is a test file for T3 Chat S3 setup!",
    T3S3_FIELDS="aws_access_key_id,aws_secret_access_key!,aws_region,s3_bucket_name",
    AWS_SECRET_ACCESS_KEY="k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0",
)
_stdout = sys.stdout
SPEC = importlib.util.spec_from_file_location("backend_driver", HERE.parent / "src" / "backend_driver.py")
driver = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(driver)
sys.stdout = _stdout  # the driver sends prints to stderr when it loads


def events(run):
    """The JSON lines `run()` emits."""
    out = io.StringIO()
    driver.OUT, saved = out, driver.OUT
    try:
        run()
    finally:
        driver.OUT = saved
    return [json.loads(line) for line in out.getvalue().splitlines()]


class Protocol(unittest.TestCase):
    def test_the_table_comes_from_t3s3(self):
        self.assertEqual(driver.FIELDS, ["aws_access_key_id", "aws_secret_access_key", "aws_region", "s3_bucket_name"])
        self.assertEqual(driver.SECRET_FIELDS, {"aws_secret_access_key"})
        self.assertEqual(driver.CONTENT, b"Hello, this is a test file for T3 Chat S3 setup!")
        for name in driver.STEPS:
            self.assertTrue(callable(getattr(driver.Run, name)), name)

    def test_a_step_emits_its_marked_lines_or_its_failure(self):
        run = driver.Run()
        said = events(lambda: run.step(3, lambda: [driver.ok("Upload successful!"), driver.info("S3 Key: k")]))
        self.assertEqual(
            said[0]["lines"], [{"ok": True, "text": "Upload successful!"}, {"ok": False, "text": "S3 Key: k"}]
        )
        self.assertTrue(said[0]["ok"])

        def wrong():
            raise driver.StepFailed([driver.info("x")], {"kind": "no_key", "returned": "None"})

        said = events(lambda: run.step(3, wrong))
        self.assertEqual((said[0]["ok"], said[0]["problem"]["kind"]), (False, "no_key"))

        def raises():
            raise KeyError("s3_key")

        said = events(lambda: run.step(3, raises))
        self.assertEqual(said[0]["error"]["type"], "KeyError")


class Secrets(unittest.TestCase):
    def test_known_secrets_and_pydantic_input_values_are_masked(self):
        secret = os.environ["AWS_SECRET_ACCESS_KEY"]
        self.assertEqual(driver.redact(f"key {secret} refused"), "key **** refused")
        text = "1 validation error: input_value='hunter22', input_type=str"
        self.assertEqual(driver.redact(text), "1 validation error: input_value='****', input_type=str")
        said = events(lambda: driver.emit("step", lines=[driver.info(f"secret={secret}")]))
        self.assertNotIn(secret, json.dumps(said))


class Errors(unittest.TestCase):
    def raise_in(self, relative):
        """An exception raised from a file at `relative` under the backend's folder."""
        path = Path(BACKEND) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("def boom():\n    raise ValueError('no bucket')\n")
        namespace = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        try:
            namespace["boom"]()
        except ValueError as error:
            return error
        raise AssertionError("boom() did not raise")

    def test_where_names_the_backends_own_file_never_its_venv(self):
        error = self.raise_in("storage/s3_client.py")
        self.assertEqual(driver.where(error.__traceback__), "storage/s3_client.py line 2 in boom")
        (Path(BACKEND) / "venv").mkdir(exist_ok=True)
        (Path(BACKEND) / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        inside = self.raise_in("venv/lib/python3.11/site-packages/botocore/client.py")
        self.assertIsNone(driver.where(inside.__traceback__))

    def test_a_client_error_is_described_with_awss_own_fields(self):
        class ClientError(Exception):
            operation_name = "HeadBucket"
            response = {
                "Error": {"Code": "403", "Message": "Forbidden"},
                "ResponseMetadata": {"HTTPStatusCode": 403, "RequestId": "R1", "HTTPHeaders": {}},
            }

        try:
            raise ClientError("An error occurred (403) when calling the HeadBucket operation: Forbidden")
        except ClientError as error:
            found = driver.describe(error)
        self.assertEqual(
            (found["type"], found["code"], found["status"], found["operation"]),
            ("ClientError", "403", 403, "HeadBucket"),
        )
        self.assertIn("HeadBucket", found["message"])
        self.assertIsNone(found["where"], "raised from the test, not the backend")


class Settings(unittest.TestCase):
    def test_origins_name_the_file_load_dotenv_copied_and_the_environment(self):
        env = Path(BACKEND) / ".env"
        env.write_text("AWS_REGION=ap-south-1\nS3_BUCKET_NAME=from-file\n")

        class Model:
            model_config = {"env_file": str(env)}

        saved = dict(os.environ)
        try:
            os.environ["AWS_REGION"] = "ap-south-1"  # as load_dotenv copies it
            os.environ["AWS_ACCESS_KEY_ID"] = "AKIA2OGYBAH6TQ4XLGMK"  # exported in the shell
            del os.environ["AWS_SECRET_ACCESS_KEY"]  # set nowhere: the model's default
            found = driver.origins(Model(), [str(env)])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.assertEqual(found["aws_region"], str(env))
        self.assertEqual(found["aws_access_key_id"], "environment")
        self.assertEqual(found["s3_bucket_name"], str(env))
        self.assertEqual(found["aws_secret_access_key"], "default")
        self.assertEqual(driver.origins(object(), None)["s3_bucket_name"], "config.py (not a pydantic-settings model)")

    def test_env_files_resolve_a_models_files_from_the_backends_folder(self):
        class Model:
            model_config = {"env_file": ".env"}

        self.assertEqual(driver.env_files(Model()), [os.path.abspath(".env")])
        self.assertIsNone(driver.env_files(object()))


class Clients(unittest.TestCase):
    def test_resolve_calls_a_factory_and_takes_an_instance_as_it_is(self):
        module = Path(BACKEND) / "t3s3_fixture_settings.py"
        module.write_text("class Settings:\n    region = 'ap-south-1'\n\nsettings = Settings()\n")
        sys.path.insert(0, BACKEND)
        try:
            os.environ["T3S3_X"] = "t3s3_fixture_settings:Settings"
            self.assertEqual(driver.resolve("T3S3_X", "nope:nope").region, "ap-south-1")
            os.environ["T3S3_X"] = "t3s3_fixture_settings:settings"
            self.assertEqual(driver.resolve("T3S3_X", "nope:nope").region, "ap-south-1")
        finally:
            sys.path.remove(BACKEND)
            del os.environ["T3S3_X"]

    def test_has_token_reads_the_signing_credentials_or_says_it_cannot_tell(self):
        class Frozen:
            def __init__(self, token):
                self.token = token

        class Credentials:
            def __init__(self, token):
                self.token = token

            def get_frozen_credentials(self):
                return Frozen(self.token)

        def client(credentials):
            signer = type("Signer", (), {"_credentials": credentials})()
            return type("Client", (), {"_request_signer": signer})()

        self.assertTrue(driver.has_token(client(Credentials("IQoJb3JpZ2luX2Vj"))))
        self.assertFalse(driver.has_token(client(Credentials(None))))
        self.assertIsNone(driver.has_token(client(None)))
        self.assertIsNone(driver.has_token(object()))


if __name__ == "__main__":
    unittest.main()
