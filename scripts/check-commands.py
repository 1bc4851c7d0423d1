#!/usr/bin/env python3
"""Checks that the commands the Markdown files give still run as written.

    python3 scripts/check-commands.py                        # the debug trainer in target/
    python3 scripts/check-commands.py --trainer PATH -v      # another binary; list every command

It reads every tracked Markdown file: the lines of its shell code blocks (`\\` continuations
joined, heredoc bodies skipped) and the inline code spans that start with `cargo`, `trainer`,
`bench/` or `scripts/`, and checks each command it recognises:

- `cargo run -p trainer ... -- [SUBCOMMAND] ARGS` (and `trainer ...`, `target/*/trainer ...`):
  runs the built trainer's `[SUBCOMMAND] --help`, which must succeed and list every `--flag`
  and `-f` the line passes. Lines that need a feature this binary lacks (cuda, wgpu, tch) are
  checked against it too: the options do not depend on the backend.
- every `cargo` line: its options before `--` against `cargo SUBCOMMAND --help`; the packages
  (`-p`), features (`--features`, `pkg/feature` included) and targets (`--example`, `--bench`,
  `--test`, `--bin`) against `cargo metadata`; for `cargo run` of another binary or example, and
  `cargo bench --bench`, the flags after `--` must appear as string literals in its source.
- `bench/*.sh`, `scripts/*.sh` (and any other `.sh` a block runs): the script exists, `bash -n`
  parses it, its `--help` exits 0, and its help text names every flag the line passes.
- `.py` scripts: the file exists and parses; the flags the line passes must be options it
  declares with argparse (`add_argument`), or string literals in it when it has no argparse.
  The scripts are not run: most import torch, which the checks do not need.

Prints one line per failure (file:line, the command, what is wrong) and a summary; exits 1 on
any failure, 0 otherwise. Needs Python 3.8+, cargo and the built trainer, nothing else.
"""

import argparse
import ast
import functools
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
SHELL_LANGS = {"", "sh", "bash", "shell", "console", "text"}
ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
INLINE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
INLINE_START = re.compile(
    r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S+\s+)*(?:cargo\s|trainer(?:\s|$)|bench/\S+\.(?:sh|py)|"
    r"scripts/\S+\.(?:sh|py)|python3\s+\S+\.py)"
)
TRAINER_PROGRAM = re.compile(r"^(?:\./)?(?:target/(?:debug|release)/)?trainer$")
# Options a clap --help lists: `  -b, --batch-size <N>`, `      --seed <SEED>`, `  -o <FILE>`.
CLAP_OPTION = re.compile(r"^\s+(?:(-[A-Za-z0-9]),\s+)?(--[A-Za-z0-9][\w-]*)|^\s+(-[A-Za-z0-9])\b")
# cargo subcommands whose options are checked against `cargo SUB --help` (clippy takes check's).
CARGO_HELP = {
    "run": "run", "test": "test", "bench": "bench", "build": "build", "check": "check",
    "doc": "doc", "tree": "tree", "fmt": "fmt", "clippy": "check",
}
CARGO_VALUE_OPTIONS = {
    "-p", "--package", "-F", "--features", "--example", "--bench", "--test", "--bin",
    "--target-dir", "--target", "--profile", "-j", "--jobs", "--exclude", "-e", "--edges",
    "--prefix", "--color", "--message-format", "--manifest-path", "-i", "--invert", "--depth",
    "--format", "--charset", "--config", "-Z",
}


class Failure(Exception):
    pass


def run(cmd, **kwargs):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, **kwargs)


def markdown_files():
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def commands(path):
    """(line number, command text) of the commands in `path`: shell code block lines and inline
    code spans that look like commands."""
    lines = path.read_text(encoding="utf-8").splitlines()
    prose = []  # the file with code blocks blanked, for the inline spans
    in_block, lang, heredoc, pending, pending_line = False, "", None, "", 0
    for number, line in enumerate(lines, 1):
        fence = FENCE.match(line)
        if fence:
            in_block, lang = (not in_block), fence.group(2).lower()
            pending, heredoc = "", None
            prose.append("")
            continue
        if not in_block:
            prose.append(line)
            continue
        prose.append("")
        if lang not in SHELL_LANGS:
            continue
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        if not pending:
            pending_line = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text, pending = pending + line, ""
        marker = HEREDOC.search(text)
        if marker:
            heredoc = marker.group(1)
            continue
        yield pending_line, text.strip()
    text = "\n".join(prose)
    for paragraph_match in INLINE.finditer(text):
        span = " ".join(paragraph_match.group(2).split())
        if "\n\n" in paragraph_match.group(2) or not INLINE_START.match(span):
            continue
        if span in ("trainer", "cargo"):  # the program's name, not a command
            continue
        yield text.count("\n", 0, paragraph_match.start()) + 1, span


def split_command(text):
    """The words of `text` without leading `VAR=value` assignments, or None for shell syntax this
    check does not follow (pipes, `$(...)`)."""
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        return None
    while words and ENV_ASSIGN.match(words[0]):
        words = words[1:]
    if not words or any(w in ("|", "&&", ";", "||") for w in words):
        return words or None
    return words


