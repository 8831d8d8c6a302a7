"""Before measuring: one stream through each target must carry every token in its place."""

from __future__ import annotations

from bench.overhead.client import Target, user
from bench.overhead.procs import BenchError
from bench.overhead.scenario import (
    CONTENT_TOKENS,
    EXPECTED_CONTENT,
    EXPECTED_REASONING,
    REASONING_TOKENS,
    TOKENS,
)


async def verify(targets: list[Target]) -> dict[str, set[str]]:
    """Check each target field by field; the delta keys each one delivered reasoning in.

    The key is reported, not checked here: LiteLLM renames vLLM's ``reasoning`` to
    ``reasoning_content``, which is a finding about LiteLLM, not a broken benchmark.
    """
    fields: dict[str, set[str]] = {}
    for target in targets:
        (result,) = await user(target, 1, 0.0, None, keep_text=True)
        what = f"correctness ({target.name} :{target.port})"
        if result.error is not None:
            raise BenchError(f"{what}: {result.error}")
        checks = {
            "all [DONE]": result.done,
            f"{REASONING_TOKENS} reasoning chunks": result.reasoning == REASONING_TOKENS,
            f"{CONTENT_TOKENS} content chunks": result.content == CONTENT_TOKENS,
            "reasoning text in a reasoning field": "".join(result.reasoning_text)
            == EXPECTED_REASONING,
            "content text in the content field": "".join(result.content_text) == EXPECTED_CONTENT,
            "reasoning before content": result.misplaced == 0,
            "finish_reason stop": result.finish_reason == "stop",
            f"usage {TOKENS} completion tokens": result.usage_completion_tokens == TOKENS,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise BenchError(f"{what} failed: {', '.join(failed)}")
        fields[target.name] = result.reasoning_fields
        ttft = result.ttft * 1000 if result.ttft is not None else float("nan")
        print(
            f"  {target.name:<7} :{target.port} ok: {result.reasoning} reasoning chunks"
            f" (in {'/'.join(sorted(result.reasoning_fields))}) + {result.content} content"
            f" chunks, usage, finish_reason, [DONE]; TTFT {ttft:.1f} ms"
        )
    return fields
