"""`mamori serve --offline-check`: every host mamori could ever contact, and nothing else.

For operators of closed networks: the list to open in the firewall, and the proof that there
is nothing more. mamori's own outbound traffic is the inference endpoints (the gateway refuses
any other destination, see ``mamori.gateway.egress``), the embedded engine on loopback, and the
database server. It sends no telemetry, checks for no updates and downloads no models.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from mamori.catalog import configured_endpoints
from mamori.cli_endpoints import trust_summary
from mamori.cli_support import _database, all_endpoints
from mamori.domain.endpoint import Endpoint, display_url
from mamori.gateway.egress import origin_of
from mamori.settings import Settings


@dataclass(frozen=True, slots=True)
class Destination:
    what: str
    host: str
    port: str
    residency: str
    note: str


def destinations(settings: Settings, endpoints: list[Endpoint]) -> list[Destination]:
    rows = [
        Destination(
            f"endpoint {e.name}",
            origin_of(e.base_url)[1],
            str(origin_of(e.base_url)[2]),
            e.residency.value,
            f"{display_url(e.base_url)} ({trust_summary(e)}; models: {', '.join(e.models)})",
        )
        for e in endpoints
    ]
    if settings.local_engine:
        rows.append(
            Destination(
                "embedded engine",
                "127.0.0.1",
                "(chosen at start)",
                "onprem",
                "llama.cpp child process on loopback; model hubs disabled (HF_HUB_OFFLINE=1)",
            )
        )
    url = settings.resolved_database_url
    if not url.startswith("sqlite"):
        parts = urlsplit(url)
        rows.append(
            Destination(
                "database",
                parts.hostname or "(local socket)",
                str(parts.port or 5432),
                "-",
                "PostgreSQL",
            )
        )
    return rows


def offline_report(settings: Settings) -> str:
    endpoints = configured_endpoints(settings)
    problem = ""
    try:
        # Read only: a check must not migrate a production database.
        endpoints = all_endpoints(settings, _database(settings, upgrade=False))
    except Exception as exc:  # the database may be the one host not reachable from here
        problem = (
            "注意 / note: endpoints added with `mamori endpoints add` could not be read from "
            f"the database ({type(exc).__name__}); only mamori.toml's are listed."
        )
    rows = destinations(settings, endpoints)
    header = ("WHAT", "HOST", "PORT", "RESIDENCY", "NOTE")
    table = [header, *((r.what, r.host, r.port, r.residency, r.note) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    foreign = [r.what for r in rows if r.residency == "foreign"]
    lines += [
        "",
        "mamori が通信しうる宛先は上記のみです。",
        "テレメトリ・更新確認・モデルのダウンロードは行いません。",
        "These are the only hosts mamori can contact. It sends no telemetry, checks for no",
        "updates and downloads no models; any other outbound connection is refused and logged.",
    ]
    if problem:
        lines += ["", problem]
    if foreign:
        lines += [
            "",
            f"注意 / note: foreign endpoints ({', '.join(foreign)}) receive only what the "
            "sovereignty policy allows.",
        ]
    return "\n".join(lines)
