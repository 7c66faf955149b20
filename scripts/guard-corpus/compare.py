#!/usr/bin/env python3
"""Recall and false positives of `t3s3 guard` beside detect-secrets (its AWS plugin alone, and
every plugin) on tests/fixtures/guard-corpus.json, each scanner on the same files.

    .venv/bin/python scripts/guard-corpus/compare.py [PATH/TO/t3s3]

(scripts/bench-guard.sh builds t3s3 and runs this.) A sample counts as found when the scanner
reports anything in its file; the label is what the sample's own project asserts.
"""

import base64
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
T3S3 = sys.argv[1] if len(sys.argv) > 1 else str(REPO / "target" / "debug" / "t3s3")
DETECT_SECRETS = str(Path(sys.executable).parent / "detect-secrets")


def materialize(folder):
    corpus = json.loads((REPO / "tests" / "fixtures" / "guard-corpus.json").read_text())["samples"]
    names = []
    for index, sample in enumerate(corpus):
        name = f"sample-{index:03d}.txt"
        (folder / name).write_bytes(base64.b64decode(sample["text_b64"]))
        names.append(name)
    return corpus, names


def guard(folder, names):
    out = subprocess.run([T3S3, "guard", "--json", *names], cwd=folder, capture_output=True, text=True)
    return {finding["path"] for finding in json.loads(out.stdout)["findings"]}


def detect_secrets(folder, only_aws):
    args = [DETECT_SECRETS, "scan", "--all-files", "."]
    if only_aws:
        plugins = subprocess.run([DETECT_SECRETS, "scan", "--list-all-plugins"], capture_output=True, text=True)
        for plugin in plugins.stdout.split():
            if plugin != "AWSKeyDetector":
                args += ["--disable-plugin", plugin]
    out = subprocess.run(args, cwd=folder, capture_output=True, text=True, check=True)
    return {Path(path).name for path in json.loads(out.stdout)["results"]}


def score(corpus, names, flagged, stand_ins_are_clean):
    def label(sample):
        return "clean" if stand_ins_are_clean and sample["stand_in"] else sample["label"]

    secrets = [n for s, n in zip(corpus, names) if label(s) == "secret"]
    clean = [n for s, n in zip(corpus, names) if label(s) == "clean"]
    return sum(n in flagged for n in secrets), len(secrets), sum(n in flagged for n in clean), len(clean)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corpus, names = materialize(folder)
        runs = []
        for name, run in [
            ("t3s3 guard", lambda: guard(folder, names)),
            ("detect-secrets, AWSKeyDetector only", lambda: detect_secrets(folder, True)),
            ("detect-secrets, every plugin", lambda: detect_secrets(folder, False)),
        ]:
            started = time.perf_counter()
            flagged = run()
            runs.append((name, flagged, time.perf_counter() - started))
        stand_ins = sum(s["stand_in"] for s in corpus)
        repos = sorted({s["source"]["repo"] for s in corpus})
        print(f"corpus: {len(corpus)} samples of the AWS tests of {', '.join(repos)}")
        for title, stand_ins_are_clean in [
            ("labels as each project's own test asserts them", False),
            (f"the same, with the {stand_ins} stand-ins (AWS's EXAMPLE key, FAKE/SAMPLE/TEST/DUMMY, a run of one character) as clean", True),
        ]:
            print(f"\n{title}:")
            print(f"{'scanner':<38} {'secrets found':>14} {'recall':>7} {'false positives':>16} {'time':>8}")
            for name, flagged, took in runs:
                found, secrets, fps, clean = score(corpus, names, flagged, stand_ins_are_clean)
                print(f"{name:<38} {found:>7} of {secrets:<4} {found / secrets:>7.0%} {fps:>8} of {clean:<5} {took:>7.2f}s")


main()
