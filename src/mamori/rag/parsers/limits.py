"""What a parser accepts before it calls a file hostile."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ParseLimits:
    max_bytes: int = 50 * 1024 * 1024
    # Office files are zip archives: their members' total size once unpacked, the largest
    # ratio of unpacked to packed size of any member, and how many members there may be.
    max_expanded_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 100.0
    max_zip_members: int = 10_000
    max_pages: int = 5_000
    # Spreadsheets: cells read per sheet, beyond which the rest is left out with a warning.
    max_cells_per_sheet: int = 200_000
    timeout_seconds: float = 60.0
