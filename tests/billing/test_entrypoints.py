"""The nameko entrypoint's timer reads its interval from config (it drives ``tick``)."""


def test_the_nameko_timer_takes_its_interval_from_the_billing_config():
    from types import SimpleNamespace

    from careeros_services.billing.entrypoints.nameko_service import BillingRpc, ConfigTimer
    spawned = []
    timer = ConfigTimer(interval=30)
    timer.container = SimpleNamespace(config={"billing": {"tick_interval_s": 2}},
                                      spawn_managed_thread=lambda fn, identifier=None: spawned.append(fn))
    timer.start()
    assert timer.interval == 2.0 and len(spawned) == 1
    assert "tick" in dir(BillingRpc) and "on_timer" in dir(BillingRpc)


def test_tick_moves_the_clock_only_when_the_config_allows_it():
    from datetime import datetime, timezone

    import pytest

    from careeros_services.billing.entrypoints.nameko_service import BillingRpc, moved_clock
    from careeros_services.common.errors import Forbidden, ValidationFailed
    on = {"billing": {"allow_clock_override": True}}
    assert moved_clock(on, "2030-01-02T03:04:05+00:00") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert moved_clock({"billing": {}}, "") is None  # the timer's and a plain tick(): the real clock
    for config in ({}, {"billing": {}}, {"billing": {"allow_clock_override": False}},
                   {"billing": {"allow_clock_override": "true"}}):
        with pytest.raises(Forbidden) as refused:
            moved_clock(config, "2030-01-02T03:04:05+00:00")
        assert refused.value.code == "clock_override_disabled"
    for bad in ("tomorrow", "2030-01-02T03:04:05"):  # not a date-time; no offset
        with pytest.raises(ValidationFailed) as invalid:
            moved_clock(on, bad)
        assert "now_iso" in invalid.value.fields
    from nameko.dependency_providers import Config
    assert isinstance(BillingRpc.config, Config) and "now_iso" in BillingRpc.tick.__code__.co_varnames


def test_the_shipped_config_keeps_the_clock_override_off(monkeypatch):
    from careeros_services.common.config import load_config
    monkeypatch.delenv("CAREEROS_BILLING_ALLOW_CLOCK_OVERRIDE", raising=False)
    assert load_config()["billing"]["allow_clock_override"] is False


def test_a_moved_tick_runs_the_whole_service_on_the_moved_clock_and_leaves_the_shared_one_alone():
    from datetime import datetime, timezone

    from careeros_services.billing.entrypoints.nameko_service import BillingRpc

    real = datetime(2026, 1, 1, tzinfo=timezone.utc)

    class App:  # stands in for BillingService: tick() and the clock its charges and dunning read
        clock = staticmethod(lambda: real)

        def tick(self, now=None):
            return {"now": now, "clock": self.clock()}

    entrypoint = BillingRpc()
    entrypoint.app, entrypoint.config = App(), {"billing": {"allow_clock_override": True}}
    moved = entrypoint.tick("2030-05-06T07:08:09+00:00")
    moment = datetime(2030, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert moved == {"now": moment, "clock": moment}
    assert entrypoint.app.clock() == real
    assert entrypoint.tick() == {"now": None, "clock": real}
