# nameko shell session: list and replay dead-lettered events.
#
#   DRY_RUN=1 .venv/bin/nameko shell --config config.yaml < scripts/ops/replay_dlq.py   # list only
#   .venv/bin/nameko shell --config config.yaml < scripts/ops/replay_dlq.py             # replay all pending
#   TOPIC=careeros.auth.user.dlq .venv/bin/nameko shell --config config.yaml < scripts/ops/replay_dlq.py
#   REF=careeros.auth.user.dlq:0:3 .venv/bin/nameko shell --config config.yaml < scripts/ops/replay_dlq.py
#
# Replay sends each event back to its original topic (bus/dlq.py): groups that
# already applied it skip it by its id (inbox), the group that failed applies it.
# Without REF, every pending entry (of TOPIC, if given) is replayed and marked
# replayed, so running it twice does not re-send. Fix the cause first (see
# docs/runbooks/CareerOSDeadLetterQueueNotEmpty.md): a still-failing handler just
# dead-letters the event again.
# Prints JSON lines: {"pending": [...]} then {"replayed": N} (unless DRY_RUN).
import json, os
from bus.dlq import DeadLetters
dead = DeadLetters(n.config)
topic, ref = os.environ.get("TOPIC") or None, os.environ.get("REF") or None
dry_run = os.environ.get("DRY_RUN") == "1"
pending = [dead.find(ref)] if ref else list(dead.read(topic))
print(json.dumps({"pending": [entry.summary() for entry in pending]}, sort_keys=True))
if not dry_run:
    replayed = dead.replay(pending) if ref else dead.replay_all(topic)
    print(json.dumps({"replayed": replayed}))

