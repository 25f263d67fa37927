"""Live and Mini games drawn as their kind (issue 16, item 7): every drawing is a real result of its
game, and what it pays - read back from the cards, number, dice, slot or crash - is the round's
multiplier, for every Live and Mini game of the catalogue."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import pytest

from simulator.domain.reels import round_view
from simulator.domain.rtp import game_shape
from simulator.game_kinds import action_of, kind_of, payout
from simulator.game_kinds.blackjack import FALLBACK_HANDS, draw_blackjack, hand_return, total
from simulator.game_kinds.cards import (
    BACCARAT_FALLBACK,
    baccarat_total,
    baccarat_value,
    banker_draws,
    draw_baccarat,
)
from simulator.game_kinds.wheel import RED

CATALOGUE = Path(__file__).resolve().parents[2] / "fixtures" / "default" / "catalogue.json"
GAMES = [g for g in json.loads(CATALOGUE.read_text())["games"] if g["category"] != "Slots"]
#: Each Live and Mini title of the catalogue, by name, and the kind its name says it is.
KIND_BY_NAME = {
    "Live Baccarat": "baccarat",
    "Speed Baccarat": "baccarat",
    "Live Blackjack": "blackjack",
    "Multihand Blackjack Pro2": "blackjack",
    "Live Roulette": "roulette",
    "Roulette": "roulette",
    "Red Or Balack": "red_black",
    "Live Sic Bo": "dice",
    "Rocket Dice": "dice",
    "Dragon Tiger": "dragon_tiger",
    "Plinko": "plinko",
    "Plinko XY": "plinko",
    "Aviator": "crash",
    "Avia Masters": "crash",
    "Balloon Mania": "crash",
}
ACTION_BY_KIND = {
    "baccarat": "Deal",
    "blackjack": "Deal",
    "dragon_tiger": "Deal",
    "roulette": "Spin",
    "red_black": "Spin",
    "dice": "Roll",
    "plinko": "Drop",
    "crash": "Bet",
}
#: What rounds pay: the category's pay table, a loss, and what forced outcomes, max-win caps
#: and bonus calls ask for (any fraction).
ODD = ["0.5", "1", "1.25", "2.5", "7", "12", "51", "181", "161.65", "25/3", "1/3", "5/6", "7/6", "1000"]
MULTIPLIERS = {
    category: sorted({Fraction(0), *(o.multiplier for o in game_shape(category)), *map(Fraction, ODD)})
    for category in ("Live", "Mini")
}
SEEDS = range(15)


def game_id(game: dict) -> str:
    return f"{game['provider_id']}:{game['game_code']}"


def test_the_catalogue_has_the_live_and_mini_games_this_test_names() -> None:
    assert sorted({g["game_name"] for g in GAMES}) == sorted(KIND_BY_NAME)


@pytest.mark.parametrize("game", GAMES, ids=game_id)
def test_each_live_and_mini_game_is_drawn_as_the_kind_its_name_says(game: dict) -> None:
    kind = kind_of(game["category"], game["game_code"])
    assert kind is not None and kind.name == KIND_BY_NAME[game["game_name"]]


@pytest.mark.parametrize("game", GAMES, ids=game_id)
def test_each_game_s_button_is_named_for_its_kind(game: dict) -> None:
    assert action_of(game["category"], game["game_code"]) == ACTION_BY_KIND[KIND_BY_NAME[game["game_name"]]]


def test_slots_keep_their_reels_and_their_spin_button() -> None:
    assert kind_of("Slots", "vs20fruitsw") is None
    assert action_of("Slots", "vs20fruitsw") == "Spin"
    assert round_view("Slots", "vs20fruitsw", Fraction(2), random.Random(1))["kind"] == "slot"


def test_unknown_live_and_mini_games_fall_back_to_a_wheel_and_a_crash() -> None:
    assert kind_of("Live", "sim_live_mystery").name == "roulette"
    assert kind_of("Mini", "mystery").name == "crash"


@pytest.mark.parametrize("game", GAMES, ids=game_id)
def test_a_drawing_always_pays_the_rounds_multiplier(game: dict) -> None:
    for multiplier in MULTIPLIERS[game["category"]]:
        for seed in SEEDS:
            view = round_view(game["category"], game["game_code"], multiplier, random.Random(seed))
            assert view["kind"] == KIND_BY_NAME[game["game_name"]]
            assert payout(view) == multiplier, (multiplier, seed, view)


@pytest.mark.parametrize("game", GAMES, ids=game_id)
def test_the_pay_table_s_own_multipliers_need_no_bonus_where_the_game_has_the_bet(game: dict) -> None:
    """Natural wins: the Live table's 2 and 9 on baccarat and dragon tiger, 36/n on roulette..."""
    natural = {
        "baccarat": {"2", "9"},
        "dragon_tiger": {"2", "9"},
        "blackjack": {"2"},
        "roulette": {"2", "3", "9", "36", "3/2"},
        "red_black": {"2"},
        "dice": {"2", "3", "9"},
        "plinko": {"6/5", "3/2", "2", "3", "5", "10", "25", "100"},
        "crash": {"6/5", "3/2", "2", "3", "5", "10", "25", "100"},
    }[KIND_BY_NAME[game["game_name"]]]
    for outcome in game_shape(game["category"]):
        if str(outcome.multiplier) in natural:
            for seed in SEEDS:
                view = round_view(
                    game["category"], game["game_code"], outcome.multiplier, random.Random(seed)
                )
                assert view["bonus"] is None, (outcome, view)


