#!/usr/bin/env python3
"""Rebuilds tests/fixtures/guard-corpus.json: the AWS samples of other secret scanners' own
public test data, each with its provenance (repository, commit, path, line) and what that
project's test asserts (a secret to find, or a clean sample to pass).

    python3 scripts/guard-corpus/build.py MIRRORS_DIR

MIRRORS_DIR holds bare-or-normal git clones named OWNER+NAME/repo (one for each of SOURCES
below; PyYAML, from the test venv, reads two of them); the commits below are read with `git show`,
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
    "praetorian-inc/noseyparker": "2e6e7f36ce36619852532bbe698d8cb7a26d2da7",
    "Samsung/CredSweeper": "1ed2ca5cdd480667b938024464a37589b9af8564",
    "Skyscanner/whispers": "5832bf74dcb127128ba653ed87601c927124b5aa",
    "semgrep/semgrep-rules": "157ae4706d7f54aa33647332f234dd68f30da195",
    "sirwart/ripsecrets": "416e9d04d6ba8941fc3106bf986b6c8aa875767e",
    "SonarSource/sonar-text": "bb9c06ece15cbc4aad5dcd3ebb80b8ea31a9386c",
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
    token in it is a placeholder: it says what it is (EXAMPLE, SAMPLE, TEST, FAKE, DUMMY), or it
    is a run (a key id's 16 characters one repeated; a 40-character secret of three characters
    or fewer, `aaaa…`)."""
    ids = re.findall(r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])([A-Z0-9]{16})", text)
    secrets = re.findall(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])", text)
    if not ids and not secrets:
        return False
    words = ("EXAMPLE", "SAMPLE", "TEST", "FAKE", "DUMMY")
    id_stand_in = all(len(set(suffix)) == 1 or any(w in suffix for w in words) for suffix in ids)
    secret_stand_in = all(any(w in s.upper() for w in words) or len(set(s)) <= 3 for s in secrets)
    return id_stand_in and secret_stand_in


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


def noseyparker(mirrors):
    """The AWS credential rules' `examples` (each must match) and `negative_examples`."""
    import yaml

    repo, path = "praetorian-inc/noseyparker", "crates/noseyparker/data/default/builtin/rules/aws.yml"
    source = show(mirrors, repo, path)
    found = []
    for rule in yaml.safe_load(source)["rules"]:
        if rule["id"] not in ("np.aws.1", "np.aws.2", "np.aws.4", "np.aws.5"):
            continue  # account ids, bucket names and ARNs are not credentials
        for key, label, verb in [("examples", "secret", "matches"), ("negative_examples", "clean", "does not match")]:
            for text in rule.get(key, []):
                # The rule's own examples write a newline as `\n` inside single quotes.
                text = text.replace("\\n", "\n")
                line = line_of(source, text.split("\n")[0][:30]) or line_of(source, rule["id"])
                found.append(sample(repo, path, line, label, f"{rule['id']} ({rule['name']}) {verb} it", text.rstrip("\n") + "\n"))
    return found


def sonar_text(mirrors):
    """The AWS rules' examples, each with `containsSecret`."""
    import yaml

    repo = "SonarSource/sonar-text"
    path = "sonar-text-plugin/src/main/resources/org/sonar/plugins/secrets/configuration/aws.yaml"
    source = show(mirrors, repo, path)
    found, seen = [], set()
    # `${common/…}` lines are sonar-text's own includes, not YAML: left out of the parse.
    parsed = yaml.safe_load(re.sub(r"(?m)^\s*\$\{[^}]*\}\s*$", "", source))
    for rule in parsed["provider"]["rules"]:
        for example in rule.get("examples", []):
            if example["text"] in seen:
                continue  # the same example under two rules is one sample
            seen.add(example["text"])
            label = "secret" if example["containsSecret"] else "clean"
            line = line_of(source, example["text"].split("\n")[0].strip()[:40])
            verb = "finds a secret in" if label == "secret" else "finds no secret in"
            found.append(sample(repo, path, line, label, f"{rule['id']} {verb} it", example["text"]))
    return found


