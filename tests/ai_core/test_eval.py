"""The consultant's evaluation set (tests/ai_core/eval/conversations-v1.yaml) on the embedded provider:
every property of every turn must hold. A provider that ignores the conversation must fail it."""
from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stdout

import pytest

from bench import ai_eval
from careeros_services.ai_core import knowledge, writer
from careeros_services.ai_core.conversation import Constraints
from careeros_services.ai_core.providers import Completion, EmbeddedProvider
from tests.ai_core.eval import runner
from tests.ai_core.fake_openai import FakeOpenAI


@pytest.fixture(scope="module")
def conversations():
    return runner.load()


def test_the_set_is_big_enough_and_mixes_single_and_multi_turn(conversations):
    assert len(conversations) >= 60
    assert len({c["id"] for c in conversations}) == len(conversations)
    multi = [c for c in conversations if len(c["turns"]) > 1]
    assert len(multi) >= 30 and len(conversations) - len(multi) >= 30
    intents = {t["expect"].get("intent") for c in conversations for t in c["turns"]}
    assert intents >= {"overview", "what_if", "compare", "time_fit", "courses", "explain_skill", "next_after",
                       "interview", "cv_feedback", "market", "help"}


def test_the_embedded_consultant_meets_every_property(conversations):
    result = runner.run(EmbeddedProvider(knowledge.default()), conversations)
    assert result.total > 800
    assert result.failed == [] and result.score == 100.0


class ParrotProvider:
    """The consultant of issue 14: one overview paragraph, whatever was asked, repeated on every follow-up."""

    name, model = "parrot", "parrot-1"

    def __init__(self, kb):
        self.kb = kb
        self.last = ""

    def complete(self, prompt, repair=None):
        if prompt.data["earlier_messages"] and self.last:
            return Completion(self.last, self.name, self.model, 0, 0, model_called=False)
        facts = copy.copy(prompt.facts)
        facts.intent = "overview"
        facts.constraints_used = Constraints().used("free")
        self.last = json.dumps(writer.compose_answer(self.kb, facts))
        return Completion(self.last, self.name, self.model, 0, 0, model_called=False)


def test_an_answer_that_ignores_the_conversation_fails_the_properties(conversations):
    """The properties are real checks: with the service's semantic validation off (only the JSON
    Schema left), the issue-14 behaviour scores far below 100 % and fails each kind of property."""
    result = runner.run(ParrotProvider(knowledge.default()), conversations, semantic_check=False)
    assert result.score < 85
    failed_kinds = {f.split(": ", 1)[1].split(" ")[0] for f in result.failed}
    assert failed_kinds >= {"intent", "role", "constraints", "says", "not_repeated", "no_premium"}


def test_the_bench_script_scores_an_openai_compatible_server(conversations):
    with FakeOpenAI() as server:
        out = io.StringIO()
        with redirect_stdout(out):
            score = ai_eval.main(["--url", server.base_url, "--model", "fake-gpt", "--api-key", "sk-test",
                                  "--limit", "3"])
        assert len(server.requests) >= 3
    printed = out.getvalue()
    assert "score" in printed and f"{score:.1f}%" in printed and 0 <= score <= 100