def test_the_same_round_is_always_drawn_alike() -> None:
    first = round_view("Live", "sim_live_baccarat", Fraction(2), random.Random(42))
    assert round_view("Live", "sim_live_baccarat", Fraction(2), random.Random(42)) == first


# -- baccarat ---------------------------------------------------------------------------------
def test_baccarat_counts_tens_and_faces_as_zero_and_keeps_the_last_digit() -> None:
    assert [baccarat_value(c) for c in ("AS", "9H", "10D", "KC")] == [1, 9, 0, 0]
    assert baccarat_total(["7S", "8H"]) == 5
    assert baccarat_total(["9S", "KH", "QD"]) == 9


@pytest.mark.parametrize(
    ("banker", "third", "draws"),
    [
        (2, 8, True),
        (3, 8, False),
        (3, 9, True),
        (4, 1, False),
        (4, 2, True),
        (5, 3, False),
        (5, 4, True),
        (6, 5, False),
        (6, 6, True),
        (7, 7, False),
        (5, None, True),
        (6, None, False),
    ],
)
def test_the_banker_draws_by_the_tableau(banker: int, third: int | None, draws: bool) -> None:
    assert banker_draws(banker, third) is draws


@pytest.mark.parametrize("seed", range(200))
def test_baccarat_coups_follow_the_third_card_rules(seed: int) -> None:
    multiplier = [Fraction(0), Fraction(2), Fraction(9), Fraction(3), Fraction(36)][seed % 5]
    view = draw_baccarat(multiplier, random.Random(seed))
    player, banker = view["player"], view["banker"]
    first_p, first_b = baccarat_total(player[:2]), baccarat_total(banker[:2])
    if first_p >= 8 or first_b >= 8:
        assert (len(player), len(banker)) == (2, 2)
        return
    assert len(player) == (3 if first_p <= 5 else 2)
    third = baccarat_value(player[2]) if len(player) == 3 else None
    assert len(banker) == (3 if banker_draws(first_b, third) else 2)
    assert (view["player_total"], view["banker_total"]) == (baccarat_total(player), baccarat_total(banker))


@pytest.mark.parametrize(("on", "wanted"), sorted(BACCARAT_FALLBACK))
def test_baccarat_s_fallback_hands_pay_what_they_stand_for(on: str, wanted: Fraction) -> None:
    player, banker = BACCARAT_FALLBACK[(on, wanted)]
    view = {"player": player, "banker": banker, "bet": {"on": on}, "bonus": None}
    assert payout({**view, "kind": "baccarat"}) == wanted


def test_baccarat_deals_the_fallback_when_dealing_never_fits() -> None:
    view = draw_baccarat(Fraction(3, 2), random.Random(1), tries=0)
    assert (view["player"], view["banker"]) == (["5S", "KH", "10D"], ["6D", "KC"])
    assert payout(view) == Fraction(3, 2)


# -- blackjack --------------------------------------------------------------------------------
def test_blackjack_aces_count_eleven_unless_that_busts() -> None:
    assert total(["AS", "KH"]) == 21
    assert total(["AS", "AH", "9D"]) == 21
    assert total(["AS", "KH", "5D"]) == 16


@pytest.mark.parametrize(
    ("hand", "dealer", "returns"),
    [
        (["AS", "KH"], ["10D", "7C"], Fraction(5, 2)),
        (["AS", "KH"], ["AD", "QC"], Fraction(1)),
        (["10S", "9H"], ["AD", "QC"], Fraction(0)),
        (["10S", "9H"], ["10D", "6C", "8H"], Fraction(2)),
        (["10S", "7H"], ["10D", "7C"], Fraction(1)),
        (["10S", "6H", "9C"], ["10D", "6C", "8H"], Fraction(0)),
    ],
)
def test_a_blackjack_hand_returns_by_the_rules(hand: list[str], dealer: list[str], returns: Fraction) -> None:
    assert hand_return(hand, dealer) == returns


