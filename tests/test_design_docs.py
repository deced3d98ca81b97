"""docs/design.md and docs/threat-model.md stay in step with the code that cites them, and the
project cites its own docs, not design files kept outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from wallet.protocol.catalogue import DOCUMENT_TYPES, PROCEDURE_CATEGORIES, PROFILE_FIELDS

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
SKIP_DIRS = {".git", ".venv", "node_modules", "static", "vectors", "__pycache__", "wallet-data"}
TEXT_SUFFIXES = {".py", ".md", ".js", ".mjs", ".html", ".toml", ".yaml", ".yml", ".txt", ".sh"}


def _table_rows(text: str, columns: int) -> dict[str, list[str]]:
    """Table rows whose first cell is an `identifier`, for tables with that many columns."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == columns and re.fullmatch(r"`[a-z_0-9]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_design_doc_lists_the_catalogue_as_the_code_has_it() -> None:
    text = (DOCS / "design.md").read_text(encoding="utf-8")
    types = _table_rows(text, 3)  # type | label | category
    assert set(types) == set(DOCUMENT_TYPES), "docs/design.md and DOCUMENT_TYPES differ"
    for doc_type, (category, _label) in DOCUMENT_TYPES.items():
        assert types[doc_type][-1] == f"`{category}`", f"{doc_type}: category differs"
    categories = _table_rows(text, 2)  # category | label
    assert set(PROCEDURE_CATEGORIES) <= set(categories), "a procedure category is missing"
    for field in PROFILE_FIELDS:
        assert f"`{field}`" in text, f"docs/design.md does not list profile field {field}"


def test_threat_model_numbers_the_properties_the_tests_cite() -> None:
    text = (DOCS / "threat-model.md").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"^### Property (\d+):", text, flags=re.MULTILINE)]
    assert numbers == list(range(1, 8))


def test_doc_links_within_the_two_docs_resolve() -> None:
    for name in ("design.md", "threat-model.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        anchors = {
            re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)
        }
        for target, anchor in re.findall(r"\]\(([^)#]*)#([^)]+)\)", text):
            if target in ("", name):
                assert anchor in anchors, f"docs/{name}: no section for #{anchor}"
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (DOCS / target).exists(), f"docs/{name}: broken link {target}"


def test_nothing_cites_design_files_outside_the_repository() -> None:
    cited = []
    for path in REPO_ROOT.rglob("*"):
        parts = set(path.relative_to(REPO_ROOT).parts)
        if parts & SKIP_DIRS or not path.is_file() or path.suffix not in TEXT_SUFFIXES:
            continue
        if path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"MISSION\.md|ARCHITECTURE(\.md| §)", line):
                cited.append(f"{path.relative_to(REPO_ROOT)}:{number}")
    assert cited == [], "cite docs/design.md or docs/threat-model.md instead"
