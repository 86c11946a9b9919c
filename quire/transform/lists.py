"""Lists of figures and tables where `\\listoffigures` and `\\listoftables` stood."""

from __future__ import annotations

from lxml import etree

from quire.transform.model import Chapter

# The placeholder class latex.py leaves, and what each list gathers: (element, caption child).
LISTS = {"list-of-figures": ("figure", "figcaption"), "list-of-tables": ("table", "caption")}


def placeholder(kind: str) -> dict:
    """The AST block that stands where a list goes until the book's HTML exists."""
    return {"t": "Div", "c": [["", ["quire-list", kind], []], []]}


def fill_lists(chapters: list[Chapter]) -> None:
    """Fill each list with links to the book's captioned figures or tables, in reading order.

    In print the links get their page numbers like any cross-reference (print.css: a.xref).
    """
    for kind, (tag, caption_tag) in LISTS.items():
        spots = [d for c in chapters for d in c.body.iter("div") if kind in d.get("class", "")]
        if not spots:
            continue
        entries = []
        for number, element in enumerate(
            (e for c in chapters for e in c.body.iter(tag) if e.find(caption_tag) is not None), 1
        ):
            if not element.get("id"):
                element.set("id", f"quire-{tag}-{number}")
            text = " ".join(element.find(caption_tag).text_content().split())
            entries.append((element.get("id"), text))
        for spot in spots:
            items = etree.SubElement(spot, "ol", {"class": kind})
            for ident, text in entries:
                link = etree.SubElement(etree.SubElement(items, "li"), "a", {"href": f"#{ident}"})
                link.text = text
            if not entries:
                spot.drop_tree()
