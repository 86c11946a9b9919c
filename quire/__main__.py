"""`python -m quire` runs the same command as build.py."""

import sys

from quire.cli import main

sys.exit(main())
