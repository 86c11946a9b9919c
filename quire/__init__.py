"""Quire: build a Markdown manuscript into a store-ready EPUB 3 and a print-ready PDF."""

import sys

__version__ = "0.1.0"

# pymupdf 2 loads its optional ONNX page-layout analyser (pymupdf.layout) and pymupdf4llm
# (which loads onnxruntime) on `import pymupdf`: half a second and 90 MiB in each process that
# reads a PDF (a PDF figure, the layout workers' nothing-lost check, preflight), for features
# Quire never uses. Set here, before any of those imports: an entry of None makes that import
# fail quietly, as pymupdf expects when they are not installed.
sys.modules.setdefault("pymupdf.layout", None)  # type: ignore[arg-type]
sys.modules.setdefault("pymupdf4llm", None)  # type: ignore[arg-type]
