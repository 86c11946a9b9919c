"""The no-loss check's own timer, for bench.py: on PYTHONPATH with QUIRE_BENCH_CHECK_TIMES set,
every process of a build (the layout workers too) appends the seconds each unit's check took
to that file: reading the unit's PDF text layer (print_checks.pdf_text, used only by the check)
and aligning it with the unit's text (layout._nothing_lost: the text stream and text_check's
alignment). Nothing of Quire is changed: the two functions are wrapped when layout.py loads."""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import sys
import time

LOG = os.environ.get("QUIRE_BENCH_CHECK_TIMES", "")
TIMED = ("pdf_text", "_nothing_lost")


def _timed(func):  # noqa: ANN001, ANN202
    @functools.wraps(func)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            with open(LOG, "a") as log:
                log.write(f"{func.__name__} {time.perf_counter() - start:.6f}\n")

    return wrapper


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the check's functions once quire.render.pdf.layout has run."""

    def find_spec(self, name, path, target=None):  # noqa: ANN001, ANN201
        if name != "quire.render.pdf.layout":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):  # noqa: ANN001, ANN202
            run(module)
            for attribute in TIMED:
                setattr(module, attribute, _timed(getattr(module, attribute)))

        spec.loader.exec_module = exec_module
        return spec


if LOG:
    sys.meta_path.insert(0, _Finder())
