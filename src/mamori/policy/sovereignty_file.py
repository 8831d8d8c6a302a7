"""Load and validate a sovereignty policy file (TOML); see ``sovereignty`` for the language.

Every problem is a ``PolicyFileError`` naming the file and line, so an operator can fix it
without guessing. Nothing here falls back to a permissive policy: a file that does not
validate is refused whole.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from mamori.domain.classification import Classification
from mamori.domain.endpoint import Residency
from mamori.domain.guard import GuardAction, InjectionAction
from mamori.domain.sovereignty import DataClass
from mamori.errors import ConfigError
from mamori.policy.sovereignty import (
    DEFAULT_FINDING_CLASSES,
    DEFAULT_INJECTION_ACTIONS,
    FINDING_FLOOR,
    Effect,
    EndpointMatch,
    Policy,
    Rule,
)

DEFAULT_POLICY = "default_policy.toml"

_SPECIAL_NAMES = frozenset({"特定個人情報", "special_personal"})
_TOP_KEYS = frozenset({"version", "rules", "findings", "actions", "injection", "answers"})
_RULE_KEYS = frozenset(
    {"id", "description_ja", "description_en", "data", "endpoint", "effect", "advice_ja"}
    | {"advice_en"}
)
_REQUIRED = ("id", "description_ja", "description_en", "data", "effect")
_FLAGS = ("terms_of_service", "trains_on_inputs", "approved_for_masked")
_ENDPOINT_KEYS = frozenset({"residency", "within_max_classification", *_FLAGS})
# Rule ids go into audit records (64 characters); ids of mamori's own decisions are reserved.
_ID = re.compile(r"[a-z0-9][a-z0-9.\-]{0,63}")
_RESERVED_PREFIXES = ("policy.", "classify.", "route.", "reasoning.", "gateway.")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


class PolicyFileError(ConfigError):
    code = "policy_file_invalid"

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")
        self.line = line
        self.problem = problem


def parse_classification(name: str) -> Classification:
    return Classification.parse(name)


def load_policy_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileError(str(path), None, f"cannot read the file: {exc}") from exc
    return parse_policy(text, str(path))


def load_configured_policy(path: Path | None) -> Policy:
    """The policy ``mamori serve`` enforces: the operator's file, or the shipped default."""
    return load_default_policy() if path is None else load_policy_file(path)


def load_default_policy() -> Policy:
    text = resources.files("mamori.policy").joinpath(DEFAULT_POLICY).read_text("utf-8")
    return parse_policy(text, DEFAULT_POLICY)


def parse_policy(text: str, source: str) -> Policy:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        problem = _TOML_LINE.sub("", str(exc)).strip()
        raise PolicyFileError(source, int(found.group(1)) if found else None, problem) from exc
    return _Reader(text, source).policy(raw)


