"""The one error type of a build, and the warnings it collects on the way."""

from __future__ import annotations

import errno
import logging
import re
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
        self.problems = list(problems or [Problem(message, file, line, hint)])
        self.kind = kind
        super().__init__(str(self))

    @property
    def exit_code(self) -> int:
        """The process exit status that goes with this error."""
        return EXIT_USAGE if self.kind == "usage" else EXIT_BUILD

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def warn(message: str, *, file: str | None = None, line: int | None = None, hint: str = "") -> None:
    """Log a warning about the input in the same one-line form as an error."""
    log.warning(str(Problem(message, file, line, hint or None)))


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