def flags_of(words):
    """The `--flag` and `-f` words (no values, no `=value`, no `[` `]` around them)."""
    out = []
    for word in words:
        word = word.strip("[]")
        if re.match(r"^--[A-Za-z0-9][\w-]*(=.*)?$", word):
            out.append(word.split("=", 1)[0])
        elif re.match(r"^-[A-Za-z]$", word):
            out.append(word)
    return out


class Checker:
    def __init__(self, trainer):
        self.trainer = trainer
        meta = run(["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"])
        if meta.returncode != 0:
            sys.exit(f"check-commands: cargo metadata failed:\n{meta.stderr}")
        self.packages = {p["name"]: p for p in json.loads(meta.stdout)["packages"]}

    # -- the trainer ------------------------------------------------------------------------
    @functools.lru_cache(maxsize=None)
    def trainer_help(self, sub):
        cmd = [str(self.trainer)] + ([sub] if sub else []) + ["--help"]
        out = run(cmd)
        if out.returncode != 0:
            raise Failure(f"`{' '.join(cmd[1:])}` failed ({out.returncode}): {out.stderr.strip()}")
        return out.stdout

    @functools.lru_cache(maxsize=None)
    def trainer_subcommands(self):
        help_text = self.trainer_help(None)
        section = help_text.split("Commands:", 1)[1].split("\n\n", 1)[0]
        return {m.group(1) for m in re.finditer(r"^\s+([a-z][\w-]*)\s", section, re.M)}

    @functools.lru_cache(maxsize=None)
    def trainer_options(self, sub):
        options = set()
        for line in self.trainer_help(sub).splitlines():
            m = CLAP_OPTION.match(line)
            if m:
                options.update(g for g in m.groups() if g)
        return options

    def check_trainer(self, args):
        sub = None
        if args and not args[0].startswith("-"):
            if args[0] not in self.trainer_subcommands():
                raise Failure(
                    f"`{args[0]}` is not a trainer subcommand "
                    f"({', '.join(sorted(self.trainer_subcommands()))})"
                )
            sub, args = args[0], args[1:]
        options = self.trainer_options(sub)
        missing = [f for f in flags_of(args) if f not in options]
        if missing:
            raise Failure(
                f"`trainer {sub + ' ' if sub else ''}--help` lists no {', '.join(missing)}"
            )
        return f"trainer {sub or '(train)'}: {len(flags_of(args))} flags"

    # -- cargo ------------------------------------------------------------------------------
    @functools.lru_cache(maxsize=None)
    def cargo_help(self, sub):
        out = run(["cargo", sub, "--help"])
        if out.returncode != 0:
            raise Failure(f"`cargo {sub} --help` failed: {out.stderr.strip()}")
        return out.stdout

    def target(self, package, kind, name):
        for t in self.packages[package]["targets"]:
            if kind in t["kind"] and t["name"] == name:
                return pathlib.Path(t["src_path"])
        return None

    def check_cargo(self, words):
        i = 0
        while i < len(words) and words[i].startswith("+"):
            i += 1
        if i >= len(words):
            raise Failure("no cargo subcommand")
        sub, rest = words[i], words[i + 1 :]
        before, after = (rest[: rest.index("--")], rest[rest.index("--") + 1 :]) if "--" in rest else (rest, [])
        packages, features, targets, manifest = [], [], [], None
        j = 0
        while j < len(before):
            word = before[j]
            name, eq, value = word.partition("=")
            if name in CARGO_VALUE_OPTIONS and not eq:
                value = before[j + 1] if j + 1 < len(before) else ""
                j += 1
            if name in ("-p", "--package"):
                packages.append(value)
            elif name == "--manifest-path":
                manifest = value
            elif name in ("-F", "--features"):
                features += [f for f in re.split(r"[ ,]+", value) if f]
            elif name in ("--example", "--bench", "--test", "--bin"):
                targets.append((name[2:], value))
            j += 1
        if sub in CARGO_HELP:
            help_text = self.cargo_help(CARGO_HELP[sub])
            missing = [
                f for f in flags_of(before)
                if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", help_text)
            ]
            if missing:
                raise Failure(f"`cargo {CARGO_HELP[sub]} --help` lists no {', '.join(missing)}")
        if manifest is not None:
            # A package outside the workspace (a tool with its own Cargo.toml): it must exist.
            if not (ROOT / manifest).is_file():
                raise Failure(f"no manifest {manifest}")
            return
        for p in packages:
            if p not in self.packages:
                raise Failure(f"no package `{p}` in the workspace ({', '.join(sorted(self.packages))})")
        selected = packages or list(self.packages)
        for feature in features:
            owner, slash, feat = feature.rpartition("/")
            if slash:
                if owner not in self.packages or feat not in self.packages[owner]["features"]:
                    raise Failure(f"no feature `{feature}` (package `{owner}`)")
            elif not any(feature in self.packages[p]["features"] for p in selected):
                raise Failure(f"no feature `{feature}` in {', '.join(selected)}")
        sources = []
        for kind, name in targets:
            found = [self.target(p, kind, name) for p in selected]
            found = [s for s in found if s]
            if not found:
                raise Failure(f"no {kind} target `{name}` in {', '.join(selected)}")
            sources += found
        if sub == "run":
            package = packages[0] if packages else None
            if package == "trainer" and not targets:
                return self.check_trainer(after)
            if not targets:
                if package is None:
                    raise Failure("`cargo run` without -p in a virtual workspace")
                bins = [t for t in self.packages[package]["targets"] if "bin" in t["kind"]]
                if not bins:
                    raise Failure(f"package `{package}` has no binary")
                sources = [pathlib.Path(bins[0]["src_path"])]
            self.check_literals(sources, flags_of(after))
        elif sub == "bench" and sources:
            self.check_literals(sources, flags_of(after))
        return f"cargo {sub}"

    def check_literals(self, sources, flags):
        text = ""
        for source in sources:
            folder = source.parent if source.name in ("main.rs", "lib.rs") else None
            files = sorted(folder.rglob("*.rs")) if folder else [source]
            text += "".join(f.read_text(encoding="utf-8") for f in files)
        missing = [f for f in flags if f'"{f}"' not in text]
        if missing:
            names = ", ".join(str(s.relative_to(ROOT)) for s in sources)
            raise Failure(f"{names} never mentions {', '.join(missing)}")

    # -- scripts ----------------------------------------------------------------------------
    @functools.lru_cache(maxsize=None)
    def script_help(self, script):
        path = ROOT / script
        syntax = run(["bash", "-n", str(path)])
        if syntax.returncode != 0:
            raise Failure(f"bash -n {script}: {syntax.stderr.strip()}")
        # Only run scripts that handle --help: any other would do its work instead.
        if not re.search(r"(^|[\s|(])--help\b", path.read_text(encoding="utf-8"), re.M):
            raise Failure(f"{script} has no --help")
        out = run([str(path), "--help"])
        if out.returncode != 0 or not (out.stdout + out.stderr).strip():
            raise Failure(f"`{script} --help` failed ({out.returncode}): {out.stderr.strip()}")
        return out.stdout + out.stderr

    @functools.lru_cache(maxsize=None)
    def python_options(self, script):
        source = (ROOT / script).read_text(encoding="utf-8")
        try:
            tree = ast.parse(source, filename=script)
        except SyntaxError as e:
            raise Failure(f"{script} does not parse: {e}") from e
        options = set()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add_argument"):
                options.update(
                    a.value for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                    and a.value.startswith("-")
                )
        if options:
            return frozenset(options | {"-h", "--help"})
        literals = {
            n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("-")
        }
        return frozenset(literals)

    def check_script(self, script, args):
        path = ROOT / script
        if not path.is_file():
            raise Failure(f"no such script: {script}")
        # A bare `--` ends the script's own options: what follows is a command it runs.
        flags = flags_of(args[: args.index("--")] if "--" in args else args)
        if script.endswith(".py"):
            options = self.python_options(script)
            missing = [f for f in flags if f not in options]
            if missing:
                raise Failure(f"{script} declares no {', '.join(missing)}")
        else:
            help_text = self.script_help(script)
            missing = [
                f for f in flags
                if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", help_text)
            ]
            if missing:
                raise Failure(f"`{script} --help` names no {', '.join(missing)}")
        return f"{script}: {len(flags)} flags"

    # -- one command ------------------------------------------------------------------------
    def check(self, text):
        """None for a line this check does not follow, else a short description; raises
        Failure."""
        words = split_command(text)
        if not words or any(w in ("|", "&&", ";", "||") for w in words):
            return None
        program, args = words[0], words[1:]
        if program == "cargo":
            return self.check_cargo(args)
        if TRAINER_PROGRAM.match(program):
            return self.check_trainer(args)
        if program in ("python3", "python", "bash", "sh") and args and re.search(r"\.(py|sh)$", args[0]):
            program, args = args[0], args[1:]
        if re.search(r"\.(sh|py)$", program) and "/" in program:
            return self.check_script(program[2:] if program.startswith("./") else program, args)
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug" / "trainer"
    parser.add_argument("--trainer", type=pathlib.Path, default=default,
                        help=f"the trainer binary whose --help to check against (default {default})")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every checked command")
    opts = parser.parse_args()
    trainer = opts.trainer if opts.trainer.is_absolute() else pathlib.Path.cwd() / opts.trainer

    if not os.access(trainer, os.X_OK):
        print(f"check-commands: no trainer binary at {trainer} (build it with "
              "`cargo build -p trainer`, or pass --trainer PATH)")
        return 1
    checker = Checker(trainer)
    checked = failures = 0
    for path in markdown_files():
        rel = path.relative_to(ROOT)
        for number, text in commands(path):
            try:
                what = checker.check(text)
            except Failure as e:
                failures += 1
                print(f"{rel}:{number}: {text}\n    FAIL: {e}")
                continue
            if what is not None:
                checked += 1
                if opts.verbose:
                    print(f"{rel}:{number}: ok ({what}): {text}")
    print(f"check-commands: {checked + failures} commands, {failures} failing")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
