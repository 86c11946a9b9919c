"""The book's settings: one frozen dataclass, loaded and checked in one place."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import reprlib
import urllib.parse
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from quire.errors import BuildError, Problem, warn
from quire.load import metadata as meta

# Named trim sizes, width x height in inches.
TRIM_SIZES: dict[str, tuple[float, float]] = {
    "5x8": (5.0, 8.0),
    "5.25x8": (5.25, 8.0),
    "5.5x8.5": (5.5, 8.5),
    "6x9": (6.0, 9.0),
    "7x10": (7.0, 10.0),
    "8.5x11": (8.5, 11.0),
    "letter": (8.5, 11.0),
    "a4": (210 / 25.4, 297 / 25.4),
    "a5": (148 / 25.4, 210 / 25.4),
    "b5": (176 / 25.4, 250 / 25.4),
}
UNITS_PER_INCH = {"in": 1.0, "mm": 25.4, "cm": 2.54, "pt": 72.0, "pc": 6.0, "px": 96.0}
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3b", "none")
PRINTERS = ("kdp", "ingramspark")  # print-on-demand services with a profile in quire/press
PAPERS = ("white", "cream", "colour")
LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
MAX_YAML_DEPTH = 16  # nested lists and mappings; settings need two or three
MAX_TEXT = 2_000  # characters in one piece of metadata text (a title, an author, ...)
MAX_LONG_TEXT = {"description": 20_000, "rights": 5_000}
MAX_LIST_ITEMS = 2_000  # chapters, authors, subjects
# Settings whose text may be longer than MAX_TEXT: pandoc's `references` hold whole CSL items.
LONG_KEYS = {**MAX_LONG_TEXT, "abstract": MAX_LONG_TEXT["description"], "references": 200_000}
MAX_GUTTER_IN = 1.5
MAX_BLEED_IN = 0.5  # printers ask for 0.125in (3 mm); more is a mistake in the unit
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Trim:
    """A page size in inches."""

    width: float
    height: float

    @property
    def css(self) -> str:
        """The size as a CSS `size` value."""
        return f"{self.width:g}in {self.height:g}in"


@dataclass(frozen=True)
class BookConfig:
    """Everything a book's settings may say, checked and typed."""

    title: str | None = None
    subtitle: str | None = None
    authors: tuple[str, ...] = ()
    contributors: tuple[tuple[str, str], ...] = ()  # (name, MARC relator code)
    lang: str | None = None
    dir: str | None = None
    identifier: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()  # (scheme, value), the book's own first
    date: str | None = None  # W3CDTF, for the package
    date_text: str | None = None  # as the author wrote it, for the copyright page
    publisher: str | None = None
    rights: str | None = None
    description: str | None = None
    subjects: tuple[str, ...] = ()
    collection: str | None = None
    group_position: str | None = None
    toc_title: str | None = None
    toc: bool = True  # `toc: false` leaves the printed contents page out (the EPUB keeps its nav)
    lof: bool = False  # a list of figures after the contents
    lot: bool = False  # a list of tables after the contents
    number_sections: bool = False  # numbers before headings: 1, 1.1, … (pandoc's numbersections)
    toc_depth: int | None = None  # heading levels listed; None: chapters in print, sections in EPUB
    chapter_level: int | None = None  # None: the highest heading level the book uses
    css: tuple[str, ...] = ()
    fonts: tuple[str, ...] = ()  # the book's own font files, as fallback faces
    bibliography: tuple[str, ...] = ()
    csl: str | None = None
    link_citations: bool = False
    nocite: tuple[str, ...] = ()
    references: str | None = None  # pandoc's `references:` (CSL items), as JSON
    reference_section_title: str | None = None
    resource_path: tuple[str, ...] = ()
    metadata_files: tuple[str, ...] = ()
    # Where each setting came from when it is not `origin` (a metadata file), for messages.
    origins: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    cover_image: str | None = None
    trim: Trim = field(default_factory=lambda: Trim(6.0, 9.0))
    gutter: float | None = None  # inches; None means "auto" from the page count
    bleed: float = 0.0  # inches
    crop_marks: bool = False
    pdf_variant: str = "pdf/ua-1"
    front_matter: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()
    back_matter: tuple[str, ...] = ()
    allow_remote: bool = False
    embed_fonts: bool = False  # subset the shipped fonts into the EPUB
    printer: str | None = None  # a print-on-demand service: also write the interior and cover
    paper: str = "white"  # the interior's paper stock, which sets the spine width
    site_url: str | None = None  # the web edition's public address, for absolute Open Graph URLs
    # Pandoc metadata Quire does not act on (template variables, filter settings, LaTeX options),
    # kept as (key, value as JSON) for pandoc's templates and filters and the author's own.
    pandoc_metadata: tuple[tuple[str, str], ...] = ()
    strict: bool = False  # every warning stops the build, as `--strict` does
    origin: str = "book.yaml"  # where the settings came from, for messages
    # (setting or "setting\\0index", line) pairs, so later stages can point at a setting's line.
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False, repr=False)

    def origin_of(self, key: str) -> str:
        """The file a setting was read from."""
        return dict(self.origins).get(key, self.origin)

    def line_of(self, key: str, index: int | None = None) -> int | None:
        """The line of a setting (or of one item of a list setting) in its file, if known."""
        found = dict(self.lines)
        return found.get(f"{key}\0{index}") or found.get(key)

    def with_derived(self, **values: Any) -> BookConfig:
        """A copy with derived values (title, lang, identifier) filled in."""
        return replace(self, **values)


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if isinstance(value, dict) and "text" in value:  # pandoc's {text: ...} form
        value = value["text"]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str | int | float):
        return check_text(str(value).strip(), limit)
    raise TypeError("a piece of text")


