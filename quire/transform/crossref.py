"""Numbered cross-references, in pandoc-crossref's syntax and in Quarto's.

Targets are labelled `{#fig:id}` (a figure), `{#tbl:id}` (a table's caption), `{#eq:id}` (after
display math) and `{#sec:id}` (a heading), or `#fig-id`, `#tbl-id`, `#eq-id`, `#sec-id` as Quarto
writes them; references are `@fig:id`, `[@fig:a; @fig:b]` and `-@fig:id` (the number alone).
Pandoc reads a reference as a citation, so `mark_references` takes them out of the AST before
citeproc reads it (each becomes a placeholder, or `??` with a warning if nothing has its label).
`number_references` numbers the targets once the chapters' headings are shifted and numbered,
captions first ("Figure 3: …", "(3)" beside an equation), then writes each reference as a link
to its target with its number. Settings are pandoc-crossref's: `figPrefix`, `tblPrefix`,
`eqnPrefix`, `secPrefix` (a string, or a singular and a plural), `chapters`, `chaptersDepth`,
`pairDelim`, `lastDelim`, `refDelim`, `rangeDelim`, `titleDelim`, `chapDelim`, `figureTitle`,
`tableTitle`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from quire.errors import warn
from quire.language.words import book_words
from quire.load.config import BookConfig
from quire.parse.pandoc import Parsed, stringify
from quire.transform.ast import Surveys, locate, walk
from quire.transform.model import Draft

GROUP = "unresolved cross-references"
LABEL = re.compile(r"(fig|tbl|eq|sec)[:-]\S", re.IGNORECASE)  # a crossref id, either syntax
# A label (`{#fig:a}`, `{.wide #fig-a}`) or a reference (`@fig:a`), not a web address's `#sec-x`.
MENTION = re.compile(r"(?<![\w./])[#@]\{?(fig|tbl|eq|sec)[:-]", re.IGNORECASE)
EQUATION_LABEL = re.compile(r"\{#((?:eq)[:-][^\s{}]+)\}")  # what follows `$$ … $$`
XREF = "quire-xref"  # the class of a reference's placeholder, until its target is numbered
EQUATION = "quire-equation"  # the class of the span that holds a labelled equation
NUMBER = "quire-caption-number"  # the class of "Figure 3:" at the head of a caption
UNKNOWN = "??"  # what LaTeX prints for a reference to a label it does not know
# The words pandoc's translations lack (Equation, Section), and the plurals of all four, in the
# languages Quire has words for; elsewhere pandoc-crossref's own "eq." and "sec." stand in.
KIND_WORDS = {
    "en": {"eq": "Equation", "sec": "Section"}, "de": {"eq": "Gleichung", "sec": "Abschnitt"},
    "fr": {"eq": "Équation", "sec": "Section"}, "es": {"eq": "Ecuación", "sec": "Sección"},
    "it": {"eq": "Equazione", "sec": "Sezione"}, "pt": {"eq": "Equação", "sec": "Secção"},
    "nl": {"eq": "Vergelijking", "sec": "Sectie"}, "ru": {"eq": "Уравнение", "sec": "Раздел"},
    "uk": {"eq": "Рівняння", "sec": "Розділ"},
}  # fmt: skip
DEFAULT_PREFIXES = {"eq": "eq.", "sec": "sec."}
PREFIX_KEYS = {"fig": "figPrefix", "tbl": "tblPrefix", "eq": "eqnPrefix", "sec": "secPrefix"}
PLURALS = {"Figure": "Figures", "Table": "Tables", "Equation": "Equations", "Section": "Sections",
           "Abbildung": "Abbildungen", "Tabelle": "Tabellen", "Gleichung": "Gleichungen",
           "Abschnitt": "Abschnitte", "Tableau": "Tableaux", "Équation": "Équations",
           "Figura": "Figuras", "Tabla": "Tablas", "Ecuación": "Ecuaciones",
           "Sección": "Secciones", "Equazione": "Equazioni", "Sezione": "Sezioni",
           "Tabela": "Tabelas", "Equação": "Equações", "Secção": "Secções"}  # fmt: skip
# "and" between the last two numbers of a list, in the languages Quire has words for.
AND = {"en": "and", "de": "und", "fr": "et", "es": "y", "it": "e", "pt": "e", "nl": "en",
       "ru": "и", "uk": "і", "pl": "i", "sv": "och", "da": "og", "nb": "og", "no": "og",
       "cs": "a", "fi": "ja"}  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """How targets and references are written: pandoc-crossref's metadata, or its defaults."""

    prefixes: dict[str, tuple[str, str]]  # kind → (singular, plural)
    titles: dict[str, str]  # fig, tbl → the word before a caption's number
    chapters: bool = False  # numbers within the chapter ("Figure 3.2")
    depth: int = 1  # the heading levels whose numbers lead the number
    delims: dict[str, str] = field(default_factory=dict)  # pair, last, ref, range, title, chap


