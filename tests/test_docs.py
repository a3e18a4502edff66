"""
The documentation stays true to the code and to itself: the equation table of docs/design.md names code that
exists and covers every equation it promises, the README opens with the two commands for a fresh machine and
stays short, and no relative link or image of README.md and docs/*.md points to a missing file.
"""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DESIGN = ROOT / "docs" / "design.md"
DOC_PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

README_MAX_LINES = 150
MAIN_COMMAND = ("python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
                "clustpy-acedec-demo --output demo_output")
TEST_COMMAND = ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && '
                "python -m pytest -q")

EQUATION_TABLE_HEADING = "## Where each equation lives"
#: Every equation and section the table must map to code, per paper (issue 17).
REQUIRED_REFERENCES = {
    "ACe/DeC": {"Eq. 1", "Eq. 2", "Eq. 3", "Eq. 4", "Eq. 5", "§2.2"},
    "ENRC": {"Eq. 2", "Eq. 4", "Eq. 5", "Eq. 6", "Eq. 7", "Eq. 8", "Eq. 9", "§2.6", "§2.8", "§3.2"},
}


# ----------------------------------------------------------------------------------------------- helpers
def _split_row(line: str) -> list:
    """Cells of a Markdown table row; ``\\|`` is a literal bar inside a cell."""
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _equation_table() -> list:
    """Rows (lists of cells) of the first table after the equation-table heading of docs/design.md."""
    lines = DESIGN.read_text(encoding="utf-8").splitlines()
    assert EQUATION_TABLE_HEADING in lines, f"{DESIGN.name} lost its heading {EQUATION_TABLE_HEADING!r}"
    rows, in_table = [], False
    for line in lines[lines.index(EQUATION_TABLE_HEADING) + 1:]:
        if line.startswith("|"):
            in_table = True
            rows.append(_split_row(line))
        elif in_table or line.startswith("#"):
            break
    assert len(rows) > 2, f"no table under {EQUATION_TABLE_HEADING!r} in {DESIGN.name}"
    header, separator, body = rows[0], rows[1], rows[2:]
    assert all(set(cell) <= set(":-") for cell in separator), "the table's second row must be its separator"
    assert header[-1].lower() == "implemented by", f"the last column must be 'implemented by', got {header}"
    return body


def _references(cell: str) -> set:
    """'Eq. 6–7' -> {'Eq. 6', 'Eq. 7'}; '§2.2, Eq. 3' -> {'§2.2', 'Eq. 3'}."""
    found = {f"§{section}" for section in re.findall(r"§(\d+(?:\.\d+)?)", cell)}
    for first, last in re.findall(r"Eq\.\s*(\d+)(?:\s*[–-]\s*(\d+))?", cell):
        found.update(f"Eq. {n}" for n in range(int(first), int(last or first) + 1))
    return found


def _resolve(dotted: str):
    """Import the longest importable module prefix of ``dotted`` and get the rest as attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)  # AttributeError names the missing part
        return obj
    raise ModuleNotFoundError(f"no module of {dotted!r} can be imported")


def _without_code(text: str) -> str:
    """The Markdown text without fenced code blocks and inline code, where brackets are not links."""
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
_HTML_SOURCE = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.I)


def _relative_targets(page: Path) -> list:
    """(target, path it resolves to) of every relative link and image of a Markdown page."""
    text = _without_code(page.read_text(encoding="utf-8"))
    targets = (_INLINE_LINK.findall(text) + _REFERENCE_LINK.findall(text) + _HTML_SOURCE.findall(text))
    result = []
    for target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "//")):
            continue  # a URL (https:, mailto:, ...) or an anchor on the same page
        path = target.split("#", 1)[0].split("?", 1)[0]
        result.append((target, (page.parent / path).resolve()))
    return result


# ----------------------------------------------------------------------------------------------- (a)
def test_equation_table_names_importable_code():
    missing = []
    n_names = 0
    for row in _equation_table():
        names = re.findall(r"`([^`]+)`", row[-1])
        assert names, f"row without a code name in the 'implemented by' column: {row}"
        for name in names:
            assert re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", name), \
                f"{name!r} in the equation table is not a dotted name (e.g. clustpy_acedec._subspace.SubspaceLayer)"
            n_names += 1
            try:
                _resolve(name)
            except (ImportError, AttributeError) as error:
                missing.append(f"{name} ({row[0]} {row[1]}): {type(error).__name__}: {error}")
    assert not missing, "docs/design.md's equation table names code that does not exist:\n" + "\n".join(missing)
    assert n_names >= len(REQUIRED_REFERENCES["ACe/DeC"]) + len(REQUIRED_REFERENCES["ENRC"])


def test_equation_table_is_complete():
    covered = {paper: set() for paper in REQUIRED_REFERENCES}
    for row in _equation_table():
        assert row[0] in covered, f"unknown paper {row[0]!r} in the equation table (expected one of {list(covered)})"
        covered[row[0]] |= _references(row[1])
    for paper, required in REQUIRED_REFERENCES.items():
        assert not required - covered[paper], f"equation table misses {paper} {sorted(required - covered[paper])}"


def test_reference_parsing():
    assert _references("Eq. 6–7") == {"Eq. 6", "Eq. 7"}
    assert _references("§2.2, Eq. 3") == {"§2.2", "Eq. 3"}
    assert _references("§2.1 (SP 1.7)") == {"§2.1"}
    with pytest.raises(AttributeError, match="no_such_function"):
        _resolve("clustpy_acedec._subspace.no_such_function")
    with pytest.raises(ModuleNotFoundError):
        _resolve("no_such_package.module")


# ----------------------------------------------------------------------------------------------- (b)
def test_readme_is_short():
    n_lines = len(README.read_text(encoding="utf-8").splitlines())
    assert n_lines <= README_MAX_LINES, f"README.md has {n_lines} lines, at most {README_MAX_LINES}: move details to docs/"


def test_readme_begins_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# "), "README.md must start with its title"
    fence = next((i for i, line in enumerate(lines) if line.startswith("```")), None)
    assert fence is not None, "README.md has no code block"
    before = lines[1:fence]
    assert not any(line.startswith("#") for line in before), \
        "the two commands must come right after the title and the opening paragraph, before any section"
    assert sum(1 for a, b in zip([""] + before, before) if a.strip() == "" and b.strip()) <= 1, \
        "only one paragraph may stand between the title and the two commands"
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    commands = [line.strip() for line in lines[fence + 1:end] if line.strip() and not line.lstrip().startswith("#")]
    assert commands == [MAIN_COMMAND, TEST_COMMAND], \
        f"README.md's first code block must hold exactly the two commands, got {commands}"


# ----------------------------------------------------------------------------------------------- (c)
@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = [target for target, path in _relative_targets(page) if not path.exists()]
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"


def test_link_check_sees_links_and_images(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("See [a](missing.md#part) and ![b](img/pic.png \"title\") and [web](https://example.org),\n"
                    "[anchor](#here), `[code](ignored.md)`, <img src=\"raw.png\">\n\n[ref]: other.md\n\n"
                    "```\n[block](ignored_too.md)\n```\n", encoding="utf-8")
    targets = sorted(target for target, _ in _relative_targets(page))
    assert targets == ["img/pic.png", "missing.md#part", "other.md", "raw.png"]
