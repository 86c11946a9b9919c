"""The one error type of a build, and the warnings it collects on the way."""

from __future__ import annotations

import errno
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger("quire")

EXIT_OK = 0
EXIT_BUILD = 1
EXIT_USAGE = 2
EXIT_BUG = 3
DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
# Control characters (a newline in a file name, an escape sequence) would split a message over
# lines or drive the terminal; they are shown escaped instead.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Text safe to print as part of one line: control characters escaped as \\n, \\x1b, ..."""
    return UNPRINTABLE.sub(lambda m: repr(m[0])[1:-1], text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, what it is, what to do."""

    message: str
    file: str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.file and self.line:
            where += f":{self.line}"
        text = f"{where}: {self.message}" if where else self.message
        return printable(f"{text} ({self.hint})" if self.hint else text)


class BuildError(Exception):
    """A build that cannot go on; carries one or more problems and an exit code."""

    def __init__(
        self,
        message: str = "",
        *,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
        kind: str = "input",
        problems: list[Problem] | None = None,
    ) -> None:
        if problems is None:
            file, line = author_place(file, line)
        self.problems = list(problems or [Problem(message, file, line, hint)])
        self.kind = kind
        super().__init__(str(self))

    @property
    def exit_code(self) -> int:
        """The process exit status that goes with this error."""
        return EXIT_USAGE if self.kind == "usage" else EXIT_BUILD

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# Where each line of a text Quire rewrote before reading it (mdBook's includes) stands in the
# author's files, by the name messages give that text: set by the load stage for the build
# (quire/load/projects/__init__.py), so that every message at such a line, whichever stage
# finds it, names the line the author wrote (the included file's, for included text).
_LINE_PLACES: dict[str, Sequence[tuple[str, int]]] = {}


def set_line_places(places: dict[str, Sequence[tuple[str, int]]]) -> None:
    """The places of the lines of the build's rewritten texts (see _LINE_PLACES)."""
    _LINE_PLACES.clear()
    _LINE_PLACES.update(places)


def author_place(file: str | None, line: int | None) -> tuple[str | None, int | None]:
    """The file and line the author wrote, for a line of a text Quire rewrote."""
    places = _LINE_PLACES.get(file) if file and line else None
    if places and line and 1 <= line <= len(places):
        return places[line - 1]
    return file, line


def warn(
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    hint: str = "",
    group: str | None = None,
) -> None:
    """Log a warning about the input in the same one-line form as an error.

    `hint` says what Quire did instead and what the author can do; `group` names the kind of
    warning (a plural phrase, "images without alt text"), under which the build's report
    gathers every place it was found."""
    file, line = author_place(file, line)
    report_again(Finding(Problem(message, file, line, hint or None), group or ""))


def report_again(finding: Finding) -> None:
    """Log a warning whose place is already the author's (one found before, or placed by the
    stage that rewrote the text)."""
    problem = finding.problem
    log.warning(
        str(problem), extra={"quire_problem": problem, "quire_group": finding.group or None}
    )


@dataclass(frozen=True)
class Finding:
    """A warning of the build: the problem and the kind it is reported under."""

    problem: Problem
    group: str

    def to_json(self) -> dict:
        """The finding as plain data, kept with the build's cache to report it again."""
        p = self.problem
        return {"group": self.group, "message": p.message, "file": p.file, "line": p.line,
                "hint": p.hint}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        """A finding kept by `to_json`; raises on anything else."""
        values = [data[k] for k in ("message", "file", "line", "hint")]
        if not all(v is None or isinstance(v, int | str) for v in values):
            raise ValueError("not a finding")
        return cls(Problem(*values), str(data["group"]))


NOT_THE_BOOKS = {"cache entries dropped"}  # warnings --strict lets pass (see Findings)


class Findings(logging.Handler):
    """Every warning logged while it is installed on Quire's logger, in order, without repeats."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[Finding] = []
        self._seen: set[Finding] = set()

    def emit(self, record: logging.LogRecord) -> None:
        problem = getattr(record, "quire_problem", None) or Problem(record.getMessage())
        group = getattr(record, "quire_group", None) or _group_of(problem)
        self.add(Finding(problem, group))

    def add(self, finding: Finding) -> None:
        """Keep a finding, once."""
        with self.lock:
            if finding not in self._seen:
                self._seen.add(finding)
                self.found.append(finding)

    def __enter__(self) -> Findings:
        log.addHandler(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        log.removeHandler(self)

    @property
    def about_the_book(self) -> list[Finding]:
        """The findings `--strict` stops on: all but those about Quire's own cache, which is
        laid out again and is never the book's fault."""
        return [f for f in self.found if f.group not in NOT_THE_BOOKS]

    def as_error(self) -> BuildError:
        """The findings as one error, as `--strict` reports them."""
        problems = [f.problem for f in self.about_the_book]
        return BuildError(problems=problems, kind="strict")


def _group_of(problem: Problem) -> str:
    """The kind of an ungrouped warning: its message, with what is quoted in it left out."""
    return re.sub(r"`[^`]*`|“[^”]*”|'[^']*'", "…", problem.message)


def grouped_report(found: list[Finding], verbose: bool = False, places: int = 3) -> list[str]:
    """The lines that report a build's warnings: a count, then each kind once with its count,
    what Quire did (the hint, when all of the kind share one), and its first places."""
    if not found:
        return []
    groups: dict[str, list[Finding]] = {}
    for finding in found:
        groups.setdefault(finding.group, []).append(finding)
    lines = [f"{len(found)} warning{'s' if len(found) != 1 else ''}, in {len(groups)} group"
             f"{'s' if len(groups) != 1 else ''}:"]  # fmt: skip
    for group, items in groups.items():
        if len(items) == 1:  # a kind found once is its one line
            lines.append(f"  {items[0].problem}")
            continue
        hints = {f.problem.hint for f in items}
        shared = hints.pop() if len(hints) == 1 else None
        head = f"  {group} ({len(items)})"
        lines.append(printable(f"{head}: {shared}" if shared else head))
        shown = items if verbose else items[:places]
        for f in shown:
            plain = f.problem if shared is None else Problem(f.problem.message, f.problem.file,
                                                             f.problem.line)  # fmt: skip
            lines.append(f"    {plain}")
        if len(items) > len(shown):
            lines.append(f"    … and {len(items) - len(shown)} more (--verbose lists them all)")
    return lines


def as_build_error(raised: BaseException) -> BuildError | None:
    """The BuildError an exception stands for, or None if it is a bug in Quire.

    Some libraries raise BaseException subclasses (WeasyPrint's FatalURLFetchingError), which
    `except Exception` would let through as a traceback.
    """
    if isinstance(raised, BuildError):
        return raised
    if isinstance(raised, MemoryError):
        return BuildError(
            "ran out of memory",
            hint="the book is too large for this machine, or an input is built to exhaust it",
            kind="resource",
        )
    if isinstance(raised, OSError) and raised.errno in DISK_FULL:
        return BuildError(
            f"no room to write a temporary file: {raised.strerror}",
            file=raised.filename if isinstance(raised.filename, str) else None,
            hint="free some disk space (or raise the file size limit) and build again",
            kind="output",
        )
    if type(raised).__name__ == "FatalURLFetchingError":  # WeasyPrint, refused by our fetcher
        url = str(raised.args[0]) if raised.args else "?"
        return BuildError(
            f"the print layout refers to a file outside the book: {url[:120]}",
            hint="keep fonts, images and CSS files inside the book's folder or styles/",
        )
    return None
