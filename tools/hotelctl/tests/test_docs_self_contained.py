"""The repository explains itself: no file points at documents outside it.

Every tracked text file is checked: no mention of design or reference files that are not in the
repository, no section-sign reference except to public standards (RFCs), and every mention of
a markdown file under a `docs/` folder (with or without `#anchor`) names a document of ours and
one of its headings.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hotelctl.mesh import REPO_ROOT

# Built from pieces so that this file does not match its own patterns.
OUTSIDE = [
    "shared" + "/reference",
    "../" + "shared",
    "DESIGN" + ".md",
]
SECTION = "\u00a7"
DOC_REF = re.compile(r"(?<![\w/.-])((?:\.\./)*docs/[\w./-]+\.md)(?:#([\w-]+))?")


def _tracked_text_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    files = []
    for name in filter(None, listing.split("\0")):
        path = REPO_ROOT / name
        if not path.is_file():
            continue  # deleted in the working tree
        try:
            path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary (images, models)
        files.append(path)
    return files


def _slug(heading: str) -> str:
    """GitHub's anchor for a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    return {
        _slug(line.lstrip("#"))
        for line in doc.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


@pytest.fixture(scope="module")
def files() -> list[Path]:
    return _tracked_text_files()


def test_no_file_points_at_documents_outside_the_repository(files: list[Path]) -> None:
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()[:120]}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(marker in line for marker in OUTSIDE)
    ]
    assert not found, "point at the project's own docs/ instead:\n" + "\n".join(found)


def test_section_signs_only_cite_public_standards(files: list[Path]) -> None:
    found = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in re.finditer(SECTION, line):
                if not re.search(r"RFC \d+ $", line[: match.start()]):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()[:120]}")
    assert not found, "section references to documents that are not here:\n" + "\n".join(found)


def test_every_docs_reference_names_an_existing_document_and_heading(files: list[Path]) -> None:
    broken = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in DOC_REF.finditer(line):
                ref, anchor = match.group(1), match.group(2)
                # Relative to the file (links) or to one of its folders: the service's own root
                # (an ADR under services/nlp/docs) or the repository root (code comments).
                candidates = [(folder / ref).resolve() for folder in path.parents]
                doc = next((c for c in candidates if c.is_file()), None)
                if doc is None or (anchor and anchor not in _anchors(doc)):
                    where = f"{path.relative_to(REPO_ROOT)}:{number}"
                    broken.append(f"{where}: {match.group(0)}")
    assert not broken, "references to missing docs or headings:\n" + "\n".join(broken)


def test_the_checks_catch_what_they_look_for() -> None:
    assert _slug("Degrade, don't fail") == "degrade-dont-fail"
    assert DOC_REF.search("see docs/reliability.md#locks here").groups() == (  # type: ignore[union-attr]
        "docs/reliability.md",
        "locks",
    )
    assert not re.search(r"RFC \d+ $", "the doc ")
