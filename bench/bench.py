"""Quire against the bare tools, measured in the same run on the same synthetic books.

    python bench/bench.py 10000 50000          # sizes in words (150000 and 300000 also work)
    python bench/bench.py 50000 --single       # the same books kept as one file each
    python bench/bench.py 300000 --short       # only the cold build, the check, one word

Each figure is the wall time of a fresh process (as a user runs it) and the peak resident
memory of its largest process (for Quire: the main process, a layout worker or a pandoc it
runs), with the sum of the peaks of all its processes (sampled from /proc every 50 ms). Ratios
are against bare pandoc (EPUB) and bare pandoc + WeasyPrint (PDF) measured just before. The
column "one word saved under --watch" is what an author waits for, from a save to the rebuilt
files (the median of three saves; the first after starting also starts the layout workers).
The last column is the no-loss check's own cost in a cold EPUB + PDF build, timed by
bench/check_timer: reading each unit's PDF text layer and aligning it with the unit's text,
summed over the layout workers that run it beside the layout. Run it
with the same `nice` as everything else on a shared machine, and compare ratios from one run."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from make_book import make_book  # noqa: E402

# As a user runs it: Python keeps the modules' bytecode (a shell that sets this, as a sandbox
# may, makes every run compile Quire's modules again: a tenth of a second).
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(*args: str) -> tuple[float, float, float]:
    """(seconds, peak MiB of the largest process, sum of every process's peak MiB) of one
    command, run from the repository."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENVIRONMENT
    )
    peaks: dict[int, int] = {}
    done = threading.Event()
    sampler = threading.Thread(target=_sample_peaks, args=(proc.pid, done, peaks))
    sampler.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if status != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{proc.stderr.read().decode()}")
    # The rusage covers the processes it waited for; the samples also cover the layout
    # workers, children of a server process that may outlive the wait by a moment.
    largest = max(usage.ru_maxrss, *peaks.values()) if peaks else usage.ru_maxrss
    return seconds, largest / 1024, sum(peaks.values()) / 1024


def _sample_peaks(root: int, done: threading.Event, peaks: dict[int, int]) -> None:
    """Note the peak resident memory (VmHWM, KiB) of root and its descendants until done."""
    while not done.wait(0.05):
        parents = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
        family, grown = {root}, True
        while grown:
            grown = {pid for pid, parent in parents.items() if parent in family} - family
            family |= grown
        for pid in family:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))


def quire(source: Path, out: Path, *extra: str) -> tuple[float, float, float]:
    return measure(sys.executable, "build.py", str(source), "--out", str(out), *extra)


def checked(source: Path, out: Path, log: Path) -> tuple[float, float, float]:
    """A cold EPUB + PDF build with the no-loss check's own timer (check_timer/): (the
    build's seconds, the check's seconds summed over the processes that ran it, of which
    reading the units' text layers)."""
    log.unlink(missing_ok=True)
    timer = {"QUIRE_BENCH_CHECK_TIMES": str(log), "PYTHONPATH": str(HERE / "check_timer")}
    ENVIRONMENT.update(timer)
    try:
        seconds = quire(source, out, *BOTH)[0]
    finally:
        for name in timer:
            ENVIRONMENT.pop(name)
    spent = {"pdf_text": 0.0, "_nothing_lost": 0.0}
    for line in log.read_text().splitlines() if log.exists() else ():
        name, value = line.split()
        spent[name] += float(value)
    return seconds, spent["pdf_text"] + spent["_nothing_lost"], spent["pdf_text"]