def _long_text(limit: int) -> Any:
    return lambda value: _text(value, limit)


def _text_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = tuple(s.strip() for s in value.split(";") if s.strip())
    elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        items = tuple(str(v).strip() for v in value)
    else:
        raise TypeError("a list of text, like [one, two]")
    if len(items) > MAX_LIST_ITEMS:
        raise ValueError(f"has {len(items)} items, more than {MAX_LIST_ITEMS}")
    return tuple(check_text(item, MAX_TEXT) for item in items)


def check_text(text: str, limit: int = MAX_TEXT) -> str:
    """Metadata text passes the checks chapter text does: no control characters, a sane length."""
    found = CONTROL_CHARACTER.search(text)
    if found:
        raise ValueError(f"has the control character U+{ord(found[0]):04X}, which no book can show")
    if len(text) > limit:
        raise ValueError(f"is {len(text):,} characters long, more than {limit:,}")
    return text


def _check_all_text(value: Any, key: str) -> None:
    """Every piece of text a setting gives (pandoc's forms nest them) passes check_text."""
    if isinstance(value, str):
        check_text(value, LONG_KEYS.get(key, MAX_TEXT))
    elif isinstance(value, tuple | list | dict):
        items = list(value.values()) if isinstance(value, dict) else list(value)
        if len(items) > MAX_LIST_ITEMS:
            raise ValueError(f"has {len(items)} items, more than {MAX_LIST_ITEMS}")
        for item in items:
            _check_all_text(item, key)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError("true or false")


def parse_length(value: Any) -> float:
    """A length such as `0.125in`, `3mm` or `0` in inches."""
    if value == 0:
        return 0.0
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(in|mm|cm|pt|pc|px)\s*", str(value))
    if not match:
        raise TypeError("a length with a unit, like 0.125in or 3mm")
    return float(match[1]) / UNITS_PER_INCH[match[2]]


def parse_trim(value: Any) -> Trim:
    """A trim size by name (6x9in, A5, Letter) or as `WIDTH x HEIGHT` with units."""
    name = str(value).strip().lower().replace(" ", "")
    if name.removesuffix("in") in TRIM_SIZES:
        return Trim(*TRIM_SIZES[name.removesuffix("in")])
    match = re.fullmatch(r"([0-9.]+(?:in|mm|cm|pt))x([0-9.]+(?:in|mm|cm|pt))", name)
    if not match:
        names = ", ".join(sorted(TRIM_SIZES))
        raise TypeError(f"a trim size: one of {names}, or WIDTHxHEIGHT like 140mmx216mm")
    width, height = parse_length(match[1]), parse_length(match[2])
    if not (2 <= width <= 20 and 2 <= height <= 30):
        raise TypeError("a page between 2 and 20 inches wide and 2 and 30 inches tall")
    return Trim(width, height)


def _gutter(value: Any) -> float | None:
    return None if value == "auto" else parse_length(value)


def _variant(value: Any) -> str:
    if value in PDF_VARIANTS:
        return value
    raise TypeError("one of " + ", ".join(PDF_VARIANTS))


def _one_of(choices: tuple[str, ...], aliases: dict[str, str] | None = None) -> Any:
    """A converter that accepts one of `choices` and suggests the nearest on a typo."""

    def convert(value: Any) -> str:
        text = str(value).strip().lower()
        text = (aliases or {}).get(text, text)
        if text in choices:
            return text
        near = difflib.get_close_matches(text, choices, n=1, cutoff=0.5)
        also = f" (did you mean `{near[0]}`?)" if near else ""
        raise TypeError("one of " + ", ".join(choices) + also)

    return convert


