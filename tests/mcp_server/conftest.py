"""Fixtures for the MCP tests: a started service on a temporary database, the NBA's recorded
GSW at BKN game (2020-12-22), and helpers reading MCP tool results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from courtside.service import RealTimeCalculationService
from courtside.sources.livedata import parse_boxscore

GAME = "0022000001"
CURRY = "201939"


@pytest.fixture(scope="session")
def game_files(shared_data: Path) -> tuple[Path, Path]:
    folder = shared_data / "nba-live"
    return folder / f"playbyplay_{GAME}.json", folder / f"boxscore_{GAME}.json"


@pytest.fixture(scope="session")
def nba_box(game_files: tuple[Path, Path]) -> dict[str, Any]:
    """The NBA's own final box score document."""
    return json.loads(game_files[1].read_text())


def player_stats(nba_box: dict[str, Any], person_id: str) -> dict[str, Any]:
    """A player's ``statistics`` block from the NBA's boxscore file."""
    for side in ("homeTeam", "awayTeam"):
        for player in nba_box["game"][side]["players"]:
            if str(player["personId"]) == person_id:
                return player["statistics"]
    raise KeyError(person_id)


@pytest.fixture
async def service(tmp_path: Path):
    service = RealTimeCalculationService(data_dir=tmp_path)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def light_service(tmp_path: Path):
    """A service keeping only a few formulas live: replays stay quick on a busy machine."""
    service = RealTimeCalculationService(data_dir=tmp_path,
                                         live_formulas=["TS_PCT", "EFG_PCT", "GAME_SCORE"])
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def final_game(service: RealTimeCalculationService, nba_box: dict[str, Any]):
    """The service with the recorded game's final box score fed to the live engine."""
    await service.ingest_snapshot(parse_boxscore(nba_box, source="test"))
    return service


def data(result: Any) -> Any:
    """A successful tool result's value (structured content; a list comes as ``result``)."""
    assert not result.is_error, result.content[0].text
    content = result.structured_content
    if isinstance(content, dict) and set(content) == {"result"}:
        return content["result"]
    return content


def error_text(result: Any) -> str:
    """A failed tool result's message, checked to be an error and never a traceback."""
    assert result.is_error, f"expected an error, got {result.structured_content}"
    text = " ".join(c.text for c in result.content)
    assert "Traceback" not in text and 'File "' not in text
    return text
