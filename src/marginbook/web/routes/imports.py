"""Import: upload a file; every bad row is shown, and nothing is written unless all are good."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from marginbook.app.dashboard import Dashboard
from marginbook.app.features import AddOutcome
from marginbook.domain.errors import InputError
from marginbook.importers.registry import FORMATS
from marginbook.web.deps import CsrfChecked, DashboardDep, SettingsDep, render
from marginbook.web.routes.overview import UNAVAILABLE
from marginbook.web.schemas import ImportRejected, ImportResult, Problem

router = APIRouter()
FORMAT_CHOICES = ("auto", *FORMATS)
_CHUNK = 64 * 1024
#: At most this many problems are sent back (the count of the rest is in ``detail``).
MAX_SHOWN_PROBLEMS = 200


class UploadTooLarge(Exception):
    """The upload passed the size limit while being read."""


def _safe_name(name: str | None) -> str:
    base = Path(name or "upload.csv").name.strip() or "upload.csv"
    return "".join(ch for ch in base if ch.isalnum() or ch in "._- ")[:100] or "upload.csv"


async def _save(upload: UploadFile, limit: int, folder: Path) -> Path:
    path = folder / "upload.csv"
    written = 0
    with path.open("wb") as handle:
        while chunk := await upload.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise UploadTooLarge
            handle.write(chunk)
    return path


async def _import(
    dashboard: Dashboard, upload: UploadFile, format_name: str, wallet: str, limit: int
) -> AddOutcome:
    if format_name not in FORMAT_CHOICES:
        raise HTTPException(status_code=422, detail=f"format must be one of {', '.join(FORMAT_CHOICES)}")
    dashboard.require_store()
    with tempfile.TemporaryDirectory(prefix="marginbook-upload-") as folder:
        try:
            path = await _save(upload, limit, Path(folder))
        except UploadTooLarge:
            raise HTTPException(status_code=413, detail=f"the file is larger than {limit} bytes") from None
        # Parsing and the transaction block: keep them off the event loop.
        return await run_in_threadpool(
            dashboard.import_upload,
            path,
            source_name=_safe_name(upload.filename),
            format_name=format_name,
            wallet=wallet.strip() or None,
        )


def _problems(error: InputError) -> list[Problem]:
    return [
        Problem(source=p.source, row=p.row, field=p.field, problem=p.problem)
        for p in error.problems[:MAX_SHOWN_PROBLEMS]
    ]


@router.post(
    "/api/import",
    response_model=ImportResult,
    tags=["ledger"],
    responses={
        400: {"model": ImportRejected, "description": "bad rows; nothing was written"},
        413: {"description": "the upload is too large"},
        **UNAVAILABLE,
    },
)
async def import_api(
    dashboard: DashboardDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the file to import")],
    format: Annotated[str, Form(description="auto or a format name")] = "auto",
    wallet: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Import a file into the ledger in one transaction (needs ``X-CSRF-Token`` or a bearer token)."""
    try:
        outcome = await _import(dashboard, file, format, wallet, settings.max_upload_bytes)
    except InputError as error:
        rejected = ImportRejected(detail=str(error), problems=_problems(error))
        return JSONResponse(rejected.model_dump(), status_code=400)
    result = ImportResult(added=outcome.added, unchanged=outcome.unchanged)
    return JSONResponse(result.model_dump(), background=_refold_after(dashboard, outcome))


@router.get("/import", include_in_schema=False)
def import_page(request: Request, dashboard: DashboardDep) -> Response:
    """The upload form."""
    problem = "" if dashboard.store else dashboard.store_problem
    return render(
        request,
        "import.html",
        {"formats": FORMAT_CHOICES, "problems": [], "outcome": None, "ledger_problem": problem},
    )


@router.post("/import", include_in_schema=False, dependencies=[CsrfChecked])
async def import_form(
    request: Request,
    dashboard: DashboardDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form()] = "auto",
    wallet: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Import the uploaded file and show the outcome or every problem (nothing written then)."""
    context: dict[str, Any] = {
        "formats": FORMAT_CHOICES,
        "problems": [],
        "outcome": None,
        "ledger_problem": "",
        "filename": _safe_name(file.filename),
    }
    try:
        context["outcome"] = await _import(dashboard, file, format, wallet, settings.max_upload_bytes)
    except InputError as error:
        context["problems"] = _problems(error)
        context["problem_count"] = len(error.problems)
        return render(request, "import.html", context, status_code=400)
    response = render(request, "import.html", context)
    response.background = _refold_after(dashboard, context["outcome"])
    return response


def _refold_after(dashboard: Dashboard, outcome: AddOutcome) -> BackgroundTask | None:
    """After an import that added events, refold the ledger once the response is sent."""
    return BackgroundTask(dashboard.warm) if outcome.added else None
