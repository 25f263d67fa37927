"""The catalogue: lookups keyed by (provider_id, game_code), locale names, maintenance (spec 1.5, 11)."""

from __future__ import annotations

import pytest

from simulator.domain.catalogue import Catalogue, Game, Provider, category_code


def _game(provider_id: int, code: str, name: str, **extra) -> Game:
    return Game(provider_id, code, name, "Slots", "2024-01-01 00:00:00", **extra)


@pytest.fixture
def catalogue() -> Catalogue:
    providers = [
        Provider(7, "Habanero", {1: "Habanero", 2: "하바네로"}),
        Provider(1, "Pragmatic Play", {1: "Pragmatic Play"}),
        Provider(2, "CQ9", {}),
    ]
    games = [
        _game(
            1,
            "vswaysdogs",
            "The Dog House Megaways",
            locale_names={1: "The Dog House Megaways", 5: "ドッグハウス"},
        ),
        _game(1, "book", "Book of Pragmatic"),
        _game(7, "book", "Book of Habanero"),
        _game(2, "cq01", "Fortune", locale_names={2: "포춘"}),
    ]
    return Catalogue(providers, games)


def test_games_with_the_same_code_in_two_providers_are_both_kept(catalogue):
    assert catalogue.game(1, "book").game_name == "Book of Pragmatic"
    assert catalogue.game(7, "book").game_name == "Book of Habanero"
    assert len(catalogue.games) == 4


def test_an_unknown_game_or_provider_is_none(catalogue):
    assert (catalogue.game(2, "book"), catalogue.provider(99)) == (None, None)


def test_games_of_lists_only_that_providers_games(catalogue):
    assert [g.game_code for g in catalogue.games_of(1)] == ["vswaysdogs", "book"]
    assert catalogue.games_of(99) == []


def test_an_empty_assignment_means_every_provider_by_id(catalogue):
    assert [p.provider_id for p in catalogue.assigned_providers([])] == [1, 2, 7]


def test_an_assignment_keeps_known_providers_once_by_id(catalogue):
    assert [p.provider_id for p in catalogue.assigned_providers([7, 99, 1, 7])] == [1, 7]


def test_a_locale_name_is_used_when_present(catalogue):
    assert catalogue.provider(7).locale_name(2) == "하바네로"
    assert catalogue.game(1, "vswaysdogs").locale_name(5) == "ドッグハウス"


def test_a_missing_locale_falls_back_to_english(catalogue):
    assert catalogue.provider(7).locale_name(3) == "Habanero"
    assert catalogue.game(1, "vswaysdogs").locale_name(11) == "The Dog House Megaways"


def test_without_an_english_name_the_plain_name_is_used(catalogue):
    assert catalogue.provider(2).locale_name(4) == "CQ9"
    assert catalogue.game(2, "cq01").locale_name(1) == "Fortune"


@pytest.mark.parametrize(("category", "code"), [("Slots", 1), ("Live", 2), ("Mini", 3), ("Other", 3)])
def test_category_codes_follow_spec_11_4(category, code):
    assert category_code(category) == code


def test_statuses_are_normal_without_maintenance(catalogue):
    assert catalogue.provider_status(catalogue.provider(1)) == 1
    assert catalogue.game_status(catalogue.game(1, "book")) == 1
    assert catalogue.platform_maintenance is False


def test_platform_maintenance_switches_on_and_off(catalogue):
    catalogue.set_maintenance("platform", True)
    assert catalogue.platform_maintenance is True
    catalogue.set_maintenance("platform", False)
    assert catalogue.platform_maintenance is False


def test_provider_maintenance_changes_only_that_providers_status(catalogue):
    catalogue.set_maintenance("provider:1", True)
    assert [catalogue.provider_status(catalogue.provider(pid)) for pid in (1, 2, 7)] == [2, 1, 1]


def test_provider_maintenance_off_restores_the_status(catalogue):
    catalogue.set_maintenance("provider:1", True)
    catalogue.set_maintenance("provider:1", False)
    assert catalogue.provider_status(catalogue.provider(1)) == 1


def test_game_maintenance_changes_only_that_provider_and_code(catalogue):
    catalogue.set_maintenance("game:7:book", True)
    assert catalogue.game_status(catalogue.game(7, "book")) == 2
    assert catalogue.game_status(catalogue.game(1, "book")) == 1


def test_a_provider_in_status_2_from_the_fixtures_stays_2():
    catalogue = Catalogue([Provider(3, "PGS", status=2)], [])
    assert catalogue.provider_status(catalogue.provider(3)) == 2


def test_maintenance_state_lists_what_is_switched_on(catalogue):
    catalogue.set_maintenance("provider:7", True)
    catalogue.set_maintenance("game:1:book", True)
    catalogue.set_maintenance("game:1:vswaysdogs", True)
    assert catalogue.maintenance_state() == {
        "platform": False,
        "providers": [7],
        "games": ["1:book", "1:vswaysdogs"],
    }


def test_clear_maintenance_switches_everything_off(catalogue):
    for scope in ("platform", "provider:2", "game:1:book"):
        catalogue.set_maintenance(scope, True)
    catalogue.clear_maintenance()
    assert catalogue.maintenance_state() == {"platform": False, "providers": [], "games": []}


@pytest.mark.parametrize(
    "scope",
    [
        "",
        "platform:1",
        "provider",
        "provider:",
        "provider:abc",
        "provider:-1",
        "game",
        "game:1",
        "game::book",
        "game:x:book",
        "galaxy",
        "PLATFORM",
    ],
)
def test_a_malformed_scope_raises_value_error(catalogue, scope):
    with pytest.raises(ValueError):
        catalogue.set_maintenance(scope, True)
    assert catalogue.maintenance_state() == {"platform": False, "providers": [], "games": []}


@pytest.mark.parametrize("scope", ["provider:99", "game:2:book", "game:99:book"])
def test_an_unknown_provider_or_game_in_a_scope_raises_value_error(catalogue, scope):
    with pytest.raises(ValueError, match="unknown"):
        catalogue.set_maintenance(scope, True)
