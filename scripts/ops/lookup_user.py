# nameko shell session: look up a user by e-mail -- the account (no password hash)
# and the career profile in the user's home tenant.
#
#   EMAIL=ada@example.com .venv/bin/nameko shell --config config.yaml < scripts/ops/lookup_user.py
#
# Fed to `nameko shell` on stdin, so it is written for the interactive console: one
# statement per line, a blank line after each block. `n` is nameko's shell helper.
# Prints one JSON object: {"user": {...}, "profile": {...} or null, "profile_error": ...}.
import json, os
from nameko.exceptions import RemoteError
user = n.rpc.auth.find_user_by_email(os.environ["EMAIL"])
result = {"user": user, "profile": None, "profile_error": None}
try:
    result["profile"] = n.rpc.profile.get_profile(user["home_tenant_id"], user["id"])
except RemoteError as exc:
    result["profile_error"] = exc.exc_type + ": " + str(exc.value)

print(json.dumps(result, default=str, sort_keys=True))