def semgrep(mirrors):
    """The AWS credential rules' test files: the line after `ruleid:` must match, after `ok:`
    must not."""
    repo = "semgrep/semgrep-rules"
    found = []
    for path in [
        "generic/secrets/security/detected-aws-access-key-id-value.txt",
        "generic/secrets/security/detected-aws-secret-access-key.txt",
        "generic/secrets/security/detected-aws-session-token.txt",
        "generic/secrets/gitleaks/aws-access-token.go",
    ]:
        lines = show(mirrors, repo, path).split("\n")
        for number, line in enumerate(lines):
            marker = re.match(r"\s*(?:#|//)\s*(ruleid|ok):\s*(\S+)", line)
            if marker and number + 1 < len(lines):
                label = "secret" if marker.group(1) == "ruleid" else "clean"
                verb = "matches" if label == "secret" else "does not match"
                found.append(sample(repo, path, number + 2, label, f"{marker.group(2)} {verb} it", lines[number + 1] + "\n"))
    return found


def ripsecrets(mirrors):
    """ripsecrets' AWS test inputs: one secret a line, and one a file."""
    repo = "sirwart/ripsecrets"
    found = []
    path = "test/one_per_line/aws"
    for number, line in enumerate(show(mirrors, repo, path).splitlines(), 1):
        found.append(sample(repo, path, number, "secret", "ripsecrets finds one secret on the line", line + "\n"))
    path = "test/one_per_file/aws_json"
    found.append(sample(repo, path, 1, "secret", "ripsecrets finds one secret in the file", show(mirrors, repo, path)))
    return found


def whispers(mirrors):
    """The AWS fixtures, cut into their compliant and noncompliant halves (test_secrets
    expects aws_id, aws_key and aws_token from each noncompliant half, nothing else)."""
    repo = "Skyscanner/whispers"
    found = []
    for path, marker in [
        ("tests/fixtures/aws.yml", "# Noncompliant"),
        ("tests/fixtures/.aws/credentials", "[noncompliant]"),
    ]:
        text = show(mirrors, repo, path)
        at = text.index(marker)
        found.append(sample(repo, path, 1, "clean", "whispers finds nothing in the compliant half", text[:at]))
        found.append(sample(repo, path, line_of(text, marker), "secret", "whispers finds the key, secret and token", text[at:].rstrip("\n") + "\n"))
    path = "tests/fixtures/aws.json"
    data = json.loads(show(mirrors, repo, path))
    for half, label in [("compliant", "clean"), ("noncompliant", "secret")]:
        text = json.dumps({half: data[half]}, indent=2) + "\n"
        found.append(sample(repo, path, line_of(show(mirrors, repo, path), f'"{half}"'), label, f"whispers: the {half} half", text))
    return found


def credsweeper(mirrors):
    """The AWS samples, each line CredSweeper's expected output (tests/data/output.json)
    reports an AWS key on as a secret; the lines its sample marks as filtered, and the
    aws_multi_fp file, as clean."""
    repo = "Samsung/CredSweeper"
    expected = json.loads(show(mirrors, repo, "tests/data/output.json"))
    reported = set()
    for finding in expected:
        if finding["rule"] in ("AWS Client ID", "AWS Multi"):
            for line in finding["line_data_list"]:
                reported.add((line["path"].removeprefix("./"), line["line_num"]))
    found = []
    for path in ["tests/samples/aws_client_id", "tests/samples/aws_multi.md"]:
        for number, line in enumerate(show(mirrors, repo, path).splitlines(), 1):
            if (path, number) in reported:
                found.append(sample(repo, path, number, "secret", "CredSweeper reports an AWS key on the line", line + "\n"))
            elif re.search(r"AKIA|A3T|EXAMPLE|looks like a key", line):
                found.append(sample(repo, path, number, "clean", "CredSweeper filters the line out", line + "\n"))
    path = "tests/samples/aws_multi.json"
    found.append(sample(repo, path, 1, "secret", "CredSweeper reports AWS keys in the file", show(mirrors, repo, path)))
    path = "tests/samples/aws_multi_fp"
    found.append(sample(repo, path, 1, "clean", "CredSweeper reports no AWS key in the file", show(mirrors, repo, path)))
    return found


def main():
    mirrors = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror"
    corpus = []
    for cut in [gitleaks, detect_secrets, trufflehog, noseyparker, sonar_text, semgrep, ripsecrets, whispers, credsweeper]:
        corpus += cut(mirrors)
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
