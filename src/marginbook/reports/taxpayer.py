"""Who the forms are for: the name and TIN printed in their headers, read from the profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Taxpayer:
    """The name and taxpayer identification number printed on the forms (blank when unknown)."""

    name: str = ""
    tin: str = ""


def taxpayer_of(profile: Any | None) -> Taxpayer:
    """Read the taxpayer's name and TIN from a profile object or mapping, if it has them.

    The profile comes from the tax part; it may be ``None``, an object with
    ``profile.taxpayer.name``/``.tin``, or a plain mapping ``{"taxpayer": {"name": ..., "tin": ...}}``.
    Anything else gives blank fields: the forms are still valid for a preparer to complete.
    """
    if profile is None:
        return Taxpayer()
    section = profile.get("taxpayer") if isinstance(profile, Mapping) else getattr(profile, "taxpayer", None)
    if section is None:
        return Taxpayer()

    def field_of(key: str) -> str:
        value = section.get(key) if isinstance(section, Mapping) else getattr(section, key, None)
        return value.strip() if isinstance(value, str) else ""

    return Taxpayer(name=field_of("name"), tin=field_of("tin"))
