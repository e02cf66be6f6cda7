"""A local HTTP server that speaks the OpenAI chat-completions protocol, scripted per request.

Used as the boundary double for the hosted LLM (none is reachable here): the
real ``openai`` client talks HTTP to it. Each request takes the next step of
``script`` (default "good"):

good         a valid answer written from the FACTS in the prompt (like a compliant model)
malformed    text that is not JSON
wrong_shape  JSON that misses required fields
market       a valid shape whose text invents a salary figure
stale        a valid shape that ignores the conversation (no constraints_used, a premium course added)
slow         sleeps ``slow_s`` before answering (the client's timeout fires first)
429 / 500    an error status (429 with Retry-After: 0)

Every request body is recorded in ``requests`` for assertions (redaction, injection).
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _facts(user_message: str) -> dict:
    match = re.search(r"FACTS:\n(.*?)\n<<<DATA-", user_message, re.S)
    return json.loads(match.group(1)) if match else {}


def good_answer(facts: dict) -> dict:
    role = facts.get("target_role") or {"role_id": "", "title": "", "esco_occupation_uri": ""}
    return {
        "answer": f"Model answer: to become {role['title'] or 'what you want'}, close "
                  f"{len(facts.get('skill_gaps', []))} skill gaps, starting with the first next action."
                  + (f" (You asked about: {facts['conversation']['intent']}.)" if facts.get("conversation") else ""),
        "target_role": role, "skill_gaps": facts.get("skill_gaps", []),
        "recommended_roles": facts.get("recommended_roles", []), "next_actions": facts.get("next_actions", []),
        "courses": facts.get("courses", []), "interview_topics": facts.get("interview_topics", []),
        "cited_esco_uris": facts.get("cited_esco_uris", []),
        "market_data": {"available": False, "note": "No labour-market data in CareerOS."},
        **({"intent": conversation["intent"], "constraints_used": conversation["constraints_used"]}
           if (conversation := facts.get("conversation")) else {}),
    }


class FakeOpenAI:
    def __init__(self, slow_s: float = 2.0):
        self.script: list[str] = []
        self.requests: list[dict] = []
        self.slow_s = slow_s
        self.model = "fake-gpt"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                step = server.script.pop(0) if server.script else "good"
                if step in ("429", "500"):
                    payload = json.dumps({"error": {"message": f"scripted {step}", "type": "server_error"}}).encode()
                    self.send_response(int(step))
                    self.send_header("Content-Type", "application/json")
                    if step == "429":
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if step == "slow":
                    time.sleep(server.slow_s)
                messages = body.get("messages", [])
                user = next((m["content"] for m in messages if m["role"] == "user"), "")
                if "TASK: List the skills" in user:
                    content = json.dumps({"proposed_skills": [
                        {"name": "Python", "esco_uri": "", "level": 3, "evidence": "Python for 3 years, call +44 20 7946 0958"},
                        {"name": "Kubernetes", "esco_uri": "", "level": 2, "evidence": "Kubernetes"}]})
                elif step == "malformed":
                    content = "Sure! Here is your answer: {not json"
                elif step == "wrong_shape":
                    content = json.dumps({"answer": "I have thoughts but no structure."})
                elif step == "stale":
                    answer = good_answer(_facts(user))
                    answer.pop("constraints_used", None)
                    answer["courses"].append({"slug": "deep-learning-with-pytorch", "title": "Deep learning",
                                              "level": "advanced", "tenant_id": "", "covers": []})
                    content = json.dumps(answer)
                elif step == "market":
                    answer = good_answer(_facts(user))
                    answer["answer"] += " Data engineers earn $150k on average."
                    content = json.dumps(answer)
                else:
                    content = json.dumps(good_answer(_facts(user)))
                payload = json.dumps({
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", server.model),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 1000 + len(server.requests), "completion_tokens": 200,
                              "total_tokens": 1200 + len(server.requests)},
                }).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def config(self, **overrides) -> dict:
        conf = {"base_url": self.base_url, "api_key": "sk-test", "model": self.model, "timeout_s": 0.5,
                "max_attempts": 3, "backoff_s": 0.01, "breaker_fail_max": 3, "breaker_reset_s": 60,
                "response_format": "json_schema"}
        conf.update(overrides)
        return conf
