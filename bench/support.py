"""What the whole-platform benchmarks share: a platform of their own, started and stopped."""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Iterator

from careeros_services import supervisor
from careeros_services.common import infra

NO_RATE_LIMITS = {"CAREEROS_RATE_LIMIT_IP": "100000000", "CAREEROS_RATE_LIMIT_TENANT": "100000000"}


@contextlib.contextmanager
def own_platform(name: str) -> Iterator[supervisor.Platform]:
    """Every process kind of every service on databases ``careeros_<name>_*`` and vhost
    ``careeros_<name>``, with an embedded broker on a free port and the rate limits out of the way;
    started, and stopped on exit (its ``config`` is the platform's)."""
    infra.ensure_servers()
    port = infra.free_port()
    broker = infra.start_embedded_broker(port)
    env = supervisor.isolated_env(f"127.0.0.1:{port}", f"careeros_{name}_", f"careeros_{name}", **NO_RATE_LIMITS)
    supervisor.ensure_vhost(f"careeros_{name}")
    platform = supervisor.Platform(supervisor.config_with(env),
                                   log_dir=Path(tempfile.mkdtemp(prefix=f"careeros-{name}-")), env=env)
    try:
        platform.start()
        yield platform
    finally:
        platform.stop()
        infra.stop_process(broker)