class _Reader:
    """Turns parsed TOML into a ``Policy``, finding the line of each problem in the text.

    tomllib keeps no positions, so lines are found by scanning the text: the n-th
    ``[[rules]]`` header starts rule n, and a key's line is the first line in that rule's
    block that assigns it (or opens its ``[rules.KEY]`` sub-table).
    """

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.headers = [
            i + 1 for i, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*rules\s*\]\]", line)
        ]

    def fail(self, line: int | None, problem: str) -> PolicyFileError:
        return PolicyFileError(self.source, line, problem)

    def rule_line(self, index: int) -> int | None:
        return self.headers[index] if index < len(self.headers) else None

    def key_line(self, index: int | None, key: str) -> int | None:
        """The line assigning ``key`` in rule ``index`` (None: the top level)."""
        start = 0 if index is None else (self.rule_line(index) or 1) - 1
        ends = [h - 1 for h in self.headers if h - 1 > start]
        end = ends[0] if ends else len(self.lines)
        pattern = re.compile(
            rf"\s*(\"?{re.escape(key)}\"?\s*[=.]|\[\s*rules\.{re.escape(key)}\s*\])"
        )
        for number in range(start, end):
            if pattern.match(self.lines[number]):
                return number + 1
        return None if index is None else self.rule_line(index)

    def policy(self, raw: dict[str, Any]) -> Policy:
        for key in raw:
            if key not in _TOP_KEYS:
                raise self.fail(self.key_line(None, key), f"unknown key {key!r}")
        if raw.get("version", 1) != 1:
            raise self.fail(self.key_line(None, "version"), "version must be 1")
        entries = raw.get("rules")
        if not isinstance(entries, list) or not entries:
            raise self.fail(None, "the policy has no rules; add at least one [[rules]] table")
        rules: list[Rule] = []
        for index, entry in enumerate(entries):
            rule = self.rule(index, entry)
            if any(r.id == rule.id for r in rules):
                raise self.fail(self.key_line(index, "id"), f"duplicate rule id {rule.id!r}")
            rules.append(rule)
        findings = self.findings(raw.get("findings"))
        actions = self.actions(raw.get("actions"))
        injection = self.injection(raw.get("injection"))
        masked = self.answers(raw.get("answers"))
        return Policy(tuple(rules), self.source, findings, actions, injection, masked)

    def answers(self, value: Any) -> frozenset[str]:
        """``[answers] mask_personal_data_for = [group names]``."""
        if value is None:
            return frozenset()
        header = self.table_line("answers")
        if not isinstance(value, dict) or set(value) - {"mask_personal_data_for"}:
            raise self.fail(header, "answers takes only mask_personal_data_for = [group names]")
        groups = value.get("mask_personal_data_for", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            line = self.finding_line(header, "mask_personal_data_for")
            raise self.fail(line, "mask_personal_data_for must be a list of group names")
        return frozenset(groups)

    def injection(self, value: Any) -> dict[str, InjectionAction]:
        """``[injection]``: source (user, document, tool, answer) -> block | drop | warn."""
        result = dict(DEFAULT_INJECTION_ACTIONS)
        if value is None:
            return result
        header = self.table_line("injection")
        if not isinstance(value, dict):
            raise self.fail(header, "injection must be a table of source = action")
        for source, name in value.items():
            line = self.finding_line(header, source)
            if source not in DEFAULT_INJECTION_ACTIONS:
                sources = ", ".join(DEFAULT_INJECTION_ACTIONS)
                raise self.fail(line, f"unknown source {source!r} in [injection]; use {sources}")
            try:
                result[source] = InjectionAction(name)
            except ValueError:
                raise self.fail(line, f"injection.{source} must be block, drop or warn") from None
        return result

    def actions(self, value: Any) -> dict[str, GuardAction]:
        """``[actions]``: finding kind -> block | mask | pseudonymise | flag."""
        if value is None:
            return {}
        header = self.table_line("actions")
        if not isinstance(value, dict):
            raise self.fail(header, "actions must be a table of finding kind = action")
        result: dict[str, GuardAction] = {}
        for kind, name in value.items():
            line = self.finding_line(header, kind)
            try:
                result[kind] = GuardAction(name)
            except ValueError:
                allowed = ", ".join(a.value for a in GuardAction)
                raise self.fail(line, f"actions.{kind} must be one of {allowed}") from None
        return result

    def findings(self, value: Any) -> dict[str, DataClass]:
        """``[findings]``: detector finding kind -> the class it raises a turn to.

        Kinds the file leaves out keep the built-in mapping, so a file written before a new
        detector existed does not let that detector's findings pass unclassified.
        """
        mapping = dict(DEFAULT_FINDING_CLASSES)
        if value is None:
            return mapping
        header = self.table_line("findings")
        if not isinstance(value, dict):
            raise self.fail(header, "findings must be a table of finding kind = [classes]")
        for kind, names in value.items():
            line = self.finding_line(header, kind)
            if not _ID.fullmatch(kind.replace("_", "-")):
                raise self.fail(line, f"bad finding kind {kind!r}")
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise self.fail(line, f"findings.{kind} must be a list of classification names")
            classes = [n for n in names if n not in _SPECIAL_NAMES]
            if len(classes) != 1:
                raise self.fail(line, f"findings.{kind} must name exactly one classification")
            try:
                level = parse_classification(classes[0])
            except ValueError as exc:
                raise self.fail(line, str(exc)) from None
            mapped = DataClass(level, special_personal=len(classes) < len(names))
            floor = FINDING_FLOOR.get(kind)
            if floor is not None and (mapped | floor) != mapped:
                raise self.fail(
                    line,
                    f"findings.{kind} may not be lower than {floor.label_ja} "
                    f"({floor.label_en}): the governance floor for personal data",
                )
            mapping[kind] = mapped
        return mapping

    def table_line(self, name: str) -> int | None:
        """The line of the ``[name]`` header, if the table is written as one."""
        pattern = re.compile(rf"\s*\[\s*{name}\s*\]")
        return next((i + 1 for i, line in enumerate(self.lines) if pattern.match(line)), None)

    def finding_line(self, header: int | None, kind: str) -> int | None:
        pattern = re.compile(rf"\s*(findings\.)?\"?{re.escape(kind)}\"?\s*=")
        for number in range(header or 0, len(self.lines)):
            if pattern.match(self.lines[number]):
                return number + 1
        inline = re.compile(rf"\s*findings\s*=.*\b{re.escape(kind)}\b")
        found = next((i + 1 for i, line in enumerate(self.lines) if inline.match(line)), None)
        return found or header

    def rule(self, index: int, entry: Any) -> Rule:
        if not isinstance(entry, dict):
            raise self.fail(self.rule_line(index), "each rule must be a [[rules]] table")
        for key in entry:
            if key not in _RULE_KEYS:
                raise self.fail(self.key_line(index, key), f"unknown key {key!r} in a rule")
        for key in _REQUIRED:
            if key not in entry:
                raise self.fail(self.rule_line(index), f"the rule has no {key!r}")
        texts = {k: self.text(index, entry, k) for k in _RULE_KEYS & _TEXT_KEYS if k in entry}
        if not _ID.fullmatch(texts["id"]):
            raise self.fail(self.key_line(index, "id"), f"bad rule id {texts['id']!r}")
        if texts["id"].startswith(_RESERVED_PREFIXES):
            problem = f"rule id {texts['id']!r} uses a prefix reserved for mamori's own decisions"
            raise self.fail(self.key_line(index, "id"), problem)
        try:
            effect = Effect(entry["effect"])
        except ValueError:
            problem = f"effect must be allow, mask or deny, not {entry['effect']!r}"
            raise self.fail(self.key_line(index, "effect"), problem) from None
        classes, special = self.data(index, entry["data"])
        rule = Rule(
            id=texts["id"],
            description_ja=texts["description_ja"],
            description_en=texts["description_en"],
            classes=classes,
            special_personal=special,
            effect=effect,
            endpoint=self.endpoint(index, entry.get("endpoint", {})),
            advice_ja=texts.get("advice_ja", ""),
            advice_en=texts.get("advice_en", ""),
        )
        self.check_safe(index, rule)
        return rule

    def text(self, index: int, entry: dict[str, Any], key: str) -> str:
        value = entry[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(self.key_line(index, key), f"{key} must be a non-empty string")
        return value.strip()

    def data(self, index: int, value: Any) -> tuple[frozenset[Classification], bool]:
        line = self.key_line(index, "data")
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(line, "data must be a non-empty list of classification names")
        names = [v for v in value if v not in _SPECIAL_NAMES]
        try:
            classes = frozenset(parse_classification(n) for n in names)
        except ValueError as exc:
            raise self.fail(line, str(exc)) from None
        return classes, len(names) < len(value)

    def endpoint(self, index: int, value: Any) -> EndpointMatch:
        line = self.key_line(index, "endpoint")
        if not isinstance(value, dict):
            raise self.fail(line, "endpoint must be a table of conditions")
        for key, flag in value.items():
            if key not in _ENDPOINT_KEYS:
                raise self.fail(line, f"unknown endpoint condition {key!r}")
            if key != "residency" and not isinstance(flag, bool):
                raise self.fail(line, f"endpoint {key} must be true or false")
        residency = value.get("residency")
        allowed = [r.value for r in Residency]
        if residency is not None and (
            not isinstance(residency, list) or not residency or not set(residency) <= set(allowed)
        ):
            raise self.fail(line, f"endpoint residency must be a non-empty list of {allowed}")
        flags = {k: v for k, v in value.items() if k != "residency"}
        places = frozenset(Residency(r) for r in residency) if residency else None
        return EndpointMatch(residency=places, **flags)

    def check_safe(self, index: int, rule: Rule) -> None:
        """Refuse rules that break the governance floor, whatever rules come before them."""
        line = self.key_line(index, "endpoint")
        if rule.effect is Effect.DENY:
            return
        if rule.covers_confidential and rule.endpoint.terms_of_service is not False:
            raise self.fail(
                line,
                f"rule {rule.id!r} lets 要機密情報 (機密性2 and above, 特定個人情報) reach a "
                "terms-of-service (約款型) endpoint; add terms_of_service = false to its endpoint",
            )
        if rule.effect is Effect.MASK and rule.endpoint.approved_for_masked is not True:
            raise self.fail(line, f"mask rule {rule.id!r} must require approved_for_masked = true")


_TEXT_KEYS = frozenset({"id", "description_ja", "description_en", "advice_ja", "advice_en"})
