"""Plaid's enums (``enums.json``, copied verbatim from the shared spec extract)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

_ENUMS_FILE = Path(__file__).with_name("enums.json")


@lru_cache(maxsize=1)
def enums() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_ENUMS_FILE.read_text())
    return data


@lru_cache(maxsize=1)
def account_types() -> frozenset[str]:
    return frozenset(enums()["account_type"])


@lru_cache(maxsize=1)
def account_subtypes() -> dict[str, frozenset[str]]:
    """Valid subtypes per type, newer values included (the spec says to accept them)."""
    base = enums()["account_subtype"]
    newer = enums().get("account_subtype_newer", {})
    any_type = set(base.get("_any_type", []))
    return {
        account_type: frozenset(
            set(base.get(account_type, [])) | set(newer.get(account_type, [])) | any_type
        )
        for account_type in account_types()
    }


@lru_cache(maxsize=32)
def values(name: str) -> frozenset[Any]:
    """An enum by name with its ``<name>_newer`` additions."""
    return frozenset(enums()[name]) | frozenset(enums().get(f"{name}_newer", []))
