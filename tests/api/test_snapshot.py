"""``GET /control/snapshot`` and ``POST /control/restore``: the whole state as JSON (control-api.md)."""

from __future__ import annotations

import copy
import json
import threading
import time
from decimal import Decimal

import pytest

from simulator import create_app
from simulator.domain.rtp import RtpEngine
from tests.conftest import DEMO_USER, V4, make_settings

PLAY = {"agent": "demo", "user_code": DEMO_USER, "provider_id": 1, "game_code": "vs20fruitsw", "bet": 100}
SECTIONS = {
    "format",
    "version",
    "simulator_version",
    "taken_at",
    "seed",
    "fixtures",
    "clock",
    "link_secret",
    "catalogue",
    "store",
    "forced_outcomes",
    "rtp_decks",
    "stamps",
    "retries",
    "faults",
    "journal",
    "callback_log",
}


def snapshot(client) -> dict:
    answer = client.get("/control/snapshot")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def restore(client, data) -> dict:
    answer = client.post("/control/restore", data=json.dumps(data), content_type="application/json")
    return answer


def comparable(data: dict) -> dict:
    """A snapshot without what moves by itself (the time it was taken, the wall-clock offset)."""
    data = copy.deepcopy(data)
    data.pop("taken_at")
    data["clock"].pop("offset")
    return data


def play(client, rounds: int, **overrides) -> list[dict]:
    answer = client.post("/control/play", json={**PLAY, **overrides, "rounds": rounds})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_snapshot_has_every_section(client):
    data = snapshot(client)
    assert set(data) == SECTIONS
    assert data["format"] == "scorpio-sim-snapshot" and data["version"] == 1
    assert {a["name"] for a in data["store"]["agents"]} >= {"demo", "demo_seamless"}
    assert len(data["catalogue"]["games"]) == 1598


def test_restore_brings_back_users_balances_points_and_history(client, v4):
    play(client, 5)
    created = v4("user/create", {"name": "snapshot01"}).data
    v4("wallet/deposit", {"user_code": created["user_code"], "amount": 5000})
    before = {
        "user": v4("user/info", {"user_code": DEMO_USER}).data,
        "new": v4("user/info", {"user_code": created["user_code"]}).data,
        "agent": v4("agent/info").data,
        "rows": client.get("/admin/api/agents/demo/transactions?limit=1000").get_json(),
    }
    saved = snapshot(client)
    play(client, 5)
    v4("wallet/withdraw-all", {"user_code": created["user_code"]})
    client.post("/admin/api/agents", json={"name": "later", "kind": "agent", "parent": "demo_operator"})

    answer = restore(client, saved)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert v4("user/info", {"user_code": DEMO_USER}).data == before["user"]
    assert v4("user/info", {"user_code": created["user_code"]}).data == before["new"]
    assert v4("agent/info").data == before["agent"]
    assert client.get("/admin/api/agents/demo/transactions?limit=1000").get_json() == before["rows"]
    assert client.get("/admin/api/agents/later").status_code == 404


def test_restore_answers_what_it_restored(client):
    play(client, 3)
    answer = restore(client, snapshot(client)).get_json()
    assert answer["restored"] is True
    assert answer["rounds"] == 3
    assert answer["agents"] == 4
    assert answer["pending_callbacks"] == 0


def test_a_snapshot_of_a_restored_state_is_the_same_snapshot(client, v4):
    play(client, 4)
    client.post(
        "/control/outcomes", json={"agent": "demo", "account": "test1234", "next": [{"multiplier": 3}]}
    )
    client.post("/control/faults", json={"target": "api:/v4/user/info", "effect": {"code": 1018}, "after": 5})
    client.post("/control/maintenance", json={"scope": "provider:2", "on": True})
    assert (
        v4(
            "game/game-url",
            {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1},
        ).code
        == 0
    )
    first = snapshot(client)
    assert restore(client, first).status_code == 200
    assert comparable(snapshot(client)) == comparable(first)


def test_play_after_a_restore_continues_exactly_where_the_snapshot_stood(client):
    play(client, 7)
    saved = snapshot(client)
    ahead = play(client, 30)
    restore(client, saved)
    again = play(client, 30)
    assert again == ahead


