"""Shared helpers for the report tests: render a document once per test into a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from marginbook.reports.exports import write_export

Render = Callable[..., dict[str, Path]]


@pytest.fixture
def render(tmp_path: Path) -> Render:
    """Write an export of a document and return its files by name."""

    def run(
        fmt: str, document: dict[str, Any], profile: Any | None = None, **options: Any
    ) -> dict[str, Path]:
        out = tmp_path / f"{fmt}-{len(list(tmp_path.iterdir()))}"
        return {path.name: path for path in write_export(fmt, document, out, profile, **options)}

    return run


Rendered = Callable[..., dict[str, Path]]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Like ``render`` for an unmodified example of :mod:`tests.reports.examples`, rendered once per session.

    Call as ``rendered("example_2_fifo", "pdf", profile=True, form_8949_mode="detail")``.
    """
    from tests.reports import examples

    cache: dict[tuple[str, str, bool, str], dict[str, Path]] = {}

    def run(
        example: str, fmt: str, *, profile: bool = False, form_8949_mode: str = "detail"
    ) -> dict[str, Path]:
        key = (example, fmt, profile, form_8949_mode)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"{example}-{fmt}")
            document = getattr(examples, example)()
            paths = write_export(
                fmt, document, out, examples.PROFILE if profile else None, form_8949_mode=form_8949_mode
            )
            cache[key] = {path.name: path for path in paths}
        return cache[key]

    return run
