"""What one streamed answer is, the pace of the engine, and the issue's targets."""

from __future__ import annotations

# The engine's answer: reasoning first, then content, one token per chunk, then usage.
REASONING_TOKENS = 64
CONTENT_TOKENS = 192
TOKENS = REASONING_TOKENS + CONTENT_TOKENS
DELAY_MS = 20.0
UPSTREAM_MODEL = "gpt-oss-120b"
# The gateways' names for the model on the two fakes.
SLOW_MODEL = "bench-20ms"
FAST_MODEL = "bench-nodelay"
# Events per stream: role, the tokens, finish, usage, [DONE]; the fake sleeps between events.
EVENTS = 1 + TOKENS + 3
STREAM_SECONDS = (EVENTS - 1) * DELAY_MS / 1000
EXPECTED_REASONING = "".join(f" r{i}" for i in range(REASONING_TOKENS))
EXPECTED_CONTENT = "".join(f" t{i}" for i in range(CONTENT_TOKENS))
# vLLM's name for the reasoning delta; a gateway in front of vLLM should pass it on unchanged.
REASONING_FIELD = "reasoning"

# Targets, measured in the same run. At 200 concurrent streams:
TARGET_ADDED_TTFT_P99_MS = 10.0
TARGET_ADDED_TTFT_P50_MS = 5.0  # from the first overhead issue
TARGET_THROUGHPUT_RATIO = 0.9
# At maximum throughput:
TARGET_CPU_PER_1K_CHUNKS = 0.08
TARGET_MAX_RATE_VS_LITELLM = 10.0

REQUEST_TIMEOUT = 120.0
BIN_SECONDS = 0.1