def test_rtp_card_positions_travel_in_the_store_section(client):
    play(client, 7)
    data = snapshot(client)
    assert list(data["store"]["rtp_cards"].values()) == [7]
    assert data["rtp_decks"] == []


def legacy(data: dict, played: int) -> dict:
    """``data`` as a simulator from before ``store.rtp_cards`` wrote it: the demo stream's deck in
    ``rtp_decks``, ``played`` cards into it."""
    data = copy.deepcopy(data)
    del data["store"]["rtp_cards"]
    demo = next(a for a in data["store"]["agents"] if a["name"] == "demo")
    assert demo["settings"]["max_win"] == "0"  # no cap
    provider_id, game_code, category = PLAY["provider_id"], PLAY["game_code"], "Slots"
    rtp = demo["settings"]["rtp"]
    deck = RtpEngine(data["seed"]).deck((demo["agent_id"],), provider_id, game_code, category, Decimal(rtp))
    deck.deal(played)
    stream = {"stream": [demo["agent_id"]], "provider_id": provider_id, "game_code": game_code, "rtp": rtp}
    data["rtp_decks"] = [{**stream, "cap": None, "category": category, **deck.state()}]
    return data


def test_a_snapshot_with_old_rtp_decks_continues_exactly_where_it_stood(client):
    play(client, 7)
    saved = snapshot(client)
    ahead = play(client, 30)
    assert restore(client, legacy(saved, 7)).status_code == 200
    assert play(client, 30) == ahead
    assert list(snapshot(client)["store"]["rtp_cards"].values()) == [37]


def test_a_snapshot_without_rtp_sections_starts_the_streams_afresh(client):
    first = play(client, 30)
    saved = snapshot(client)
    del saved["rtp_decks"], saved["store"]["rtp_cards"]
    assert restore(client, saved).status_code == 200
    assert [r["win"] for r in play(client, 30)] == [r["win"] for r in first]  # the same first cards


def test_a_restored_snapshot_works_in_a_new_simulator(client):
    play(client, 3)
    saved = snapshot(client)
    fresh = create_app(make_settings()).test_client()
    assert restore(fresh, saved).status_code == 200
    assert (
        V4(fresh)("user/info", {"user_code": DEMO_USER}).data
        == V4(client)("user/info", {"user_code": DEMO_USER}).data
    )
    assert play(fresh, 5) == play(client, 5)


def test_restore_keeps_the_clock_frozen_where_it_was(client):
    client.post("/control/clock", json={"freeze": True})
    client.post("/control/clock", json={"set": "2026-03-01T10:00:00Z"})
    saved = snapshot(client)
    client.post("/control/reset", json={})
    restore(client, saved)
    assert client.get("/control/clock").get_json() == {"now": "2026-03-01T10:00:00Z", "frozen": True}


def test_restore_brings_back_fault_rules_with_their_counters(client, v4):
    client.post(
        "/control/faults", json={"target": "api:/v4/agent/info", "effect": {"code": 1018}, "times": 3}
    )
    v4("agent/info")
    saved = snapshot(client)
    client.delete("/control/faults")
    restore(client, saved)
    rules = client.get("/control/faults").get_json()
    assert [(r["target"], r["fired"], r["times"]) for r in rules] == [("api:/v4/agent/info", 1, 3)]
    assert [v4("agent/info").code for _ in range(3)] == [1018, 1018, 0]


def test_restored_game_urls_still_open(client, v4):
    launch = {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1}
    url = v4("game/game-url", launch).data["game_url"]
    saved = snapshot(client)
    client.post("/control/reset", json={})
    restore(client, saved)
    opened = client.get("/play/" + url.rsplit("/play/", 1)[1])
    assert opened.status_code == 303
    assert client.get(opened.headers["Location"]).status_code == 200


