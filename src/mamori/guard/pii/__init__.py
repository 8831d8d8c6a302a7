"""Japanese PII detectors, one module per kind.

Each detector matches on a normalised copy of the text (``normalize``) and reports spans in the
original. The kinds, as the sovereignty policy names them::

    my_number  corporate_number  phone  email  postal_code  address  person
    bank_account  credit_card  passport  driver_license  pension_number  birth_date

They register through the ``mamori.detectors`` entry points like any third-party detector; load
them with ``mamori.guard.registry.default_pii_detectors()``.
"""

from __future__ import annotations

PII_KINDS: tuple[str, ...] = (
    "my_number",
    "corporate_number",
    "phone",
    "email",
    "postal_code",
    "address",
    "person",
    "bank_account",
    "credit_card",
    "passport",
    "driver_license",
    "pension_number",
    "birth_date",
)
