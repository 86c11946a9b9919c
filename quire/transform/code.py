"""Code blocks and asides as mdBook, GitHub and GitBook write them, made plain for every output.

- Info strings: `rust,ignore` is one class to pandoc, which then knows no language to
  highlight. Split at commas, the first word is the language; rustdoc's and mdBook's test
  attributes (`ignore`, `no_run`, ...) are dropped.
- Hidden lines: in mdBook's Rust blocks a line `# ...` (or `#` alone) is there for the compiler,
  not the reader; mdBook hides it and Quire leaves it out (`##` stands for `#`). A block's
  `hidelines=<prefix>` attribute hides lines starting with that prefix in other languages.
- Asides: GitHub's alerts (`> [!NOTE]` ... `[!CAUTION]`, a block quote to pandoc's Markdown, a
  Div to its CommonMark readers; GitBook's `{% hint %}` is written as one, see
  projects/preprocess.py) become one Div: classes `alert alert-<kind>`, role "note", its title
  first; the style sheets of the three outputs set it apart.
- MathJax's delimiters: an mdBook book with `mathjax-support` writes `\\\\( … \\\\)` and
  `\\\\[ … \\\\]`, which its Markdown reader leaves as `\\( … \\)` and `\\[ … \\]` for MathJax
  to find in the page's text. Quire finds them the same way, in the text of a paragraph or
  a heading (never in code), and makes them math, as `$…$` and `$$…$$` are.
"""

from __future__ import annotations

import re
from typing import Any

from quire.transform.ast import NodeIndex, walk

