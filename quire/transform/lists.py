"""Lists of figures and tables where `\\listoffigures` and `\\listoftables` stood."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from quire.transform.model import Chapter


@dataclass(frozen=True)
class Entry:
    """A figure or table in a list of them: its chapter, id and caption."""

    chapter: Chapter
    id: str
    text: str


# The placeholder class latex.py leaves, and what each list gathers: (element, caption child).
LISTS = {"list-of-figures": ("figure", "figcaption"), "list-of-tables": ("table", "caption")}
# What each list is called where Quire makes it itself (`lof: true`, `lot: true`).
LIST_TITLES = {"list-of-figures": "List of Figures", "list-of-tables": "List of Tables"}


def placeholder(kind: str) -> dict:
    """The AST block that stands where a list goes until the book's HTML exists."""
    return {"t": "Div", "c": [["", ["quire-list", kind], []], []]}


def name_listed(chapters: list[Chapter]) -> None:
    """Give every captioned figure and table an id, so that a list of them can link to it."""
    for tag, caption_tag in LISTS.values():
        listed = (e for c in chapters for e in c.body.iter(tag) if e.find(caption_tag) is not None)
        for number, element in enumerate(listed, 1):
            if not element.get("id"):
                element.set("id", f"quire-{tag}-{number}")


def list_entries(chapters: tuple[Chapter, ...] | list[Chapter], kind: str) -> list[Entry]:
    """(chapter, id, caption text) of each captioned figure or table, in reading order."""
    tag, caption_tag = LISTS[kind]
    return [
        Entry(
            chapter, element.get("id"), " ".join(element.find(caption_tag).text_content().split())
        )
        for chapter in chapters
        for element in chapter.body.iter(tag)
        if element.find(caption_tag) is not None and element.get("id")
    ]


def fill_lists(chapters: list[Chapter]) -> None:
    """Fill each list with links to the book's captioned figures or tables, in reading order.

    In print the links get their page numbers like any cross-reference (print.css: a.xref).
    """
    name_listed(chapters)
    for kind in LISTS:
        spots = [d for c in chapters for d in c.body.iter("div") if kind in d.get("class", "")]
        entries = list_entries(chapters, kind) if spots else []
        for spot in spots:
            items = etree.SubElement(spot, "ol", {"class": kind})
            for entry in entries:
                link = etree.SubElement(
                    etree.SubElement(items, "li"), "a", {"href": f"#{entry.id}"}
                )
                link.text = entry.text
            if not entries:
                spot.drop_tree()
