"""/v1 through the official OpenAI SDK and raw HTTP, against the scripted engine."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk

from mamori.domain.audit import TurnStatus
from tests.support.fake_upstream import Script
from tests.web.conftest import (
    DEAD_MODEL,
    MODEL,
    OLLAMA_CONTEXT,
    OLLAMA_MODEL,
    OLLAMA_UPSTREAM_MODEL,
    SUMMARY_MODEL,
    Live,
)


def sdk(live: Live, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{live.base_url}/v1", api_key=key, max_retries=0)


async def read_stream(
    stream: openai.AsyncStream[ChatCompletionChunk],
) -> tuple[str, str, CompletionUsage | None]:
    """The answer, the reasoning (mamori's ``reasoning`` delta field) and the usage, if sent."""
    content, reasoning, usage = [], [], None
    async for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            content.append(choice.delta.content or "")
            reasoning.append((choice.delta.model_extra or {}).get("reasoning") or "")
    return "".join(content), "".join(reasoning), usage


async def test_models_need_a_key_and_list_what_the_key_may_use(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        anonymous = await client.get("/v1/models")
        wrong = await client.get("/v1/models", headers={"authorization": "Bearer mk-nope"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"
    assert wrong.status_code == 401
    models = await sdk(live, await live.api_key()).models.list()
    assert sorted(m.id for m in models.data) == sorted(
        [MODEL, DEAD_MODEL, OLLAMA_MODEL, SUMMARY_MODEL]
    )


async def test_sdk_streams_reasoning_then_content_with_usage(live: Live) -> None:
    live.script = Script(reasoning=("Let", " me", " think"), content=("こん", "にち", "は"))
    client = sdk(live, await live.api_key())
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "挨拶して"}],
        stream=True,
        stream_options={"include_usage": True},
        reasoning_effort="high",
    )
    content, reasoning, usage = await read_stream(stream)
    assert content == "こんにちは"
    assert reasoning == "Let me think"
    assert usage is not None and usage.completion_tokens > 0
    sent = live.upstream.requests[-1].body
    assert sent is not None
    assert sent["reasoning_effort"] == "high"
    assert sent["messages"] == [{"role": "user", "content": "挨拶して"}]


async def test_an_ollama_native_endpoint_keeps_reasoning_and_content_apart(live: Live) -> None:
    live.script = Script(reasoning=("考え", "中"), content=("晴れ", "です"))
    client = sdk(live, await live.api_key())
    stream = await client.chat.completions.create(
        model=OLLAMA_MODEL,
        messages=[{"role": "user", "content": "天気は?"}],
        stream=True,
        stream_options={"include_usage": True},
        reasoning_effort="high",
    )
    content, reasoning, usage = await read_stream(stream)
    assert content == "晴れです"
    assert reasoning == "考え中"
    assert usage is not None and usage.prompt_tokens == 12
    sent = live.upstream.requests[-1]
    assert sent.path == "/api/chat"
    assert sent.body is not None
    assert sent.body["model"] == OLLAMA_UPSTREAM_MODEL
    assert sent.body["think"] == "high"
    assert sent.body["options"]["num_ctx"] == OLLAMA_CONTEXT
    assert sent.body["messages"] == [{"role": "user", "content": "天気は?"}]


async def test_non_streamed_answer_carries_reasoning_and_usage(live: Live) -> None:
    live.script = Script(reasoning=("hmm",), content=("42",))
    result = await sdk(live, await live.api_key()).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "?"}]
    )
    message = result.choices[0].message
    assert message.content == "42"
    assert (message.model_extra or {}).get("reasoning") == "hmm"
    assert result.usage is not None and result.usage.prompt_tokens == 12


async def test_each_turn_has_exactly_one_audit_record(live: Live) -> None:
    username = await live.new_user()
    key = await live.api_key(username)
    client = sdk(live, key)
    for _ in range(3):
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}]
        )
    user = await live.user_row(username)
    records = await live.audit_rows(user_id=user.id)
    assert len(records) == 3
    assert len({r.turn_id for r in records}) == 3
    record = records[0]
    assert record.status is TurnStatus.OK
    assert (record.model, record.endpoint, record.residency) == (MODEL, "gpu1", "onprem")
    assert record.face == "api" and record.api_key_id is not None
    assert record.completion_tokens == 3 and record.prompt_tokens == 12
    assert record.latency_ms >= 0 and record.ttft_ms is not None