# Attributes rustdoc and mdBook read from an info string; none of them is a language.
# fmt: off
CODE_ATTRIBUTES = frozenset({
    "ignore", "no_run", "compile_fail", "should_panic", "test_harness", "editable",
    "noplayground", "noplaypen", "mdbook-runnable",
    "edition2015", "edition2018", "edition2021", "edition2024",
})
# fmt: on
ALERTS = {
    "note": "Note",
    "tip": "Tip",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
}
ALERT_MARK = re.compile(r"\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.IGNORECASE)
CODE_KINDS = ("CodeBlock", "BlockQuote", "Div")


def tidy_code_and_asides(
    blocks: list[Any], found: NodeIndex, hidden_lines: bool
) -> tuple[list[Any], NodeIndex]:
    """A file's blocks with info strings split, hidden lines left out (`hidden_lines`: an
    mdBook book) and alerts made asides, and the index of the result."""
    changed = False

    def visit(node: dict) -> dict | None:
        nonlocal changed
        if node["t"] == "CodeBlock":
            new = tidy_code_block(node, hidden_lines)
        elif node["t"] == "BlockQuote":
            new = alert_from_quote(node)
        else:
            new = alert_from_div(node)
        changed = changed or new is not None
        return new

    kinds = [kind for kind in CODE_KINDS if found.has(kind)]
    walked = walk(blocks, visit, kinds, found.paths_to(kinds))
    return (walked, NodeIndex(walked)) if changed else (blocks, found)


def tidy_code_block(node: dict, hidden_lines: bool) -> dict | None:
    """A code block with its info string split and its hidden lines left out, or None if
    there was nothing to do."""
    (ident, classes, attrs), text = node["c"]
    words = [w.strip() for c in classes for w in c.split(",") if w.strip()]
    prefix = next((w.partition("=")[2] for w in words if w.startswith("hidelines=")), None)
    words = [w for w in words if w not in CODE_ATTRIBUTES and not w.startswith("hidelines=")]
    language = words[0].lower() if words else ""
    if hidden_lines and language == "rust":
        text = _without_hidden_rust(text)
    elif prefix:
        text = "\n".join(x for x in text.split("\n") if not x.lstrip().startswith(prefix))
    if words == classes and text == node["c"][1]:
        return None
    return {"t": "CodeBlock", "c": [[ident, words, attrs], text]}


def _without_hidden_rust(text: str) -> str:
    """A Rust block's text without the lines mdBook hides, `##` made `#`: as mdBook 0.5 does,
    a line hidden is `#` alone or `# ` and more, after any indentation (`#[derive]`, `#!`,
    `#x` are code)."""
    kept = []
    for line in text.split("\n"):
        code = line.lstrip()
        if code == "#" or code.startswith("# "):
            continue
        kept.append(line.replace("##", "#", 1) if code.startswith("##") else line)
    return "\n".join(kept)


def alert_from_quote(node: dict) -> dict | None:
    """`> [!NOTE]` and its kin as an aside; None for any other block quote.

    pandoc's Markdown reads the mark as a word at the head of the quote's first paragraph;
    GitHub makes an alert only when the mark stands alone on the first line."""
    blocks = node["c"]
    if not blocks or blocks[0]["t"] not in ("Para", "Plain"):
        return None
    inlines = blocks[0]["c"]
    if not inlines or inlines[0]["t"] != "Str" or not ALERT_MARK.fullmatch(inlines[0]["c"]):
        return None
    rest = inlines[1:]
    if rest and rest[0]["t"] not in ("SoftBreak", "LineBreak"):
        return None
    kind = inlines[0]["c"][2:-1].lower()
    body = ([{"t": blocks[0]["t"], "c": rest[1:]}] if rest[1:] else []) + blocks[1:]
    return aside(kind, ALERTS[kind], body)


def alert_from_div(node: dict) -> dict | None:
    """pandoc's own alert Div (CommonMark's `alerts`: class `note`, a `title` Div first) as an
    aside; None for any other Div."""
    (_ident, classes, _attrs), blocks = node["c"]
    if len(classes) != 1 or classes[0] not in ALERTS or not blocks:
        return None
    first = blocks[0]
    if first["t"] != "Div" or first["c"][0][1] != ["title"]:
        return None
    title = _plain_text(first["c"][1]) or ALERTS[classes[0]]
    return aside(classes[0], title, blocks[1:])


def aside(kind: str, title: str, blocks: list[Any]) -> dict:
    """The Div every output sets as an aside: `alert alert-<kind>`, role "note", and its
    title as the first block (a Div of class `alert-title`)."""
    heading = {"t": "Div", "c": [["", ["alert-title"], []], [{"t": "Plain", "c": _words(title)}]]}
    classes = ["alert", f"alert-{kind}"]
    return {"t": "Div", "c": [["", classes, [["role", "note"]]], [heading, *blocks]]}


def _words(text: str) -> list[dict]:
    """Inlines for a short plain text: words and the spaces between them."""
    inlines: list[dict] = []
    for n, word in enumerate(text.split()):
        if n:
            inlines.append({"t": "Space"})
        inlines.append({"t": "Str", "c": word})
    return inlines


def _plain_text(blocks: list[Any]) -> str:
    """The words of a few blocks (an alert's title), spaces between them."""
    words: list[str] = []
    stack = list(reversed(blocks))
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("t") == "Str":
                words.append(item["c"])
            elif isinstance(item.get("c"), list):
                stack.extend(reversed(item["c"]))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return " ".join(words)


# MathJax's default delimiters in the text pandoc read (mdBook's `\\(` is `\(` once read).
MATHJAX = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
TEXT_NODES = {"Str": None, "Space": " ", "SoftBreak": "\n"}


def mathjax_math(blocks: list[Any]) -> list[Any]:
    """A file's blocks with MathJax's `\\( … \\)` and `\\[ … \\]` made math (inline and display),
    where each stands in one run of text: as MathJax finds them in the page's text."""

    def visit(node: dict) -> dict | None:
        if node["t"] == "Header":
            inlines = _with_math(node["c"][2])
            return None if inlines is None else {"t": "Header", "c": [*node["c"][:2], inlines]}
        inlines = _with_math(node["c"])
        return None if inlines is None else {"t": node["t"], "c": inlines}

    return walk(blocks, visit, ("Para", "Plain", "Header"))


def _with_math(inlines: list[Any]) -> list[Any] | None:
    """Inlines with the MathJax formulas in their runs of text made Math; None if none."""
    if not any(n["t"] == "Str" and ("\\(" in n["c"] or "\\[" in n["c"]) for n in inlines):
        return None
    out: list[Any] = []
    run: list[dict] = []  # the text nodes since the last other node
    for node in [*inlines, None]:
        if node is not None and (node["t"] in TEXT_NODES or _written_text(node) is not None):
            run.append(node)
            continue
        text = "".join(_written_text(n) or TEXT_NODES[n["t"]] or n["c"] for n in run)
        out += _text_with_math(text) if MATHJAX.search(text) else run
        run = []
        if node is not None:
            out.append(node)
    return out


def attributes_as_text(blocks: list[Any]) -> list[Any]:
    """mdBook's Markdown reads `{…}` as attributes after a heading only: after a word
    (`x{y=1}`), where CommonMark's `attributes` takes them too and drops them, they are text."""

    def visit(node: dict) -> list[dict] | None:
        written = _attributes_text(node)
        return None if written is None else [*node["c"][1], *_text_nodes(written)]

    return walk(blocks, visit, ("Span",))


def _attributes_text(node: dict) -> str | None:
    """The `{…}` as written of a word pandoc read attributes after (a Span it marks
    `wrapper`); None for any other node."""
    if node["t"] != "Span":
        return None
    (ident, classes, pairs), _inner = node["c"]
    if ["wrapper", "1"] not in pairs:
        return None
    words = [f"#{ident}"] if ident else []
    words += [f".{c}" for c in classes]
    words += [f'{k}="{v}"' if " " in v else f"{k}={v}" for k, v in pairs if k != "wrapper"]
    return "{" + " ".join(words) + "}"


def _written_text(node: dict) -> str | None:
    """The text as written of a word with attributes after it (`_{i=1}` in a formula: see
    attributes_as_text); None for other nodes."""
    written = _attributes_text(node)
    if written is None or any(n["t"] != "Str" for n in node["c"][1]):
        return None
    return "".join(n["c"] for n in node["c"][1]) + written


def _text_with_math(text: str) -> list[dict]:
    """A run of text as words, spaces and line breaks, with its formulas as Math."""
    out: list[dict] = []
    last = 0
    for found in MATHJAX.finditer(text):
        out += _text_nodes(text[last : found.start()])
        kind = "InlineMath" if found[1] is not None else "DisplayMath"
        tex = (found[1] if found[1] is not None else found[2]).strip().replace("’", "'")
        out.append({"t": "Math", "c": [{"t": kind}, tex]})
        last = found.end()
    return out + _text_nodes(text[last:])


def _text_nodes(text: str) -> list[dict]:
    """Plain text as pandoc's Str, Space and SoftBreak nodes."""
    nodes: list[dict] = []
    for piece in re.split(r"( |\n)", text):
        if piece == " ":
            nodes.append({"t": "Space"})
        elif piece == "\n":
            nodes.append({"t": "SoftBreak"})
        elif piece:
            nodes.append({"t": "Str", "c": piece})
    return nodes