def crossref_settings(config: BookConfig, meta: dict[str, Any] | None = None) -> Settings:
    """The settings from the book's pandoc metadata (or a file's YAML), the language's words."""
    values = {k: json.loads(v) for k, v in getattr(config, "pandoc_metadata", ())}
    for key, value in (meta or {}).items():
        values.setdefault(key, _meta_value(value))
    words = book_words(config)
    titles = {
        "fig": _text(values.get("figureTitle")) or words["Figure"],
        "tbl": _text(values.get("tableTitle")) or words["Table"],
    }
    named = {**KIND_WORDS.get(_primary(config.lang), DEFAULT_PREFIXES), **titles}
    prefixes = {
        kind: _prefix(values.get(key), (named[kind], PLURALS.get(named[kind], named[kind])))
        for kind, key in PREFIX_KEYS.items()
    }
    conjunction = AND.get(_primary(config.lang), ",")
    delims = {
        "pair": _text(values.get("pairDelim")) or conjunction,
        "last": _text(values.get("lastDelim")) or conjunction,
        "ref": _text(values.get("refDelim")) or ",",
        "range": _text(values.get("rangeDelim")) or "\u2013",
        "title": _text(values.get("titleDelim")) or ":",
        "chap": _text(values.get("chapDelim")) or ".",
    }
    depth = values.get("chaptersDepth", 1)
    return Settings(
        prefixes=prefixes,
        titles=titles,
        chapters=values.get("chapters") in (True, "true", "True", "yes"),
        depth=int(depth) if str(depth).isdigit() and 1 <= int(depth) <= 6 else 1,
        delims=delims,
    )


def _primary(lang: str | None) -> str:
    return (lang or "en").replace("_", "-").split("-")[0].lower()


def _meta_value(value: Any) -> Any:
    """A pandoc MetaValue as the plain value YAML gave (text, bool, or a list of them)."""
    if not isinstance(value, dict):
        return value
    if value.get("t") == "MetaBool":
        return value["c"]
    if value.get("t") == "MetaList":
        return [_meta_value(v) for v in value["c"]]
    if value.get("t") == "MetaMap":
        return None
    return stringify(value["c"] if value.get("t") in ("MetaInlines", "MetaBlocks") else value)


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int, float)) else ""


def _prefix(value: Any, default: tuple[str, str]) -> tuple[str, str]:
    """A `*Prefix` setting: a string for both, or a list of the singular and the plural."""
    if isinstance(value, list) and value:
        forms = [_text(v) for v in value]
        return forms[0], forms[1] if len(forms) > 1 else forms[0]
    if isinstance(value, str):
        return value.strip(), value.strip()
    return default


# ---------- Before citeproc: references out of the citations, equations labelled ----------


