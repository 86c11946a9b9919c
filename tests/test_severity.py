"""The severity model: warnings are reported once, grouped, at the end of a build; `--strict`
(or `strict: true`) turns them into errors with the same file:line and writes nothing."""

from __future__ import annotations

import re

import pytest
from test_bad_input import GOOD_BOOK, run_build, snapshot, write_book

from quire.errors import Finding, Problem, grouped_report

# Five citations of keys the bibliography lacks: five warnings of one kind, in two files.
CITING = {
    "book.yaml": "title: Cited\nlang: en\nbibliography: refs.json\ndate: some day or other\n",
    "refs.json": '[{"id": "known", "type": "book", "title": "Known"}]',
    "one.md": "# One\n\nKnown [@known].\n\nLost [@a].\n\nLost [@b].\n\nLost [@c].\n",
    "two.md": "# Two\n\nLost [@d].\n\nLost [@e].\n",
}


def test_warnings_come_once_grouped_after_the_stages(tmp_path):
    proc = run_build(write_book(tmp_path / "book", CITING), tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert err.count("warning: 6 warnings, in 2 groups:") == 1
    assert "  Citeproc's warnings (5)" in err
    # The first three places in full, then a count of the rest.
    assert re.findall(r"one\.md:(\d+): Citeproc: citation \w+ not found", err) == ["5", "7", "9"]
    assert "… and 2 more (--verbose lists them all)" in err
    assert "book.yaml:4: date “some day or other”" in err
    # Nothing is printed as it happens: the report comes after the last stage's line.
    assert "warning:" not in proc.stdout


def test_verbose_lists_every_place(tmp_path):
    proc = run_build(write_book(tmp_path / "book", CITING), tmp_path / "out", "--verbose")
    places = re.findall(r"(\w+\.md:\d+): Citeproc", proc.stderr)
    assert places == ["one.md:5", "one.md:7", "one.md:9", "two.md:3", "two.md:5"]


def test_strict_turns_each_warning_into_an_error_and_writes_nothing(tmp_path):
    good = write_book(tmp_path / "good", GOOD_BOOK)
    out = tmp_path / "out"
    assert run_build(good, out).returncode == 0
    before = snapshot(out)
    proc = run_build(write_book(tmp_path / "book", CITING), out, "--strict")
    assert proc.returncode == 1, proc.stderr
    assert "error: --strict: 6 warnings stop the build" in proc.stderr
    assert "one.md:5: Citeproc: citation a not found" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(out) == before


def test_strict_in_book_yaml_is_the_same_as_the_option(tmp_path):
    files = {**CITING, "book.yaml": CITING["book.yaml"] + "strict: true\n"}
    proc = run_build(write_book(tmp_path / "book", files), tmp_path / "out", "--to", "epub")
    assert proc.returncode == 1
    assert "error: --strict: 6 warnings stop the build" in proc.stderr


def test_an_up_to_date_build_reports_its_warnings_again_and_strict_still_refuses(tmp_path):
    book = write_book(tmp_path / "book", CITING)
    out = tmp_path / "out"
    assert run_build(book, out, "--to", "epub").returncode == 0
    again = run_build(book, out, "--to", "epub")
    assert "up to date" in again.stdout
    assert "warning: 6 warnings, in 2 groups:" in again.stderr
    strict = run_build(book, out, "--to", "epub", "--strict")
    assert strict.returncode == 1
    assert "one.md:5: Citeproc: citation a not found" in strict.stderr


def test_a_clean_book_reports_no_warnings(tmp_path):
    proc = run_build(write_book(tmp_path / "book", GOOD_BOOK), tmp_path / "out", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert "warning:" not in proc.stderr


def test_grouped_report_shows_a_shared_hint_once():
    found = [
        Finding(Problem(f"image `{n}.png` has no alt text", "one.md", n, "built without"), "alt")
        for n in range(1, 6)
    ]
    lines = grouped_report(found)
    assert lines[0] == "5 warnings, in 1 group:"
    assert lines[1] == "  alt (5): built without"
    assert lines[2] == "    one.md:1: image `1.png` has no alt text"  # the hint not repeated
    assert lines[-1] == "    … and 2 more (--verbose lists them all)"
    assert len(grouped_report(found, verbose=True)) == 7


@pytest.mark.expect_warnings
def test_strict_lets_pass_what_is_about_quires_cache_not_the_book():
    from quire.errors import Findings, warn

    with Findings() as findings:
        warn("layout cache entry damaged", file="x", group="cache entries dropped")
        warn("image `a.png` has no alt text", file="one.md", line=3, group="images without alt")
    assert [f.group for f in findings.found] == ["cache entries dropped", "images without alt"]
    assert [f.group for f in findings.about_the_book] == ["images without alt"]
    assert len(findings.as_error().problems) == 1
