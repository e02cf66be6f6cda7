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