def mark_references(parsed: list[Parsed], surveys: Surveys) -> list[Parsed]:
    """Each crossref citation made a placeholder (or `??`, warned), each `{#eq:id}` a span,
    each Quarto figure or table div (`::: {#fig-id}`) a figure or a table.

    Files without a crossref citation, an equation label or such a div are kept as they are.
    """
    known = _labels(parsed, surveys)
    result = []
    for item in parsed:
        found = surveys.of(item.blocks)
        wanted = {
            "Cite": any(_crossref(c) for node in found.nodes("Cite") for c in node["c"][0]),
            "Para": found.has("Math") and "{#eq" in item.source.text,
            "Div": any(_div_kind(node) for node in found.nodes("Div")),
        }
        kinds = [kind for kind, wanted in wanted.items() if wanted]
        if not kinds:
            result.append(item)
            continue

        def visit(node: dict, item: Parsed = item) -> Any:
            if node["t"] == "Para":
                return _labelled_equations(node)
            if node["t"] == "Div":
                return _figure_of_div(node)
            return _placeholders(node, known, item)

        blocks = walk(item.blocks, visit, kinds, found.paths_to(kinds))
        result.append(replace(item, blocks=blocks))
    return result


def _div_kind(div: dict) -> str | None:
    """fig or tbl for a div labelled as Quarto labels a figure or a table, else None."""
    ident = div["c"][0][0]
    kind = _kind({"citationId": ident}) if LABEL.match(ident) else None
    wanted = {"fig": 2, "tbl": 1}  # blocks at least: a figure's content and its caption
    return kind if kind in wanted and len(div["c"][1]) >= wanted[kind] else None


def _figure_of_div(div: dict) -> dict:
    """`::: {#fig-id}` … caption `:::` as a figure; `::: {#tbl-id}` a table with the label.

    As Quarto reads them: the div's last paragraph is the caption; a table div's one table
    takes the label (and that caption, if it has none of its own).
    """
    kind = _div_kind(div)
    if kind is None:
        return div
    (ident, classes, attributes), blocks = div["c"]
    *body, last = blocks
    caption = [{"t": "Plain", "c": last["c"]}] if last["t"] in ("Para", "Plain") else []
    if kind == "fig" and caption:
        return {"t": "Figure", "c": [[ident, classes, attributes], [None, caption], body]}
    tables = [b for b in blocks if b["t"] == "Table"]
    if kind != "tbl" or len(tables) != 1 or tables[0]["c"][0][0]:
        return div
    table, content = tables[0], list(tables[0]["c"])
    own = table["c"][1][1]
    if not own and last is table:
        return div  # no caption anywhere: left as the author wrote it
    content[0] = [ident, *content[0][1:]]
    if not own:
        content[1] = [content[1][0], caption]
        blocks = body  # the last paragraph is now the table's caption
    return [{**table, "c": content} if b is table else b for b in blocks]


def _crossref(citation: dict) -> bool:
    return bool(LABEL.match(citation["citationId"]))


def _labels(parsed: list[Parsed], surveys: Surveys) -> set[str]:
    """Every label a reference may name, in the whole book."""
    known: set[str] = set()
    for item in parsed:
        found = surveys.of(item.blocks)
        for node in found.nodes("Div"):
            if _div_kind(node):
                known.add(node["c"][0][0])
        for kind, short in (("Figure", "fig"), ("Table", "tbl"), ("Header", "sec")):
            for node in found.nodes(kind):
                ident = node["c"][1][0] if kind == "Header" else node["c"][0][0]
                if LABEL.match(ident) and _kind({"citationId": ident}) == short:
                    known.add(ident)
        for para in found.nodes("Para") if found.has("Math") else ():
            known.update(label for _, label in _with_labels(para["c"]) if label)
    return known


def _labelled_equations(para: dict) -> dict:
    """`$$ … $$ {#eq:id}`: the display math in a span with the label as its id."""
    out: list[Any] = []
    for node, label in _with_labels(para["c"]):
        if label:
            while out[-1]["t"] in ("Space", "SoftBreak"):
                out.pop()  # the space between the math and its label
            out[-1] = {"t": "Span", "c": [[label, [EQUATION], []], [out[-1]]]}
        else:
            out.append(node)
    return {**para, "c": out}


