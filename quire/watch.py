"""`--watch`: build again on every save, and the layout progress bar on a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from quire.errors import EXIT_OK, BuildError

IGNORED_SUFFIXES = (".part", ".swp", "~")  # half-written outputs, editors' temporary files
EXIT_INTERRUPTED = 130  # what a build stopped by Ctrl-C returns (128 + SIGINT, as shells do)


def watch(source: Path, out: Path, build_once: Callable[[], int], first_build: bool = True) -> int:
    """Build, then build again whenever a file of the book changes; Ctrl-C ends with status 0.

    A failed build is reported like any other and watching goes on, so a half-typed edit
    costs nothing. The output folder is not watched, even inside the book's folder. `--serve`
    runs this loop too, after its first build (`first_build=False`), with a `build_once` that
    also tells the server which build to serve.
    """
    import watchfiles

    folders = _watched(source)
    out = out.resolve()

    def relevant(_change: watchfiles.Change, path: str) -> bool:
        where = Path(path).resolve()
        hidden = any(part.startswith(".") for part in where.parts[-2:])
        return not (where.is_relative_to(out) or hidden or path.endswith(IGNORED_SUFFIXES))

    try:
        if first_build:
            build_once()
        print(f"quire: watching {', '.join(map(str, folders))} (Ctrl-C to stop)", flush=True)
        for changes in watchfiles.watch(
            *folders, watch_filter=relevant, debounce=200, step=50, raise_interrupt=True
        ):
            names = sorted({Path(path).name for _change, path in changes})
            print(f"quire: changed {', '.join(names)}", flush=True)
            start = time.perf_counter()
            status = build_once()
            if status == EXIT_INTERRUPTED:  # Ctrl-C during the build: stop, as while waiting
                raise KeyboardInterrupt
            verdict = "rebuilt" if status == EXIT_OK else "build failed"
            print(f"quire: {verdict} in {time.perf_counter() - start:.2f} s", flush=True)
    except KeyboardInterrupt:
        print("\nquire: stopped watching", flush=True)
    return EXIT_OK


def _watched(source: Path) -> list[Path]:
    """The book's folder and its styles folder (what a build reads)."""
    from quire.load import load as load_book

    try:
        loaded = load_book(source)
        return list(dict.fromkeys((loaded.root, loaded.styles)))
    except BuildError:
        folder = source if source.is_dir() else source.parent
        return [folder.resolve()]


class LayoutProgress:
    """A progress bar for layout on a terminal (units done of all, pages so far); nothing
    otherwise, where the stage lines say enough."""

    def __init__(self) -> None:
        self.bar = None
        self.shown = sys.stderr.isatty()

    def __enter__(self) -> LayoutProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def __call__(self, done: int, total: int, pages: int) -> None:
        if not self.shown:
            return
        from tqdm import tqdm

        if self.bar is None or self.bar.total != total or done < self.bar.n:
            if self.bar is not None:
                self.bar.close()
            self.bar = tqdm(total=total, desc="  layout", unit="unit", leave=False)
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix_str(f"{pages} pages")
