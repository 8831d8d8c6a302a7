"""Active health checks: probe every endpoint on a fixed interval, in the background."""

from __future__ import annotations

import asyncio
import logging

from mamori.gateway.registry import EndpointRegistry

log = logging.getLogger(__name__)


async def keep_probing(registry: EndpointRegistry, *, interval: float, timeout: float) -> None:
    """Probe all endpoints now, then every ``interval`` seconds, until cancelled.

    Rounds never overlap: each waits for its probes, which the timeout bounds, and the next
    starts ``interval`` after the previous one ended. A hung engine costs one probe at a time.
    """
    while True:
        try:
            await registry.probe_all(timeout=timeout)
        except Exception:
            log.exception("endpoint health check round failed")
        await asyncio.sleep(interval)
