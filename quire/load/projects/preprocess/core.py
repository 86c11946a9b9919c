"""What the flavours' directives share: the bounds of one chapter's preprocessing, the
expansion of a file's text, and the reading of an included file inside the book."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from quire.errors import BuildError, Finding, Problem
from quire.load.confine import check_file, not_a_file, read_file, resolved
from quire.load.limits import size_limit, too_big
from quire.load.manuscript import display_name
from quire.load.projects.preprocess.lines import Lined, SourceText

MAX_DEPTH = 10  # mdBook's own limit of nested includes
MAX_INCLUDES = 10_000  # directives expanded for one chapter, all levels together
Directives = Callable[[SourceText, Path, "Run"], Lined]


@dataclass
class Run:
    """What one chapter's preprocessing has done so far: its bounds and findings."""

    root: Path
    directives: Directives  # the flavour's: mdbook.directives or gitbook.directives
    findings: list[Finding] = field(default_factory=list)
    includes: int = 0
    size: int = 0  # characters brought in by includes so far, each include counted
    read: dict[Path, str] = field(default_factory=dict)  # each included file, read once
    chain: list[str] = field(default_factory=list)  # the files being expanded, outermost first

    def note(self, message: str, file: str, line: int, hint: str, group: str) -> None:
        """Keep a finding for the caller to report."""
        self.findings.append(Finding(Problem(message, file, line, hint), group))


def expand(text: str, path: Path, run: Run, numbers: Sequence[int] | None = None) -> Lined:
    """One file's text with its directives done, includes expanded in turn; `numbers` are the
    line numbers in the file of the text's lines (1, 2, 3… if not given)."""
    shown = display_name(path)
    if len(run.chain) >= MAX_DEPTH:
        raise BuildError(
            f"includes nested more than {MAX_DEPTH} deep: {' → '.join([*run.chain, shown])}",
            file=run.chain[-1],
            hint="a file includes itself, directly or through others: break the circle",
        )
    run.chain.append(shown)
    try:
        source = SourceText(text, shown, numbers or range(1, text.count("\n") + 2))
        return run.directives(source, path, run)
    finally:
        run.chain.pop()


def included(ref: str, whole: str, path: Path, line: int, run: Run) -> tuple[Path, str] | None:
    """The path and text of an included file; None (with a finding) if it does not exist.
    A file outside the book, or not a regular file, is refused."""
    shown = display_name(path)
    target = path.parent / ref
    if Path(ref).is_absolute() or not resolved(target).is_relative_to(run.root):
        raise BuildError(
            f"`{whole[:80]}` points outside the book's folder",
            file=shown,
            line=line,
            hint="keep included files inside the book's folder",
        )
    why = not_a_file(target)
    if why == "missing":
        run.note(f"`{whole[:80]}`: no file {display_name(target)}", shown, line,
                 "left out: check the path, relative to the file that includes it",
                 "includes of missing files")  # fmt: skip
        return None
    if why:
        raise BuildError(
            f"`{whole[:80]}`: {display_name(target)} is {why}, not a file",
            file=shown,
            line=line,
            hint="include an ordinary file inside the book's folder",
        )
    run.includes += 1
    if run.includes > MAX_INCLUDES:
        raise BuildError(
            f"more than {MAX_INCLUDES} includes in one chapter",
            file=run.chain[0],
            hint="split the chapter, or include fewer, larger files",
        )
    key = resolved(target)
    if key not in run.read:
        run.read[key] = _read(target, ref, whole, shown, line)
    # What the chapter can grow to is bounded as it grows, not only once it is whole: a file
    # included many times over would otherwise be held in memory many times first.
    run.size += len(run.read[key])
    if run.size > size_limit("chapter"):
        raise too_big("chapter", run.size, file=run.chain[0], line=None,
                      what="the chapter with its includes")  # fmt: skip
    return target, run.read[key]


def _read(target: Path, ref: str, whole: str, shown: str, line: int) -> str:
    """An included file's text, read within the chapter size cap."""
    check_file(target, "chapter", file=shown, line=line, what=ref)
    data = read_file(target, "chapter", file=shown, line=line)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BuildError(
            f"`{whole[:80]}`: {display_name(target)} is not UTF-8 text "
            f"(byte 0x{data[exc.start]:02x} at offset {exc.start})",
            file=shown,
            line=line,
            hint="save the included file as UTF-8",
        ) from None