def _with_labels(inlines: list[Any]) -> list[tuple[dict, str | None]]:
    """Each inline, with the label it gives the display math before it (spaces between)."""
    result: list[tuple[dict, str | None]] = []
    math = False  # display math, and nothing but spaces since
    for node in inlines:
        found = EQUATION_LABEL.fullmatch(node["c"]) if node["t"] == "Str" else None
        label = found.group(1) if found and math else None
        result.append((node, label))
        if node["t"] == "Math":
            math = node["c"][0]["t"] == "DisplayMath"
        elif node["t"] not in ("Space", "SoftBreak"):
            math = False
    return result


def _placeholders(cite: dict, known: set[str], item: Parsed) -> Any:
    """A citation's crossref references as placeholders; any other citations stay one."""
    citations = cite["c"][0]
    if not any(_crossref(c) for c in citations):
        return cite
    out: list[Any] = []
    group: list[dict] = []
    rest = [c for c in citations if not _crossref(c)]
    for citation in citations:
        if not _crossref(citation):
            continue
        if _label_of(citation) not in known:
            _warn_unknown(citation["citationId"], _label_of(citation), item)
        if group and _kind(group[0]) != _kind(citation):
            out += _placeholder(group)
            group = []
        group.append(citation)
    out += _placeholder(group)
    if rest:  # pandoc-crossref keeps other keys as a citation of their own, after
        out += [{"t": "Str", "c": ";"}, {"t": "Space"}, {"t": "Cite", "c": [rest, cite["c"][1]]}]
    return out


def _label_of(citation: dict) -> str:
    """The label a reference names: `@Fig:a` (capitalised) names `fig:a`."""
    ident = citation["citationId"]
    kind = _kind(citation)
    return kind + ident[len(kind) :]


def _kind(citation: dict) -> str:
    return re.split(r"[:-]", citation["citationId"], maxsplit=1)[0].lower()


def _placeholder(group: list[dict]) -> list[Any]:
    """References of one kind, with the author's words before and after (`[see @fig:a]`)."""
    first, last = group[0], group[-1]
    ids = " ".join(_label_of(c) for c in group)
    mode = "bare" if first["citationMode"]["t"] == "SuppressAuthor" else "prefix"
    if mode == "prefix" and first["citationId"][0].isupper():
        mode = "capital"  # `@Fig:a` starts a sentence: "Fig. 1"
    span = {"t": "Span", "c": [["", [XREF], [["refs", ids], ["mode", mode]]], []]}
    inlines = [*first["citationPrefix"], span, *last["citationSuffix"]]
    if first["citationPrefix"]:
        inlines.insert(len(first["citationPrefix"]), {"t": "Space"})
    return inlines


def _warn_unknown(ident: str, label: str, item: Parsed) -> None:
    warn(
        f"cross-reference `@{ident}` names no figure, table, equation or section",
        file=item.source.name,
        line=locate(item.source, "@" + ident),
        hint=f"Quire printed `{UNKNOWN}` for it, as LaTeX does; label the target"
        f" `{{#{label}}}` or correct the reference",
        group=GROUP,
    )


# ---------- After the headings are numbered: targets numbered, references written ----------


