"""`mamori kb ...`: knowledge bases, their access lists, ingestion and search.

``kb search --queries FILE`` answers one query per line with one JSON line each, so that an
evaluation of thousands of queries runs in one process through the product's own search.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson

from mamori.cli_support import _database, _run, _settings
from mamori.domain.classification import Classification
from mamori.domain.documents import KnowledgeBase, SearchHit
from mamori.knowledge import keyword_search, open_ingestor
from mamori.rag.ingest import FileResult
from mamori.rag.parsers import SUPPORTED_SUFFIXES
from mamori.store import ConflictError, Database
from mamori.store.repos import kb_documents
from mamori.store.repos import knowledge_bases as kbs
from mamori.store.repos.groups import find_group
from mamori.store.repos.users import get_user_by_username


@click.group("kb")
def kb_group() -> None:
    """Manage knowledge bases: create, grant, ingest, search."""


def _kb(db: Database, name: str) -> KnowledgeBase:
    kb = db.read_sync(kbs.get_kb_by_name, name)
    if kb is None:
        raise click.ClickException(f"no knowledge base named {name!r}")
    return kb


def _group_id(db: Database, name: str) -> str:
    group = db.read_sync(find_group, name)
    if group is None:
        raise click.ClickException(f"no group named {name!r}")
    return group.id


@kb_group.command("create")
@click.argument("name")
@click.option("--group", "group_name", required=True, help="The group that owns it.")
@click.option(
    "--classification",
    "label",
    required=True,
    help="Its class: 公開, 機密性1-3 (or public, c1-c3). Turns that use it carry at least this.",
)
@click.option("--description", default="", help="What it holds, shown to its readers.")
def kb_create(name: str, group_name: str, label: str, description: str) -> None:
    """Create knowledge base NAME, readable and writable by its group."""
    try:
        classification = Classification.parse(label)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--classification") from exc
    db = _database(_settings())
    group_id = _group_id(db, group_name)
    try:
        kb = db.write_sync(
            kbs.create_kb,
            name=name,
            owner_group_id=group_id,
            classification=classification,
            description=description,
        )
    except ConflictError as exc:
        raise click.ClickException(f"a knowledge base named {name!r} exists already") from exc
    click.echo(f"created {kb.name} ({classification.label_ja}, group {group_name})")


@kb_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def kb_list(as_json: bool) -> None:
    """List knowledge bases with their class, documents and access."""
    db = _database(_settings())
    for kb in db.read_sync(kbs.list_kbs):
        documents = db.read_sync(kb_documents.list_documents, kb.id)
        access = db.read_sync(kbs.access_list, kb.id)
        if as_json:
            record = {
                "name": kb.name,
                "classification": kb.classification.label_ja,
                "documents": len(documents),
                "chunks": sum(d.chunks for d in documents),
                "owner": next((a.group_name for a in access if a.owner), None),
                "access": [{"group": a.group_name, "write": a.can_write} for a in access],
            }
            click.echo(orjson.dumps(record).decode())
            continue
        readers = ", ".join(a.group_name + ("(w)" if a.can_write else "") for a in access)
        click.echo(
            f"{kb.name}\t{kb.classification.label_ja}\t{len(documents)} documents\t{readers}"
        )


@kb_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask.")
def kb_delete(name: str, yes: bool) -> None:
    """Delete NAME with all its documents; gone from search at once."""
    settings = _settings()
    db = _database(settings)
    kb = _kb(db, name)
    if not yes:
        click.confirm(f"delete {name} and all its documents?", abort=True)
    with open_ingestor(settings, db) as ingestor:
        _run(ingestor.delete_kb(kb))
    click.echo(f"deleted {name}")


@kb_group.command("grant")
@click.argument("name")
@click.argument("group_name")
@click.option("--write", is_flag=True, help="Members may also add and remove documents.")
def kb_grant(name: str, group_name: str, write: bool) -> None:
    """Let GROUP_NAME's members read (and with --write, change) NAME."""
    db = _database(_settings())
    kb = _kb(db, name)
    group_id = _group_id(db, group_name)
    if group_id == kb.owner_group_id:
        # A grant replaces the entry: it would turn the owner's read-write into read-only.
        raise click.ClickException(f"{group_name} owns {name} and keeps reading and writing it")
    db.write_sync(kbs.grant, kb.id, group_id, can_write=write)
    click.echo(f"{group_name} may {'read and write' if write else 'read'} {name}")


