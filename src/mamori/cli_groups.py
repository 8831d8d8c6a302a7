"""`mamori groups ...`: departments and teams, their reasoning policy, and who belongs."""

from __future__ import annotations

from typing import cast, get_args

import click

from mamori.accounts.service import AccountService
from mamori.cli_support import _database, _run, _settings
from mamori.domain.chat import ReasoningEffort
from mamori.domain.classification import Classification
from mamori.domain.reasoning import ReasoningDisplay

_DISPLAYS = [d.value for d in ReasoningDisplay]
_EFFORTS = list(get_args(ReasoningEffort))
# "inherit" clears a setting: the model's or the installation's then applies.
_INHERIT = "inherit"


def _display(value: str | None) -> ReasoningDisplay | None:
    return None if value in (None, _INHERIT) else ReasoningDisplay(value)


def _effort(value: str | None) -> ReasoningEffort | None:
    if value is None or value == _INHERIT:
        return None
    # click.Choice has already limited the value to the three efforts.
    return cast(ReasoningEffort, value)


@click.group("groups")
def groups_group() -> None:
    """Manage groups and their reasoning policy."""


_display_option = click.option(
    "--reasoning-display",
    type=click.Choice([*_DISPLAYS, _INHERIT]),
    help="What members see of the model's reasoning (default: the model's or installation's).",
)
_effort_option = click.option(
    "--max-effort",
    type=click.Choice([*_EFFORTS, _INHERIT]),
    help="The highest reasoning effort members may use.",
)


_label_option = click.option(
    "--default-classification",
    "label",
    help="The label members' new conversations and API turns start at "
    f"(公開, 機密性1-3, public, c1-c3; {_INHERIT}: the installation's).",
)


def _label(value: str | None) -> Classification | None:
    if value is None or value == _INHERIT:
        return None
    try:
        return Classification.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--default-classification") from exc


@groups_group.command("create")
@click.argument("name")
@click.option("--display-name", help="The name shown in the workspace.")
@_display_option
@_effort_option
@_label_option
def groups_create(
    name: str,
    display_name: str | None,
    reasoning_display: str | None,
    max_effort: str | None,
    label: str | None,
) -> None:
    """Create group NAME."""
    db = _database(_settings())
    _run(
        AccountService(db).create_group(
            name,
            display_name=display_name,
            reasoning_display=_display(reasoning_display),
            max_reasoning_effort=_effort(max_effort),
            default_classification=_label(label),
        )
    )
    click.echo(f"created group {name}")


@groups_group.command("set")
@click.argument("name")
@_display_option
@_effort_option
@_label_option
def groups_set(
    name: str, reasoning_display: str | None, max_effort: str | None, label: str | None
) -> None:
    """Change group NAME's policy; an option left out keeps its current value."""
    db = _database(_settings())
    service = AccountService(db)
    current = {g.name: g for g, _ in _run(service.list_groups())}.get(name)
    if current is None:
        raise click.ClickException(f"no group named {name!r}")
    display = (
        current.reasoning_display if reasoning_display is None else _display(reasoning_display)
    )
    effort = current.max_reasoning_effort if max_effort is None else _effort(max_effort)
    default = current.default_classification if label is None else _label(label)
    _run(
        service.set_group_policy(
            name,
            reasoning_display=display,
            max_reasoning_effort=effort,
            default_classification=default,
        )
    )
    click.echo(f"updated group {name}")


@groups_group.command("add")
@click.argument("name")
@click.argument("usernames", nargs=-1, required=True)
def groups_add(name: str, usernames: tuple[str, ...]) -> None:
    """Add USERNAMES to group NAME."""
    service = AccountService(_database(_settings()))
    for username in usernames:
        changed = _run(service.set_membership(name, username, member=True))
        click.echo(f"{username}: {'added to' if changed else 'already in'} {name}")


@groups_group.command("remove")
@click.argument("name")
@click.argument("usernames", nargs=-1, required=True)
def groups_remove(name: str, usernames: tuple[str, ...]) -> None:
    """Remove USERNAMES from group NAME."""
    service = AccountService(_database(_settings()))
    for username in usernames:
        changed = _run(service.set_membership(name, username, member=False))
        click.echo(f"{username}: {'removed from' if changed else 'was not in'} {name}")


@groups_group.command("list")
def groups_list() -> None:
    """List groups with their policy and members."""
    service = AccountService(_database(_settings()))
    for group, members in _run(service.list_groups()):
        display = group.reasoning_display.value if group.reasoning_display else _INHERIT
        effort = group.max_reasoning_effort or _INHERIT
        label = group.default_classification
        default = label.label_ja if label is not None else _INHERIT
        click.echo(
            f"{group.name}\treasoning={display}\tmax_effort={effort}\tdefault_classification="
            f"{default}\t{','.join(members) or '-'}"
        )
