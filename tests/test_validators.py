"""Tests of the validators themselves (EPUBCheck, Ace) on tiny EPUBs made by hand."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from quire.validate import (
    Finding,
    Report,
    ValidatorUnavailable,
    ace_available,
    run_ace,
    run_epubcheck,
)

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

A11Y_META = {
    "schema:accessMode": ["textual", "visual"],
    "schema:accessModeSufficient": ["textual"],
    "schema:accessibilityFeature": ["alternativeText", "structuralNavigation", "tableOfContents"],
    "schema:accessibilityHazard": ["none"],
    "schema:accessibilitySummary": ["A short test book with text and one described image."],
}

NAV = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"
      xml:lang="en" lang="en">
<head><title>Contents</title></head>
<body>
<nav epub:type="toc" role="doc-toc" id="toc">
<h1>Contents</h1>
<ol><li><a href="text/ch01.xhtml">Chapter 1</a></li></ol>
</nav>
</body>
</html>
"""

CHAPTER = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><title>Chapter 1</title></head>
<body>
<main>
<h1>Chapter 1</h1>
<p>Hello, reader.</p>
{extra}
</main>
</body>
</html>
"""

GOOD_IMG = '<p><img src="../images/dot.png" alt="A tiny dot."/></p>'
NO_ALT_IMG = '<p><img src="../images/dot.png"/></p>'
MISSING_IMG = '<p><img src="../images/missing.png" alt="Gone."/></p>'


def opf(meta: dict[str, list[str]]) -> str:
    """A package document with the given schema.org accessibility metadata."""
    metas = "".join(
        f'    <meta property="{prop}">{value}</meta>\n'
        for prop, values in meta.items()
        for value in values
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="en">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:uuid:0b6b2f1c-8a4e-4d7e-9c3a-5f1e2d3c4b5a</dc:identifier>
    <dc:title>Validator Test</dc:title>
    <dc:language>en</dc:language>
    <meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>
{metas}  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="ch01" href="text/ch01.xhtml" media-type="application/xhtml+xml"/>
    <item id="dot" href="images/dot.png" media-type="image/png"/>
  </manifest>
  <spine><itemref idref="ch01"/></spine>
</package>
"""


def make_epub(path: Path, *, chapter: str, meta: dict[str, list[str]]) -> Path:
    """Zip a one-chapter EPUB 3 by hand: mimetype first and stored, the rest deflated."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", CONTAINER)
        z.writestr("EPUB/package.opf", opf(meta))
        z.writestr("EPUB/nav.xhtml", NAV)
        z.writestr("EPUB/text/ch01.xhtml", chapter)
        z.writestr("EPUB/images/dot.png", PNG)
    return path


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of text containing needle."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The hand-made EPUBs: a clean one, one with a missing file, one with a11y faults."""
    d = tmp_path_factory.mktemp("epubs")
    no_summary = {k: v for k, v in A11Y_META.items() if k != "schema:accessibilitySummary"}
    return {
        "clean": make_epub(
            d / "clean.epub", chapter=CHAPTER.format(extra=GOOD_IMG), meta=A11Y_META
        ),
        "missing": make_epub(
            d / "missing.epub", chapter=CHAPTER.format(extra=MISSING_IMG), meta=A11Y_META
        ),
        "inaccessible": make_epub(
            d / "inaccessible.epub", chapter=CHAPTER.format(extra=NO_ALT_IMG), meta=no_summary
        ),
    }


def require_ace() -> None:
    """Skip when Ace cannot run here, but fail on CI, where it must."""
    reason = ace_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def epubcheck_reports(books: dict[str, Path]) -> dict[str, Report]:
    """EPUBCheck run once on each EPUB that the EPUBCheck tests look at."""
    return {name: run_epubcheck(books[name]) for name in ("clean", "missing")}


@pytest.fixture(scope="module")
def ace_reports(books: dict[str, Path]) -> dict[str, Report]:
    """Ace run once on each EPUB that the Ace tests look at."""
    require_ace()
    return {name: run_ace(books[name]) for name in ("clean", "inaccessible")}


def test_epubcheck_passes_minimal_valid_epub(epubcheck_reports: dict[str, Report]) -> None:
    report = epubcheck_reports["clean"]
    assert report.source == "epubcheck"
    counts = [report.count(s) for s in ("fatal", "error", "warning")]
    assert counts == [0, 0, 0], [str(f) for f in report.findings]
    assert report.clean


def test_epubcheck_reports_missing_resource(epubcheck_reports: dict[str, Report]) -> None:
    report = epubcheck_reports["missing"]
    assert not report.clean
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors, [str(f) for f in report.findings]
    finding = errors[0]
    assert finding.code == "RSC-007"
    assert finding.file == "EPUB/text/ch01.xhtml"
    chapter = CHAPTER.format(extra=MISSING_IMG)
    assert finding.line == line_of(chapter, "missing.png")
    assert "missing.png" in finding.text
    assert str(finding).startswith(f"epubcheck ERROR RSC-007 EPUB/text/ch01.xhtml:{finding.line}: ")


def test_epubcheck_on_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run_epubcheck(tmp_path / "nope.epub")


def test_ace_reports_nothing_on_accessible_epub(ace_reports: dict[str, Report]) -> None:
    report = ace_reports["clean"]
    assert report.source == "ace"
    assert report.findings == (), [str(f) for f in report.findings]
    assert report.clean


def test_ace_reports_image_without_alt(ace_reports: dict[str, Report]) -> None:
    report = ace_reports["inaccessible"]
    by_code = {f.code: f for f in report.findings}
    assert set(by_code) == {"image-alt", "metadata-accessibilitysummary"}, [
        str(f) for f in report.findings
    ]
    alt = by_code["image-alt"]
    assert (alt.source, alt.severity, alt.file, alt.line) == (
        "ace",
        "error",
        "EPUB/text/ch01.xhtml",
        None,
    )
    summary = by_code["metadata-accessibilitysummary"]
    assert (summary.severity, summary.file) == ("warning", "EPUB/package.opf")
    assert report.count("error") == 1 and report.count("warning") == 1
    assert not report.clean


def test_ace_unavailable_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import quire.validate as validate

    monkeypatch.setattr(validate, "ACE_BIN", tmp_path / "no-ace")
    reason = ace_available()
    assert reason and "install-ace" in reason
    epub = make_epub(tmp_path / "b.epub", chapter=CHAPTER.format(extra=""), meta=A11Y_META)
    with pytest.raises(ValidatorUnavailable, match="install-ace"):
        run_ace(epub)


def test_finding_and_report_basics() -> None:
    findings = (
        Finding("epubcheck", "error", "RSC-005", "EPUB/x.xhtml", 12, "bad\nthing"),
        Finding("epubcheck", "info", "ACC-009", None, None, "note"),
    )
    assert str(findings[0]) == "epubcheck ERROR RSC-005 EPUB/x.xhtml:12: bad thing"
    assert str(findings[1]) == "epubcheck INFO ACC-009: note"
    assert Report("epubcheck", findings).count("error") == 1
    assert not Report("epubcheck", findings).clean
    assert Report("epubcheck", findings[1:]).clean
