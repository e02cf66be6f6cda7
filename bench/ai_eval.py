"""Score a model on the consultant's evaluation set: any OpenAI-compatible server, or the embedded provider.

    .venv/bin/python bench/ai_eval.py --url http://127.0.0.1:8000/v1 --model my-model [--api-key KEY]
    .venv/bin/python bench/ai_eval.py --embedded          # the offline consultant (the test requires 100 %)

Runs tests/ai_core/eval/conversations-v1.yaml (single and multi-turn conversations)
the way the service answers — conversation state, facts from the knowledge base,
JSON Schema + semantic validation with one repair — through ``OpenAIProvider``
and prints the share of expected properties met (role, intent, constraints
honoured, skills named or not, allowed courses, no invented figures, a next
action per gap, no repeated answer), with the failures and, as the same-run
baseline, the embedded provider's score. Compare models by running it once per model.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from careeros_services.ai_core import knowledge  # noqa: E402
from careeros_services.ai_core.providers import EmbeddedProvider, OpenAIProvider, Redactor  # noqa: E402
from tests.ai_core.eval import runner  # noqa: E402


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="base URL of the chat-completions API, e.g. http://host:8000/v1")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--api-key", default="unset")
    parser.add_argument("--response-format", default="json_object", choices=("json_object", "json_schema"))
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--limit", type=int, default=0, help="only the first N conversations")
    parser.add_argument("--embedded", action="store_true", help="score the embedded provider only")
    parser.add_argument("--set", default=str(runner.CURRENT), help="evaluation set file")
    args = parser.parse_args(argv)
    conversations = runner.load(Path(args.set))[: args.limit or None]
    kb = knowledge.default()
    baseline = runner.run(EmbeddedProvider(kb), conversations)
    print(f"evaluation set {Path(args.set).name}: {len(conversations)} conversations, {baseline.turns} turns, "
          f"{baseline.total} properties")
    print(f"embedded (baseline)      score {baseline.score:5.1f}%  ({baseline.passed}/{baseline.total})")
    if args.embedded or not args.url:
        return baseline.score
    provider = OpenAIProvider({"base_url": args.url, "model": args.model, "api_key": args.api_key,
                               "timeout_s": args.timeout, "response_format": args.response_format,
                               "temperature": 0}, Redactor())
    started = time.perf_counter()
    result = runner.run(provider, conversations)
    seconds = time.perf_counter() - started
    print(f"{args.model[:24]:<24} score {result.score:5.1f}%  ({result.passed}/{result.total}), "
          f"{seconds / max(1, result.turns):.2f} s per turn")
    for failure in result.failed[:40]:
        print("  -", failure[:300])
    if len(result.failed) > 40:
        print(f"  ... and {len(result.failed) - 40} more")
    return result.score


if __name__ == "__main__":
    main()
