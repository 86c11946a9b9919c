"""A deterministic synthetic book for benchmarks and tests: chapters of plain prose with notes,
tables, a figure, section headings, cross-references between chapters, and Cyrillic and
Chinese phrases, shaped like a real history book.

    python bench/make_book.py 50000 /tmp/book50k
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS_PER_CHAPTER = 6000
WORDS = [
    "the",
    "treaty",
    "river",
    "border",
    "empire",
    "trade",
    "envoy",
    "frontier",
    "court",
    "winter",
    "caravan",
    "silver",
    "fort",
    "garrison",
    "minister",
    "delegation",
    "province",
    "harbour",
    "archive",
    "letter",
    "charter",
    "council",
    "steppe",
    "merchant",
    "railway",
    "settlement",
    "dispute",
    "survey",
    "mission",
    "customs",
    "tribute",
    "alliance",
    "embassy",
    "negotiation",
    "boundary",
    "ledger",
    "expedition",
    "governor",
    "dynasty",
    "revolution",
    "commission",
]
LINKERS = [
    "and",
    "of",
    "in",
    "to",
    "with",
    "from",
    "by",
    "for",
    "after",
    "before",
    "across",
    "under",
    "over",
]
CYRILLIC = ["[Нерчинск]{lang=ru}", "[Амур]{lang=ru}", "[Кяхта]{lang=ru}", "[Дацин]{lang=ru}"]
CHINESE = ["[尼布楚条约]{lang=zh-Hans}", "[黑龙江]{lang=zh-Hans}", "[大庆]{lang=zh-Hans}"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS if n % 2 == 0 else LINKERS) for n in range(rng.randint(8, 22))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def paragraph(rng: random.Random, words: int) -> str:
    text = []
    while sum(len(s.split()) for s in text) < words:
        text.append(sentence(rng))
    return " ".join(text)


def chapter(rng: random.Random, number: int, chapters: int, words: int) -> str:
    """One chapter: about `words` words in sections, with notes, a table and a figure."""
    lines = [f"# Chapter of the {WORDS[number % len(WORDS)]}s {{#ch-{number}}}", ""]
    written, section, note = 0, 0, 0
    while written < words:
        if written // 1500 >= section:
            section += 1
            lines += [f"## The {rng.choice(WORDS)} question {{#sec-{number}-{section}}}", ""]
        text = paragraph(rng, rng.randint(90, 160))
        if rng.random() < 0.35:
            note += 1
            text += f"[^n{note}]"
            lines += [text, "", f"[^n{note}]: {sentence(rng)} {sentence(rng)}", ""]
        elif rng.random() < 0.15:
            lines += [text + f" The name {rng.choice(CYRILLIC)} ({rng.choice(CHINESE)}).", ""]
        elif rng.random() < 0.08 and chapters > 1:
            other = (number % chapters) + 1
            lines += [text + f" See [the {WORDS[other % len(WORDS)]}s](#ch-{other}).", ""]
        else:
            lines += [text, ""]
        written += len(text.split())
        if written > words // 3 and "table" not in "".join(lines[-40:]) and section == 2:
            lines += table(rng, number)
        if section == 3 and "![" not in "".join(lines):
            lines += [f"![A survey map of district {number}, drawn in grey.](map.png)", ""]
    return "\n".join(lines) + "\n"


def table(rng: random.Random, number: int) -> list[str]:
    rows = ["| Year | Place | Russian | Chinese |", "|---|---|---|---|"]
    for _ in range(8):
        rows.append(
            f"| {rng.randint(1650, 2012)} | {rng.choice(WORDS)} | "
            f"{rng.choice(CYRILLIC)} | {rng.choice(CHINESE)} |"
        )
    return [*rows, "", f": Places in chapter {number} (a table of the table kind)", ""]


def make_book(folder: Path, words: int, seed: int = 1, single: bool = False) -> Path:
    """Write a book of about `words` words into `folder` (created); the same every time.

    With `single`, the same book is also written as one file, `book.md`, its settings in a
    YAML block (each chapter's note labels made its own): the path returned is that file."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    chapters = max(3, round(words / WORDS_PER_CHAPTER))
    names = []
    for number in range(1, chapters + 1):
        name = f"{number:02d}-chapter.md"
        (folder / name).write_text(chapter(rng, number, chapters, words // chapters), "utf-8")
        names.append(name)
    preface = "# Preface {.preface}\n\n" + paragraph(rng, 250) + " See [the first](#ch-1).\n"
    (folder / "preface.md").write_text(preface, "utf-8")
    glossary = "# Glossary\n\n" + "\n\n".join(
        f"{w.capitalize()}\n:   {sentence(rng)}" for w in WORDS[:20]
    )
    (folder / "glossary.md").write_text(glossary + "\n", "utf-8")
    image = Image.new("L", (1500, 900), 230)
    draw = ImageDraw.Draw(image)
    for n in range(0, 1500, 60):
        draw.line((n, 0, 1500 - n, 900), fill=90, width=3)
    image.save(folder / "map.png", optimize=False)
    (folder / "book.yaml").write_text(
        f"title: A Synthetic History of {words} Words\nauthor: Quire Bench\nlang: en\n"
        "identifier: urn:uuid:3c0e5b7a-9a2f-4e61-8f0e-5d2b1c7a9e40\ndate: 2026-01-01\n"
        "trim: 6x9in\nfront-matter: [preface.md]\n"
        f"chapters: [{', '.join(names)}]\nback-matter: [glossary.md]\n",
        "utf-8",
    )
    return _as_one_file(folder, names) if single else folder


def _as_one_file(folder: Path, names: list[str]) -> Path:
    """The book of chapter files in `folder` written again as one Markdown file."""
    settings = (folder / "book.yaml").read_text("utf-8").split("front-matter:")[0]
    parts = [f"---\n{settings}---\n", (folder / "preface.md").read_text("utf-8")]
    for number, name in enumerate(names, start=1):  # [^n1] in every chapter: one file needs one
        parts.append((folder / name).read_text("utf-8").replace("[^n", f"[^c{number}n"))
    parts.append((folder / "glossary.md").read_text("utf-8"))
    path = folder / "book.md"
    path.write_text("\n".join(parts), "utf-8")
    return path


def main() -> None:
    """Command line: make_book.py WORDS FOLDER."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("words", type=int, help="the book's length in words, e.g. 50000")
    parser.add_argument("folder", type=Path, help="where to write it (made or overwritten)")
    parser.add_argument("--single", action="store_true", help="also as one file, book.md")
    args = parser.parse_args()
    print(make_book(args.folder, args.words, single=args.single))


if __name__ == "__main__":
    main()
