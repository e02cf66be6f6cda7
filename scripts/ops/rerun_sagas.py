# nameko shell session: re-run stuck billing sagas now.
#
#   .venv/bin/nameko shell --config config.yaml < scripts/ops/rerun_sagas.py
#   TENANT_ID=<tenant> USER_ID=<member> \
#       .venv/bin/nameko shell --config config.yaml < scripts/ops/rerun_sagas.py
#
# Runs the billing clock once (what its timer does every billing.tick_interval_s): every
# activation/change saga stuck past its step deadline (billing.saga_step_timeout_s) is
# re-driven from the step it is in -- e.g. entitlement.changed is sent to auth again --
# or, after billing.saga_max_attempts, compensated (entitlements withdrawn, payment
# refunded). Steps are idempotent, so running it while the timer runs is safe.
# With TENANT_ID/USER_ID it also prints billing's view of the tenant and auth's plan tier.
# Prints one JSON object: {"billing": {"sagas_redriven": n, "sagas_compensated": n, ...}, ...}.
import json, os
tenant_id, user_id = os.environ.get("TENANT_ID"), os.environ.get("USER_ID")
result = {"billing": n.rpc.billing.tick()}
if tenant_id:
    result["subscription"] = n.rpc.billing.get_subscription(tenant_id, user_id)
    result["auth_plan_tier"] = n.rpc.auth.get_me(user_id, tenant_id)["plan_tier"]

print(json.dumps(result, default=str, sort_keys=True))
