"""Office files are zip archives; a hostile one unpacks to gigabytes from a few kilobytes.

The central directory is checked before any library opens the file: member count, declared
sizes and ratios. Declared sizes can lie, so every member is then read through a counting
stream that stops at the same limits, and the libraries are handed an archive rebuilt from
what was actually read.
"""

from __future__ import annotations

import io
import zipfile

from mamori.errors import DocumentRejectedError
from mamori.rag.parsers.limits import ParseLimits

_READ = 1 << 16


def checked_archive(data: bytes, limits: ParseLimits, *, required: str) -> io.BytesIO:
    """``data`` as a zip that is safe to open; raises ``DocumentRejectedError``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentRejectedError(f"not a zip archive: {exc}", code="corrupt_file") from exc
    names = {m.filename for m in members}
    if required not in names:
        if "EncryptedPackage" in names or data.startswith(b"\xd0\xcf\x11\xe0"):
            raise DocumentRejectedError("encrypted Office file", code="encrypted_file")
        raise DocumentRejectedError(f"no {required} in the archive", code="corrupt_file")
    if len(members) > limits.max_zip_members:
        raise DocumentRejectedError(f"{len(members)} members", code="archive_bomb")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_expanded_bytes:
        raise DocumentRejectedError(f"declares {declared} bytes unpacked", code="archive_bomb")
    for member in members:
        if (
            member.compress_size
            and member.file_size / member.compress_size > (limits.max_compression_ratio)
            and member.file_size > 1_000_000
        ):
            raise DocumentRejectedError(f"{member.filename}: ratio", code="archive_bomb")
    rebuilt = io.BytesIO()
    total = 0
    with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_STORED) as out:
        for member in members:
            if member.is_dir():
                continue
            content = bytearray()
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(_READ):
                        content += chunk
                        total += len(chunk)
                        if (
                            total > limits.max_expanded_bytes
                            or len(content) > max(member.file_size, 1) + _READ
                        ):
                            # More than declared, or more than allowed: a lying header.
                            raise DocumentRejectedError(
                                f"{member.filename} unpacks beyond its limits", code="archive_bomb"
                            )
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise DocumentRejectedError(
                    f"{member.filename}: {exc}", code="corrupt_file"
                ) from exc
            except RuntimeError as exc:  # zipfile's "encrypted, password required"
                raise DocumentRejectedError("encrypted archive", code="encrypted_file") from exc
            out.writestr(member.filename, bytes(content))
    rebuilt.seek(0)
    return rebuilt
