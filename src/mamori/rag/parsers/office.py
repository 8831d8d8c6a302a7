"""Word, Excel and PowerPoint files, each opened only after ``zip_guard`` has checked it."""

from __future__ import annotations

import zipfile
from typing import Any

import docx
import openpyxl
import pptx
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

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
            rows = [[cell.text for cell in row.cells] for row in item.rows]
            blocks.extend(table_blocks(_dedupe_merged(rows)))
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


def _dedupe_merged(rows: list[list[str]]) -> list[list[str]]:
    # python-docx repeats a merged cell's text in every grid cell it spans.
    out = []
    for row in rows:
        cells: list[str] = []
        for cell in row:
            if not cells or cell != cells[-1]:
                cells.append(cell)
        out.append(cells)
    return out


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
        for shape in slide.shapes:
            if heading is not None and shape.shape_id == heading.shape_id:
                continue
            if shape.has_text_frame:
                for paragraph in shape.text_frame.paragraphs:
                    text = "".join(run.text for run in paragraph.runs).strip()
                    if text:
                        blocks.append(Block(text, page=number))
            elif getattr(shape, "has_table", False) and shape.has_table:
                rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                blocks.extend(table_blocks(rows, page=number))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                blocks.append(Block(notes.text.strip(), page=number))
    return ParsedDocument(title=title, blocks=blocks, pages=max(len(slides), 1))