def _https_url(value: Any) -> str:
    """An https address with a host and no query or fragment, ending in / (a folder)."""
    text = _text(value).strip()
    wanted = TypeError("an https address such as https://example.org/my-book/")
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname
    except ValueError:  # a malformed address, such as an unclosed [IPv6 host
        raise wanted from None
    if parts.scheme != "https" or not host or parts.query or parts.fragment or " " in text:
        raise wanted
    return text if text.endswith("/") else text + "/"


def _lang(value: Any) -> str:
    text = _text(value)
    if LANG_TAG.match(text):
        return text
    raise TypeError("a language tag such as en, en-GB or ru")


# Each setting: its field name and the function that checks and converts its value.
# A converter may return meta.Fields to set several fields (a title list sets the subtitle too).
# pandoc-crossref's settings that transform/crossref.py reads from the kept pandoc metadata.
CROSSREF_KEYS = frozenset(
    ("figPrefix", "tblPrefix", "eqnPrefix", "secPrefix", "chaptersDepth", "pairDelim",
     "lastDelim", "refDelim", "rangeDelim", "titleDelim", "chapDelim", "figureTitle",
     "tableTitle")
)  # fmt: skip
SETTINGS: dict[str, tuple[str, Any]] = {
    "title": ("title", meta.titles),
    "subtitle": ("subtitle", _text),
    "author": ("authors", meta.authors),
    "authors": ("authors", meta.authors),
    "creator": ("creators", meta.people),
    "contributor": ("contributors", meta.people),
    "lang": ("lang", _lang),
    "language": ("lang", _lang),
    "dir": ("dir", meta.direction),
    "identifier": ("identifier", meta.identifiers),
    "date": ("date", meta.w3c_date),
    "publisher": ("publisher", _text),
    "rights": ("rights", _long_text(MAX_LONG_TEXT["rights"])),
    "description": ("description", _long_text(MAX_LONG_TEXT["description"])),
    "abstract": ("abstract", _long_text(MAX_LONG_TEXT["description"])),
    "subjects": ("subjects", _text_list),
    "subject": ("subjects", _text_list),
    "keywords": ("subjects", _text_list),
    "tags": ("subjects", _text_list),
    "belongs-to-collection": ("collection", _text),
    "group-position": ("group_position", meta.position),
    "cover-image": ("cover_image", _text),
    "toc-title": ("toc_title", _text),
    "toc": ("toc", meta.boolean),
    "table-of-contents": ("toc", meta.boolean),
    "toc-depth": ("toc_depth", meta.depth),
    "lof": ("lof", meta.boolean),
    "numbersections": ("number_sections", meta.boolean),
    "number-sections": ("number_sections", meta.boolean),
    "lot": ("lot", meta.boolean),
    "chapter-level": ("chapter_level", meta.level),
    "css": ("css", meta.paths),
    "fonts": ("fonts", meta.paths),
    "bibliography": ("bibliography", meta.paths),
    "csl": ("csl", _text),
    "link-citations": ("link_citations", meta.boolean),
    "link-bibliography": ("link_bibliography", meta.boolean),
    "nocite": ("nocite", meta.nocite),
    "references": ("references", meta.references),
    "reference-section-title": ("reference_section_title", _text),
    "suppress-bibliography": ("suppress_bibliography", meta.boolean),
    "resource-path": ("resource_path", meta.paths),
    "metadata-file": ("metadata_files", meta.paths),
    "trim": ("trim", parse_trim),
    "gutter": ("gutter", _gutter),
    "bleed": ("bleed", parse_length),
    "crop-marks": ("crop_marks", _bool),
    "pdf-variant": ("pdf_variant", _variant),
    "front-matter": ("front_matter", _text_list),
    "chapters": ("chapters", _text_list),
    "back-matter": ("back_matter", _text_list),
    "allow-remote": ("allow_remote", _bool),
    "embed-fonts": ("embed_fonts", _bool),
    "printer": ("printer", _one_of(PRINTERS, {"amazon": "kdp", "ingram": "ingramspark"})),
    "paper": ("paper", _one_of(PAPERS, {"color": "colour"})),
    "site-url": ("site_url", _https_url),
    "strict": ("strict", _bool),
}
# Read and checked, but with no field: pandoc options Quire has no use for beyond the check.
READ_ONLY = {"link_bibliography", "suppress_bibliography"}


