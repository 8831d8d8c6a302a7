"""Word, Excel and PowerPoint files, each opened only after ``zip_guard`` has checked it."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

import docx
import openpyxl
import pptx
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph
from pptx.shapes.autoshape import Shape
from pptx.shapes.base import BaseShape
from pptx.shapes.graphfrm import GraphicFrame
from pptx.shapes.group import GroupShape

from mamori.domain.documents import Block, ParsedDocument
from mamori.errors import DocumentRejectedError
from mamori.rag.parsers.csv_table import table_blocks
from mamori.rag.parsers.limits import ParseLimits
from mamori.rag.parsers.zip_guard import checked_archive


def parse_docx(data: bytes, limits: ParseLimits) -> ParsedDocument:
    archive = checked_archive(data, limits, required="word/document.xml")
    try:
        document = docx.Document(archive)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentRejectedError(f"unreadable DOCX: {exc}", code="corrupt_file") from exc
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            block = _paragraph(item)
            if block is not None:
                blocks.append(block)
        elif isinstance(item, DocxTable):
            blocks.extend(table_blocks(_docx_rows(item)))
    title = (document.core_properties.title or "").strip() or None
    return ParsedDocument(title=title, blocks=blocks)


def _paragraph(paragraph: Paragraph) -> Block | None:
    text = paragraph.text.strip()
    if not text:
        return None
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return Block(text, kind="heading", level=1)
    if style.startswith("Heading"):
        level = style.removeprefix("Heading").strip()
        return Block(text, kind="heading", level=int(level) if level.isdigit() else 1)
    return Block(text)


def _docx_rows(table: DocxTable) -> list[list[str]]:
    # python-docx gives a horizontally merged cell once per grid column it spans, each a new
    # proxy of the same <w:tc>. Equal text is no sign of a merge ("○ | ○" is two answers), so
    # only the element tells them apart.
    rows = []
    for row in table.rows:
        cells: list[str] = []
        previous: object = None
        for cell in row.cells:
            if cell._tc is not previous:
                cells.append(cell.text)
            previous = cell._tc
        rows.append(cells)
    return rows


def parse_xlsx(data: bytes, limits: ParseLimits) -> ParsedDocument:
    archive = checked_archive(data, limits, required="xl/workbook.xml")
    try:
        workbook = openpyxl.load_workbook(archive, read_only=True, data_only=True)
    except (KeyError, ValueError, zipfile.BadZipFile, TypeError) as exc:
        raise DocumentRejectedError(f"unreadable XLSX: {exc}", code="corrupt_file") from exc
    blocks: list[Block] = []
    warnings: list[str] = []
    try:
        for page, sheet in enumerate(workbook.worksheets, start=1):
            blocks.append(Block(sheet.title, page=page, kind="heading", level=1))
            rows: list[list[str]] = []
            cells = 0
            for values in sheet.iter_rows(values_only=True):
                row = [_cell(v) for v in values]
                while row and not row[-1]:
                    row.pop()
                if not row:
                    continue
                cells += len(row)
                if cells > limits.max_cells_per_sheet:
                    warnings.append(f"sheet {sheet.title}: only the first cells were read")
                    break
                rows.append(row)
            blocks.extend(table_blocks(rows, page=page))
        pages = len(workbook.worksheets)
    finally:
        workbook.close()
    return ParsedDocument(title=None, blocks=blocks, pages=max(pages, 1), warnings=warnings)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_pptx(data: bytes, limits: ParseLimits) -> ParsedDocument:
    archive = checked_archive(data, limits, required="ppt/presentation.xml")
    try:
        presentation = pptx.Presentation(archive)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentRejectedError(f"unreadable PPTX: {exc}", code="corrupt_file") from exc
    blocks: list[Block] = []
    title: str | None = None
    slides = list(presentation.slides)
    for number, slide in enumerate(slides, start=1):
        heading = slide.shapes.title
        if heading is not None and heading.has_text_frame and heading.text_frame.text.strip():
            text = " ".join(heading.text_frame.text.split())
            title = title or text
            blocks.append(Block(text, page=number, kind="heading", level=1))
        for shape in _leaf_shapes(slide.shapes):
            if heading is not None and shape.shape_id == heading.shape_id:
                continue
            # Only these classes can hold text or a table; narrowing also types the access.
            if isinstance(shape, Shape) and shape.has_text_frame:
                for paragraph in shape.text_frame.paragraphs:
                    text = _soft_breaks(paragraph.text).strip()
                    if text:
                        blocks.append(Block(text, page=number))
            elif isinstance(shape, GraphicFrame) and shape.has_table:
                rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                blocks.extend(table_blocks(rows, page=number))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                blocks.append(Block(_soft_breaks(notes.text).strip(), page=number))
    return ParsedDocument(title=title, blocks=blocks, pages=max(len(slides), 1))


def _leaf_shapes(shapes: Iterable[BaseShape]) -> Iterator[BaseShape]:
    """The shapes in reading order, with each group replaced by the shapes it holds. A stack,
    not recursion: a hostile file may nest groups deeper than Python's recursion limit."""
    stack = list(reversed(list(shapes)))
    while stack:
        shape = stack.pop()
        if isinstance(shape, GroupShape):
            stack.extend(reversed(list(shape.shapes)))
        else:
            yield shape


def _soft_breaks(text: str) -> str:
    # python-pptx reads a line break inside a paragraph (<a:br/>) as a vertical tab.
    return text.replace("\v", "\n")