@pytest.mark.parametrize("seed", range(100))
def test_the_dealer_draws_to_17_unless_every_hand_is_bust(seed: int) -> None:
    multiplier = [Fraction(0), Fraction(2), Fraction(5, 2), Fraction(1), Fraction(3, 2)][seed % 5]
    view = draw_blackjack(multiplier, random.Random(seed), hands=3 if seed % 2 else 1)
    dealer = view["dealer"]
    if all(hand["total"] > 21 for hand in view["hands"]):
        assert len(dealer) == 2
        return
    assert total(dealer) >= 17
    assert total(dealer[:-1]) < 17 or len(dealer) == 2


def test_blackjack_deals_the_fallback_when_dealing_never_fits() -> None:
    view = draw_blackjack(Fraction(2), random.Random(1), hands=1, tries=0)
    assert view["dealer"] == ["10S", "7H"]
    assert [hand["cards"] for hand in view["hands"]] == [FALLBACK_HANDS[Fraction(2)]]
    assert payout(view) == 2


def test_multihand_splits_the_stake_so_one_and_a_half_is_an_average_of_hands() -> None:
    view = round_view("Mini", "bg25blackjackpro2", Fraction(3, 2), random.Random(3))
    returns = [Fraction(hand["returns"]) for hand in view["hands"]]
    assert len(returns) == 3 and sum(returns) / 3 == Fraction(3, 2)
    assert view["bonus"] is None


# -- wheel, dice, plinko, crash -----------------------------------------------------------------
@pytest.mark.parametrize("seed", range(60))
def test_the_roulette_number_has_its_colour_and_the_bet_covers_real_numbers(seed: int) -> None:
    view = round_view("Live", "sim_live_roulette", Fraction([0, 2, 3, 9, 36][seed % 5]), random.Random(seed))
    number = view["number"]
    assert view["colour"] == ("green" if number == 0 else "red" if number in RED else "black")
    numbers = view["bet"]["numbers"]
    assert set(numbers) <= set(range(37)) and Fraction(view["bet"]["pays"]) == Fraction(36, len(numbers))


def test_red_or_black_bets_only_on_colours() -> None:
    bets = {
        round_view("Mini", "101", Fraction(m), random.Random(s))["bet"]["on"]
        for m in (0, 2, 36, 5)
        for s in range(30)
    }
    assert bets == {"red", "black", "green"}


@pytest.mark.parametrize("seed", range(40))
def test_the_dice_show_three_faces_and_their_total(seed: int) -> None:
    view = round_view("Mini", "bg25dice", Fraction([0, 2, 3, 9, 10][seed % 5]), random.Random(seed))
    assert len(view["dice"]) == 3 and set(view["dice"]) <= {1, 2, 3, 4, 5, 6}
    assert view["total"] == sum(view["dice"])


@pytest.mark.parametrize("seed", range(40))
def test_the_plinko_ball_bounces_once_per_row_into_its_slot(seed: int) -> None:
    view = round_view(
        "Mini", "bg25plinko", Fraction([0, "1.2", 5, 100, "1.7"][seed % 5]), random.Random(seed)
    )
    assert len(view["path"]) == view["rows"] == 16
    assert sum(view["path"]) == view["slot"] and len(view["slots"]) == 17


def test_a_lost_crash_round_crashed_before_its_target_and_a_won_one_after() -> None:
    lost = round_view("Mini", "aviator", Fraction(0), random.Random(5))
    won = round_view("Mini", "aviator", Fraction(5), random.Random(5))
    assert Fraction(lost["crash"]) < Fraction(lost["target"]) and lost["cashout"] is None
    assert Fraction(won["crash"]) > Fraction(won["target"]) == 5 and won["cashout"] == "5.00"


# -- payout reads the drawing, not its labels ----------------------------------------------------
def test_payout_follows_the_number_not_the_bets_label() -> None:
    view = round_view("Live", "sim_live_roulette", Fraction(2), random.Random(9))
    missed = next(n for n in range(37) if n not in view["bet"]["numbers"])
    assert payout({**view, "number": missed}) == 0


def test_payout_follows_the_cards_not_the_stored_winner() -> None:
    view = round_view("Live", "sim_live_dragon_tiger", Fraction(2), random.Random(9))
    swapped = {**view, "dragon": view["tiger"], "tiger": view["dragon"]}
    assert payout(swapped) == 0


def test_a_plinko_path_that_does_not_reach_its_slot_is_refused() -> None:
    view = round_view("Mini", "bg25plinko", Fraction(5), random.Random(9))
    with pytest.raises(ValueError, match="does not end in its slot"):
        payout({**view, "slot": (view["slot"] + 1) % 17})