def bench(
    words: int, work: Path, single: bool = False, short: bool = False
) -> dict[str, tuple[float, float, float]]:
    """Every measurement for one book size, kept as chapter files or (`single`) as one file;
    `short`: only the bare PDF, the cold EPUB + PDF, the same with the no-loss check's timer
    and one word changed (a quarter of the time, for the largest books)."""
    book = make_book(work / f"book-{words}", words, single=single)
    bare = HERE / "bare.py"
    if short:
        runs = {
            "bare pdf": measure(sys.executable, str(bare), "pdf", str(book), str(work / "b.pdf")),
            "quire both": quire(book, work / f"both-{words}", *BOTH),
            "quire both, check timed": checked(book, work / f"timed-{words}", work / "check.log"),
        }
        middle = _middle(book)
        middle.write_text(_change_middle(middle.read_text(), " treaty ", " treaties "))
        runs["quire one word"] = quire(book, work / f"both-{words}", *BOTH)
        return runs
    runs = {
        "bare epub": measure(sys.executable, str(bare), "epub", str(book), str(work / "b.epub")),
        "bare pdf": measure(sys.executable, str(bare), "pdf", str(book), str(work / "b.pdf")),
        "quire epub": quire(book, work / f"epub-{words}", "--to", "epub"),
        "quire pdf": quire(book, work / f"pdf-{words}", "--to", "pdf"),
        # The "full build" is the EPUB and the PDF; a plain `python build.py` also
        # makes the web edition, measured beside it.
        "quire both": quire(book, work / f"both-{words}", *BOTH),
        "quire full": quire(book, work / f"full-{words}"),
        "quire no-op": quire(book, work / f"full-{words}"),
        "quire both, check timed": checked(book, work / f"timed-{words}", work / "check.log"),
    }
    middle = _middle(book)
    middle.write_text(_change_middle(middle.read_text(), " treaty ", " treaties "))
    runs["quire one word"] = quire(book, work / f"both-{words}", *BOTH)
    runs["quire one word, full"] = quire(book, work / f"full-{words}")
    runs["quire one word, watch"] = (watched_saves(book, middle, work / f"both-{words}"), 0, 0)
    return runs


