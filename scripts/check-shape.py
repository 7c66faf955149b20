#!/usr/bin/env python3
"""Checks the crate's shape: no import cycle among src modules, no command
importing another command, only bucket.rs / iam.rs / sts.rs / budgets.rs sending requests
(the SDK's and bucket.rs's plain GET of a presigned URL; reqwest's `.send()` counts too), and
no function longer than 80 lines, and no module importing one of a layer above its own: the
layers are the numbered list in lib.rs's doc comment (1 at the top; every top-level module
must be in one). Rust is read by a small lexer (`blank`) that knows
comments, strings, raw strings, chars and lifetimes, tested in scripts/test_check_shape.py. Prints the module graph's size and the longest functions.

    scripts/check-shape.py [SRC_DIR]      exit 1 when a rule is broken
"""
import re
import sys
from pathlib import Path

MAX_FUNCTION_LINES = 80
SDK_CALLERS = {"bucket", "iam", "sts", "budgets"}


def module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts) or "crate"


CHAR_LITERAL = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}|.)|[^\\'\n])'")
RAW_STRING = re.compile(r'b?r(#*)"')


def keep_lines(chunk: str) -> str:
    """What a comment or literal leaves behind: its line breaks, so line numbers hold."""
    return "\n" * chunk.count("\n")


def blank(text: str) -> str:
    """Rust source with every comment removed and every string and char literal emptied:
    what is left is code. Knows line comments, nested block comments, strings with escapes
    (a `\\` line continuation included), raw strings (`r#"..."#`), byte strings, char
    literals, and lifetimes (`'a`, which are not chars)."""
    out, i, n = [], 0, len(text)
    ident = lambda k: k >= 0 and (text[k].isalnum() or text[k] == "_")
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            depth, j = 0, i
            while j < n:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                    if depth == 0:
                        break
                else:
                    j += 1
            out.append(" " + keep_lines(text[i:j]))
            i = j
            continue
        raw = RAW_STRING.match(text, i) if c in "rb" and not ident(i - 1) else None
        if raw:
            close = '"' + raw.group(1)
            j = text.find(close, raw.end())
            j = n if j < 0 else j + len(close)
            out.append('""' + keep_lines(text[i:j]))
            i = j
            continue
        if c == '"' or (c == "b" and text.startswith('b"', i) and not ident(i - 1)):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + keep_lines(text[i : j + 1]))
            i = j + 1
            continue
        if c == "'":
            char = CHAR_LITERAL.match(text, i)
            if char:
                out.append("' '")
                i = char.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def use_paths(text: str):
    """Every path a `use crate::...` / `use super::...` statement or an inline `crate::a::b` names."""
    for statement in re.findall(r"\buse\s+((?:crate|super)::[^;]*);", text, re.S):
        yield from expand(re.sub(r"\s+", "", statement))
    for inline in re.findall(r"(?<![\w:])((?:crate|super)(?:::\w+)+)", text):
        yield inline


def expand(tree: str):
    """`crate::{a, b::{c, d}}` -> crate::a, crate::b::c, crate::b::d."""
    brace = tree.find("{")
    if brace < 0:
        yield tree
        return
    prefix, inner = tree[:brace], tree[brace + 1 : tree.rfind("}")]
    depth, start = 0, 0
    for i, ch in enumerate(inner + ","):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            part = inner[start:i]
            start = i + 1
            if part:
                yield from expand(prefix + part)


def resolve(path: str, current: str, modules: set, is_mod_file: bool) -> str | None:
    parts = path.split("::")
    if parts[0] == "super":
        base = current.split("::") if is_mod_file else current.split("::")[:-1]
        while parts and parts[0] == "super":
            parts = parts[1:]
            base = base[:-1] if is_mod_file and base == current.split("::") else base
        parts = base + parts
    else:
        parts = parts[1:]
    for end in range(len(parts), 0, -1):
        candidate = "::".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def functions(text: str):
    """(name, first line, length) of every fn, by rustfmt's layout: a `fn` line and the
    closing brace at the same indentation."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?fn\s+(\w+)", line)
        if not match or line.rstrip().endswith(";"):
            continue
        indent = match.group(1)
        for j in range(i, len(lines)):
            if lines[j] == indent + "}" or (j == i and line.rstrip().endswith("}")):
                yield match.group(2), i + 1, j - i + 1
                break


def layers_of(lib_rs: str) -> dict:
    """The layer of each top-level module, from lib.rs's doc comment: `N. ` starts layer N,
    and each backticked plain module name after it (`` `fsio` ``, not `` `ui::Render` ``)
    belongs to it, the first mention deciding."""
    layers, current = {}, None
    for line in lib_rs.splitlines():
        if not line.startswith("//!"):
            continue
        body = line[3:].strip()
        numbered = re.match(r"(\d+)\.\s", body)
        if numbered:
            current = int(numbered.group(1))
        if current is not None:
            for name in re.findall(r"`([a-z_][a-z0-9_]*)`", body):
                layers.setdefault(name, current)
    return layers


def layer_problems(edges: dict, lib_rs: str) -> list:
    """A module importing one of a higher layer (a smaller number), and top-level modules
    lib.rs declares but places in no layer."""
    layers = layers_of(lib_rs)
    if not layers:
        return []  # a crate that writes down no layers has none to keep
    declared = re.findall(r"^pub mod (\w+);", lib_rs, re.M)
    problems = [f"module {m} is in no layer of lib.rs's doc comment" for m in declared if m not in layers]
    top = lambda module: module.split("::")[0]
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            mine, theirs = layers.get(top(module)), layers.get(top(target))
            if mine is not None and theirs is not None and theirs < mine:
                problems.append(f"{module} (layer {mine}) imports {target} (layer {theirs}, above it)")
    return problems


def main() -> int:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "src")
    files = {module_name(src, p): p for p in sorted(src.rglob("*.rs"))}
    modules = set(files)
    edges = {m: set() for m in modules}
    problems = []
    longest = []
    for module, path in files.items():
        raw = path.read_text()
        text = blank(raw)
        is_mod_file = path.name in ("mod.rs", "lib.rs", "main.rs")
        for used in use_paths(text):
            target = resolve(used, module, modules, is_mod_file)
            if target and target != module and not module.startswith(target + "::") and target != "crate":
                edges[module].add(target)
        if module.startswith("commands::"):
            for target in edges[module]:
                if target.startswith("commands::"):
                    problems.append(f"command {module} imports command {target}")
        if module.split("::")[0] not in SDK_CALLERS and re.search(r"\.send\(\)|\.presigned\(", text):
            problems.append(f"{path}: sends AWS requests; only {', '.join(sorted(SDK_CALLERS))} may")
        for name, line, length in functions(raw):
            longest.append((length, f"{path.relative_to(src.parent)}:{line} {name}"))
            if length > MAX_FUNCTION_LINES:
                problems.append(f"{path.relative_to(src.parent)}:{line}: fn {name} is {length} lines (> {MAX_FUNCTION_LINES})")

    lib_rs = src / "lib.rs"
    if lib_rs.exists():
        problems.extend(layer_problems(edges, lib_rs.read_text()))

    # Cycles: strongly connected components with more than one module (Tarjan).
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(component)

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    for component in components:
        if len(component) > 1:
            problems.append("import cycle among: " + ", ".join(sorted(component)))

    print(f"{len(modules)} modules, {sum(len(e) for e in edges.values())} imports between them")
    print("longest functions:")
    for length, where in sorted(longest, reverse=True)[:6]:
        print(f"  {length:4} lines  {where}")
    for problem in problems:
        print(f"shape: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
