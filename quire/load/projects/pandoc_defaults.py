"""A pandoc project kept as a defaults file (`pandoc -d defaults.yaml`): its input files, its
metadata and the options Quire has an equivalent of, read as pandoc Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quire.errors import BuildError, warn
from quire.load.manuscript import (
    Manuscript,
    chapter_path,
    check_not_empty,
    display_name,
    find_styles,
)
from quire.load.projects.common import (
    Raw,
    read_chapter,
    read_settings,
    settings_beside,
    source_file,
)
from quire.load.projects.flavour import markdown_setting

NAMES = ("defaults.yaml", "defaults.yml")
# Defaults-file options and the book.yaml settings they are.
OPTIONS = {
    "resource-path": "resource-path",
    "toc": "toc",
    "table-of-contents": "toc",
    "toc-depth": "toc-depth",
    "number-sections": "number-sections",
    "css": "css",
    "bibliography": "bibliography",
    "csl": "csl",
    "metadata-file": "metadata-file",
    "metadata-files": "metadata-file",
    "epub-cover-image": "cover-image",
}
# Options about pandoc's output or its run, which Quire's own outputs replace: read, not used.
OUTPUT_OPTIONS = {
    "to", "writer", "output-file", "standalone", "template", "variables", "pdf-engine",
    "pdf-engine-opts", "pdf-engine-opt", "html-math-method", "citeproc", "cite-method",
    "epub-metadata", "epub-fonts", "epub-chapter-level", "epub-subdirectory", "epub-title-page",
    "include-in-header", "include-before-body", "include-after-body", "highlight-style",
    "syntax-highlighting", "top-level-division", "wrap", "columns", "dpi", "eol", "verbosity",
    "log-file", "fail-if-warnings", "self-contained", "embed-resources", "data-dir",
    "extract-media", "reference-doc", "tab-stop", "preserve-tabs", "email-obfuscation",
    "section-divs", "split-level", "number-offset", "listings", "incremental", "slide-level",
    "ascii", "reference-links", "reference-location", "markdown-headings", "track-changes",
    "strip-comments", "default-image-extension", "file-scope", "sandbox", "trace",
}  # fmt: skip


class PandocDefaults:
    """A pandoc defaults file: defaults.yaml in the folder, or one given by name."""

    name = "pandoc"
    looks_for = "defaults.yaml (pandoc)"

    def detect(self, folder: Path) -> Path | None:
        """defaults.yaml (or .yml) in the folder."""
        return next((folder / n for n in NAMES if (folder / n).is_file()), None)

    def read(self, folder: Path, project_file: Path, styles: Path | None) -> Manuscript:
        """The input files the defaults file names, with its metadata and options."""
        root = project_file.parent
        raw = read_settings(root, project_file)
        shown = display_name(project_file)
        inputs, input_line = _input_files(raw, shown)
        reader = _reader(raw, shown)
        options = _settings(raw, root, shown)
        # A YAML input file is the book's metadata, as pandoc reads it (`pandoc meta.yaml a.md`).
        metadata = [_expand(n, root) for n in inputs if n.lower().endswith((".yaml", ".yml"))]
        if metadata:
            given = options.get("metadata-file", ([], input_line))
            named = given[0] if isinstance(given[0], list) else [given[0]]
            options["metadata-file"] = ([*metadata, *named], given[1])
        settings = settings_beside(root, options, project_file, self.name)
        reader = settings.markdown or reader
        files = []
        for index, name in enumerate(inputs):
            line = raw.get(f"input-files\0{index}", (None, input_line))[1]
            if name.lower().endswith((".yaml", ".yml")):
                continue
            path = chapter_path(root, _expand(name, root), "input-files", line, shown)
            files.append(source_file(path, read_chapter(root, path)[0], "body", reader))
        check_not_empty(files, project_file)
        return Manuscript(
            root,
            styles or find_styles(root),
            settings.config,
            tuple(files),
            single_file=len(files) == 1,
            project=settings.project,
        )


def _expand(name: str, root: Path) -> str:
    """A path in a defaults file: `${.}` is the defaults file's folder, as in pandoc."""
    return name.replace("${.}/", "").replace("${.}", ".")


def _input_files(raw: Raw, shown: str) -> tuple[list[str], int | None]:
    """`input-files` (or `input-file`): the book's files in order; there must be some."""
    for key in ("input-files", "input-file"):
        if key in raw:
            value, line = raw[key]
            names = [value] if isinstance(value, str) else value
            if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
                return names, line
            raise BuildError(
                f"`{key}` must name the book's Markdown files",
                file=shown,
                line=line,
                hint="write `input-files: [chapter1.md, chapter2.md]`",
            )
    raise BuildError(
        "the defaults file names no input files",
        file=shown,
        hint="list the book's Markdown files under `input-files:`",
    )


def _reader(raw: Raw, shown: str) -> str | None:
    """`from` (or `reader`): the Markdown the files are written in; None is pandoc's own."""
    for key in ("from", "reader"):
        if key in raw:
            value, line = raw[key]
            return markdown_setting(value, shown, line, key)
    return None


def _settings(raw: Raw, root: Path, shown: str) -> Raw:
    """The defaults file's metadata and options in book.yaml's terms."""
    settings: Raw = {}
    metadata = raw.get("metadata", ({}, None))
    if isinstance(metadata[0], dict):
        settings.update({str(k): (v, metadata[1]) for k, v in metadata[0].items()})
    for key, (value, line) in raw.items():
        if key in OPTIONS:
            settings[OPTIONS[key]] = (_expanded(value, root), line)
        elif "\0" in key and key.split("\0")[0] in OPTIONS:
            settings[OPTIONS[key.split("\0")[0]] + "\0" + key.split("\0")[1]] = (value, line)
    _warn_not_used(raw, shown)
    return settings


def _expanded(value: Any, root: Path) -> Any:
    """`${.}` expanded in a path or a list of paths."""
    if isinstance(value, str):
        return _expand(value, root)
    if isinstance(value, list):
        return [_expand(v, root) if isinstance(v, str) else v for v in value]
    return value


def _warn_not_used(raw: Raw, shown: str) -> None:
    """Filters are not run (a warning names them); other options Quire has no use for, one
    warning for all."""
    used = {*OPTIONS, *OUTPUT_OPTIONS, "input-files", "input-file", "from", "reader", "metadata"}
    for key in ("filters", "lua-filters"):
        if key in raw and raw[key][0]:
            value, line = raw[key]
            names = value if isinstance(value, list) else [value]
            warn(
                f"`{key}` not run: {', '.join(str(_filter_name(n)) for n in names)}",
                file=shown,
                line=line,
                hint="Quire reads the book with pandoc but runs no filters; "
                "what a filter adds is missing from the book",
                group="pandoc filters not run",
            )
    other = [
        k for k in raw if "\0" not in k and k not in used and k not in ("filters", "lua-filters")
    ]
    if other:
        warn(
            "options Quire does not use: " + ", ".join(f"`{k}`" for k in other),
            file=shown,
            line=raw[other[0]][1],
            hint="Quire left them out; its settings are listed in the README",
            group="pandoc options not used",
        )


def _filter_name(item: Any) -> str:
    """A filter as the defaults file names it: a path, or {type, path}."""
    return str(item.get("path", item)) if isinstance(item, dict) else str(item)


READER = PandocDefaults()
