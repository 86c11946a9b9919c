"""Benchmark: Quire's build against the bare tools it stands on, measured in the same run.

Prints wall time and peak memory for each, and Quire's ratios to the bare route:
  bare EPUB = pandoc's own EPUB writer on the same Markdown files;
  bare PDF  = pandoc to standalone HTML, then WeasyPrint's command line on that HTML.
Run: python bench/bench.py [SOURCE] [--repeat N]. Compare ratios, not absolute times:
the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pypandoc
import yaml

ROOT = Path(__file__).resolve().parent.parent


def run(command: list[str]) -> tuple[float, float]:
    """Run a command; return (seconds, peak resident memory of that child in MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss is the largest child so far, so run the biggest-memory commands in fresh processes.
    return seconds, max(peak, before) / 1024


def measure(command: list[str], repeat: int) -> tuple[float, float]:
    """Median time and peak memory over `repeat` runs, each in a fresh child process."""
    results = []
    for _ in range(repeat):
        child = [sys.executable, __file__, "--child", "--", *command]
        output = subprocess.run(child, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        seconds, megabytes = (float(v) for v in output.split())
        results.append((seconds, megabytes))
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def markdown_files(source: Path) -> list[str]:
    """The manuscript's files in reading order, as book.yaml lists them."""
    data = yaml.safe_load((source / "book.yaml").read_text())
    names = [*data.get("front-matter", []), *data.get("chapters", []), *data.get("back-matter", [])]
    return names


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("source", nargs="?", default="manuscript")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    source, pandoc = ROOT / args.source, pypandoc.get_pandoc_path()
    files = markdown_files(source)
    out = Path(tempfile.mkdtemp(prefix="quire-bench-"))
    html = out / "bare.html"
    meta = "--metadata-file book.yaml"
    inputs = " ".join(files)
    commands = {
        "quire epub": [sys.executable, "build.py", str(source), "--out", str(out / "q1"), "--to", "epub"],
        "bare epub (pandoc)": [
            "sh", "-c", f"cd {source} && {pandoc} {inputs} {meta} -o {out / 'bare.epub'}"
        ],
        "quire pdf": [sys.executable, "build.py", str(source), "--out", str(out / "q2"), "--to", "pdf"],
        "bare pdf (pandoc+weasyprint)": [
            "sh", "-c",
            f"cd {source} && {pandoc} {inputs} {meta} -s --wrap=none -o {html} && "
            f"{sys.executable} -m weasyprint -u {source}/ {html} {out / 'bare.pdf'}",
        ],
        "quire both": [sys.executable, "build.py", str(source), "--out", str(out / "q3")],
    }
    results = {name: measure(cmd, args.repeat) for name, cmd in commands.items()}
    print(f"{'route':<30} {'median s':>9} {'peak MB':>8}")
    for name, (seconds, megabytes) in results.items():
        print(f"{name:<30} {seconds:9.2f} {megabytes:8.0f}")
    for kind, bare in (("epub", "bare epub (pandoc)"), ("pdf", "bare pdf (pandoc+weasyprint)")):
        q, b = results[f"quire {kind}"], results[bare]
        print(f"ratio quire/bare {kind}: time {q[0] / b[0]:.2f}x, memory {q[1] / b[1]:.2f}x")
    both = results["quire both"][0]
    separate = results["bare epub (pandoc)"][0] + results["bare pdf (pandoc+weasyprint)"][0]
    print(f"ratio quire both / bare epub+pdf: time {both / separate:.2f}x")


if __name__ == "__main__":
    if "--child" in sys.argv:
        seconds, megabytes = run(sys.argv[sys.argv.index("--") + 1 :])
        print(seconds, megabytes)
    else:
        os.chdir(ROOT)
        main()
