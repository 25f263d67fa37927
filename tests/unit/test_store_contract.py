"""The store contract: the operations of ``simulator.domain.store.Store``, one behaviour each.

They run on whichever store the suite runs on (``make test``: memory;
``make test-redis``: Redis), through the interface only, so both stores are
held to the same results.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from simulator.domain.enums import CallStatus, PointKind, RoundStatus, WalletMode
from simulator.domain.models import (
    BonusCall,
    FreeRoundGrant,
    LaunchToken,
    Round,
    Transaction,
    TransType,
)
from simulator.domain.store import CallRunning, PlayRef, Retention, Seq, Shortfall


@pytest.fixture
def store(sim):
    return sim.world.store


@pytest.fixture
def demo(store):
    return store.agent_by_name("demo")


@pytest.fixture
def player(store, demo):
    return store.user_by_name(demo.agent_id, WalletMode.TRANSFER, "test1234")


@pytest.fixture
def now(sim):
    return sim.clock.now()


def test_ids_are_never_handed_out_twice(store):
    first, second = store.next_id(Seq.USER), store.next_id(Seq.USER)
    assert second == first + 1
    assert store.sequences()["user_codes"] == second + 1


def test_agents_are_found_by_id_name_in_any_case_and_token(store, demo):
    assert store.agent(demo.agent_id).name == "demo"
    assert store.agent_by_name("DEMO").agent_id == demo.agent_id
    assert store.agent_by_token(demo.api_token).agent_id == demo.agent_id
    assert demo.agent_id in [a.agent_id for a in store.all_agents()]


def test_a_replaced_token_stops_matching_at_once(store, demo):
    old = demo.api_token
    store.replace_token(demo.agent_id, "new-token-for-the-contract")
    assert store.agent_by_token(old) is None
    assert store.agent_by_token("new-token-for-the-contract").agent_id == demo.agent_id


def test_settings_change_only_the_fields_named(store, demo):
    before = store.agent(demo.agent_id).settings.max_bet
    store.change_settings(demo.agent_id, {"rtp": Decimal(90)})
    settings = store.agent(demo.agent_id).settings
    assert settings.rtp == Decimal(90)
    assert settings.max_bet == before


def test_a_second_user_of_the_same_name_returns_the_first(store, demo, player, now):
    twin = type(player)(
        user_code=store.next_id(Seq.USER),
        agent_id=demo.agent_id,
        name="TEST1234",
        mode=WalletMode.TRANSFER,
        balance=Decimal(0),
        created_at=now,
    )
    stored, is_new = store.add_user(twin)
    assert not is_new
    assert stored.user_code == player.user_code


def test_a_deposit_moves_points_to_the_balance_and_records_the_row(store, demo, player, now):
    points, balance = store.agent(demo.agent_id).points, store.user(player.user_code).balance
    tx = store.move_balance(player.user_code, TransType.DEPOSIT, Decimal(500), now, points=Decimal(-500))
    assert store.agent(demo.agent_id).points == points - 500
    assert store.user(player.user_code).balance == balance + 500
    assert (tx.prebalance, tx.balance, tx.trans_amount) == (balance, balance + 500, Decimal(500))
    assert store.transactions_of(demo.agent_id)[-1].trans_id == tx.trans_id


def test_a_balance_shortfall_changes_nothing(store, demo, player, now):
    before = store.money_totals()
    rows = len(store.transactions_of(demo.agent_id))
    with pytest.raises(Shortfall) as short:
        store.move_balance(
            player.user_code, TransType.BET, -(player.balance + 1), now, house=player.balance + 1
        )
    assert short.value.what == "balance"
    assert short.value.have == store.user(player.user_code).balance
    assert store.money_totals() == before
    assert len(store.transactions_of(demo.agent_id)) == rows


def test_a_points_shortfall_changes_nothing(store, demo, player, now):
    points = store.agent(demo.agent_id).points
    with pytest.raises(Shortfall) as short:
        store.move_balance(player.user_code, TransType.DEPOSIT, points + 1, now, points=-(points + 1))
    assert short.value.what == "points"
    assert store.agent(demo.agent_id).points == points


def test_withdraw_all_of_a_zero_balance_records_nothing(store, demo, player, now):
    store.withdraw_all(player.user_code, now)
    rows = len(store.transactions_of(demo.agent_id))
    assert store.withdraw_all(player.user_code, now) is None
    assert len(store.transactions_of(demo.agent_id)) == rows


def test_points_move_between_agents_with_a_record(store, demo, now):
    operator = store.agent_by_name("demo_operator")
    ptx = store.move_points(PointKind.RECALL, demo.agent_id, operator.agent_id, Decimal(7), now)
    assert (ptx.from_points, ptx.to_points) == (
        store.agent(demo.agent_id).points,
        store.agent(operator.agent_id).points,
    )
    assert store.all_point_transactions()[-1].point_trans_id == ptx.point_trans_id


def test_seamless_points_go_to_the_house_and_back(store, demo):
    before = store.money_totals()
    store.move_house(demo.agent_id, Decimal(-3))
    store.move_house(demo.agent_id, Decimal(3))
    assert store.money_totals() == before


def _row(agent_id, user_code, when, trans_id=0):
    return Transaction(
        trans_id=trans_id,
        agent_id=agent_id,
        user_code=user_code,
        trans_type=int(TransType.BET),
        trans_amount=Decimal(1),
        prebalance=Decimal(10),
        balance=Decimal(9),
        created_at=when,
    )


def test_a_reserved_id_hides_the_rows_after_it_until_it_is_recorded(store, demo, player, now):
    cursor = store.transactions_of(demo.agent_id)[-1].trans_id
    reserved = store.reserve_trans_id(demo.agent_id, now)
    later = store.record_row(_row(demo.agent_id, player.user_code, now + timedelta(seconds=5)))
    assert store.after(demo.agent_id, cursor, 10) == []
    store.record_row(_row(demo.agent_id, player.user_code, now + timedelta(seconds=9), reserved))
    assert [tx.trans_id for tx in store.after(demo.agent_id, cursor, 10)] == [reserved, later.trans_id]


def test_a_recorded_reservation_keeps_the_time_it_was_reserved(store, demo, player, now):
    reserved = store.reserve_trans_id(demo.agent_id, now)
    row = store.record_row(_row(demo.agent_id, player.user_code, now + timedelta(seconds=9), reserved))
    assert row.created_at == now


def test_a_released_reservation_holds_nothing_back(store, demo, player, now):
    cursor = store.transactions_of(demo.agent_id)[-1].trans_id
    reserved = store.reserve_trans_id(demo.agent_id, now)
    later = store.record_row(_row(demo.agent_id, player.user_code, now))
    store.release_trans_id(demo.agent_id, reserved)
    assert [tx.trans_id for tx in store.after(demo.agent_id, cursor, 10)] == [later.trans_id]


def test_record_row_sets_the_last_balance_in_the_same_step(store, demo, player, now):
    store.record_row(_row(demo.agent_id, player.user_code, now), last_balance=Decimal("9.5"))
    assert store.user(player.user_code).last_balance == Decimal("9.5")


def test_the_window_is_half_open_on_whole_seconds(store, demo, player, now):
    start = now.replace(microsecond=0) + timedelta(hours=1)
    inside = store.record_row(_row(demo.agent_id, player.user_code, start + timedelta(milliseconds=999)))
    store.record_row(_row(demo.agent_id, player.user_code, start + timedelta(seconds=1)))
    page = store.window(demo.agent_id, start, start + timedelta(seconds=1), 0, 10)
    assert (page.total, [tx.trans_id for tx in page.items]) == (1, [inside.trans_id])


def test_a_purge_drops_old_rows_and_the_audit_still_adds_up(sim, store, demo, now):
    later = now + timedelta(days=3)
    purged = store.purge(demo.agent_id, Retention(later, later, later))
    assert purged.transactions > 0
    assert store.transactions_of(demo.agent_id) == []
    assert sim.world.ledger.audit().conserved


def test_a_poll_is_admitted_once_per_interval(store, demo):
    assert store.admit_poll(demo.agent_id, "contract", 1000.0, 30) is None
    assert store.admit_poll(demo.agent_id, "contract", 1010.0, 30) == pytest.approx(20)
    assert store.admit_poll(demo.agent_id, "contract", 1030.0, 30) is None


def test_a_launch_opens_once(store, demo, player, now):
    launch = LaunchToken(
        token="contract-launch",
        agent_id=demo.agent_id,
        user_code=player.user_code,
        provider_id=1,
        game_code="x",
        lang=1,
        return_url=None,
        rtp=None,
        created_at=now,
        expires_at=now + timedelta(minutes=10),
    )
    store.add_launch(launch)
    assert store.use_launch("contract-launch", now)[1] == ""
    assert store.use_launch("contract-launch", now)[1] == "used"
    assert store.use_launch("no-such-launch", now) == (None, "unknown")


def test_an_expired_launch_does_not_open(store, demo, player, now):
    launch = LaunchToken("contract-old", demo.agent_id, player.user_code, 1, "x", 1, None, None, now, now)
    store.add_launch(launch)
    assert store.use_launch("contract-old", now)[1] == "expired"


def _session(sim, demo, player):
    from simulator.domain.models import GameSession

    now = sim.clock.now()
    session = GameSession(
        gplay_id=sim.world.store.next_id(Seq.GPLAY),
        secret=f"contract-{now.timestamp()}",
        agent_id=demo.agent_id,
        user_code=player.user_code,
        provider_id=1,
        game_code="x",
        lang=1,
        return_url=None,
        rtp=None,
        started_at=now,
        last_update=now,
    )
    sim.world.store.add_session(session)
    return session


def test_kick_marks_the_users_live_sessions(sim, store, demo, player):
    session = _session(sim, demo, player)
    assert store.kick(demo.agent_id, player.user_code) >= 1
    assert store.session(session.gplay_id).kicked
    store.end_session(session.gplay_id)
    assert store.session_by_secret(session.secret).ended


def _call(store, session, set_point, now):
    """A new bonus call of the session's player, not yet opened."""
    return BonusCall(
        store.next_id(Seq.CALL),
        session.agent_id,
        session.gplay_id,
        session.user_code,
        set_point,
        None,
        None,
        now,
    )