def _middle(book: Path) -> Path:
    """The file of the middle chapter: its own, or the one file a single-file book is."""
    if book.is_file():
        return book
    chapters = sorted(book.glob("[0-9]*-chapter.md"))
    return chapters[len(chapters) // 2]


def _change_middle(text: str, old: str, new: str) -> str:
    """The text with one word of its middle changed (a chapter's first, or the book's middle)."""
    at = text.find(old, len(text) // 2 if "\n---\n" in text[:400] else 0)
    return text[:at] + new + text[at + len(old) :]


def watched_saves(book: Path, chapter: Path, out: Path, saves: int = 3) -> float:
    """The median time from saving one word's change to `--watch` having rebuilt the EPUB and
    the PDF (its "rebuilt" line): what an author waits for a proof while writing."""
    args = [sys.executable, "build.py", str(book), "--out", str(out), *BOTH, "--watch"]
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=ENVIRONMENT,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()

    def wait_for(text: str) -> None:
        while text not in lines.get(timeout=600):
            pass

    times = []
    try:
        wait_for("quire: watching")  # after its first build (from the cache: nothing to do)
        time.sleep(1)
        for n in range(saves):
            words = (" treaties ", " treaty ") if n % 2 == 0 else (" treaty ", " treaties ")
            start = time.perf_counter()
            chapter.write_text(_change_middle(chapter.read_text(), *words))
            wait_for("quire: rebuilt")
            times.append(time.perf_counter() - start)
            time.sleep(1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    return sorted(times)[len(times) // 2]


BOTH = ("--to", "epub", "--to", "pdf")


def table(results: dict[int, dict[str, tuple[float, float, float]]]) -> str:
    """The Markdown table of the README."""
    rows = [
        "| words | bare pandoc EPUB | bare pandoc + WeasyPrint PDF | Quire EPUB | Quire PDF | "
        "Quire EPUB + PDF, cold | Quire EPUB + PDF + web, cold | Quire no-op | "
        "one word changed: EPUB + PDF | one word changed: EPUB + PDF + web | "
        "one word saved under --watch: EPUB + PDF | no-loss check, cold EPUB + PDF |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for words, r in results.items():
        bare_epub, bare_pdf, bare_mib = r["bare epub"][0], r["bare pdf"][0], r["bare pdf"][1]
        pdf, both, full = r["quire pdf"], r["quire both"], r["quire full"]
        rows.append(
            f"| {words:,} | {bare_epub:.1f} s | {bare_pdf:.1f} s, {bare_mib:.0f} MiB | "
            f"{r['quire epub'][0]:.1f} s ({r['quire epub'][0] / bare_epub:.2f}×) | "
            f"{pdf[0]:.1f} s ({pdf[0] / bare_pdf:.2f}×), largest process {pdf[1]:.0f} MiB "
            f"({pdf[1] / bare_mib:.2f}×), all {pdf[2]:.0f} MiB | "
            f"{both[0]:.1f} s ({both[0] / bare_pdf:.2f}× bare PDF), largest process "
            f"{both[1]:.0f} MiB ({both[1] / bare_mib:.2f}×) | "
            f"{full[0]:.1f} s ({full[0] / bare_pdf:.2f}× bare PDF) | "
            f"{r['quire no-op'][0]:.2f} s | "
            f"{r['quire one word'][0]:.1f} s ({r['quire one word'][0] / both[0]:.2f}× cold) | "
            f"{r['quire one word, full'][0]:.1f} s "
            f"({r['quire one word, full'][0] / full[0]:.2f}× cold) | "
            f"{r['quire one word, watch'][0]:.1f} s "
            f"({r['quire one word, watch'][0] / both[0]:.2f}× cold) | "
            f"{_check_cost(r['quire both, check timed'])} |"
        )
    return "\n".join(rows)


def _check_cost(timed: tuple[float, float, float]) -> str:
    """The no-loss check's time, its share of the build's wall time (it runs in the layout
    workers, beside the layout, so its wall cost is at most that share)."""
    build, check, text_layer = timed
    return (
        f"{check:.1f} s in the workers ({text_layer:.1f} s reading text layers), "
        f"{check / build:.2f}× the build's {build:.1f} s"
    )


def short_table(results: dict[int, dict[str, tuple[float, float, float]]]) -> str:
    """The Markdown table of a short run (`--short`)."""
    rows = [
        "| words | bare pandoc + WeasyPrint PDF | Quire EPUB + PDF, cold | one word changed: "
        "EPUB + PDF | no-loss check, cold EPUB + PDF |",
        "|---|---|---|---|---|",
    ]
    for words, r in results.items():
        bare, bare_mib, both, one = (
            r["bare pdf"][0],
            r["bare pdf"][1],
            r["quire both"],
            r["quire one word"],
        )
        rows.append(
            f"| {words:,} | {bare:.1f} s, {bare_mib:.0f} MiB | {both[0]:.1f} s ({both[0] / bare:.2f}× "
            f"bare PDF), largest process {both[1]:.0f} MiB ({both[1] / bare_mib:.2f}×) | "
            f"{one[0]:.1f} s ({one[0] / both[0]:.2f}× cold) | "
            f"{_check_cost(r['quire both, check timed'])} |"
        )
    return "\n".join(rows)


def main(sizes: list[int], single: bool = False, short: bool = False) -> None:
    work = Path(tempfile.mkdtemp(prefix="quire-bench-"))
    # Untimed: Python writes Quire's bytecode now, as a first run after installing does.
    measure(sys.executable, "-c", "import quire.pipeline, quire.render.pdf, quire.render.html")
    try:
        results = {}
        for words in sizes:
            results[words] = bench(words, work, single, short)
            print(f"{words} words: " + ", ".join(
                f"{k} {s:.2f} s {m:.0f} MiB (sum {t:.0f})" for k, (s, m, t) in results[words].items()),
                flush=True)  # fmt: skip
        print(short_table(results) if short else table(results))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    one_file = "--single" in sys.argv  # the same books kept as one file each
    short = "--short" in sys.argv  # only the cold build, the check's cost and one word
    sizes = [int(n) for n in sys.argv[1:] if not n.startswith("--")]
    main(sizes or [10000, 50000], one_file, short)
