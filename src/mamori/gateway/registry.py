"""The live set of endpoints and models, their backends, health and load."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mamori.domain.endpoint import Endpoint, ModelInfo
from mamori.errors import MamoriError, UpstreamTimeoutError
from mamori.gateway.backend import ChatBackend
from mamori.gateway.breaker import BreakerPolicy, CircuitBreaker, CircuitState, Clock

log = logging.getLogger(__name__)

BackendFactory = Callable[[Endpoint], ChatBackend]

# Without background health checks, /readyz probes on demand, at most this often per endpoint.
PROBE_CACHE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """What one active probe (``GET /models``) found."""

    name: str
    reachable: bool
    models: list[str] = field(default_factory=list)
    # An error code (``engine_unavailable``...), never a message: messages can carry URLs.
    error: str | None = None
    latency: float | None = None  # seconds
    # Upstream model names the endpoint is configured with but the engine no longer lists.
    missing: tuple[str, ...] = ()
    checked_at: float = 0.0  # the registry's monotonic clock
    checked_at_wall: float = 0.0  # Unix time, for people and Prometheus


@dataclass(slots=True)
class EndpointState:
    endpoint: Endpoint
    backend: ChatBackend
    breaker: CircuitBreaker
    in_flight: int = 0
    last_error: str | None = None
    last_probe: EndpointHealth | None = None
    probing: asyncio.Task[EndpointHealth] | None = None


@dataclass(slots=True)
class Lease:
    """One request counted on an endpoint; released exactly once."""

    state: EndpointState
    trial: bool  # the half-open breaker's one trial request

    @property
    def backend(self) -> ChatBackend:
        return self.state.backend


@dataclass(frozen=True, slots=True)
class EndpointStatus:
    """A point-in-time view of one endpoint, for /metrics and operators."""

    name: str
    circuit: CircuitState
    in_flight: int
    failures_total: int
    last_error: str | None
    last_probe: EndpointHealth | None

    @property
    def up(self) -> bool:
        probe_ok = self.last_probe is None or self.last_probe.reachable
        return probe_ok and self.circuit is not CircuitState.OPEN


class EndpointRegistry:
    """Holds one backend per endpoint. Replacing the set keeps backends of unchanged endpoints."""

    def __init__(
        self,
        backend_factory: BackendFactory,
        *,
        breaker_policy: BreakerPolicy | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._factory = backend_factory
        self._policy = breaker_policy or BreakerPolicy()
        self._clock = clock
        self._states: dict[str, EndpointState] = {}
        self._models: dict[str, ModelInfo] = {}

    # --- the set -------------------------------------------------------------------------------

    async def replace(self, endpoints: Iterable[Endpoint], models: dict[str, ModelInfo]) -> None:
        fresh: dict[str, EndpointState] = {}
        retired: list[ChatBackend] = []
        for endpoint in endpoints:
            current = self._states.get(endpoint.name)
            if current is not None and current.endpoint == endpoint:
                fresh[endpoint.name] = current
            else:
                breaker = CircuitBreaker(self._policy, self._clock)
                fresh[endpoint.name] = EndpointState(endpoint, self._factory(endpoint), breaker)
                if current is not None:
                    retired.append(current.backend)
        retired.extend(s.backend for n, s in self._states.items() if n not in fresh)
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
        """Whether routing may plan a request here: circuit closed, or half-open and free."""
        state = self._states.get(name)
        return state is not None and state.breaker.available()

    def lease(self, endpoint: Endpoint) -> Lease | None:
        """Count one request in flight on ``endpoint``; None if it is gone or changed meanwhile.

        The endpoint must be exactly the one the route was planned on: the policy decided on
        its residency and trust, and a name re-pointed at another URL or assessed otherwise
        since then is not that endpoint. The caller releases the lease it got, so replacing the
        endpoint set mid-turn cannot skew the counts of the new one.
        """
        state = self._states.get(endpoint.name)
        if state is None or state.endpoint != endpoint:
            return None
        state.in_flight += 1
        return Lease(state, trial=state.breaker.begin())

    @staticmethod
    def release(lease: Lease) -> None:
        lease.state.in_flight -= 1
        if lease.trial and lease.state.breaker.state is CircuitState.HALF_OPEN:
            lease.state.breaker.abandon_trial()

    def mark_failure(self, name: str, error: MamoriError) -> None:
        state = self._states.get(name)
        if state is not None:
            _failed(state, error.code)

    def mark_success(self, name: str) -> None:
        state = self._states.get(name)
        if state is None:
            return
        if state.breaker.state is not CircuitState.CLOSED:
            log.info("endpoint %s recovered; circuit closed", name)
        state.breaker.record_success()
        state.last_error = None

    def status(self) -> list[EndpointStatus]:
        return [
            EndpointStatus(
                name=name,
                circuit=s.breaker.state,
                in_flight=s.in_flight,
                failures_total=s.breaker.failures_total,
                last_error=s.last_error,
                last_probe=s.last_probe,
            )
            for name, s in self._states.items()
        ]

    # --- active probes -------------------------------------------------------------------------

    async def probe(self, name: str, timeout: float = 3.0) -> EndpointHealth:
        """Ask the engine for its models; the verdict feeds the circuit breaker.

        A probe still running for this endpoint is joined, not repeated: a hung engine gets one
        outstanding probe, however many callers ask.
        """
        state = self._states.get(name)
        if state is None:
            return EndpointHealth(name, reachable=False, error="unknown_endpoint")
        if state.probing is None or state.probing.done():
            state.probing = asyncio.create_task(self._probe(state, timeout), name=f"probe-{name}")
        # Shielded: a caller that gives up (a cancelled /readyz) must not cancel a shared probe.
        return await asyncio.shield(state.probing)

    async def _probe(self, state: EndpointState, timeout: float) -> EndpointHealth:
        name = state.endpoint.name
        started = time.perf_counter()
        models: list[str] = []
        error: str | None = None
        try:
            async with asyncio.timeout(timeout):
                models = await state.backend.list_models()
        except MamoriError as exc:
            error = exc.code
        except TimeoutError:
            error = UpstreamTimeoutError.code
        except Exception:
            log.exception("probe of endpoint %s failed unexpectedly", name)
            error = MamoriError.code
        latency = time.perf_counter() - started
        missing = () if error else _missing(state.endpoint, models)
        previous = state.last_probe
        if missing and (previous is None or previous.missing != missing):
            log.warning("endpoint %s no longer lists configured models %s", name, missing)
        health = EndpointHealth(
            name,
            reachable=error is None,
            models=models,
            error=error,
            latency=latency,
            missing=missing,
            checked_at=self._clock(),
            checked_at_wall=time.time(),
        )
        state.last_probe = health
        if error is None:
            if state.breaker.state is CircuitState.OPEN:
                log.info("endpoint %s answers probes again; circuit half-open", name)
            state.breaker.probe_succeeded()
        else:
            _failed(state, error)
        return health

    async def probe_all(self, timeout: float = 3.0) -> list[EndpointHealth]:
        """Probe every endpoint at once; the slowest one bounds the wait, by ``timeout``."""
        names = list(self._states)
        return list(await asyncio.gather(*(self.probe(n, timeout) for n in names)))

    async def health(
        self, timeout: float = 3.0, max_age: float = PROBE_CACHE_SECONDS
    ) -> list[EndpointHealth]:
        """The last probe of each endpoint, probing only those not probed within ``max_age``.

        /readyz is unauthenticated: with background health checks running it reads their
        results, and without them each anonymous request could otherwise fan out into a request
        to every GPU server.
        """
        now = self._clock()
        fresh: dict[str, EndpointHealth] = {}
        stale: list[str] = []
        for name, state in self._states.items():
            probe = state.last_probe
            if probe is not None and now - probe.checked_at < max_age:
                fresh[name] = probe
            else:
                stale.append(name)
        probed = await asyncio.gather(*(self.probe(n, timeout) for n in stale))
        fresh.update((h.name, h) for h in probed)
        return [fresh[n] for n in self._states if n in fresh]

    async def aclose(self) -> None:
        for state in self._states.values():
            if state.probing is not None:
                state.probing.cancel()
            await state.backend.aclose()
        self._states = {}


def _failed(state: EndpointState, code: str) -> None:
    was_open = state.breaker.state is CircuitState.OPEN
    state.breaker.record_failure()
    state.last_error = code
    if not was_open and state.breaker.state is CircuitState.OPEN:
        log.warning(
            "endpoint %s failed %d times in a row (%s); circuit open for %.0f s",
            state.endpoint.name,
            state.breaker.consecutive_failures,
            code,
            state.breaker.cooldown,
        )


def _missing(endpoint: Endpoint, reported: list[str]) -> tuple[str, ...]:
    listed = set(reported)
    return tuple(sorted(m for m in set(endpoint.models.values()) if m not in listed))


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
