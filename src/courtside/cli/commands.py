"""Imports every command module so that each registers its commands on the app.

Add one line here per new command module.
"""

from __future__ import annotations

import courtside.cli.fake_nba  # noqa: F401
import courtside.cli.replay
import courtside.cli.sync
from courtside.cli import batch  # noqa: F401
from courtside.cli import usage  # noqa: F401
from courtside.cli import compute, demo, formulas  # noqa: F401
from courtside.cli import serve  # noqa: F401