def test_ids_continue_after_a_restore(client, v4):
    saved = snapshot(client)
    first = v4("user/create", {"name": "after01"}).data["user_code"]
    restore(client, saved)
    assert v4("user/create", {"name": "after02"}).data["user_code"] == first


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda s: s.update(format="other"), "format"),
        (lambda s: s.update(version=99), "version"),
        (lambda s: s["store"].pop("users"), "store.users"),
        (lambda s: s["store"]["users"][0].update(balance="lots"), "store.users: [0].balance"),
        (lambda s: s["store"]["users"][0].update(agent_id=999), "unknown agent 999"),
        (lambda s: s["store"]["users"][0].update(balance="123456789"), "does not conserve money"),
        (lambda s: s["store"]["sequences"].update(user_codes=400000001), "store.sequences.user_codes"),
        (lambda s: s["store"]["agents"][0].update(surprise=1), "store.agents: [0].surprise"),
        (lambda s: s["rtp_decks"].insert(0, {"stream": [3]}), "rtp_decks[0]"),
        (lambda s: s["store"]["rtp_cards"].update(x=-1), "store.rtp_cards"),
        (lambda s: s["store"].update(rtp_cards=[]), "store.rtp_cards"),
        (
            lambda s: s["retries"].append(
                {
                    "agent": "demo",
                    "command": "win",
                    "round_id": "1",
                    "body": {},
                    "attempts": 1,
                    "state": "pending",
                }
            ),
            "retries[0]",
        ),
        (lambda s: s["clock"].update(offset="soon"), "clock.offset"),
        (lambda s: s["catalogue"]["maintenance"].update(providers=[999]), "catalogue.maintenance"),
    ],
)
def test_a_damaged_snapshot_is_refused_and_changes_nothing(client, v4, damage, named):
    play(client, 2)
    saved = snapshot(client)
    damage(saved)
    before = v4("user/info", {"user_code": DEMO_USER}).data
    answer = restore(client, saved)
    assert answer.status_code == 400
    assert named in answer.get_json()["error"]
    assert v4("user/info", {"user_code": DEMO_USER}).data == before


def test_restore_refuses_a_body_that_is_not_json(client):
    answer = client.post("/control/restore", data=b"{not json", content_type="application/json")
    assert answer.status_code == 400
    assert "not valid JSON" in answer.get_json()["error"]


def test_saving_without_a_state_file_is_a_conflict(client):
    answer = client.post("/control/snapshot/save")
    assert answer.status_code == 409
    assert "SCORPIO_SIM_STATE_FILE" in answer.get_json()["error"]


def test_saving_writes_the_state_file(tmp_path):
    path = tmp_path / "state.json"
    client = create_app(make_settings(state_file=str(path))).test_client()
    answer = client.post("/control/snapshot/save")
    assert answer.status_code == 200
    assert answer.get_json()["path"] == str(path)
    assert json.loads(path.read_text())["format"] == "scorpio-sim-snapshot"


def test_a_new_simulator_starts_from_the_state_file(tmp_path):
    path = tmp_path / "state.json"
    first = create_app(make_settings(state_file=str(path))).test_client()
    code = V4(first)("user/create", {"name": "persisted"}).data["user_code"]
    V4(first)("wallet/deposit", {"user_code": code, "amount": 777})
    first.post("/control/snapshot/save")
    second = create_app(make_settings(state_file=str(path))).test_client()
    assert V4(second)("user/info", {"user_code": code}).data["balance"] == 777


def test_a_snapshot_waits_for_a_round_in_play(sim):
    in_play, finish = threading.Event(), threading.Event()

    def round_in_play() -> None:
        with sim.world.store.activity():
            in_play.set()
            finish.wait(10)

    player = threading.Thread(target=round_in_play)
    player.start()
    try:
        in_play.wait(5)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            sim.snapshot(timeout=0.2)
        assert time.monotonic() - started >= 0.2
    finally:
        finish.set()
        player.join(5)
    assert sim.snapshot(timeout=0.2)["format"] == "scorpio-sim-snapshot"


def test_a_round_waits_while_a_snapshot_is_taken(sim):
    store = sim.world.store
    order: list[str] = []
    with store.quiesced(1.0):

        def play_round() -> None:
            with store.activity():
                order.append("round")

        player = threading.Thread(target=play_round)
        player.start()
        player.join(0.2)
        order.append("snapshot done")
    player.join(5)
    assert order == ["snapshot done", "round"]
