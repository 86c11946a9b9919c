"""What a book's language and script ask of its layout: the direction its text runs in, and
the mirrored page of a right-to-left book in print.

A book runs right to left when its settings say `dir: rtl`, or, without `dir`, when its `lang`
is a right-to-left language (Arabic, Hebrew, Persian, Urdu, Yiddish, ...) or names a
right-to-left script (`az-Arab`, `pa-Arab`). Every output takes the direction from here.
"""

from __future__ import annotations

import re

# Languages written right to left by default (ISO 639 codes; `iw` and `ji` are the old tags).
RTL_LANGUAGES = frozenset(
    ("ar", "arc", "ckb", "dv", "fa", "he", "iw", "ji", "ks", "pnb", "ps", "sd", "syr", "ug",
     "ur", "yi")
)  # fmt: skip
# Scripts written right to left (ISO 15924), for a tag that names its script.
RTL_SCRIPTS = frozenset(("arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg", "samr", "mand"))


def direction(config: object) -> str:
    """The book's text direction, "rtl" or "ltr": its `dir`, else what its `lang` implies."""
    chosen = getattr(config, "dir", None)
    if chosen in ("rtl", "ltr"):
        return chosen
    return "rtl" if is_rtl_language(getattr(config, "lang", None)) else "ltr"


def is_rtl_language(lang: str | None) -> bool:
    """True for a language tag whose language or script is written right to left."""
    if not lang:
        return False
    parts = [p.lower() for p in re.split(r"[-_]", lang) if p]
    scripts = [p for p in parts[1:] if len(p) == 4 and p.isalpha()]
    if scripts:
        return scripts[0] in RTL_SCRIPTS
    return parts[0] in RTL_LANGUAGES


def dir_attribute(config: object) -> str:
    """` dir="rtl"` for a right-to-left book, nothing for a left-to-right one (the default)."""
    return ' dir="rtl"' if direction(config) == "rtl" else ""


# Running heads of a right-to-left book: the outside of a recto is its left side, of a verso
# its right side, so the heads change boxes (print.css sets them for a left-to-right book).
RTL_HEADS = """
@page :right {
  @top-right { content: none; }
  @top-left { content: string(chapter-title); font: italic 9pt/1 "Charis SIL", "Noto Serif CJK SC", "Quire Fallback", serif; letter-spacing: 0.04em; vertical-align: bottom; padding-bottom: 0.18in; }
}
@page :left {
  @top-left { content: none; }
  @top-right { content: string(book-title); font: italic 9pt/1 "Charis SIL", "Noto Serif CJK SC", "Quire Fallback", serif; letter-spacing: 0.04em; vertical-align: bottom; padding-bottom: 0.18in; }
}
"""


def mirrored_page_css(css: str) -> str:
    """A book's @page rules (layout.page_css) mirrored for binding on the right.

    The print HTML keeps its root left to right (the body carries `dir`), so WeasyPrint's
    "right" page is still the recto, as the units, the folio sheets and the blank versos
    assume; a right-to-left recto has its gutter on its right and its head at the left.
    """
    swapped = re.sub(
        r"margin-(left|right)", lambda m: "margin-" + {"left": "right", "right": "left"}[m[1]], css
    )
    return swapped + "\n" + RTL_HEADS


# Inline code runs left to right in any book; in a right-to-left one, without its own direction,
# its trailing punctuation would take the paragraph's (`ls -l /tmp;` read as `;ls -l /tmp`).
CODE_TAGS = ("code", "kbd", "samp")
# Inline elements whose `dir` print sets apart with Unicode's isolates: WeasyPrint reads
# `unicode-bidi` but does not apply it, and Pango's bidi algorithm honours the isolates.
INLINE_TAGS = frozenset(("span", "code", "kbd", "samp", "bdi", "bdo", "q", "em", "strong",
                         "i", "b", "a", "cite", "abbr", "small", "sub", "sup"))  # fmt: skip
ISOLATES = {"ltr": "\u2066", "rtl": "\u2067"}  # LRI, RLI; each closed by PDI
POP_ISOLATE = "\u2069"


def mark_code_left_to_right(body: object) -> None:
    """Give the inline code of a right-to-left book's chapter `dir="ltr"` (not code blocks,
    which the style sheets set left to right, nor code that names its own direction)."""
    for element in body.iter(*CODE_TAGS):
        if element.get("dir") is None and not any(a.tag == "pre" for a in element.iterancestors()):
            element.set("dir", "ltr")


def isolate_directions(body: object) -> None:
    """Wrap the text of each inline element with a `dir` in the matching isolate (print)."""
    for element in body.iter(*INLINE_TAGS):
        opening = ISOLATES.get((element.get("dir") or "").lower())
        if opening is None:
            continue
        element.text = opening + (element.text or "")
        last = element[-1] if len(element) else None
        if last is None:
            element.text += POP_ISOLATE
        else:
            last.tail = (last.tail or "") + POP_ISOLATE
