"""Builds each case once per session and shares the outputs; fails tests on unexpected warnings."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = Path(__file__).resolve().parent / "cases"
sys.path.insert(0, str(ROOT))

from quire.pipeline import build  # noqa: E402
from quire.validate import run_epubcheck  # noqa: E402

SAMPLE_EXPECT = {
    "source": str(ROOT / "manuscript"),
    "lang": "en",
    "page-size-in": [6, 9],
    "warnings": [],
}


@dataclass
class Built:
    """One case built into a temporary folder, with what the build said."""

    name: str
    source: Path
    expect: dict
    epub: Path
    pdf: Path
    warnings: list[str] = field(default_factory=list)


def case_names() -> list[str]:
    """The sample book and every folder under tests/cases with an expect.yaml."""
    return ["sample", *sorted(p.parent.name for p in CASES_DIR.glob("*/expect.yaml"))]


_building = False  # true while a session fixture builds a case: its warnings are its own


class _Collect(logging.Handler):
    def __init__(self, outside_builds: bool = False) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []
        self.outside_builds = outside_builds

    def emit(self, record: logging.LogRecord) -> None:
        if not (self.outside_builds and _building):
            self.records.append(record.getMessage())


@pytest.fixture(scope="session")
def build_case(tmp_path_factory: pytest.TempPathFactory):
    """A function that builds a case once per session (both formats) and returns Built."""
    done: dict[str, Built] = {}

    def get(name: str) -> Built:
        global _building
        if name in done:
            return done[name]
        if name == "sample":
            expect = dict(SAMPLE_EXPECT)
        else:
            expect = yaml.safe_load((CASES_DIR / name / "expect.yaml").read_text())
        source = (
            Path(expect["source"])
            if name == "sample"
            else CASES_DIR / name / expect.get("source", "")
        )
        out = tmp_path_factory.mktemp(f"out-{name}")
        handler = _Collect()
        logging.getLogger("quire").addHandler(handler)
        _building = True
        try:
            written = build(source, out, ("pdf", "epub"), lambda *a: None)
        finally:
            _building = False
            logging.getLogger("quire").removeHandler(handler)
        paths = {w.format: w.path for w in written}
        done[name] = Built(name, source, expect, paths["epub"], paths["pdf"], handler.records)
        return done[name]

    return get


@pytest.fixture(scope="session")
def epubcheck_report(build_case):
    """EPUBCheck's report for a case, run once per built file."""
    reports = {}

    def get(name: str):
        if name not in reports:
            reports[name] = run_epubcheck(build_case(name).epub)
        return reports[name]

    return get


@pytest.fixture(params=case_names())
def case(request, build_case) -> Built:
    """Each case, built."""
    return build_case(request.param)


@pytest.fixture(autouse=True)
def no_unexpected_warnings(request):
    """Fail a test when Quire logs a warning outside a session build (like assert_no_logs)."""
    handler = _Collect(outside_builds=True)
    logger = logging.getLogger("quire")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    if handler.records and not request.node.get_closest_marker("expect_warnings"):
        pytest.fail("unexpected warnings: " + "; ".join(handler.records))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "expect_warnings: the test expects Quire to warn")


def require_tool(available: bool, what: str, install: str) -> None:
    """Skip a test whose outside tool is missing, saying how to install it; under CI=true fail."""
    if available:
        return
    message = f"{what} is not installed: {install} (.ci/run installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_build(
    source: Path | str,
    out: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    preexec_fn=None,  # noqa: ANN001
) -> subprocess.CompletedProcess:
    """`python build.py SOURCE --out OUT ARGS`, from the repository's root, as a user runs it."""
    return subprocess.run(
        [sys.executable, "build.py", str(source), "--out", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        preexec_fn=preexec_fn,
    )


def build_with_check(source: Path, out: Path) -> subprocess.CompletedProcess:
    """`python build.py SOURCE --out OUT --to pdf --check`, from the repository's root."""
    return run_build(source, out, "--to", "pdf", "--check")


def write_book(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write a manuscript's files (text or bytes) into `folder` and return it."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def answers_ctrl_c() -> None:
    """For Popen's preexec_fn: let the child take Ctrl-C (SIGINT) as a terminal would give it.

    A shell starts a background job with SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler in it: a test that sends SIGINT to a build would wait in vain
    when the suite itself was started in the background."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
