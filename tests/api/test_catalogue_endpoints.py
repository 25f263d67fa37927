"""``game/providers``, ``game/games`` and ``game/all`` (spec 5.9-5.11, 11.1, 11.3, 11.4)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import make_settings

ALL_PROVIDER_IDS = [1, 2, 3, 4, 5, 7, 9, 12, 13, 14, 15, 16, 17, 20, 23, 24, 26]
#: Palace (17), Amusnet (24) and Inout (26) have no games in the fixture catalogue.
PROVIDERS_WITH_GAMES = [1, 2, 3, 4, 5, 7, 9, 12, 13, 14, 15, 16, 20, 23]
ALL_GAMES = 1598
PRAGMATIC_GAMES = 617


def _assign(sim, providers: list[int]) -> None:
    sim.world.hierarchy.apply_settings(sim.world.hierarchy.get("demo"), {"providers": providers})


def _maintenance(client, scope: str, on: bool = True) -> None:
    assert client.post("/control/maintenance", json={"scope": scope, "on": on}).status_code == 200


def _by_code(items: list[dict], game_code: str) -> dict:
    return next(item for item in items if item["game_code"] == game_code)


# -- game/providers -----------------------------------------------------------------------


def test_providers_lists_every_provider_when_none_is_assigned(v4):
    answer = v4("game/providers", {"lang": 1})
    assert answer.code == 0
    assert [p["provider_id"] for p in answer.data] == ALL_PROVIDER_IDS


def test_provider_item_shape(v4):
    assert v4("game/providers", {"lang": 1}).data[0] == {
        "provider_id": 1,
        "provider_name": "Pragmatic Play",
        "locale_name": "Pragmatic Play",
        "status": 1,
    }


def test_provider_locale_name_in_korean_for_lang_2(v4):
    item = v4("game/providers", {"lang": 2}).data[0]
    assert (item["provider_name"], item["locale_name"]) == ("Pragmatic Play", "프라그마틱 플레이")


def test_provider_locale_name_in_japanese_for_lang_5(v4):
    assert v4("game/providers", {"lang": 5}).data[0]["locale_name"] == "プラグマティック・プレイ"


def test_provider_locale_name_falls_back_to_english(v4):
    items = v4("game/providers", {"lang": 3}).data
    assert items[0]["locale_name"] == "Pragmatic Play"
    assert v4("game/providers", {"lang": 2}).data[1]["locale_name"] == "CQ9"


@pytest.mark.parametrize("lang", [1, 2, 3, 4, 5, 6])
def test_providers_accept_lang_1_to_6(v4, lang):
    answer = v4("game/providers", {"lang": lang})
    assert answer.code == 0
    assert len(answer.data) == len(ALL_PROVIDER_IDS)


@pytest.mark.parametrize("lang", [0, 7, 13, -1])
def test_providers_lang_outside_1_to_6_is_1002(v4, lang):
    answer = v4("game/providers", {"lang": lang})
    assert answer.body == {
        "code": 1002,
        "message": "VALIDATION_ERROR",
        "data": [{"field": "lang", "message": "[lang] must be between 1 and 6"}],
    }


def test_providers_without_lang_is_1002(v4):
    assert v4("game/providers", {}).data == [{"field": "lang", "message": "The lang field is required."}]


def test_provider_in_maintenance_has_status_2(v4, client):
    _maintenance(client, "provider:1")
    statuses = {p["provider_id"]: p["status"] for p in v4("game/providers", {"lang": 1}).data}
    assert statuses[1] == 2
    assert {s for pid, s in statuses.items() if pid != 1} == {1}


def test_provider_maintenance_off_restores_status_1(v4, client):
    _maintenance(client, "provider:1")
    _maintenance(client, "provider:1", on=False)
    assert v4("game/providers", {"lang": 1}).data[0]["status"] == 1


def test_providers_lists_only_the_assigned_providers(v4, sim):
    _assign(sim, [15, 1, 23])
    assert [p["provider_id"] for p in v4("game/providers", {"lang": 1}).data] == [1, 15, 23]


def test_agent_assigned_only_unknown_providers_gets_an_empty_array(v4, sim):
    _assign(sim, [999])
    answer = v4("game/providers", {"lang": 1})
    assert answer.body == {"code": 0, "message": "OK", "data": []}


def test_assignment_of_one_agent_does_not_affect_another(v4_seamless, sim):
    _assign(sim, [1])
    assert len(v4_seamless("game/providers", {"lang": 1}).data) == len(ALL_PROVIDER_IDS)


# -- game/games --------------------------------------------------------------------------------


def test_games_item_shape(v4):
    items = v4("game/games", {"provider_id": 1, "lang": 1}).data
    assert _by_code(items, "vswaysdogs") == {
        "provider_id": 1,
        "game_code": "vswaysdogs",
        "game_name": "The Dog House Megaways",
        "locale_name": "The Dog House Megaways",
        "game_image": "http://127.0.0.1:8080/media/games/1/vswaysdogs.svg",
        "game_image_narrow": "http://127.0.0.1:8080/media/games/1/narrow/vswaysdogs.svg",
        "launch_enable": True,
        "category": "Slots",
        "reg_date": "2022-05-20 09:23:46",
    }


def test_games_lists_every_game_of_the_provider(v4):
    items = v4("game/games", {"provider_id": 1, "lang": 1}).data
    assert len(items) == PRAGMATIC_GAMES
    assert {item["provider_id"] for item in items} == {1}


def test_game_image_urls_are_served_by_the_simulator(v4, client):
    item = _by_code(v4("game/games", {"provider_id": 1, "lang": 1}).data, "vswaysdogs")
    for url in (item["game_image"], item["game_image_narrow"]):
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"


def test_game_locale_name_in_korean_for_lang_2(v4):
    item = _by_code(v4("game/games", {"provider_id": 1, "lang": 2}).data, "sim_live_baccarat")
    assert (item["game_name"], item["locale_name"]) == ("Live Baccarat", "라이브 바카라")


def test_game_locale_name_falls_back_to_english(v4):
    item = _by_code(v4("game/games", {"provider_id": 1, "lang": 2}).data, "vswaysdogs")
    assert item["locale_name"] == "The Dog House Megaways"


def test_games_of_an_unknown_provider_is_2007(v4):
    answer = v4("game/games", {"provider_id": 999, "lang": 1})
    assert answer.body == {"code": 2007, "message": "PROVIDER_NOT_FOUND"}


def test_games_of_provider_0_is_2007(v4):
    assert v4("game/games", {"provider_id": 0, "lang": 1}).code == 2007


def test_games_of_an_unassigned_provider_is_an_empty_array(v4, sim):
    _assign(sim, [15])
    answer = v4("game/games", {"provider_id": 1, "lang": 1})
    assert answer.body == {"code": 0, "message": "OK", "data": []}


def test_games_of_an_assigned_provider_are_listed(v4, sim):
    _assign(sim, [15])
    items = v4("game/games", {"provider_id": 15, "lang": 1}).data
    assert [(i["game_code"], i["category"]) for i in items] == [("aviator", "Mini")]


def test_games_accept_a_numeric_string_provider_id(v4):
    assert len(v4("game/games", {"provider_id": "15", "lang": 1}).data) == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"lang": 1}, "provider_id", "The provider_id field is required."),
        ({"provider": 1, "lang": 1}, "provider_id", "The provider_id field is required."),
        ({"provider_id": 1}, "lang", "The lang field is required."),
        ({"provider_id": 1, "lang": 7}, "lang", "[lang] must be between 1 and 6"),
        ({"provider_id": 1, "lang": 0}, "lang", "[lang] must be between 1 and 6"),
        (
            {"provider_id": -1, "lang": 1},
            "provider_id",
            "[provider_id] must be between 0 and 9223372036854775807",
        ),
        (
            {"provider_id": 1.5, "lang": 1},
            "provider_id",
            "The provider_id field must be an integer, not a fraction.",
        ),
    ],
)
def test_games_with_an_invalid_body_is_1002(v4, body, field, message):
    answer = v4("game/games", body)
    assert answer.code == 1002
    assert answer.data == [{"field": field, "message": message}]


def test_games_unknown_provider_check_comes_after_validation(v4):
    assert v4("game/games", {"provider_id": 999, "lang": 9}).code == 1002


class TestPublicUrl:
    @pytest.fixture
    def settings(self):
        return make_settings(public_url="https://sim.example.test/")

    def test_game_images_use_the_public_url(self, v4):
        item = _by_code(v4("game/games", {"provider_id": 1, "lang": 1}).data, "vswaysdogs")
        assert item["game_image"] == "https://sim.example.test/media/games/1/vswaysdogs.svg"
        assert item["game_image_narrow"] == "https://sim.example.test/media/games/1/narrow/vswaysdogs.svg"


# -- game/all ------------------------------------------------------------------------------------


def test_all_lists_every_game_of_every_provider(v4):
    items = v4("game/all").data
    assert len(items) == ALL_GAMES
    assert sorted({item["provider_id"] for item in items}) == PROVIDERS_WITH_GAMES


def test_all_defaults_to_lang_1(v4):
    assert v4("game/all").data == v4("game/all", {"lang": 1}).data


def test_all_in_korean_differs_from_the_default(v4):
    item = _by_code(v4("game/all", {"lang": 2}).data, "sim_live_baccarat")
    assert item["locale_name"] == "라이브 바카라"


def test_all_contains_slots_live_and_mini(v4):
    assert {item["category"] for item in v4("game/all").data} == {"Slots", "Live", "Mini"}


def test_all_items_have_the_games_shape(v4):
    everything = v4("game/all").data
    pragmatic = [item for item in everything if item["provider_id"] == 1]
    assert pragmatic == v4("game/games", {"provider_id": 1, "lang": 1}).data


def test_all_lists_only_the_assigned_providers(v4, sim):
    _assign(sim, [15, 20])
    items = v4("game/all").data
    assert len(items) == 7
    assert {item["provider_id"] for item in items} == {15, 20}
    assert {item["category"] for item in items} == {"Mini"}


def test_all_for_an_agent_assigned_only_unknown_providers_is_an_empty_array(v4, sim):
    _assign(sim, [999])
    assert v4("game/all").body == {"code": 0, "message": "OK", "data": []}


@pytest.mark.parametrize("lang", [0, 7])
def test_all_lang_outside_1_to_6_is_1002(v4, lang):
    answer = v4("game/all", {"lang": lang})
    assert answer.code == 1002
    assert answer.data == [{"field": "lang", "message": "[lang] must be between 1 and 6"}]


def test_all_with_a_null_lang_is_1002(v4):
    assert v4("game/all", {"lang": None}).code == 1002
