"""Reading fenced examples out of Markdown, and placing a rulebook fragment into a base.

Shared by the tests of docs/language.md and of the design reference
(docs/design/LANGUAGE.md): both check that fragments check clean once placed
into a complete rulebook.
"""

from __future__ import annotations

import re


def fenced_blocks(markdown: str) -> list[tuple[int, str, str]]:
    """(line of the opening fence, info string, body) of every fenced block."""
    out = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(.*)$", lines[i])
        if m is None:
            i += 1
            continue
        start, info, body = i + 1, m.group(1).strip(), []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        out.append((start, info, "\n".join(body) + "\n"))
        i += 1
    return out


def is_complete(text: str) -> bool:
    return any(line.startswith("rulebook:") for line in text.splitlines())


# ---------------------------------------------------------------- placing fragments


def sections(text: str) -> list[tuple[str, list[str]]]:
    """Top-level sections: (key, lines), the key's line first; comment lines before
    the first key form a section of their own, keyed "#"."""
    out: list[tuple[str, list[str]]] = [("#", [])]
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            out.append((line.split(":", 1)[0], [line]))
        else:
            out[-1][1].append(line)
    return out


def entries(lines: list[str]) -> list[tuple[str, list[str]]]:
    """The second-level entries of a block section: (name, lines)."""
    body = lines[1:]
    indent = next(
        (len(ln) - len(ln.lstrip(" ")) for ln in body if ln.strip() and not ln.lstrip().startswith("#")), 2
    )
    out: list[tuple[str, list[str]]] = []
    for line in body:
        if line.strip() and len(line) - len(line.lstrip(" ")) == indent and not line.lstrip().startswith("#"):
            out.append((re.split(r":(?: |$)", line.strip(), maxsplit=1)[0], [line]))
        elif out:
            out[-1][1].append(line)
    return out


def place(fragment: str, base: str) -> str:
    """``fragment`` merged into ``base``: a block's entries merge by name (the
    fragment's win, in place); ``tiers:`` and scalar keys are replaced whole;
    sections the base lacks are appended."""
    merged = sections(base)
    for key, lines in sections(fragment):
        if key == "#":
            continue  # a fragment's leading comments (markers) are not placed
        at = next((i for i, (k, _) in enumerate(merged) if k == key), None)
        if at is None:
            merged.append((key, lines))
            continue
        old = merged[at][1]
        block = lines[0].rstrip().endswith(":") and old[0].rstrip().endswith(":")
        if key == "tiers" or not block:
            merged[at] = (key, lines)
            continue
        merged_entries = entries(old)
        for name, entry in entries(lines):
            j = next((i for i, (n, _) in enumerate(merged_entries) if n == name), None)
            if j is None:
                merged_entries.append((name, entry))
            else:
                merged_entries[j] = (name, entry)
        merged[at] = (key, [old[0]] + [ln for _, e in merged_entries for ln in e])
    return "\n".join(ln for _, lines in merged for ln in lines if ln.strip()) + "\n"
