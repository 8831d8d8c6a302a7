"""Where detectors come from: the ``mamori.detectors`` entry-point group.

mamori's own detectors are declared in its ``pyproject.toml`` under
``[project.entry-points."mamori.detectors"]``, exactly as a plugin package declares its own::

    [project.entry-points."mamori.detectors"]
    employee_id = "acme_mamori:EmployeeIdDetector"

An entry point names a class (or any callable) that takes no arguments and returns a
``Detector``. Names are unique: a plugin cannot silently replace a built-in.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from mamori.errors import ConfigError
from mamori.guard.detector import Detector
from mamori.guard.pii import PII_KINDS

GROUP = "mamori.detectors"


def available_detectors() -> dict[str, EntryPoint]:
    """Every registered detector by name, without importing any of them."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        other = found.get(ep.name)
        if other is not None and other.value != ep.value:
            raise ConfigError(
                f"detector {ep.name!r} is registered twice: {other.value} and {ep.value}",
                code="detector_conflict",
            )
        found[ep.name] = ep
    return found


def load_detectors(names: Iterable[str] | None = None) -> list[Detector]:
    """Instantiate the named detectors in the given order (all registered ones if ``None``)."""
    registered = available_detectors()
    wanted = sorted(registered) if names is None else list(names)
    unknown = [name for name in wanted if name not in registered]
    if unknown:
        known = ", ".join(sorted(registered))
        raise ConfigError(
            f"unknown detector(s) {', '.join(unknown)}; registered: {known}",
            code="unknown_detector",
        )
    detectors: list[Detector] = []
    for name in wanted:
        factory = registered[name].load()
        detector = factory()
        detectors.append(detector)
    return detectors


def default_pii_detectors() -> list[Detector]:
    """The built-in Japanese PII detectors, one per kind, loaded through the registry."""
    return load_detectors(PII_KINDS)
