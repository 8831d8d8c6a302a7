"""機密性 (confidentiality classes) of the government unified standards."""

from __future__ import annotations

from enum import IntEnum


class Classification(IntEnum):
    PUBLIC = 0  # 公開
    C1 = 1  # 機密性1
    C2 = 2  # 機密性2 (要機密情報 from here up)
    C3 = 3  # 機密性3

    @property
    def label_ja(self) -> str:
        return _LABELS_JA[self]

    @property
    def label_en(self) -> str:
        return _LABELS_EN[self]

    @property
    def is_confidential(self) -> bool:
        """要機密情報: 機密性2 and above."""
        return self >= Classification.C2

    @classmethod
    def parse(cls, name: str) -> Classification:
        """A class by its Japanese name or its English short name (public, c1, c2, c3)."""
        found = _BY_NAME.get(name.strip()) or _BY_NAME.get(name.strip().lower())
        if found is None:
            raise ValueError(f"unknown classification {name!r}; use {', '.join(_BY_NAME)}")
        return found


_LABELS_JA = {
    Classification.PUBLIC: "公開",
    Classification.C1: "機密性1",
    Classification.C2: "機密性2",
    Classification.C3: "機密性3",
}
_LABELS_EN = {
    Classification.PUBLIC: "Public",
    Classification.C1: "Confidentiality 1",
    Classification.C2: "Confidentiality 2",
    Classification.C3: "Confidentiality 3",
}
_BY_NAME = {
    **{label: c for c, label in _LABELS_JA.items()},
    "public": Classification.PUBLIC,
    "c1": Classification.C1,
    "c2": Classification.C2,
    "c3": Classification.C3,
}
