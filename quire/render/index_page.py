"""The index's locators as each output writes them (the index is made in transform/index.py).

Every entry links to each of its marks; an output names each mark by where it is: print by
its printed page, the EPUB by the page of the print edition it falls on (its page-break
markers), the web edition by its chapter. Marks on one page make one locator (to the first
of them), and three or more pages in a row a range (12–14), as an index prints them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import lxml.html
from lxml import etree

from quire.transform.index import EPUB_TYPE, LOCATOR, LOCATORS

RANGE = "index-locator-range"
RANGE_FROM = 3  # pages in a row that print as a range, as cross-references do (1–3)


def locator_spans(body: etree._Element) -> list[etree._Element]:
    """Each entry's span of locators in a tree."""
    return body.xpath(f".//span[contains(concat(' ', @class, ' '), ' {LOCATORS} ')]")


def mark_targets(body: etree._Element) -> list[str]:
    """The mark ids an index in this tree links to."""
    return [
        link.get("href", "")[1:]
        for span in locator_spans(body)
        for link in span.iter("a")
        if LOCATOR in link.get("class", "").split()
    ]


def write_locators(body: etree._Element, label_of: Callable[[str], str | None]) -> dict[str, str]:
    """Each entry's locators named by `label_of(mark id)` (its own text where that gives
    None), one per label, runs of pages as ranges. Returns the label of every mark."""
    labels: dict[str, str] = {}
    for span in locator_spans(body):
        links = [a for a in span if a.tag == "a" and LOCATOR in a.get("class", "").split()]
        firsts: dict[str, etree._Element] = {}  # label -> the link to its first mark
        for link in links:
            target = link.get("href", "").rsplit("#", 1)[-1]
            label = label_of(target) or (link.text or "")
            labels[target] = label
            firsts.setdefault(label, link)
        tail = span.tail
        for child in list(span):
            span.remove(child)
        span.text = None
        _fill(span, list(firsts.items()))
        span.tail = tail
    return labels


def _fill(span: etree._Element, named: list[tuple[str, etree._Element]]) -> None:
    """The locators, apart by commas, each run of RANGE_FROM pages or more as a range."""
    runs: list[list[tuple[str, etree._Element]]] = []
    for label, link in named:
        previous = runs[-1][-1][0] if runs else None
        if previous is not None and _follows(previous, label):
            runs[-1].append((label, link))
        else:
            runs.append([(label, link)])
    items: list[etree._Element] = []
    for run in runs:
        if len(run) >= RANGE_FROM:
            whole = lxml.html.Element("span", {"class": RANGE})  # HTML: epub:type is a name
            whole.set(EPUB_TYPE, RANGE)
            whole.append(_named(*run[0]))
            whole[-1].tail = "\u2013"
            whole.append(_named(*run[-1]))
            items.append(whole)
        else:
            items += [_named(label, link) for label, link in run]
    for n, item in enumerate(items):
        item.tail = ", " if n < len(items) - 1 else None
        span.append(item)


def _named(label: str, link: etree._Element) -> etree._Element:
    made = copy.copy(link)
    made.text, made.tail = label, None
    for child in list(made):
        made.remove(child)
    return made


def _follows(before: str, after: str) -> bool:
    return before.isdigit() and after.isdigit() and int(after) == int(before) + 1


def mark_pages(trees: Iterable[etree._Element], wanted: set[str]) -> dict[str, str]:
    """The printed page of each wanted id in these trees (in reading order): the label of the
    last page-break marker (role doc-pagebreak, as the EPUB and the web edition write them)
    before its first letter."""
    labels: dict[str, str] = {}
    current = ""
    for tree in trees:
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            if element.get("role") == "doc-pagebreak":
                current = element.get("aria-label") or current
            ident = element.get("id")
            if ident in wanted and current:
                labels[ident] = _opening_label(element, current)
    return labels


def _opening_label(mark: etree._Element, current: str) -> str:
    """The page a mark's text begins on: a page's marker may stand inside the mark, before
    its first letter (a page that begins with the marked word)."""
    for node in mark.iter():
        if node is not mark and node.get("role") == "doc-pagebreak":
            return node.get("aria-label") or current
        if (node.text or "").strip() or (node is not mark and (node.tail or "").strip()):
            return current
    return current