def test_a_bonus_call_holds_its_points_until_it_ends(sim, store, demo, player, now):
    session = _session(sim, demo, player)
    points = store.agent(demo.agent_id).points
    call = _call(store, session, Decimal(100), now)
    store.open_bonus_call(call, now)
    assert store.agent(demo.agent_id).points == points - 100
    assert store.end_bonus_call(call.call_id, CallStatus.CANCEL, now)
    assert not store.end_bonus_call(call.call_id, CallStatus.CANCEL, now)
    assert store.agent(demo.agent_id).points == points
    assert store.bonus_call(call.call_id).status == CallStatus.CANCEL


def test_a_session_holds_one_open_bonus_call(sim, store, demo, player, now):
    session = _session(sim, demo, player)
    first = _call(store, session, Decimal(10), now)
    store.open_bonus_call(first, now)
    second = _call(store, session, Decimal(10), now)
    with pytest.raises(CallRunning):
        store.open_bonus_call(second, now)
    assert store.bonus_call(second.call_id) is None


def test_a_bonus_call_pays_up_to_its_set_point_then_completes(sim, store, demo, player, now):
    session = _session(sim, demo, player)
    call = _call(store, session, Decimal(25), now)
    store.open_bonus_call(call, now)
    assert store.pay_bonus_call(call.call_id, Decimal(10), Decimal(0)) == 10
    assert store.pay_bonus_call(call.call_id, Decimal(20), Decimal(0)) == 15
    assert store.complete_bonus_call(call.call_id, now)
    assert store.pay_bonus_call(call.call_id, Decimal(10), Decimal(0)) is None


