"""The command line as a user runs it: stages, exit codes, formats, and what it prints."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER_BOOK = ROOT / "tests" / "cases" / "folder-book"


def quire(*args: str) -> subprocess.CompletedProcess:
    """Run build.py from the repository root."""
    return subprocess.run(
        [sys.executable, "build.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_help_exits_zero_and_lists_the_options():
    result = quire("--help")
    assert result.returncode == 0
    for option in ("--out", "--to", "SOURCE".lower()):
        assert option in result.stdout.lower()


def test_a_bad_option_is_a_usage_error():
    result = quire("--to", "docx")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_build_whose_output_is_no_longer_read_goes_on(tmp_path):
    """`python build.py | head -1`: once nothing reads the report, the build goes on without
    it and writes the book, with no BrokenPipeError (it was reported as a bug in Quire)."""
    build = subprocess.Popen(
        [sys.executable, "build.py", str(FOLDER_BOOK), "--out", str(tmp_path), "--to", "epub"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert build.stdout.readline().startswith(b"quire: building")
    build.stdout.close()  # as `head -1` does once it has its line
    stderr = build.stderr.read().decode()
    assert build.wait(timeout=600) == 0, stderr
    assert "Error" not in stderr and "error" not in stderr, stderr
    assert zipfile.is_zipfile(tmp_path / "the-lighthouse-keepers-almanac.epub")


def test_epub_only_prints_each_stage_and_writes_only_the_epub(tmp_path):
    result = quire(str(FOLDER_BOOK), "--out", str(tmp_path), "--to", "epub")
    assert result.returncode == 0, result.stderr
    for stage in ("load", "parse", "transform", "render epub", "validate", "package"):
        assert re.search(rf"^\s+{stage}\s+\d+\.\d\d s", result.stdout, re.M), stage
    assert "render pdf" not in result.stdout
    written = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert written == ["the-lighthouse-keepers-almanac.epub"]
    assert zipfile.is_zipfile(tmp_path / written[0])
    assert re.search(r"^wrote .*\.epub \(\d+\.\d KB\)$", result.stdout, re.M)


def test_a_single_markdown_file_builds_and_reports_pages(tmp_path):
    source = ROOT / "tests" / "cases" / "single-file" / "book.md"
    result = quire(str(source), "--out", str(tmp_path), "--to", "pdf")
    assert result.returncode == 0, result.stderr
    match = re.search(r"^wrote (.*\.pdf) \([\d.]+ KB, (\d+) pages\)$", result.stdout, re.M)
    assert match, result.stdout
    assert int(match[2]) > 2
    # No language in the file: the build detects it and says how to set it.
    assert "detected `en`" in result.stderr and "lang: en" in result.stderr


def test_only_quires_own_stale_temporary_files_are_cleaned_up(tmp_path):
    import os
    import time

    stale = tmp_path / ".quire-999999999-book.epub.part"  # a killed Quire's: no such process
    fresh = tmp_path / f".quire-{os.getpid()}-book.pdf.part"  # a running process's
    foreign = tmp_path / ".book.epub.abc.part"  # not Quire's name: never deleted, however old
    for part in (stale, fresh, foreign):
        part.write_bytes(b"left by a killed build")
    two_hours_ago = time.time() - 7200
    os.utime(foreign, (two_hours_ago, two_hours_ago))
    result = quire(str(FOLDER_BOOK), "--out", str(tmp_path), "--to", "epub")
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    assert fresh.exists() and foreign.exists()
