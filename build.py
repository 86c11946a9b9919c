"""Build the book: `python build.py [SOURCE] [--out DIR] [--to epub|pdf]`."""

import sys

try:
    from quire.cli import main
except ModuleNotFoundError as missing:
    print(
        f"error: Quire needs the Python package `{missing.name}`, which is not installed.\n"
        "Install Quire and its dependencies with:  pip install -e .",
        file=sys.stderr,
    )
    sys.exit(1)

if __name__ == "__main__":
    sys.exit(main())
