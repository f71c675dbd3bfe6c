"""Who the forms are for: the name and TIN printed in their headers, read from the tax profile."""

from __future__ import annotations

from dataclasses import dataclass

from marginbook.tax.profile import Profile


@dataclass(frozen=True, slots=True)
class Taxpayer:
    """The name and taxpayer identification number printed on the forms (blank when unknown)."""

    name: str = ""
    tin: str = ""


def taxpayer_of(profile: Profile | None) -> Taxpayer:
    """The name and TIN of the tax engine's profile (``[taxpayer] name``/``tin`` of the TOML).

    The forms read the same :class:`~marginbook.tax.profile.Profile` the engine computed
    with, so what is printed in the header is what the figures were computed for. No
    profile, or an empty name or TIN, leaves the field blank for a preparer to complete.
    """
    if profile is None:
        return Taxpayer()
    return Taxpayer(name=profile.name.strip(), tin=profile.tin.strip())