def parse_yaml(text: str, origin: str, line_offset: int = 0) -> dict[str, tuple[Any, int]]:
    """Read a YAML mapping into {key: (value, line)}; a syntax error names its line.

    A list value's item lines are added under `key\\0index`, for messages about one item.
    """
    loader = _BoundedLoader(text, origin, line_offset)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, origin, line_offset) from None
    finally:
        loader.dispose()
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise BuildError(
            "settings must be a mapping of `key: value` lines",
            file=origin,
            line=root.start_mark.line + 1 + line_offset,
            hint="write one setting per line, like `title: My Book`",
        )
    constructor = yaml.SafeLoader("")
    result: dict[str, tuple[Any, int]] = {}
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1 + line_offset
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
        try:
            value = constructor.construct_object(value_node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            raise BuildError(
                f"`{key}` has a value YAML cannot read: {reason}",
                file=origin,
                line=value_node.start_mark.line + 1 + line_offset,
                hint=f'put the value in quotes, like `{key}: "..."`',
            ) from None
        if key in result:
            raise BuildError(
                f"setting `{key}` is given twice (also on line {result[key][1]})",
                file=origin,
                line=line,
                hint="keep one of them",
            )
        result[key] = (value, line)
        if isinstance(value_node, yaml.SequenceNode):
            for index, item in enumerate(value_node.value):
                result[f"{key}\0{index}"] = (None, item.start_mark.line + 1 + line_offset)
    return result


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses aliases and deep nesting, so a few bytes cannot cost gigabytes.

    An alias (`*name`) repeats a whole subtree; ten nested ones make a value of billions of
    nodes. Settings never need them, and depth beyond a few levels is always a mistake.
    """

    def __init__(self, text: str, origin: str, line_offset: int) -> None:
        super().__init__(text)
        self.origin, self.line_offset, self.depth = origin, line_offset, 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 - pyyaml's hook
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            raise self._refuse("YAML aliases (`*name`) are not allowed", mark)
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise self._refuse(f"YAML nested more than {MAX_YAML_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def _refuse(self, message: str, mark: Any) -> BuildError:
        return BuildError(
            message,
            file=self.origin,
            line=mark.line + 1 + self.line_offset,
            hint="write the value out in full, without `&anchor`/`*alias` or deep nesting",
        )


def check_yaml_blocks(text: str, origin: str) -> None:
    """Refuse aliases and deep nesting in a Markdown file's YAML blocks, before pandoc reads them.

    Pandoc expands aliases itself, so an alias bomb in a chapter would exhaust its memory.
    A block opens with `---` at the top or after a blank line and ends with `---` or `...`.
    """
    lines = text.split("\n")
    start = None
    for number, line in enumerate(lines):
        if start is None:
            opens = line.rstrip() == "---" and (number == 0 or not lines[number - 1].strip())
            if opens and number + 1 < len(lines) and lines[number + 1].strip():
                start = number + 1
        elif line.rstrip() in ("---", "..."):
            _check_block("\n".join(lines[start:number]), origin, start)
            start = None


def _check_block(block: str, origin: str, line_offset: int) -> None:
    """Compose one YAML block with the bounded loader; syntax errors are left to pandoc."""
    loader = _BoundedLoader(block, origin, line_offset)
    try:
        while loader.check_node():
            loader.get_node()
    except yaml.YAMLError:
        pass  # not YAML to pandoc either, or pandoc reports it
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.YAMLError, origin: str, line_offset: int) -> BuildError:
    """A YAML syntax error as a BuildError that names its line."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 + line_offset if mark else None
    reason = getattr(exc, "problem", None) or "not valid YAML"
    return BuildError(
        f"invalid YAML: {reason}", file=origin, line=line, hint="fix the syntax on that line"
    )


def load_config(
    raw: dict[str, tuple[Any, int]],
    origin: str,
    ignore: frozenset[str] = frozenset(),
    origins: dict[str, str] | None = None,
) -> BookConfig:
    """Check every setting, report all problems at once, and return the typed config.

    `origins` names the file of settings that came from elsewhere (a pandoc metadata file).
    """
    origins = origins or {}
    values: dict[str, Any] = {"origin": origin}
    problems: list[Problem] = []
    unused: list[str] = []  # pandoc keys Quire does not act on, named in one warning
    kept: list[tuple[str, str]] = []
    lines = tuple((key, line) for key, (_value, line) in raw.items())
    for key, (value, line) in raw.items():
        where = origins.get(key, origin)
        if key in ignore or "\0" in key:
            continue
        if key in CROSSREF_KEYS or (key == "chapters" and isinstance(value, bool)):
            # pandoc-crossref's settings (its `chapters: true` too): transform/crossref.py reads them.
            kept.append((key, json.dumps(value, default=str, sort_keys=True)))
            continue
        if key not in SETTINGS or (key, type(value)) in meta.PANDOC_FORMS:
            if key in meta.PANDOC_READ or not _typo_warned(key, where, line):
                kept.append((key, json.dumps(value, default=str, sort_keys=True)))
                if key not in meta.PANDOC_READ:
                    unused.append(key)
            continue
        name, convert = SETTINGS[key]
        try:
            converted = None if value is None else convert(value)
        except TypeError as exc:
            shown = reprlib.repr(value) if not isinstance(value, str) else f"'{value[:80]}'"
            problems.append(Problem(f"`{key}` is {shown[:80]} but must be {exc}", where, line))
            continue
        except ValueError as exc:
            problems.append(Problem(f"`{key}` {exc}", where, line, "shorten or correct it"))
            continue
        try:
            _check_all_text(converted, key)
        except ValueError as exc:
            problems.append(Problem(f"`{key}` {exc}", where, line, "shorten or correct it"))
            continue
        if isinstance(converted, meta.Fields):
            values.update(converted)
        elif converted is not None:
            values[name] = converted
    problems += _check_ranges(values, raw, origin)
    if problems:
        raise BuildError(problems=problems, kind="config")
    if unused:
        first = min(unused, key=lambda k: raw[k][1])
        warn(
            meta.unused_warning(unused),
            file=origins.get(first, origin),
            line=raw[first][1],
            hint="Quire built the book without them",
            group="pandoc settings Quire does not use",
        )
    values["pandoc_metadata"] = tuple(kept)
    if values.pop("date_unreadable", False):
        warn(
            f"date “{values['date_text']}” is not one pandoc can read as a date; it is printed on"
            " the copyright page but left out of the EPUB's metadata",
            file=origins.get("date", origin),
            line=raw["date"][1],
            hint="write it like 2015-01-31, 31 January 2015 or January 2015",
        )
    _merge_people(values)
    fields = {k: v for k, v in values.items() if k not in READ_ONLY}
    return BookConfig(lines=lines, origins=tuple(origins.items()), **fields)


def _merge_people(values: dict[str, Any]) -> None:
    """Creators with the author role are authors; others join the contributors."""
    creators = values.pop("creators", ())
    if not values.get("authors"):
        values["authors"] = tuple(name for name, role in creators if role in ("", "aut"))
    others = tuple((name, role) for name, role in creators if role not in ("", "aut"))
    values["contributors"] = others + values.get("contributors", ())
    abstract = values.pop("abstract", None)
    if abstract and not values.get("description"):
        values["description"] = abstract


def _check_ranges(values: dict[str, Any], raw: dict[str, Any], origin: str) -> list[Problem]:
    """Lengths a printer can use: a gutter and a bleed that leave the page a page."""
    problems = []
    trim = values.get("trim", Trim(6.0, 9.0))
    limits = {"gutter": min(MAX_GUTTER_IN, trim.width / 4), "bleed": MAX_BLEED_IN}
    for key, limit in limits.items():
        value = values.get(key)
        if value is not None and value > limit:
            problems.append(
                Problem(
                    f"`{key}` is {value:g}in, more than the {limit:g}in a {trim.width:g}x{trim.height:g}in page allows",
                    origin,
                    raw.get(key, (None, None))[1],
                    "give a length like 0.125in or 3mm, and check the unit",
                )
            )
    return problems


def _typo_warned(key: str, where: str, line: int) -> bool:
    """Warn of a key of book.yaml that looks like a misspelt setting; True if it was one.

    Only book.yaml is Quire's own: a pandoc metadata file or a Markdown file's YAML block
    holds template variables and filter settings, which are kept, not suggested away.
    """
    if where.replace("\\", "/").rsplit("/", 1)[-1] != "book.yaml":
        return False
    near = typo_of(key, SETTINGS)
    if near is None:
        return False
    warn(
        f"unknown setting `{key}`",
        file=where,
        line=line,
        hint=f"did you mean `{near}`? Quire built the book without it",
        group="unknown settings",
    )
    return True


def typo_of(word: str, known: Any) -> str | None:
    """The known word `word` is a slip of (one or two letters wrong, missing, extra or
    swapped; `_` for `-` and case do not count), or None."""
    text = word.lower().replace("_", "-")
    most = 1 if len(text) <= 4 else 2
    found = [(_edits(text, k), k) for k in known if abs(len(k) - len(text)) <= most]
    best = min(found, default=(most + 1, ""))
    return best[1] if best[0] <= most and best[1] != word else None


def _edits(a: str, b: str) -> int:
    """Letters to add, remove, change or swap to turn a into b (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