async def test_engine_5xx_before_first_byte_is_an_openai_error(live: Live) -> None:
    live.script = Script(status=503)
    key = await live.api_key()
    with pytest.raises(openai.APIStatusError) as caught:
        await sdk(live, key).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
        )
    assert caught.value.status_code == 502
    body = caught.value.response.json()
    assert body["error"]["code"] == "engine_http_error"
    assert body["error"]["type"] == "api_error"


async def test_engine_down_is_503_and_audited_without_usage(live: Live) -> None:
    username = await live.new_user()
    key = await live.api_key(username)
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.post(
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {key}"},
            json={"model": DEAD_MODEL, "messages": [{"role": "user", "content": "x"}]},
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "engine_unavailable"
    # Internal host names and ports stay in mamori's log, not in what API clients see.
    assert "127.0.0.1" not in response.json()["error"]["message"]
    user = await live.user_row(username)
    [record] = await live.audit_when_written(user.id)
    assert (record.status, record.error_code) == (TurnStatus.ERROR, "engine_unavailable")
    assert record.endpoint == "dead" and record.completion_tokens == 0
    assert await live.usage_rows(user.id) == []


async def test_mid_stream_disconnect_ends_with_error_and_incomplete_audit(live: Live) -> None:
    live.script = Script(content=20, disconnect_after=5)
    username = await live.new_user()
    key = await live.api_key(username)
    seen: list[str] = []
    stream = await sdk(live, key).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
    )

    async def read_all() -> None:
        async for chunk in stream:
            for choice in chunk.choices:
                seen.append(choice.delta.content or "")

    with pytest.raises(openai.APIError):
        await read_all()
    assert "".join(seen).strip().startswith("t0")
    user = await live.user_row(username)
    [record] = await live.audit_when_written(user.id)
    assert (record.status, record.error_code) == (TurnStatus.INCOMPLETE, "engine_stream_broken")


async def test_client_disconnect_cancels_the_upstream_request(live: Live) -> None:
    live.script = Script(content=500, delay=0.02)
    username = await live.new_user()
    key = await live.api_key(username)
    before = live.upstream.disconnects
    async with (
        httpx.AsyncClient(base_url=live.base_url, timeout=10) as client,
        client.stream(
            "POST",
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {key}"},
            json={"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "x"}]},
        ) as response,
    ):
        async for line in response.aiter_lines():
            if '"content":" t2"' in line:
                break
    await live.upstream.wait_for(lambda: live.upstream.disconnects > before, timeout=5)
    user = await live.user_row(username)
    [record] = await live.audit_when_written(user.id)
    assert record.status is TurnStatus.CANCELLED


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_request"),
        (b'{"model": "gpt-oss-120b", "messages": []}', "invalid_request"),
        (b'{"model": "nope", "messages": [{"role": "user", "content": "x"}]}', "model_not_found"),
    ],
)
async def test_bad_requests_get_clear_errors(live: Live, body: bytes, code: str) -> None:
    key = await live.api_key()
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.post(
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
            content=body,
        )
    assert response.status_code in (400, 404)
    assert response.json()["error"]["code"] == code


async def test_oversized_body_is_refused(live: Live) -> None:
    key = await live.api_key()
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.post(
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {key}"},
            content=b"x" * (9 * 1024 * 1024),
        )
    assert response.status_code == 413


async def test_leaked_harmony_markup_never_reaches_the_answer(live: Live) -> None:
    leaked = (
        "<|channel|>analysis<|message|>Think about it.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>答えは42です。"
    )
    live.script = Script(
        reasoning_field=None, content=tuple(leaked[i : i + 4] for i in range(0, len(leaked), 4))
    )
    result = await sdk(live, await live.api_key()).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "?"}]
    )
    message = result.choices[0].message
    assert message.content == "答えは42です。"
    assert (message.model_extra or {}).get("reasoning") == "Think about it."
