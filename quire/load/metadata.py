"""Pandoc's metadata vocabulary: the forms pandoc's manual gives for EPUB, HTML and LaTeX keys."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

# MARC relator codes pandoc's EPUB writer knows, by the words authors also write.
ROLE_CODES = {
    "author": "aut",
    "editor": "edt",
    "translator": "trl",
    "illustrator": "ill",
    "contributor": "ctb",
    "photographer": "pht",
    "narrator": "nrt",
    "designer": "dsr",
    "publisher": "pbl",
}
ROLE_WORDS = {code: word for word, code in ROLE_CODES.items()}

# Pandoc keys Quire reads but does not act on, with why, for one warning per build.
UNUSED_REASONS = {
    "LaTeX and PDF-engine settings (Quire lays out the PDF with styles/print.css)": [
        "documentclass",
        "classoption",
        "geometry",
        "papersize",
        "fontsize",
        "fontfamily",
        "fontfamilyoptions",
        "mainfont",
        "mainfontoptions",
        "sansfont",
        "sansfontoptions",
        "monofont",
        "monofontoptions",
        "mathfont",
        "mathfontoptions",
        "CJKmainfont",
        "CJKoptions",
        "CJKsansfont",
        "CJKmonofont",
        "linestretch",
        "pagestyle",
        "indent",
        "subparagraph",
        "margin-left",
        "margin-right",
        "margin-top",
        "margin-bottom",
        "linkcolor",
        "urlcolor",
        "citecolor",
        "toccolor",
        "filecolor",
        "colorlinks",
        "links-as-notes",
        "hyperrefoptions",
        "header-includes",
        "include-before",
        "include-after",
        "biblio-style",
        "biblio-title",
        "biblatexoptions",
        "natbiboptions",
        "block-headings",
        "csquotes",
        "fontenc",
        "microtypeoptions",
        "babel-lang",
        "babel-otherlangs",
        "polyglossia-lang",
        "polyglossia-otherlangs",
        "beamerarticle",
        "thanks",
        "title-meta",
        "author-meta",
        "date-meta",
        "pdfa",
        "pdfaiccprofile",
        "pdfaintent",
        "cjk-latex-ctex",
        "ctexoptions",
        "lof-own-page",
        "documentoptions",
    ],
    "numbering depth (Quire numbers every heading level when `numbersections` is set)": [
        "secnumdepth",
    ],
    "HTML page settings (Quire's pages take their look from styles/)": [
        "pagetitle",
        "title-prefix",
        "document-css",
        "maxwidth",
        "backgroundcolor",
        "fontcolor",
        "monobackgroundcolor",
        "lineheight",
    ],
    "reader-specific EPUB settings (Quire writes a plain EPUB 3)": [
        "ibooks",
        "page-progression-direction",
        "accessModes",
        "accessModeSufficient",
        "accessibilityFeatures",
        "accessibilityHazards",
        "accessibilitySummary",
        "epub-cover-image",
        "stylesheet",
    ],
}
UNUSED_KEYS = {key: reason for reason, keys in UNUSED_REASONS.items() for key in keys}

# Date forms pandoc reads (its normalizeDate), plus the month-and-year forms authors write.
DATE_FORMATS = (
    ("%Y-%m-%d", 3),
    ("%m/%d/%Y", 3),
    ("%m/%d/%y", 3),
    ("%d %b %Y", 3),
    ("%d %B %Y", 3),
    ("%b. %d, %Y", 3),
    ("%b %d, %Y", 3),
    ("%B %d, %Y", 3),
    ("%B %d %Y", 3),
    ("%A, %B %d, %Y", 3),
    ("%Y%m%d", 3),
    ("%Y-%m", 2),
    ("%B %Y", 2),
    ("%b %Y", 2),
    ("%Y%m", 2),
    ("%Y", 1),
)


class Fields(dict):
    """A converter's result that sets several config fields at once."""


def text(value: Any) -> str:
    """A scalar, or pandoc's `{text: ...}` form, as stripped text."""
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError("a piece of text")
    return str(value).strip()


def text_list(value: Any) -> tuple[str, ...]:
    """One text (`;`-separated) or a list of texts."""
    if isinstance(value, str):
        return tuple(s.strip() for s in value.split(";") if s.strip())
    if isinstance(value, list):
        return tuple(text(v) for v in value)
    raise TypeError("a list of text, like [one, two]")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def titles(value: Any) -> Fields:
    """`title`: text, or pandoc's list of `{type, text}` (main, subtitle, short, collection…)."""
    if not isinstance(value, list):
        return Fields(title=text(value))
    found: dict[str, str] = {}
    for item in value:
        kind = item.get("type", "main") if isinstance(item, dict) else "main"
        found.setdefault(str(kind), text(item))
    if "main" not in found:
        raise TypeError("a title, or a list of {type: main, text: …} entries with a main one")
    result = Fields(title=found["main"])
    if "subtitle" in found:
        result["subtitle"] = found["subtitle"]
    if "collection" in found:
        result["collection"] = found["collection"]
    return result