@dataclass
class _Counter:
    """The running numbers while the book is read in order."""

    settings: Settings
    sections: list[int] = field(default_factory=lambda: [0] * 6)
    counts: dict[str, int] = field(default_factory=lambda: {"fig": 0, "tbl": 0, "eq": 0})
    numbers: dict[str, str] = field(default_factory=dict)  # label → its number
    titles: dict[str, list] = field(default_factory=dict)  # an unnumbered section's → its title
    counted: bool = True  # the chapter being read counts ("Chapter N"): not front or back matter

    def heading(self, node: dict) -> None:
        """A heading: the section count moves on (to its printed number, if it has one)."""
        level, (ident, classes, attributes), inlines = node["c"]
        printed = dict(attributes).get("number")
        numbered = "unnumbered" not in classes and self.counted
        if printed and all(p.isdigit() for p in printed.split(".")):
            parts = [int(p) for p in printed.split(".")]
            self.sections = (parts + [0] * 6)[:6]
        elif numbered:
            self.sections[level - 1] += 1
            self.sections[level:] = [0] * (6 - level)
        if self.settings.chapters and level <= self.settings.depth and numbered:
            self.counts = dict.fromkeys(self.counts, 0)
        if not LABEL.match(ident) or _kind({"citationId": ident}) != "sec":
            return
        if printed or numbered:
            self.numbers[ident] = ".".join(str(n) for n in self.sections[:level])
        else:  # a preface's or an {.unnumbered} heading: referred to by its title, not a number
            self.titles[ident] = inlines

    def next(self, kind: str, ident: str) -> str:
        """The next number of a kind, within the chapter if the book asks for it."""
        self.counts[kind] += 1
        number = str(self.counts[kind])
        if self.settings.chapters:
            chapter = [str(n) for n in self.sections[: self.settings.depth]]
            number = self.settings.delims["chap"].join([*chapter, number])
        self.numbers[ident] = number
        return number


def number_references(drafts: list[Draft], config: BookConfig, meta: dict | None = None) -> None:
    """Number the labelled targets of the book in reading order, then write the references."""
    if not _has_crossref(drafts):
        return
    settings = crossref_settings(config, meta)
    counter = _Counter(settings)
    for draft in drafts:
        # Chapters are counted as print counts them ("Chapter N"): the body's, if numbered.
        counter.counted = draft.parsed.source.role == "body" and draft.parsed.source.numbered
        draft.blocks[:] = walk(
            draft.blocks,
            lambda node: _numbered(node, counter),
            ("Header", "Figure", "Table", "Span"),
        )
    for draft in drafts:
        draft.blocks[:] = walk(draft.blocks, lambda node: _reference(node, counter), ("Span",))


def _has_crossref(drafts: list[Draft]) -> bool:
    """True if a file of the book labels or names a target (`#fig:`, `@tbl-`…): its text
    tells, at a fraction of the cost of a walk through every chapter's AST."""
    sources = {id(s): s for d in drafts for s in (d.parsed.source, *d.more_sources)}
    return any(MENTION.search(s.text) for s in sources.values())


def _numbered(node: dict, counter: _Counter) -> Any:
    """A target with its number: in its caption, or beside its equation."""
    kind = node["t"]
    if kind == "Header":
        counter.heading(node)
        return node
    if kind == "Span":
        (ident, classes, _), inlines = node["c"]
        if EQUATION not in classes or not inlines:
            return node
        number = counter.next("eq", ident)
        math = inlines[0]
        # pandoc-crossref's form: the number in the formula, set apart by a quad.
        tex = f"{math['c'][1].rstrip()}\\qquad({number})"
        return {**node, "c": [node["c"][0], [{"t": "Math", "c": [math["c"][0], tex]}]]}
    ident = node["c"][0][0]
    short = "fig" if kind == "Figure" else "tbl"
    if not LABEL.match(ident) or _kind({"citationId": ident}) != short:
        return node
    number = counter.next(short, ident)
    settings = counter.settings
    label = f"{settings.titles[short]}\u00a0{number}{settings.delims['title']}"
    short_caption, blocks = node["c"][1]
    head = [{"t": "Span", "c": [["", [NUMBER], []], [{"t": "Str", "c": label}]]}]
    if blocks and blocks[0]["t"] in ("Plain", "Para"):
        blocks = [{**blocks[0], "c": [*head, {"t": "Space"}, *blocks[0]["c"]]}, *blocks[1:]]
    else:
        blocks = [{"t": "Plain", "c": head}, *blocks]
    content = list(node["c"])
    content[1] = [short_caption, blocks]
    return {**node, "c": content}


