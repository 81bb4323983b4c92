"""The resilience of the HTTP fetcher, against a real server on loopback.

Each test pins one claim (conditional requests, retries, backoff, breaker, rate limit,
clear errors) and fails if the mechanism is removed.
"""

from __future__ import annotations

import asyncio
import json
import random
import time

import pytest

from courtside.sources.breaker import BreakerState, CircuitBreaker
from courtside.sources.errors import (
    CircuitOpenError,
    FetchError,
    HTMLPageError,
    HTTPStatusError,
    SourceError,
    TruncatedJSONError,
)
from courtside.sources.http import HttpConfig, HttpFetcher
from courtside.sources.payload import decode_json
from courtside.sources.ratelimit import HostLimiter, TokenBucket
from courtside.sources.retry import RetryPolicy

FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.005)


async def until_half_open(breaker: CircuitBreaker, timeout: float = 5.0) -> None:
    """Poll the breaker until its reset timeout has passed (no fixed sleep)."""
    async with asyncio.timeout(timeout):
        while breaker.state is not BreakerState.HALF_OPEN:
            await asyncio.sleep(0.01)


def fetcher(base: str, **kw) -> HttpFetcher:
    kw.setdefault("retry", FAST)
    return HttpFetcher(HttpConfig(base_url=base, **kw))


async def test_conditional_request_sends_etag_and_serves_cached_body_on_304(scripted):
    script, base = scripted
    script.push(200, b'{"v": 1}', {"content-type": "application/json", "etag": '"abc"',
                                   "last-modified": "Tue, 22 Dec 2020 23:24:13 GMT"})
    script.push(304, b"", {"etag": '"abc"'})
    async with fetcher(base) as f:
        first = await f.get("/doc.json")
        second = await f.get("/doc.json")
    assert first.data == {"v": 1} and not first.not_modified
    assert second.not_modified and second.status == 304
    assert second.data == {"v": 1}
    sent = script.requests[1]["headers"]
    assert sent["if-none-match"] == '"abc"'
    assert sent["if-modified-since"] == "Tue, 22 Dec 2020 23:24:13 GMT"
    assert "if-none-match" not in script.requests[0]["headers"]


async def test_5xx_is_retried_until_success(scripted):
    script, base = scripted
    script.push(503, b"busy")
    script.push(502, b"bad gateway")
    script.push(200, b'{"v": 2}')
    async with fetcher(base) as f:
        got = await f.get("/x")
    assert got.data == {"v": 2}
    assert len(script.requests) == 3


async def test_retries_give_up_after_the_policy_attempts(scripted):
    script, base = scripted
    for _ in range(5):
        script.push(500, b"boom")
    async with fetcher(base, retry=RetryPolicy(attempts=2, base_delay=0.001)) as f:
        with pytest.raises(HTTPStatusError) as err:
            await f.get("/x")
    assert err.value.status == 500 and "HTTP 500" in str(err.value)
    assert len(script.requests) == 2


async def test_404_is_not_retried(scripted):
    script, base = scripted
    script.push(404, b"nope", {"content-type": "text/plain"})
    async with fetcher(base) as f:
        with pytest.raises(HTTPStatusError) as err:
            await f.get("/missing")
    assert err.value.status == 404 and not err.value.retryable
    assert len(script.requests) == 1


async def test_html_403_page_is_named_as_such(scripted):
    script, base = scripted
    page = b"<!DOCTYPE html><html><head><title>Access Denied</title></head><body>no</body></html>"
    script.push(403, page, {"content-type": "text/html"})
    async with fetcher(base) as f:
        with pytest.raises(HTMLPageError) as err:
            await f.get("/stats")
    msg = str(err.value)
    assert "HTML page" in msg and "Access Denied" in msg and "HTTP 403" in msg
    assert "headers" in msg  # the hint says what to check
    assert len(script.requests) == 1  # a block page is not hammered with retries


async def test_html_page_with_status_200_is_still_an_error(scripted):
    script, base = scripted
    script.push(200, b"<html><title>Maintenance</title></html>", {"content-type": "text/html"})
    async with fetcher(base) as f:
        with pytest.raises(HTMLPageError, match="Maintenance"):
            await f.get("/x")


