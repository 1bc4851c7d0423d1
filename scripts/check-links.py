#!/usr/bin/env python3
"""Checks every relative link in the repository's Markdown files: the file or folder it names
must exist, and a `#anchor` must name a heading of the target file (GitHub's slugs).

    python3 scripts/check-links.py        # exit 1 and one line per broken link, if any
"""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files():
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def prose_lines(path):
    """The lines of `path` outside fenced code blocks, with their numbers."""
    inside = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            inside = not inside
        elif not inside:
            yield number, line


def slug(heading):
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    return {slug(line.lstrip("#")) for _, line in prose_lines(path) if line.startswith("#")}


def broken_links(path):
    for number, line in prose_lines(path):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            if not resolved.exists():
                yield number, target, "no such file"
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                yield number, target, "no such heading"


def main():
    failures = 0
    for path in markdown_files():
        for number, target, why in broken_links(path):
            print(f"{path.relative_to(ROOT)}:{number}: {target}: {why}")
            failures += 1
    print(f"{failures} broken relative links")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
