"""The size caps on the files a build reads, one per kind, settable by whoever runs the build."""

from __future__ import annotations

import os
import re

from quire.errors import BuildError

MIB = 1024 * 1024
# The largest file of each kind a build reads, in MiB; the environment variable QUIRE_MAX_<KIND>
# (for example QUIRE_MAX_IMAGE=200) raises or lowers one for whoever runs the build. A book
# cannot: its own settings must not lift the limits that protect the machine from it.
SIZE_LIMITS_MIB = {
    "settings": 1,  # book.yaml
    "chapter": 16,  # each Markdown file
    "style": 2,  # each CSS file
    "font": 32,  # each font file
    "image": 64,  # each image, local or downloaded
    "downloads": 128,  # all downloaded images of one build together
    "metadata": 1,  # a metadata file (pandoc's --metadata-file)
    "bibliography": 16,  # a bibliography (BibTeX, CSL JSON, ...)
    "cache": 256,  # each file Quire reads back from <out>/.quire-cache/ (a unit's PDF, a record)
}


def size_limit(kind: str) -> int:
    """The size cap in bytes for a kind of file, from QUIRE_MAX_<KIND> (MiB) or the default."""
    raw = os.environ.get(f"QUIRE_MAX_{kind.upper()}", "")
    return (
        int(float(raw) * MIB) if re.fullmatch(r"\d+(\.\d+)?", raw) else SIZE_LIMITS_MIB[kind] * MIB
    )


def too_big(
    kind: str, size: int, *, file: str, line: int | None, what: str | None = None
) -> BuildError:
    """The error for a file of a kind over its size cap."""
    article = "an" if kind[0] in "aeiou" else "a"
    return BuildError(
        f"{f'`{what}` ' if what else ''}is {size / MIB:.1f} MiB, more than the "
        f"{size_limit(kind) / MIB:g} MiB {article} {kind} file may have",
        file=file,
        line=line,
        hint=f"make it smaller, or raise the limit with QUIRE_MAX_{kind.upper()}=<MiB>",
    )
