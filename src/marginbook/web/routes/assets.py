"""Static files: the stylesheet and plotly.js, both served from this machine (no CDN)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_CACHE = {"Cache-Control": "public, max-age=86400"}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the installed ``plotly`` package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.exists():  # pragma: no cover - every plotly wheel ships it
        raise FileNotFoundError(path)
    return path


@router.get("/static/plotly.min.js")
def plotly_js() -> Response:
    """The plotly.js library of the installed plotly package."""
    return FileResponse(plotly_js_path(), media_type="text/javascript", headers=_CACHE)


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """A file of ``web/static`` by plain name (no sub-folders, so no path traversal)."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(status_code=404, detail="no such file")
    return FileResponse(path, headers=_CACHE)
