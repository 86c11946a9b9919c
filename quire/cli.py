"""Command line: parse arguments, run the pipeline, print stages, errors and what was written."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from quire.errors import (
    EXIT_BUILD,
    EXIT_OK,
    BuildError,
    Findings,
    as_build_error,
    grouped_report,
    printable,
)

DESCRIPTION = "Build a Markdown manuscript into an EPUB 3 and a print-ready PDF."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(prog="build.py", description=DESCRIPTION)
    parser.add_argument(
        "source",
        nargs="?",
        help="manuscript folder (with book.yaml) or a single Markdown file (default: manuscript/)",
    )
    parser.add_argument("--out", default="dist", help="output folder (default: dist/)")
    parser.add_argument(
        "--defaults",
        metavar="FILE",
        help="build the pandoc project this defaults file describes (as `pandoc -d FILE`)",
    )
    parser.add_argument(
        "--to",
        choices=("epub", "pdf", "html"),
        action="append",
        help="build only this format (repeatable); html is the web edition, dist/<slug>/",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show more detail on errors, and every warning"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop on any warning (as `strict: true` in book.yaml does), writing nothing",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="after the build, preflight the PDF for the printer (page size, fonts, images)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="build, serve the web edition on 127.0.0.1, rebuild and reload on change",
    )
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (default: 8000)")
    parser.add_argument(
        "--watch",
        action="store_true",
        help="build, then build again on every save of the manuscript, its images or styles",
    )
    args = parser.parse_args(argv)
    if args.defaults and args.source:
        parser.error("give either SOURCE or --defaults FILE, not both")
    # The project reader of a .yaml SOURCE reads it as a pandoc defaults file.
    args.source = args.defaults or args.source or "manuscript"
    if args.serve and args.to and "html" not in args.to:
        parser.error("--serve serves the web edition; add --to html")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: a port is a number from 0 to 65535")
    if args.check and args.to and "pdf" not in args.to:
        parser.error("--check checks the PDF; add --to pdf")
    return args


def say(line: str) -> None:
    """Print a line of the build's report. Once nothing reads it (`| head`, a pager that
    quit), the build goes on without it, its report sent to /dev/null, rather than ending in
    a BrokenPipeError. (Not by restoring SIGPIPE's default: a build would then die of any
    pipe that breaks, a layout worker's too.)"""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def main(argv: list[str] | None = None) -> int:
    """Run a build and return the exit status: 0 built, 1 build error, 2 usage error."""
    args = parse_args(argv)
    logging.getLogger("quire").propagate = False  # the build's report prints its warnings
    try:
        from quire.pipeline import FORMATS, build
    except ModuleNotFoundError as missing:
        print(
            f"error: Quire needs the Python package `{missing.name}`, which is not installed; "
            "install Quire with its dependencies: pip install -e .",
            file=sys.stderr,
        )
        return EXIT_BUILD

    formats = tuple(args.to) if args.to else FORMATS
    if args.serve or args.watch:  # one process, many builds: its layout workers stay up
        from quire.render.pdf.parallel import keep_workers_between_builds

        keep_workers_between_builds()
    if args.serve:  # --serve rebuilds on change too: --watch's loop
        return serve_site(args, formats, build)
    if args.watch:
        from quire.watch import watch

        return watch(Path(args.source), Path(args.out), lambda: _build_once(args, formats, build))
    return _build_once(args, formats, build)


def _build_once(
    args: argparse.Namespace,
    formats: tuple[str, ...],
    build,  # noqa: ANN001
    on_written: Callable[[list], None] | None = None,
) -> int:
    """One build, its stages and what it wrote printed; the exit status. `on_written` is
    told what a successful build wrote."""
    from quire.watch import LayoutProgress

    def report(stage: str, seconds: float, detail: str) -> None:
        say(f"  {stage:<12} {seconds:6.2f} s  {detail}".rstrip())

    shown_out = printable(args.out)  # a newline in a name must not split a line
    say(f"quire: building {printable(args.source)} → {shown_out}/")
    findings = Findings()
    try:
        with findings, LayoutProgress() as progress:
            written = build(
                Path(args.source), Path(args.out), formats, report, progress, strict=args.strict
            )
    except KeyboardInterrupt:
        print(f"\ninterrupted; nothing in {shown_out}/ was changed", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except BaseException as raised:  # noqa: BLE001 - libraries raise BaseException subclasses too
        error = as_build_error(raised)
        if error is None:
            _print_warnings(findings, args.verbose)
            return _report_bug(args.verbose)
        _print_failure(error, findings, args.verbose)
        print(f"build failed; nothing in {shown_out}/ was changed", file=sys.stderr)
        return error.exit_code
    _print_warnings(findings, args.verbose)
    for item in written:
        pages = f", {item.pages} pages" if item.pages else ""
        say(f"wrote {item.path} ({_human_size(item.size)}{pages})")
        for note in item.notes:
            say(f"  note: {note}")
    if on_written:
        on_written(written)
    if args.check:
        return check_print(written)
    return EXIT_OK


def _print_warnings(findings: Findings, verbose: bool) -> None:
    """The build's warnings, once, grouped by kind, after its stages."""
    for line in grouped_report(findings.found, verbose):
        print(f"warning: {line}" if line[0] != " " else line, file=sys.stderr)


def _print_failure(error: BuildError, findings: Findings, verbose: bool) -> None:
    """A failed build's warnings, then its errors; under --strict the warnings are the errors,
    grouped as warnings are."""
    if error.kind == "strict":
        count = len(findings.about_the_book)
        what = "1 warning stops" if count == 1 else f"{count} warnings stop"
        print(f"error: --strict: {what} the build (without --strict it builds):", file=sys.stderr)
        for line in grouped_report(findings.about_the_book, verbose)[1:]:  # (counted above)
            print(line, file=sys.stderr)
        return
    _print_warnings(findings, verbose)
    for line in str(error).splitlines():
        print(f"error: {line}", file=sys.stderr)


def serve_site(args: argparse.Namespace, formats: tuple[str, ...], build) -> int:  # noqa: ANN001
    """Build, serve the web edition, then rebuild and reload on each change (--watch's loop)."""
    from quire.serve import Site, serving
    from quire.watch import watch

    site = Site()

    def build_once() -> int:
        return _build_once(args, formats, build, site.update)

    status = build_once()
    if status != EXIT_OK:
        return status
    try:
        with serving(site, args.port):
            return watch(Path(args.source), Path(args.out), build_once, first_build=False)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


def check_print(written: list) -> int:
    """Preflight the PDFs that were written: one line per finding; 1 if any is an error."""
    from quire.press.preflight import preflight_written

    failed = False
    for path, report in preflight_written(written):
        print(f"quire: preflight of {path}")
        for finding in report.findings:
            print(f"  {finding}")
            failed |= finding.severity in ("fatal", "error")
    if failed:
        print("preflight failed: fix the errors above before sending the PDF to the printer")
    return EXIT_BUILD if failed else EXIT_OK


def _report_bug(verbose: bool) -> int:
    kind, value = sys.exc_info()[:2]
    print(f"error: internal error (a bug in Quire): {kind.__name__}: {value}", file=sys.stderr)
    try:
        handle, name = tempfile.mkstemp(prefix="quire-crash-", suffix=".log")
        with open(handle, "w", encoding="utf-8") as log:
            log.write(traceback.format_exc())
        print(f"the traceback is in {name}; please report it with that file", file=sys.stderr)
    except OSError:
        verbose = True  # no log file could be written: show the traceback instead
    if verbose:
        print(traceback.format_exc(), file=sys.stderr)
    return EXIT_BUILD


if __name__ == "__main__":
    sys.exit(main())
