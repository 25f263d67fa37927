"""The dashboard reads its figures for people (issue 16, item 10): round counts, 95 % ranges, a time
axis that fits the play."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from simulator.domain.rtp import RtpEngine
from tests.conftest import DEMO_USER

SLOT = {"agent": "demo", "user_code": DEMO_USER, "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}


def html(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def agent_row(page: str, name: str) -> list[str]:
    row = re.search(rf'<tr data-agent="{name}">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def test_61_percent_after_265_rounds_shows_its_count_range_and_too_few_rounds(client, v4):
    assert v4("wallet/deposit", {"user_code": DEMO_USER, "amount": 30000}).code == 0
    # 265 rounds of 100 paying 16,165 in all: a realised RTP of exactly 61 %.
    forced = [{"multiplier": "161.65"}] + [{"multiplier": 0}] * 264
    outcomes = {"agent": "demo", "account": "test1234", "next": forced}
    assert client.post("/control/outcomes", json=outcomes).status_code == 200
    assert len(client.post("/control/play", json={**SLOT, "rounds": 265}).get_json()) == 265
    page = html(client.get("/backoffice/?agent=demo"))
    variance = float(RtpEngine(1).table(1, "vs20fruitsw", "Slots", Decimal(95)).variance())
    high = 95 + 1.959964 * math.sqrt(variance * 265) / 265 * 100
    assert agent_row(page, "demo") == [
        "demo",
        "265",
        "95.00%",
        "61.00%",
        f"too few rounds 95%: 0.0–{high:.1f}%",
    ]
    assert 'class="band"' in page  # the range is drawn behind the realised bar


def test_an_agent_without_rounds_has_no_range(client):
    page = html(client.get("/backoffice/"))
    assert agent_row(page, "demo_seamless") == ["demo_seamless", "0", "95.00%", "–", "–"]


def test_the_per_game_rows_carry_their_range(client):
    client.post("/control/play", json={**SLOT, "rounds": 20})
    page = html(client.get("/backoffice/?agent=demo"))
    row = re.search(r'<tr data-game="1:vs20fruitsw">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r'<span class="band muted">95%: 0\.0–\d+\.\d%</span>', row)
    assert "too few rounds" in row


def test_the_time_axis_fits_a_burst_of_play_long_ago(client):
    client.post("/control/clock", json={"freeze": True})
    client.post("/control/clock", json={"set": "2026-01-13T12:00:00Z"})
    client.post("/control/play", json={**SLOT, "rounds": 5})
    client.post("/control/clock", json={"advance": 2 * 86400})
    page = html(client.get("/backoffice/?agent=demo"))
    span = re.search(r'id="play-span">Settled rounds per (.*?) from (.*?) to (.*?),', page).groups()
    assert span == ("1 second", "2026-01-13 11:59:54", "2026-01-13 12:00:06")
    assert len(re.findall(r'<rect class="bets" x=', page)) == 12


def test_the_time_axis_of_play_up_to_now_ends_now(client):
    client.post("/control/clock", json={"freeze": True})
    client.post("/control/clock", json={"set": "2026-01-13T12:00:00Z"})
    client.post("/control/play", json={**SLOT, "rounds": 2})
    client.post("/control/clock", json={"advance": 600})
    client.post("/control/play", json={**SLOT, "rounds": 2})
    page = html(client.get("/backoffice/?agent=demo"))
    span = re.search(r'id="play-span">Settled rounds per (.*?) from (.*?) to (.*?),', page).groups()
    assert span == ("30 seconds", "2026-01-13 12:00:00", "2026-01-13 12:10:30")
