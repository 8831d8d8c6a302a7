from importlib.metadata import EntryPoint, entry_points

import pytest

from mamori.domain.decision import Finding
from mamori.errors import ConfigError
from mamori.guard import registry
from mamori.guard.detector import Detector
from mamori.guard.pii import PII_KINDS
from mamori.guard.registry import GROUP, available_detectors, default_pii_detectors, load_detectors


class EmployeeIdDetector:
    """What a third-party plugin would ship: no base class, just the protocol."""

    name = "employee_id"
    kinds = ("employee_id",)

    def detect(self, text: str, *, source: str) -> list[Finding]:
        i = text.find("EMP-")
        return [] if i < 0 else [Finding("employee_id", i, i + 8, source=source)]


def _with_plugin(monkeypatch: pytest.MonkeyPatch, *extra: EntryPoint) -> None:
    builtins = list(entry_points(group=GROUP))

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        assert group == GROUP
        return [*builtins, *extra]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)


def test_builtins_are_registered_as_entry_points() -> None:
    registered = available_detectors()
    assert set(PII_KINDS) <= set(registered)
    assert registered["my_number"].value == "mamori.guard.pii.my_number:MyNumberDetector"


def test_default_pii_detectors_cover_every_kind_once() -> None:
    detectors = default_pii_detectors()
    assert [d.name for d in detectors] == list(PII_KINDS)
    assert sorted(k for d in detectors for k in d.kinds) == sorted(PII_KINDS)


def test_load_by_name_keeps_the_order() -> None:
    assert [d.name for d in load_detectors(["phone", "email"])] == ["phone", "email"]


def test_unknown_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_detectors(["phone", "shoe_size"])
    assert info.value.code == "unknown_detector"


def test_a_plugin_registers_like_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint("employee_id", f"{__name__}:EmployeeIdDetector", GROUP)
    _with_plugin(monkeypatch, ep)
    [plugin, phone] = load_detectors(["employee_id", "phone"])
    detector: Detector = plugin
    assert detector.detect("社員 EMP-1234", source="user") == [Finding("employee_id", 3, 11)]
    assert phone.name == "phone"
    assert "employee_id" in [d.name for d in load_detectors()]


def test_a_plugin_cannot_replace_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_plugin(monkeypatch, EntryPoint("phone", f"{__name__}:EmployeeIdDetector", GROUP))
    with pytest.raises(ConfigError) as info:
        load_detectors(["phone"])
    assert info.value.code == "detector_conflict"