@kb_group.command("revoke")
@click.argument("name")
@click.argument("group_name")
def kb_revoke(name: str, group_name: str) -> None:
    """Take GROUP_NAME off NAME's access list (the owner group stays)."""
    db = _database(_settings())
    kb = _kb(db, name)
    if not db.write_sync(kbs.revoke, kb.id, _group_id(db, group_name)):
        raise click.ClickException(f"{group_name} is not on the list, or owns {name}")
    click.echo(f"{group_name} may no longer read {name}")


@kb_group.command("ingest")
@click.argument("name")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def kb_ingest(name: str, paths: tuple[Path, ...]) -> None:
    """Add files (or every supported file under folders) to NAME. A file whose name is in NAME
    already replaces it; bad files are reported and the rest go on."""
    settings = _settings()
    db = _database(settings)
    kb = _kb(db, name)
    files = sorted(set(_files(paths)))
    results: list[FileResult] = []
    with open_ingestor(settings, db) as ingestor:

        async def run() -> None:
            with click.progressbar(
                files, label="ingesting", file=sys.stderr, item_show_func=_shown
            ) as bar:
                named: set[str] = set()
                for path in bar:
                    # A document is named by its file name: a second file of the same name in
                    # one batch would silently replace the first.
                    if path.name in named:
                        results.append(FileResult(path.name, "failed", error="duplicate_name"))
                        continue
                    named.add(path.name)
                    data = path.read_bytes()
                    results.append(await ingestor.ingest(kb, path.name, data))

        _run(run())
    for result in results:
        click.echo(_describe(result))
    failed = sum(1 for r in results if not r.ok)
    click.echo(f"{len(results) - failed} of {len(results)} files ingested into {name}")
    if failed:
        sys.exit(1)


def _shown(path: Path | None) -> str | None:
    return path.name if path is not None else None


