"""Imports every command module so that each registers its commands on the app.

Add one name here per new command module.
"""

from __future__ import annotations

from courtside.cli import (  # noqa: F401
    batch,
    compute,
    context,
    demo,
    fake_nba,
    formulas,
    mcp,
    replay,
    serve,
    sync,
    usage,
)
