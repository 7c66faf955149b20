#!/usr/bin/env python3
"""guard at scale: a staged change of 10,000 files, and a history of 10,000 commits, in
throwaway repositories; guard's time beside detect-secrets' on the same files.

    .venv/bin/python scripts/guard-corpus/scale.py [PATH/TO/t3s3] [COUNT]

The files are small Python modules; one in a thousand holds an AWS key pair, so both
scanners have something to find. detect-secrets has no history mode: for the history, it
scans the final tree (10,000 files) while guard reads every version of every commit.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
T3S3 = sys.argv[1] if len(sys.argv) > 1 else str(REPO / "target" / "release" / "t3s3")
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
DETECT_SECRETS = str(Path(sys.executable).parent / "detect-secrets")
SECRET = "k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9W"  # + two characters per file, below


def module(index):
    if index % 1000 == 0:
        return f'aws_access_key_id = "AKIA2OGYBAH6TQ4X{index % 10000:04d}"\naws_secret_access_key = "{SECRET}{index % 100:02d}"\n'.replace(
            "0", "7"
        )
    return f'"""Module {index}."""\n\ndef handler_{index}(event):\n    return {{"status": 200, "id": {index}}}\n'


def git(folder, *args, **kwargs):
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@e", *args], check=True, **kwargs)


def timed(args, cwd):
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, capture_output=True)
    return time.perf_counter() - started


def staged(folder):
    git(folder, "init", "-q")
    for index in range(COUNT):
        (folder / f"pkg{index // 1000}").mkdir(exist_ok=True)
        (folder / f"pkg{index // 1000}" / f"m{index}.py").write_text(module(index))
    git(folder, "add", ".")
    return timed([T3S3, "guard"], folder), timed([DETECT_SECRETS, "scan", "--all-files", "."], folder)


def history(folder):
    git(folder, "init", "-q")
    stream = []
    for index in range(COUNT):
        data = module(index).encode()
        stream.append(f"commit refs/heads/main\ncommitter t <t@e> {1700000000 + index} +0000\ndata 2\nc\n")
        stream.append(f"M 100644 inline pkg{index // 1000}/m{index}.py\ndata {len(data)}\n")
        stream.append(data.decode() + "\n")
    git(folder, "fast-import", "--quiet", input="".join(stream).encode())
    git(folder, "symbolic-ref", "HEAD", "refs/heads/main")
    git(folder, "checkout", "-q", "-f", "main")
    return timed([T3S3, "guard", "--history"], folder), timed([DETECT_SECRETS, "scan", "--all-files", "."], folder)


def main():
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        ours, theirs = staged(Path(one))
        print(f"staged change of {COUNT} files:   t3s3 guard {ours:6.2f} s   detect-secrets scan {theirs:6.2f} s   ({theirs / ours:.0f}x)")
        ours, theirs = history(Path(two))
        print(f"history of {COUNT} commits:       t3s3 guard --history {ours:6.2f} s   detect-secrets (final tree only) {theirs:6.2f} s")


main()