def _files(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from (
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            yield path  # named explicitly: an unsupported type is reported, not skipped


def _describe(result: FileResult) -> str:
    if result.ok:
        extra = (
            f", {result.held_back} held back (injected instructions)" if result.held_back else ""
        )
        return (
            f"ok\t{result.filename}\t{result.outcome}: {result.pages} pages, "
            f"{result.chunks} chunks{extra}"
        )
    return f"failed\t{result.filename}\t{result.error}: {_REASONS.get(result.error or '', '')}"


_REASONS = {
    "empty_file": "the file is empty",
    "file_too_large": "the file is larger than kb_max_file_bytes",
    "unsupported_file_type": "not a supported type (pdf docx xlsx pptx html md txt csv)",
    "corrupt_file": "the file is damaged or not what its extension says",
    "encrypted_file": "the file is password-protected",
    "no_text_layer": "the PDF has no text layer (scanned images only)",
    "archive_bomb": "the file would expand to an abnormal size",
    "parse_timeout": "parsing took longer than kb_parse_timeout",
    "file_missing": "the stored original is missing",
    "duplicate_name": "another file of this batch has the same name (documents are named "
    "by file name); ingest it separately to replace the first",
}


@kb_group.command("documents")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def kb_documents_command(name: str, as_json: bool) -> None:
    """List NAME's documents with their status."""
    db = _database(_settings())
    for d in db.read_sync(kb_documents.list_documents, _kb(db, name).id):
        if as_json:
            record = {
                "id": d.id,
                "filename": d.filename,
                "title": d.title,
                "status": d.status.value,
                "pages": d.pages,
                "chunks": d.chunks,
                "held_back": d.held_back,
                "error": d.error,
            }
            click.echo(orjson.dumps(record).decode())
        else:
            click.echo(f"{d.status.value}\t{d.filename}\t{d.pages} pages\t{d.chunks} chunks")


@kb_group.command("remove")
@click.argument("name")
@click.argument("filenames", nargs=-1, required=True)
def kb_remove(name: str, filenames: tuple[str, ...]) -> None:
    """Remove documents from NAME by file name; gone from search at once."""
    settings = _settings()
    db = _database(settings)
    kb = _kb(db, name)
    with open_ingestor(settings, db) as ingestor:
        for filename in filenames:
            document = db.read_sync(kb_documents.find_document, kb.id, filename)
            if document is None:
                raise click.ClickException(f"{name} has no document {filename!r}")
            _run(ingestor.delete_document(document))
            click.echo(f"removed {filename}")


@kb_group.command("reindex")
@click.argument("name")
def kb_reindex(name: str) -> None:
    """Parse and index every document of NAME again from its stored original."""
    settings = _settings()
    db = _database(settings)
    kb = _kb(db, name)
    documents = db.read_sync(kb_documents.list_documents, kb.id)
    with open_ingestor(settings, db) as ingestor:
        results = [_run(ingestor.index(document.id)) for document in documents]
    for result in results:
        click.echo(_describe(result))
    failed = sum(1 for r in results if not r.ok)
    click.echo(f"{len(results) - failed} of {len(results)} documents indexed in {name}")
    if failed:
        sys.exit(1)


@kb_group.command("search")
@click.argument("name")
@click.argument("query", required=False)
# utf-8-sig: Notepad and Excel put a BOM before the first query.
@click.option(
    "--queries", type=click.File("r", encoding="utf-8-sig"), help="One query per line (UTF-8)."
)
@click.option("--top-k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="JSON: one line per query.")
@click.option("--user", "username", help="Search as this user: only what they may read.")
def kb_search(
    name: str,
    query: str | None,
    queries: Any,
    top_k: int,
    as_json: bool,
    username: str | None,
) -> None:
    """Search NAME for QUERY (or for each line of --queries)."""
    if (query is None) == (queries is None):
        raise click.UsageError("give a QUERY or --queries FILE, not both")
    db = _database(_settings(), upgrade=False)
    kb = _kb(db, name)
    user_id = None
    if username is not None:
        user = db.read_sync(get_user_by_username, username)
        if user is None:
            raise click.ClickException(f"no user named {username!r}")
        user_id = user.id
        # Said plainly, rather than as an empty result that looks like a poor search.
        if not db.read_sync(kbs.may_read, kb.id, user_id):
            raise click.ClickException(f"{username} may not read knowledge base {name!r}")
    search = keyword_search(db)
    lines = [query] if query is not None else [line.rstrip("\n") for line in queries]

    async def run() -> None:
        for line in lines:
            found = await search.search(line, kb_ids=[kb.id], user_id=user_id, limit=top_k)
            _print_hits(line, found, as_json)

    _run(run())


def _print_hits(query: str, found: list[SearchHit], as_json: bool) -> None:
    if as_json:
        results = [
            {
                "rank": rank,
                "score": round(hit.score, 6),
                "document_id": hit.document_id,
                "document": hit.filename,
                "title": hit.title,
                "page": hit.page,
                "headings": hit.headings,
                "chunk_id": hit.chunk_id,
                "text": hit.text,
            }
            for rank, hit in enumerate(found, start=1)
        ]
        click.echo(orjson.dumps({"query": query, "results": results}).decode())
        return
    if not found:
        click.echo("no results")
    for rank, hit in enumerate(found, start=1):
        page = f" p.{hit.page}" if hit.page else ""
        click.echo(f"{rank:>2}. {hit.score:7.3f}  {hit.filename}{page}  {hit.headings}")
        click.echo(f"    {hit.text[:120]}")