def test_a_grant_gives_its_rounds_once_each(store, demo, player, now):
    grant = FreeRoundGrant(
        fr_id=f"FR-contract-{store.next_id(Seq.FREE_ROUND)}",
        agent_id=demo.agent_id,
        user_code=player.user_code,
        provider_id=1,
        game_code="x",
        bet=Decimal(1),
        rounds=2,
        expires_at=now + timedelta(hours=1),
        win_cap=Decimal(5),
        created_at=now,
    )
    store.add_grant(grant)
    assert store.claim_grant(player.user_code, 1, "x", now) == grant.fr_id
    store.release_grant(grant.fr_id)
    assert store.claim_grant(player.user_code, 1, "x", now) == grant.fr_id
    assert store.claim_grant(player.user_code, 1, "x", now) == grant.fr_id
    assert store.claim_grant(player.user_code, 1, "x", now) is None
    assert store.cap_grant_win(grant.fr_id, Decimal(4)) == 4
    assert store.cap_grant_win(grant.fr_id, Decimal(4)) == 1
    assert not store.cancel_grant(grant.fr_id, now)


def test_a_recorded_round_updates_its_session_and_changes_only_from_the_status_expected(
    sim, store, demo, player, now
):
    session = _session(sim, demo, player)
    round_ = Round(
        round_id=str(store.next_id(Seq.ROUND)),
        agent_id=demo.agent_id,
        user_code=player.user_code,
        gplay_id=session.gplay_id,
        provider_id=1,
        game_code="x",
        category="Slots",
        bet=Decimal(2),
        created_at=now,
        win=Decimal(3),
        status=RoundStatus.WIN_PENDING,
    )
    store.record_round(round_, now, recent=20)
    assert store.session(session.gplay_id).round_ids[-1] == round_.round_id
    assert (store.session(session.gplay_id).spend, store.session(session.gplay_id).win) == (2, 3)
    assert store.round_stats_of(demo.agent_id)[-1].bet == 2
    assert not store.update_round(
        demo.agent_id, round_.round_id, expect=RoundStatus.PENDING, status=RoundStatus.SETTLED
    )
    assert store.update_round(
        demo.agent_id, round_.round_id, expect=RoundStatus.WIN_PENDING, status=RoundStatus.SETTLED
    )
    assert store.round(demo.agent_id, round_.round_id).status == RoundStatus.SETTLED


def test_an_exported_state_loads_into_an_empty_store_unchanged(sim, store):
    state = store.export()
    fresh = sim.new_store()
    fresh.load(state)
    assert fresh.export() == state


def test_play_refs_stamp_the_row(store, demo, player, now):
    tx = store.move_balance(player.user_code, TransType.WIN, Decimal(0), now, ref=PlayRef("r-1", 1, "x"))
    assert (tx.round_id, tx.provider_id, tx.game_code) == ("r-1", 1, "x")


def test_rtp_card_positions_are_handed_out_once_per_stream(store):
    assert [store.next_card("contract-a") for _ in range(3)] == [0, 1, 2]
    assert store.next_card("contract-b") == 0
    taken: list[int] = []

    def take() -> None:
        taken.extend(store.next_card("contract-c") for _ in range(500))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(2000))
    cards = store.export().cards
    assert (cards["contract-a"], cards["contract-b"], cards["contract-c"]) == (3, 1, 2000)
