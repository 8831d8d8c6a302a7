"""`mamori policy check | explain`: validate a sovereignty policy file and show a decision."""

from __future__ import annotations

from pathlib import Path

import click

from mamori.accounts.service import AccountService
from mamori.catalog import LOCAL_ENDPOINT, LOCAL_MODEL
from mamori.cli_support import _database, _run, _settings, all_endpoints
from mamori.domain.classification import Classification
from mamori.domain.endpoint import Endpoint, EndpointSource, Residency
from mamori.domain.sovereignty import DataClass, PolicyDecision
from mamori.errors import ConfigError
from mamori.policy.sovereignty import Policy, decide
from mamori.policy.sovereignty_file import load_configured_policy


@click.group("policy")
def policy_group() -> None:
    """Check the sovereignty policy and explain its decisions."""


def _load(path: Path | None) -> Policy:
    try:
        return load_configured_policy(path)
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
@click.option(
    "--classification",
    "label",
    default=None,
    help="The conversation's label: 公開, 機密性1-3 or public, c1-c3. "
    "Default: the --user's groups' default, else the installation's.",
)
@click.option("--special", is_flag=True, help="The data holds 特定個人情報 (a My Number).")
@click.option("--model", required=True, help="The model the user picked.")
@click.option(
    "--endpoint",
    "preferred",
    default=None,
    help="The endpoint routing would pick (default: the first serving the model).",
)
@click.option("--user", default=None, help="Whose turn: their groups set the default label.")
@click.option("--policy", "file", type=click.Path(path_type=Path), default=None)
def policy_explain(
    label: str | None,
    special: bool,
    model: str,
    preferred: str | None,
    user: str | None,
    file: Path | None,
) -> None:
    """Show what the policy decides for data of a class sent to MODEL, and which rule decided.

    Uses the policy the server enforces (or --policy FILE) and every endpoint of mamori.toml
    and of `mamori endpoints add`, with their assessed trust, as the server routes.
    """
    settings = _settings()
    policy = _load(file if file is not None else settings.policy_file)
    db = _database(settings)
    level = settings.default_classification
    if label is not None:
        try:
            level = Classification.parse(label)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--classification") from exc
    if user is not None:
        principal = _run(AccountService(db).principal_for_username(user))
        if principal is None:
            raise click.BadParameter(f"no user {user!r}", param_hint="--user")
        level = max(level, principal.classification_floor())  # as policy.classify does
    endpoints = all_endpoints(settings, db)
    if settings.local_engine:
        endpoints.append(embedded_endpoint())
    if preferred is None:
        # Where routing sends a turn when every endpoint is idle and up: the first serving it.
        preferred = next((e.name for e in endpoints if model in e.models), None)
    decision = decide(policy, DataClass(level, special), model, endpoints, preferred)
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


def embedded_endpoint() -> Endpoint:
    """The embedded engine as routing sees it; its port is only known once it runs."""
    return Endpoint(
        LOCAL_ENDPOINT,
        "http://127.0.0.1/v1",
        "llamacpp",
        Residency.ONPREM,
        {LOCAL_MODEL: LOCAL_MODEL},
        source=EndpointSource.EMBEDDED,
    )
