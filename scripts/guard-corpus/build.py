#!/usr/bin/env python3
"""Rebuilds tests/fixtures/guard-corpus.json: the AWS samples of other secret scanners' own
public test data, each with its provenance (repository, commit, path, line) and what that
project's test asserts (a secret to find, or a clean sample to pass).

    python3 scripts/guard-corpus/build.py MIRRORS_DIR

MIRRORS_DIR holds bare-or-normal git clones named OWNER+NAME/repo (gitleaks/gitleaks,
Yelp/detect-secrets, trufflesecurity/trufflehog); the commits below are read with `git show`,
so the corpus is the same whatever those clones' HEADs are. Sample texts are stored base64
encoded: they hold real-looking keys, and no push-time scanner should trip on this repository.
Nothing from those projects runs here; only their test inputs are cut.
"""

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

SOURCES = {
    "gitleaks/gitleaks": "b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b",
    "Yelp/detect-secrets": "5e141933554a0b74e7341841f318be21e895339c",
    "trufflesecurity/trufflehog": "3ab759fef4bb5935d4fe9ac68b503d05346b8364",
}


def show(mirrors, repo, path):
    git_dir = Path(mirrors) / repo.replace("/", "+") / "repo"
    return subprocess.run(
        ["git", "-C", str(git_dir), "show", f"{SOURCES[repo]}:{path}"], check=True, capture_output=True, text=True
    ).stdout


def line_of(text, needle):
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def stand_in(text):
    """A stand-in by the rule t3s3 follows (issue 25, "what not to catch"): every key-shaped
    token in it is AWS's documentation example or a prefix and a run of one character."""
    ids = re.findall(r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])([A-Z0-9]{16})", text)
    secrets = re.findall(r"[A-Za-z0-9/+]{40}", text)
    if not ids and not secrets:
        return False
    runs = all(len(set(suffix)) == 1 for suffix in ids)
    examples = all("EXAMPLE" in s for s in secrets)
    return runs and examples


def sample(repo, path, line, label, upstream, text):
    return {
        "source": {"repo": repo, "commit": SOURCES[repo], "path": path, "line": line},
        "label": label,
        "upstream": upstream,
        "stand_in": stand_in(text),
        "text_b64": base64.b64encode(text.encode()).decode(),
    }


def go_string(literal):
    """A Go string literal: `raw` or "interpreted" (the escapes the templates use)."""
    if literal.startswith("`"):
        return literal[1:-1]
    return json.loads(literal)


def gitleaks(mirrors):
    """aws-access-token: every shape GenerateSampleSecrets wraps its true positive in, and the
    rule's false positives."""
    repo = "gitleaks/gitleaks"
    generate_path = "cmd/generate/config/utils/generate.go"
    generate = show(mirrors, repo, generate_path)
    body = generate[generate.index("func GenerateSampleSecrets") :]
    body = body[: body.index("\n}\n")]
    rule_path = "cmd/generate/config/rules/aws.go"
    rule = show(mirrors, repo, rule_path)
    secret = re.search(r'GenerateSampleSecrets\("AWS", "(AKIA[A-Z0-9]{16})"\)', rule).group(1)
    found = []
    for match in re.finditer(r'^\s*"([^"]+)":\s*("(?:[^"\\]|\\.)*"|`[^`]*`),\s*$', body, re.M):
        name, template = match.group(1), go_string(match.group(2))
        text = template.replace("{i}", "aws").replace("{I}", "AWS").replace("{s}", secret)
        line = line_of(generate, match.group(0).strip())
        found.append(sample(repo, generate_path, line, "secret", f"aws-access-token finds it ({name})", text + "\n"))
    fps = rule[rule.index("fps := []string{") : rule.index("return utils.Validate(r, tps, fps)")]
    for match in re.finditer(r"^\t\t(`[^`]*`|\"(?:[^\"\\]|\\.)*\"),", fps, re.M):
        text = go_string(match.group(1))
        found.append(sample(repo, rule_path, line_of(rule, match.group(1)[:40]), "clean", "aws-access-token passes it", text + "\n"))
    return found


def detect_secrets(mirrors):
    """AWSKeyDetector's test_analyze cases: (line, should_flag)."""
    repo, path = "Yelp/detect-secrets", "tests/plugins/aws_key_test.py"
    source = show(mirrors, repo, path)
    example = re.search(r"EXAMPLE_SECRET = '([^']+)'", source).group(1)
    start = source.index("'line,should_flag',")
    block = source[source.index("[", start) : source.index("],\n    )\n    def test_analyze", start) + 1]
    cases = eval(block, {"__builtins__": {}}, {"EXAMPLE_SECRET": example})  # their literal test table
    found = []
    for line, should_flag in cases:
        label = "secret" if should_flag else "clean"
        upstream = "AWSKeyDetector flags it" if should_flag else "AWSKeyDetector passes it"
        found.append(sample(repo, path, line_of(source, "(\n                " + repr(line)[:20]) or line_of(source, "'line,should_flag'"), label, upstream, line + "\n"))
    return found


def trufflehog(mirrors):
    """The AWS detectors' pattern tests: an input, and the results they want (none: clean)."""
    repo = "trufflesecurity/trufflehog"
    found = []
    for path in ["pkg/detectors/aws/access_keys/accesskey_test.go", "pkg/detectors/aws/session_keys/sessionkeys_test.go"]:
        source = show(mirrors, repo, path)
        pattern = source[source.index("_Pattern(t *testing.T)") :]
        for match in re.finditer(r'name:\s*"([^"]*)",\s*input:\s*`([^`]*)`,\s*want:\s*(nil|\[\]string)', pattern):
            name, text, want = match.groups()
            label = "clean" if want == "nil" else "secret"
            upstream = f"{path.split('/')[3]} {'finds nothing in' if label == 'clean' else 'finds'} {name!r}"
            found.append(sample(repo, path, line_of(source, match.group(0)[:30]), label, upstream, text))
    return found


def main():
    mirrors = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror"
    corpus = gitleaks(mirrors) + detect_secrets(mirrors) + trufflehog(mirrors)
    out = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "guard-corpus.json"
    header = {
        "about": "AWS samples of other scanners' public test data; rebuilt by scripts/guard-corpus/build.py",
        "sources": SOURCES,
        "samples": corpus,
    }
    out.write_text(json.dumps(header, indent=1) + "\n")
    secrets = sum(1 for s in corpus if s["label"] == "secret")
    print(f"{len(corpus)} samples ({secrets} secrets, {len(corpus) - secrets} clean) -> {out}")


main()