async def test_truncated_json_is_reported_and_retried(scripted):
    script, base = scripted
    full = json.dumps({"game": {"gameId": "1", "players": list(range(50))}}).encode()
    script.push(200, full[: len(full) // 2])
    script.push(200, full)
    async with fetcher(base) as f:
        got = await f.get("/box.json")
    assert got.data["game"]["gameId"] == "1"
    assert len(script.requests) == 2


def test_truncated_json_error_message():
    with pytest.raises(TruncatedJSONError, match="truncated"):
        decode_json(b'{"game": {"gameId": "00220', url="http://x/box.json")
    with pytest.raises(SourceError, match="line 1 column 2") as err:
        decode_json(b"{]  ", url="http://x/box.json")
    assert not isinstance(err.value, TruncatedJSONError)


async def test_timeout_is_a_fetch_error(scripted):
    script, base = scripted
    script.push(200, b"{}", delay=1.0)
    async with fetcher(base, read_timeout=0.1, retry=RetryPolicy(attempts=1)) as f:
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out"):
            await f.get("/slow")
    assert time.monotonic() - started < 0.9


async def test_circuit_opens_fails_fast_then_recovers_half_open(scripted):
    script, base = scripted
    for _ in range(2):
        script.push(500, b"x")
    async with fetcher(base, retry=RetryPolicy(attempts=1), failure_threshold=2,
                       reset_timeout=0.2) as f:
        for _ in range(2):
            with pytest.raises(HTTPStatusError):
                await f.get("/x")
        assert f.breaker(f.url("/x")).state is BreakerState.OPEN
        with pytest.raises(CircuitOpenError, match="open after 2 consecutive failures"):
            await f.get("/x")
        assert len(script.requests) == 2  # the open breaker sent nothing
        await until_half_open(f.breaker(f.url("/x")))
        got = await f.get("/x")  # half-open trial, served by the default 200
        assert got.data == {"ok": True}
        assert f.breaker(f.url("/x")).state is BreakerState.CLOSED


def test_breaker_half_open_failure_reopens():
    now = [0.0]
    b = CircuitBreaker("h", failure_threshold=3, reset_timeout=10, clock=lambda: now[0])
    for _ in range(3):
        b.before_call()
        b.record_failure()
    assert b.state is BreakerState.OPEN
    now[0] = 10.0
    assert b.state is BreakerState.HALF_OPEN
    b.before_call()  # the one trial
    with pytest.raises(CircuitOpenError):
        b.before_call()  # a second concurrent call waits for the trial's outcome
    b.record_failure()
    assert b.state is BreakerState.OPEN  # one failed trial re-opens, no threshold needed


def test_backoff_is_exponential_capped_and_jittered():
    p = RetryPolicy(attempts=6, base_delay=0.5, max_delay=3.0, jitter=False)
    assert [p.delay(i) for i in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    j = RetryPolicy(attempts=6, base_delay=0.5, max_delay=3.0)
    draws = [j.delay(3, random.Random(s)) for s in range(200)]
    assert all(0.0 <= d <= 2.0 for d in draws)
    assert len({round(d, 6) for d in draws}) > 150  # spread out, not all equal


def test_token_bucket_paces_to_its_rate():
    now = [0.0]
    bucket = TokenBucket(rate=1.0, capacity=1.0, clock=lambda: now[0])
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() == pytest.approx(1.0)
    now[0] = 0.5
    assert bucket.try_acquire() == pytest.approx(0.5)
    now[0] = 1.0
    assert bucket.try_acquire() == 0.0


async def test_host_limiter_spaces_requests_to_one_host_only(scripted):
    _script, base = scripted
    limiter = HostLimiter({"127.0.0.1": 20.0})
    async with HttpFetcher(HttpConfig(base_url=base, retry=FAST), limiter=limiter) as f:
        started = time.monotonic()
        await asyncio.gather(*(f.get(f"/r{i}") for i in range(6)))
        took = time.monotonic() - started
    # 6 requests at 20/s with a burst of 1: at least 5 gaps of 50 ms.
    assert took >= 0.24
    assert HostLimiter({"127.0.0.1": 20.0}).bucket("http://localhost:1/x") is None


async def test_headers_and_base_url_are_applied(scripted):
    script, base = scripted
    async with fetcher(base, headers={"User-Agent": "courtside-test", "Referer": "x"}) as f:
        await f.get("static/json/a.json")
    assert script.requests[0]["path"] == "/static/json/a.json"
    assert script.requests[0]["headers"]["user-agent"] == "courtside-test"


async def test_requests_go_through_the_configured_proxy(scripted):
    script, proxy = scripted
    # nba.invalid does not resolve: the answer can only come through the proxy.
    async with fetcher("http://cdn.nba.invalid", proxy=proxy) as f:
        got = await f.get("/static/json/liveData/scoreboard/todaysScoreboard_00.json")
    assert got.data == {"ok": True}
    assert script.requests[0]["headers"]["host"] == "cdn.nba.invalid"
    assert script.requests[0]["path"].endswith("/todaysScoreboard_00.json")


async def test_a_cancelled_half_open_trial_does_not_wedge_the_breaker(scripted):
    script, base = scripted
    script.push(500, b"x")
    script.push(200, b"{}", delay=2.0)  # the trial hangs and its caller gives up
    async with fetcher(base, retry=RetryPolicy(attempts=1), failure_threshold=1,
                       reset_timeout=0.05) as f:
        with pytest.raises(HTTPStatusError):
            await f.get("/x")
        await until_half_open(f.breaker(f.url("/x")))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await f.get("/x")
        got = await f.get("/x")  # a new trial is allowed, and it closes the breaker
        assert got.data == {"ok": True}
        assert f.breaker(f.url("/x")).state is BreakerState.CLOSED
