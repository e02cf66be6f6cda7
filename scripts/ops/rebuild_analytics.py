# nameko shell session: rebuild analytics' read models from the Kafka topics.
#
#   .venv/bin/nameko shell --config config.yaml < scripts/ops/rebuild_analytics.py
#   TENANT_ID=<tenant> USER_ID=<owner or admin> \
#       .venv/bin/nameko shell --config config.yaml < scripts/ops/rebuild_analytics.py
#
# Truncates the read models (and analytics' inbox claims) and replays every subscribed
# topic from its earliest offset up to the watermarks it had when the replay started
# (careeros_services/analytics/rebuild.py, also `careeros analytics rebuild`). The live
# consumer may keep running. Kafka retention bounds what can be rebuilt.
# With TENANT_ID/USER_ID, the tenant's overview is printed before and after.
# Prints one JSON object: {"rebuild": {"group", "topics", "events"}, "overview_before", "overview_after"}.
import json, os
from careeros_services.analytics.rebuild import rebuild
tenant_id, user_id = os.environ.get("TENANT_ID"), os.environ.get("USER_ID")
overview = (lambda: n.rpc.analytics.overview(tenant_id, user_id, "owner")) if tenant_id else (lambda: None)
before = overview()
result = rebuild(n.config)
after = overview()
report = {"rebuild": result, "overview_before": before, "overview_after": after}
print(json.dumps(report, default=str, sort_keys=True))