def _person(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("name", "text", "literal"):
            if key in item:
                return text(item[key])
        raise TypeError("a name, or {name: …}")
    return text(item)


def authors(value: Any) -> tuple[str, ...]:
    """`author`: a name, a `;`-separated string, a list of names or of `{name: …}`."""
    if isinstance(value, str):
        return text_list(value)
    return tuple(_person(item) for item in _as_list(value))


def people(value: Any) -> tuple[tuple[str, str], ...]:
    """`creator`/`contributor`: names, or `{role, text}` entries; roles as MARC codes."""
    result = []
    for item in _as_list(value):
        role = item.get("role", "") if isinstance(item, dict) else ""
        role = ROLE_CODES.get(str(role).lower(), str(role).lower())
        if role and not re.fullmatch(r"[a-z]{3}", role):
            raise TypeError("entries like {role: edt, text: Name} (a MARC relator code)")
        result.append((_person(item), role))
    return tuple(result)


def identifiers(value: Any) -> Fields:
    """`identifier`: text, or a list of `{scheme, text}`; the first is the book's own."""
    items = []
    for item in _as_list(value):
        scheme = str(item.get("scheme", "")) if isinstance(item, dict) else ""
        items.append((scheme, text(item)))
    if not items:
        raise TypeError("an identifier, or a list of {scheme: ISBN-13, text: …}")
    scheme, primary = items[0]
    if scheme.upper().startswith("ISBN") and not primary.lower().startswith("urn:"):
        primary = "urn:isbn:" + primary.replace(" ", "")  # hyphens as written (press/isbn.py)
    return Fields(identifier=primary, identifiers=tuple(items))


def w3c_date(value: Any) -> Fields:
    """`date` in any form pandoc reads, as W3CDTF (2015, 2015-01, 2015-01-31) for the package."""
    if isinstance(value, dt.date):
        return Fields(date=value.isoformat()[:10], date_text=value.isoformat()[:10])
    written = text(value)
    candidate = written.removesuffix("Z").split("T")[0].strip()
    for pattern, parts in DATE_FORMATS:
        try:
            parsed = dt.datetime.strptime(candidate, pattern)
        except ValueError:
            continue
        return Fields(date=parsed.strftime("%Y-%m-%d")[: (4, 7, 10)[parts - 1]], date_text=written)
    # Pandoc takes any text as a date; the package needs W3CDTF, so this one stays out of it.
    return Fields(date_text=written, date_unreadable=True)


def boolean(value: Any) -> bool:
    """true or false (pandoc also takes these as strings)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError("true or false")


def direction(value: Any) -> str:
    """`dir`: rtl, ltr or auto."""
    if value in ("rtl", "ltr", "auto"):
        return value
    raise TypeError("rtl, ltr or auto")


def level(value: Any) -> int | None:
    """A heading level 1–6, or `auto`."""
    if value == "auto":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 6:
        return value
    raise TypeError("a heading level from 1 to 6, or auto")


def depth(value: Any) -> int:
    """`toc-depth`: how many heading levels the contents list, 1 to 6."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip() in tuple("123456"):
        return int(value)
    raise TypeError("a number of heading levels from 1 to 6")


def position(value: Any) -> str:
    """`group-position`: a number such as 2 or 2.5."""
    if isinstance(value, int | float | str) and re.fullmatch(r"\d+(\.\d+)?", str(value).strip()):
        return str(value).strip()
    raise TypeError("a number, like 2")


def nocite(value: Any) -> tuple[str, ...]:
    """`nocite`: citation keys such as `@*` or `@doe99, @roe`, one string or a list."""
    keys = []
    for item in _as_list(value):
        keys.extend(k for k in re.split(r"[\s,;]+", text(item)) if k)
    return tuple(keys)


def references(value: Any) -> str:
    """`references`: CSL items written in the metadata, kept as JSON for citeproc."""
    if isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value):
        return json.dumps(value, default=str, sort_keys=True)
    raise TypeError("a list of CSL items, each with an `id`")


def paths(value: Any) -> tuple[str, ...]:
    """One path or a list of paths (pandoc's `resource-path` also takes `:`-separated)."""
    if isinstance(value, str):
        return tuple(p for p in re.split(r"[:;]", value) if p.strip())
    if isinstance(value, list):
        return tuple(text(v) for v in value)
    raise TypeError("a path or a list of paths")


# Pandoc metadata Quire reads from BookConfig.pandoc_metadata rather than as a setting of its
# own: pandoc-crossref's settings (transform/crossref.py). They are not named as unused.
PANDOC_READ = {
    "figPrefix", "tblPrefix", "eqnPrefix", "secPrefix", "chapters", "chaptersDepth", "pairDelim",
    "lastDelim", "refDelim", "rangeDelim", "titleDelim", "chapDelim", "figureTitle", "tableTitle",
    "header-includes",  # its math macros apply to the book's formulas (transform/latex.py)
}  # fmt: skip
# A key Quire and a pandoc filter both use, in the filter's form: pandoc-crossref's
# `chapters: true` (number within chapters) is not Quire's list of chapter files.
PANDOC_FORMS = {("chapters", bool)}

# Why any other key Quire does not know is not used (book.yaml's misspelt settings aside).
OTHER_KEYS = (
    "template variables and filter settings (Quire uses neither; they are kept in the metadata"
    " for pandoc's templates and filters)"
)


def unused_warning(keys: list[str]) -> str:
    """One sentence naming the pandoc keys Quire does not use, grouped by why."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(UNUSED_KEYS.get(key, OTHER_KEYS), []).append(f"`{key}`")
    return "pandoc settings not used: " + "; ".join(
        f"{', '.join(names)}: {reason}" for reason, names in groups.items()
    )
