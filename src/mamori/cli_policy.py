"""`mamori policy check | explain`: validate a sovereignty policy file and show a decision."""

from __future__ import annotations

from pathlib import Path

import click

from mamori.catalog import configured_endpoints
from mamori.cli_support import _settings
from mamori.domain.sovereignty import DataClass, PolicyDecision
from mamori.errors import ConfigError
from mamori.policy.sovereignty import Policy, decide, provisional_trust
from mamori.policy.sovereignty_file import (
    load_default_policy,
    load_policy_file,
    parse_classification,
)


@click.group("policy")
def policy_group() -> None:
    """Check the sovereignty policy and explain its decisions."""


def _load(path: Path | None) -> Policy:
    try:
        return load_default_policy() if path is None else load_policy_file(path)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from exc


@policy_group.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def policy_check(file: Path) -> None:
    """Validate policy FILE; on a problem, name its line and exit non-zero."""
    policy = _load(file)
    ids = ", ".join(r.id for r in policy.rules)
    click.echo(f"{file}: ok, {len(policy.rules)} rules ({ids})")


@policy_group.command("explain")
@click.option("--classification", "label", required=True, help="公開, 機密性1-3 or public, c1-c3.")
@click.option("--special", is_flag=True, help="The data holds 特定個人情報 (a My Number).")
@click.option("--model", required=True, help="The model the user picked.")
@click.option("--endpoint", "preferred", default=None, help="The endpoint routing would pick.")
@click.option("--user", default=None, help="Accepted for later; groups do not change rules yet.")
@click.option("--policy", "file", type=click.Path(path_type=Path), default=None)
def policy_explain(
    label: str,
    special: bool,
    model: str,
    preferred: str | None,
    user: str | None,
    file: Path | None,
) -> None:
    """Show what the policy decides for data of a class sent to MODEL, and which rule decided.

    Uses the endpoints of mamori.toml. Their trust is derived from residency until endpoints
    carry assessed attributes (see ``provisional_trust``).
    """
    try:
        classification = parse_classification(label)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--classification") from exc
    policy = _load(file)
    endpoints = configured_endpoints(_settings())
    pairs = [(e, provisional_trust(e)) for e in endpoints]
    decision = decide(policy, DataClass(classification, special), model, pairs, preferred)
    if user is not None:
        click.echo(f"note: --user {user} is ignored; rules do not depend on groups yet")
    click.echo(format_decision(policy, decision))


def format_decision(policy: Policy, decision: PolicyDecision) -> str:
    """The decision as the operator reads it: action, rule, endpoint, and every refusal."""
    rule = policy.rule(decision.rule_id)
    lines = [
        f"data / データ: {decision.data_class.label_ja} ({decision.data_class.label_en})",
        f"model / モデル: {decision.model}",
        f"decision / 判定: {decision.action.value}",
        f"rule / 規則: {decision.rule_id}",
    ]
    if rule is not None:
        lines += [f"  ja: {rule.description_ja}", f"  en: {rule.description_en}"]
    lines.append(f"endpoint / 送信先: {decision.endpoint or '-'}")
    for refused in decision.refused:
        lines.append(
            f"refused / 拒否: {refused.endpoint} by {refused.rule_id}: {refused.reason_en}"
        )
        lines.append(f"  {refused.reason_ja}")
    if decision.message_ja:
        lines += [f"message (ja): {decision.message_ja}", f"message (en): {decision.message_en}"]
    return "\n".join(lines)
