"""The live game page in headless chromium while a real game is replayed."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

GAME = "0022000001"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]


def _cells(page) -> str:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all("#boxes td", "tds => tds.map(t => t.textContent).join('|')")


def test_page_shows_both_box_scores_updating_and_stale_data(
        make_server, shared_data: Path, chromium_path: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    server = make_server(live_formulas=["TS_PCT", "EFG_PCT", "USG_PCT", "GAME_SCORE", "PER"])
    live = shared_data / "nba-live"

    async def start():  # type: ignore[no-untyped-def]
        return server.service.start_replay(live / f"playbyplay_{GAME}.json",
                                           live / f"boxscore_{GAME}.json", speed=30,
                                           max_gap=1.0)

    async def source_fails(replay) -> None:  # type: ignore[no-untyped-def]
        # The feed stops and the game's data is flagged stale, as a failing sync does.
        replay.cancel()
        await server.service.engine.mark_stale(GAME, True)

    replay = server.call(start())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url + "/")
            expect(page.locator("#connection")).to_have_text("live", timeout=10_000)
            expect(page.locator(f'#games button[data-game="{GAME}"]')).to_be_visible(
                timeout=10_000)
            # both teams' boxes, away first, with the advanced columns
            expect(page.locator(".box h3")).to_have_text(["GSW", "BKN"], timeout=10_000)
            headers = page.locator(".box").first.locator("th").all_text_contents()
            assert {"TS%", "eFG%", "USG%", "GmSc", "PER"} <= set(headers)
            expect(page.locator('.box[data-team="1610612744"] tr[data-entity^="player:"]')
                   ).not_to_have_count(0)

            # values change as the game goes on, and changed cells are highlighted
            before = _cells(page)
            page.wait_for_function(
                "before => [...document.querySelectorAll('#boxes td')]"
                ".map(t => t.textContent).join('|') !== before", arg=before, timeout=15_000)
            expect(page.locator("#boxes td.changed").first).to_be_attached(timeout=5_000)
            assert _cells(page) != before
            page.screenshot(path=str(tmp_path / "live.png"), full_page=True)

            # a failing source marks the game stale: the page says so
            expect(page.locator("#game-stale")).to_be_hidden()
            server.call(source_fails(replay))
            expect(page.locator("#game-stale")).to_be_visible(timeout=5_000)
            expect(page.locator("#boxes")).to_have_class("stale-data", timeout=5_000)
            page.screenshot(path=str(tmp_path / "stale.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
