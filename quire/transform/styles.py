"""The book's own style sheets, layered after Quire's: styles/print.css, styles/epub.css, css:."""

from __future__ import annotations

from pathlib import Path

from quire.css import check_stylesheet, css_references
from quire.errors import BuildError
from quire.load.config import BookConfig
from quire.load.confine import Confinement, read_file
from quire.load.manuscript import Manuscript, display_name


def author_styles(manuscript: Manuscript, config: BookConfig) -> tuple[tuple[Path, ...], ...]:
    """(print, epub) style sheets the book adds; each is checked to load nothing from outside."""
    own = manuscript.root / "styles"
    listed = tuple(
        _css_file(manuscript, config, index, name) for index, name in enumerate(config.css)
    )
    layers = []
    for name in ("print.css", "epub.css"):
        path = own / name
        mine = (
            (path,)
            if path.is_file() and path.resolve() != (manuscript.styles / name).resolve()
            else ()
        )
        layers.append(mine + listed)
    confinement = Confinement((manuscript.root, manuscript.styles))
    for path in dict.fromkeys(layers[0] + layers[1]):
        check_stylesheet(path, confinement, shown=display_name(path))
    for path in layers[1]:
        _refuse_loaded_files(path)
    return layers[0], layers[1]


def _refuse_loaded_files(css: Path) -> None:
    """An EPUB style sheet of the book's may not load files: the EPUB would not carry them."""
    shown = display_name(css)
    text = read_file(css, "style", file=shown).decode("utf-8", "replace")
    for ref in css_references(text):
        url = ref.url.strip()
        if url and not url.startswith("#") and not url.lower().startswith("data:"):
            raise BuildError(
                f"`{url}`: a book's own EPUB style sheet cannot load files",
                file=shown,
                line=ref.line,
                hint="the EPUB carries only Quire's fonts; use embed-fonts, or a print-only rule",
            )


def _css_file(manuscript: Manuscript, config: BookConfig, index: int, name: str) -> Path:
    """A `css:` file: inside the book, and there."""
    origin, line = config.origin_of("css"), config.line_of("css", index)
    path = Confinement((manuscript.root,)).resolve(name, manuscript.root, file=origin, line=line)
    if not path.is_file():
        raise BuildError(
            f"`css` file `{name}` does not exist", file=origin, line=line, hint="fix the path"
        )
    return path
