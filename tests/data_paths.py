"""Where the real NBA data lives (``../shared/data``, or ``$COURTSIDE_SHARED_DATA``).

A plain module, not the conftest, so test modules can import it: ``conftest`` is not a
unique module name once several test folders have one.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("COURTSIDE_SHARED_DATA", ROOT.parent / "shared" / "data"))