def _reference(node: dict, targets: _Counter) -> Any:
    """A placeholder made the reference: the prefix and the numbers, linked to the targets."""
    (_, classes, attributes), _ = node["c"]
    if XREF not in classes:
        return node
    attributes = dict(attributes)
    ids = attributes["refs"].split()
    mode = attributes["mode"]
    settings = targets.settings
    singular, plural = settings.prefixes[_kind({"citationId": ids[0]})]
    prefix = "" if mode == "bare" else (singular if len(ids) == 1 else plural)
    if mode == "capital" and prefix:
        prefix = prefix[0].upper() + prefix[1:]
    if len(ids) == 1 and ids[0] in targets.titles:
        return _link(ids[0], targets.titles[ids[0]], True)  # its title says which section
    lead = [{"t": "Str", "c": prefix + "\u00a0"}] if prefix else []
    if len(ids) == 1:
        return _link(ids[0], [*lead, *_shown(ids[0], targets)], _found(ids[0], targets))
    return lead + _number_list(ids, targets)


def _shown(ident: str, targets: _Counter) -> list[Any]:
    """What stands for a target: its number, an unnumbered section's title, or `??`."""
    if ident in targets.titles:
        return targets.titles[ident]
    return [{"t": "Str", "c": targets.numbers.get(ident, UNKNOWN)}]


def _found(ident: str, targets: _Counter) -> bool:
    return ident in targets.numbers or ident in targets.titles


def _link(ident: str, inlines: list[Any], found: bool) -> dict:
    """A link to a target, or its text alone (with `??`) when no target has the label."""
    if not found:
        return {"t": "Span", "c": [["", ["unresolved-reference"], []], inlines]}
    return {"t": "Link", "c": [["", ["cross-reference"], []], inlines, [f"#{ident}", ""]]}


def _number_list(ids: list[str], targets: _Counter) -> list[Any]:
    """`2 and 3`, `1, 4 and 5`, `1–3`: each number linked; three or more in a row a range."""
    delims = targets.settings.delims
    items: list[list[Any]] = []
    for run in _runs(ids, targets.numbers):
        links = [_link(i, _shown(i, targets), _found(i, targets)) for i in run]
        if len(run) >= 3:
            items.append([links[0], {"t": "Str", "c": delims["range"]}, links[-1]])
        else:
            items += [[link] for link in links]
    out: list[Any] = []
    for index, item in enumerate(items):
        if index:
            key = "pair" if len(items) == 2 else "last" if index == len(items) - 1 else "ref"
            out += _delimiter(delims[key])
        out += item
    return out


def _runs(ids: list[str], numbers: dict[str, str]) -> list[list[str]]:
    """The ids cut where the numbers stop following one another (1, 2, 3 | 5)."""
    runs: list[list[str]] = []
    for ident in ids:
        previous = runs[-1][-1] if runs else None
        if previous is not None and _follows(numbers.get(previous), numbers.get(ident)):
            runs[-1].append(ident)
        else:
            runs.append([ident])
    return runs


def _follows(before: str | None, after: str | None) -> bool:
    if not before or not after:
        return False
    head_b, _, last_b = before.rpartition(".")
    head_a, _, last_a = after.rpartition(".")
    return (
        head_a == head_b
        and last_b.isdigit()
        and last_a.isdigit()
        and int(last_a) == int(last_b) + 1
    )


def _delimiter(text: str) -> list[Any]:
    """`,` is written after the number; a word (`and`) stands between spaces."""
    text = text.strip()
    if text and text[0].isalnum():
        return [{"t": "Space"}, {"t": "Str", "c": text}, {"t": "Space"}]
    return [{"t": "Str", "c": text}, {"t": "Space"}]
