#!/usr/bin/env python3
"""Tests of scripts/check-shape.py: its lexer on the cases that fooled the old one, and a
fixture crate per rule that breaks it once (and the project's own crate, which passes).

    python3 scripts/test_check_shape.py
"""
import importlib.util
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = importlib.util.spec_from_file_location("check_shape", HERE / "check-shape.py")
shape = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(shape)


class Lexer(unittest.TestCase):
    def test_a_url_in_a_string_hides_no_code(self):
        code = 'let url = "http://127.0.0.1:9/x"; let r = client.get(url).send().await;'
        self.assertIn(".send()", shape.blank(code))
        self.assertNotIn("127.0.0.1", shape.blank(code))

    def test_a_continued_string_hides_no_code(self):
        code = 'let s = "first \\\n    second"; x.send();\n'
        self.assertEqual(shape.blank(code).count("\n"), 2)
        self.assertIn("x.send()", shape.blank(code))
        self.assertNotIn("second", shape.blank(code))

    def test_raw_strings_chars_and_lifetimes(self):
        code = 'let a = r#"a "quoted" // not a comment"#; let q = \'"\'; fn f<\'a>(x: &\'a str) { y.send() }'
        blanked = shape.blank(code)
        self.assertNotIn("quoted", blanked)
        self.assertNotIn("not a comment", blanked)
        self.assertIn("fn f<'a>(x: &'a str) { y.send() }", blanked)

    def test_comments_nested_and_by_line(self):
        code = "a /* one /* two */ still */ b // c.send()\nd"
        blanked = shape.blank(code)
        self.assertNotIn("still", blanked)
        self.assertNotIn("c.send()", blanked)
        self.assertTrue(blanked.startswith("a ") and blanked.rstrip().endswith("d"))

    def test_byte_strings_and_escaped_quotes(self):
        code = 'let b = b"\\"x\\" .send()"; let c = \'\\\'\'; z.send();'
        blanked = shape.blank(code)
        self.assertEqual(blanked.count(".send()"), 1)


def crate(files: dict) -> Path:
    root = Path(tempfile.mkdtemp()) / "src"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def check(src: Path):
    run = subprocess.run([sys.executable, str(HERE / "check-shape.py"), str(src)], capture_output=True, text=True)
    return run.returncode, run.stderr


CLEAN = {
    "lib.rs": "pub mod a;\npub mod b;\npub mod bucket;\npub mod commands;\n",
    "a.rs": "use crate::b;\npub fn f() { b::g() }\n",
    "b.rs": "pub fn g() {}\n",
    "bucket.rs": "pub async fn get(c: &C) { c.get_object().send().await; }\n",
    "commands/mod.rs": "pub mod one;\npub mod two;\n",
    "commands/one.rs": "use crate::a;\npub fn run() { a::f() }\n",
    "commands/two.rs": "pub fn run() {}\n",
}


class Rules(unittest.TestCase):
    def test_the_clean_fixture_and_the_project_pass(self):
        self.assertEqual(check(crate(CLEAN)), (0, ""))
        code, errors = check(HERE.parent / "src")
        self.assertEqual(code, 0, errors)

    def test_an_import_cycle_fails(self):
        files = dict(CLEAN, **{"b.rs": "use crate::a;\npub fn g() { let _ = a::f; }\n"})
        code, errors = check(crate(files))
        self.assertEqual(code, 1)
        self.assertIn("import cycle among: a, b", errors)

    def test_a_command_importing_another_fails(self):
        files = dict(CLEAN, **{"commands/two.rs": "use super::one;\npub fn run() { one::run() }\n"})
        code, errors = check(crate(files))
        self.assertEqual(code, 1)
        self.assertIn("command commands::two imports command commands::one", errors)

    def test_a_request_outside_the_sdk_callers_fails_even_after_a_url(self):
        sender = 'pub async fn fetch(c: &C) {\n    let url = "http://127.0.0.1:9/";\n    c.get(url).send().await;\n    log("sent");\n}\n'
        code, errors = check(crate(dict(CLEAN, **{"a.rs": "use crate::b;\n" + sender})))
        self.assertEqual(code, 1)
        self.assertIn("a.rs: sends AWS requests", errors)

    def test_a_function_over_80_lines_fails(self):
        body = "".join(f"    let x{i} = {i};\n" for i in range(80))
        code, errors = check(crate(dict(CLEAN, **{"b.rs": "pub fn g() {\n" + body + "}\n"})))
        self.assertEqual(code, 1)
        self.assertIn("fn g is 82 lines (> 80)", errors)


    def test_an_import_from_a_layer_above_and_a_module_in_no_layer_fail(self):
        layered = "//! 1. `commands`, `a`\n//! 2. `bucket` (sends `bucket::Get`)\n//! 3. `b`\n" + CLEAN["lib.rs"]
        self.assertEqual(check(crate(dict(CLEAN, **{"lib.rs": layered}))), (0, ""))
        upward = dict(CLEAN, **{"lib.rs": layered, "b.rs": "use crate::bucket;\npub fn g() { let _ = bucket::get; }\n"})
        code, errors = check(crate(upward))
        self.assertEqual(code, 1)
        self.assertIn("b (layer 3) imports bucket (layer 2, above it)", errors)
        unplaced = "//! 1. `commands`, `a`\n//! 2. `bucket`\n" + CLEAN["lib.rs"]
        code, errors = check(crate(dict(CLEAN, **{"lib.rs": unplaced})))
        self.assertEqual(code, 1)
        self.assertIn("module b is in no layer", errors)


if __name__ == "__main__":
    unittest.main(verbosity=1)
