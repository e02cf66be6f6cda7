"""The gateway's gunicorn settings (gateway_flask/gunicorn_conf.py), run for real: gunicorn's own
lines are JSON, and it writes no access lines (the app logs requests itself; gunicorn's logger
class drops them before formatting, which cost ~7 % of a worker's CPU)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from careeros_services.common import infra

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_logs_json_and_no_access_lines(tmp_path):
    port = infra.free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as err:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "python:gateway_flask.gunicorn_conf",
             "--workers", "1", "--bind", f"127.0.0.1:{port}", "bench.bare_app:app"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                                                  "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")})
        try:
            infra.wait_port(port)
            for _ in range(3):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/bare", timeout=5) as response:
                    assert response.status == 200
            time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=10)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert any("Booting worker" in m for m in messages), messages
    assert not any("GET /bare" in m for m in messages), messages
