"""The live set of endpoints and models, their backends, health and load."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mamori.domain.endpoint import Endpoint, ModelInfo
from mamori.errors import MamoriError
from mamori.gateway.backend import ChatBackend

log = logging.getLogger(__name__)

BackendFactory = Callable[[Endpoint], ChatBackend]

# After a connect failure an endpoint is tried last for this long (passive health).
UNHEALTHY_FOR_SECONDS = 10.0
PROBE_CACHE_SECONDS = 2.0


@dataclass(slots=True)
class EndpointState:
    endpoint: Endpoint
    backend: ChatBackend
    in_flight: int = 0
    unhealthy_until: float = 0.0
    last_error: str | None = None
    consecutive_failures: int = 0


@dataclass(slots=True)
class EndpointHealth:
    name: str
    reachable: bool
    models: list[str] = field(default_factory=list)
    error: str | None = None


class EndpointRegistry:
    """Holds one backend per endpoint. Replacing the set keeps backends of unchanged endpoints."""

    def __init__(self, backend_factory: BackendFactory) -> None:
        self._factory = backend_factory
        self._states: dict[str, EndpointState] = {}
        self._models: dict[str, ModelInfo] = {}
        self._probed: tuple[float, list[EndpointHealth]] | None = None

    # --- the set -------------------------------------------------------------------------------

    async def replace(self, endpoints: Iterable[Endpoint], models: dict[str, ModelInfo]) -> None:
        fresh: dict[str, EndpointState] = {}
        retired: list[ChatBackend] = []
        for endpoint in endpoints:
            current = self._states.get(endpoint.name)
            if current is not None and current.endpoint == endpoint:
                fresh[endpoint.name] = current
            else:
                fresh[endpoint.name] = EndpointState(endpoint, self._factory(endpoint))
                if current is not None:
                    retired.append(current.backend)
        retired.extend(s.backend for n, s in self._states.items() if n not in fresh)
        if fresh.keys() != self._states.keys():
            self._probed = None
        self._states = fresh
        self._models = _complete_models(models, fresh.values())
        for backend in retired:
            await backend.aclose()

    def endpoints(self) -> list[Endpoint]:
        return [s.endpoint for s in self._states.values()]

    def endpoint(self, name: str) -> Endpoint | None:
        state = self._states.get(name)
        return state.endpoint if state else None

    def models(self) -> list[ModelInfo]:
        return sorted(self._models.values(), key=lambda m: m.name)

    def model(self, name: str) -> ModelInfo | None:
        return self._models.get(name)

    def backend(self, name: str) -> ChatBackend:
        return self._states[name].backend

    # --- load and passive health ----------------------------------------------------------------

    def in_flight(self, name: str) -> int:
        state = self._states.get(name)
        return state.in_flight if state else 0

    def is_healthy(self, name: str) -> bool:
        state = self._states.get(name)
        return state is not None and state.unhealthy_until <= time.monotonic()

    def lease(self, name: str) -> EndpointState | None:
        """Count one request in flight on ``name``; None if the endpoint is gone meanwhile.

        The caller releases the same state object, so replacing the endpoint set mid-turn
        cannot skew the counts of the new one.
        """
        state = self._states.get(name)
        if state is not None:
            state.in_flight += 1
        return state

    @staticmethod
    def release(state: EndpointState) -> None:
        state.in_flight -= 1

    def mark_failure(self, name: str, error: MamoriError) -> None:
        state = self._states.get(name)
        if state is None:
            return
        state.consecutive_failures += 1
        state.last_error = error.code
        state.unhealthy_until = time.monotonic() + UNHEALTHY_FOR_SECONDS

    def mark_success(self, name: str) -> None:
        state = self._states.get(name)
        if state is not None and state.consecutive_failures:
            state.consecutive_failures = 0
            state.unhealthy_until = 0.0
            state.last_error = None

    # --- active probes -------------------------------------------------------------------------

    async def probe(self, name: str, timeout: float = 3.0) -> EndpointHealth:
        state = self._states.get(name)
        if state is None:
            return EndpointHealth(name, reachable=False, error="unknown endpoint")
        try:
            async with asyncio.timeout(timeout):
                models = await state.backend.list_models()
        except (MamoriError, TimeoutError) as exc:
            return EndpointHealth(name, reachable=False, error=getattr(exc, "code", "timeout"))
        self.mark_success(name)
        return EndpointHealth(name, reachable=True, models=models)

    async def probe_all(self, timeout: float = 3.0) -> list[EndpointHealth]:
        """Probe every endpoint, at most once per PROBE_CACHE_SECONDS.

        /readyz is unauthenticated; without the cache each anonymous request would fan out
        into a request to every GPU server.
        """
        now = time.monotonic()
        if self._probed is not None and now - self._probed[0] < PROBE_CACHE_SECONDS:
            return self._probed[1]
        results = list(await asyncio.gather(*(self.probe(n, timeout) for n in self._states)))
        self._probed = (time.monotonic(), results)
        return results

    async def aclose(self) -> None:
        for state in self._states.values():
            await state.backend.aclose()
        self._states = {}


def _complete_models(
    configured: dict[str, ModelInfo], states: Iterable[EndpointState]
) -> dict[str, ModelInfo]:
    """Every model some endpoint serves, with configured metadata where there is any."""
    serving: dict[str, list[str]] = {}
    for state in states:
        for model in state.endpoint.models:
            serving.setdefault(model, []).append(state.endpoint.name)
    result: dict[str, ModelInfo] = {}
    for name, endpoint_names in serving.items():
        info = configured.get(name)
        if info is None:
            info = ModelInfo(name=name, display_name=name, endpoints=())
        result[name] = dataclasses.replace(
            info, display_name=info.display_name or name, endpoints=tuple(endpoint_names)
        )
    return result
