"""Taxes: the Form 8949 rows of a year (filterable), each row's lots, Schedule D, Form 4952, downloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from pydantic import BaseModel

from marginbook.app import tax_downloads, tax_views
from marginbook.app.background import StillComputing
from marginbook.app.dashboard import Dashboard
from marginbook.app.tax_views import RowFilter
from marginbook.tax.document import FORM_4952_LINES
from marginbook.web.deps import DashboardDep, render
from marginbook.web.routes.overview import COMPUTING

router = APIRouter()
#: Rows of the 8949 table per page (a year of active trading has tens of thousands).
PAGE_ROWS = 200
YearPath = Annotated[int, Path(ge=2009, le=2100, description="tax year")]
FilterQuery = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:\-/ ]*$")]
TermQuery = Annotated[str, Query(pattern=r"^(short|long)?$")]
RowKeyPath = Annotated[str, Path(max_length=300, description="DISPOSAL_ID~TERM")]
FormatPath = Annotated[
    str, Path(pattern="^(" + "|".join(tax_downloads.FORMATS) + ")$", description="export format")
]
FileNamePath = Annotated[str, Path(max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")]


class DownloadFile(BaseModel):
    """One written export file."""

    name: str
    bytes: int
    media_type: str
    url: str


class Download(BaseModel):
    """The files of one export format of a year (``marginbook tax --format FORMAT --out DIR``)."""

    year: int
    format: str
    label: str
    files: list[DownloadFile]


def _download(dashboard: Dashboard, year: int, fmt: str) -> Download:
    files = [
        DownloadFile(
            name=path.name,
            bytes=path.stat().st_size,
            media_type=tax_downloads.media_type(path.name),
            url=f"/api/tax/{year}/downloads/{fmt}/{path.name}",
        )
        for path in dashboard.download(year, fmt)
    ]
    return Download(year=year, format=fmt, label=tax_downloads.LABELS[fmt], files=files)


def _row_or_404(keyed_rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    row = tax_views.find_row(keyed_rows, key)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no Form 8949 row {key!r} in this year")
    return row


@router.get("/api/tax/{year}", responses=COMPUTING, tags=["tax"])
def tax_api(dashboard: DashboardDep, year: YearPath) -> dict[str, Any]:
    """The tax JSON document of the year (``marginbook tax --format json``)."""
    return dashboard.tax(year)


@router.get("/api/tax/{year}/form-8949", responses=COMPUTING, tags=["tax"])
def form_8949_api(
    dashboard: DashboardDep,
    year: YearPath,
    wallet: FilterQuery = "",
    asset: FilterQuery = "",
    term: TermQuery = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """The year's Form 8949 rows, filtered by wallet, asset and term, ``limit`` at a time."""
    return tax_views.filter_rows(dashboard.tax_rows(year), RowFilter(wallet, asset, term))[
        offset : offset + limit
    ]


@router.get(
    "/api/tax/{year}/form-8949.csv", response_class=PlainTextResponse, responses=COMPUTING, tags=["tax"]
)
def form_8949_csv(
    dashboard: DashboardDep,
    year: YearPath,
    wallet: FilterQuery = "",
    asset: FilterQuery = "",
    term: TermQuery = "",
) -> Response:
    """The (filtered) rows as CSV, with every column and the lot ids."""
    text = tax_views.rows_csv(tax_views.filter_rows(dashboard.tax_rows(year), RowFilter(wallet, asset, term)))
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="form-8949-{year}.csv"'},
    )


@router.get(
    "/api/tax/{year}/rows/{row_key}",
    responses={404: {"description": "no such row"}, **COMPUTING},
    tags=["tax"],
)
def tax_row_api(dashboard: DashboardDep, year: YearPath, row_key: RowKeyPath) -> dict[str, Any]:
    """One 8949 row with the lots it used."""
    return _row_or_404(dashboard.tax_rows(year), row_key)


@router.get(
    "/api/tax/{year}/exports/{name}", responses={404: {"description": "no such export"}}, tags=["tax"]
)
def tax_export(
    dashboard: DashboardDep, year: YearPath, name: Annotated[str, Path(max_length=200)]
) -> Response:
    """Download one export file of the year (PDF, TXF, CSV ... written by ``marginbook tax --out``)."""
    for path in dashboard.exports(year):
        if path.name == name:
            return FileResponse(path, filename=path.name)
    raise HTTPException(status_code=404, detail="no such export")


@router.get("/api/tax/{year}/downloads/{fmt}", response_model=Download, responses=COMPUTING, tags=["tax"])
def download_api(dashboard: DashboardDep, year: YearPath, fmt: FormatPath) -> Download:
    """Write (on the first request, in the background) and list the files of an export format:
    ``pdf`` (Form 8949, Schedule D, Form 4952 and statements), ``csv`` (Form 8949 rows), ``txf``,
    ``turbotax``, ``json``; ``202`` with ``Retry-After`` until they are written."""
    return _download(dashboard, year, fmt)


@router.get(
    "/api/tax/{year}/downloads/{fmt}/{name}",
    responses={404: {"description": "no such file in this export"}, **COMPUTING},
    tags=["tax"],
)
def download_file(dashboard: DashboardDep, year: YearPath, fmt: FormatPath, name: FileNamePath) -> Response:
    """One file of an export format (written first if it is not yet: ``202`` meanwhile)."""
    for path in dashboard.download(year, fmt):
        if path.name == name:
            return FileResponse(path, media_type=tax_downloads.media_type(name), filename=name)
    raise HTTPException(status_code=404, detail=f"no file {name!r} in the {fmt} export of {year}")


@router.get("/taxes/{year}/downloads/{fmt}", include_in_schema=False)
def download_page(request: Request, dashboard: DashboardDep, year: YearPath, fmt: FormatPath) -> Response:
    """The files of one export format, written when first asked (a "computing…" page meanwhile)."""
    title = f"Taxes {year}: {tax_downloads.LABELS[fmt]}"
    try:
        download = _download(dashboard, year, fmt)
    except StillComputing as computing:
        context = {"computing": computing, "title": title, "active": "taxes"}
        response = render(request, "computing.html", context, 202)
        response.headers["Retry-After"] = str(computing.retry_after)
        return response
    context = {"year": year, "download": download, "title": title, "active": "taxes"}
    return render(request, "download.html", context)


@router.get("/taxes", include_in_schema=False)
def taxes_index(request: Request) -> Response:
    """The Taxes page of the last full year."""
    from fastapi.responses import RedirectResponse

    return RedirectResponse(f"/taxes/{datetime.now(UTC).year - 1}", status_code=303)


@router.get("/taxes/{year}", include_in_schema=False)
def taxes_page(
    request: Request,
    dashboard: DashboardDep,
    year: YearPath,
    wallet: FilterQuery = "",
    asset: FilterQuery = "",
    term: TermQuery = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """The Taxes page: filters, the 8949 table (:data:`PAGE_ROWS` at a time), Schedule D, Form 4952,
    downloads. While the year's engine run is going on: a "computing…" page that fills itself in."""
    try:
        document = dashboard.tax(year)
    except StillComputing as computing:
        context = {"computing": computing, "title": f"Taxes {year}", "year": year, "active": "taxes"}
        response = render(request, "computing.html", context, 202)
        response.headers["Retry-After"] = str(computing.retry_after)
        return response
    selection = RowFilter(wallet, asset, term)
    selected = tax_views.filter_rows(dashboard.tax_rows(year), selection)
    return render(
        request,
        "taxes.html",
        {
            "year": year,
            "document": document,
            "rows": selected[offset : offset + PAGE_ROWS],
            "row_count": len(selected),
            "offset": offset,
            "page_rows": PAGE_ROWS,
            "filter_query": urlencode({"wallet": wallet, "asset": asset, "term": term}),
            "choices": dashboard.tax_choices(year),
            "selection": selection,
            "schedule_d_parts": tax_views.SCHEDULE_D_PARTS,
            "schedule_d_totals": tax_views.SCHEDULE_D_TOTALS,
            "form_4952_lines": FORM_4952_LINES,
            "exports": dashboard.exports(year),
            "download_formats": [(fmt, tax_downloads.LABELS[fmt]) for fmt in tax_downloads.FORMATS],
            "query": request.url.query,
        },
    )


@router.get("/taxes/{year}/rows/{row_key}", include_in_schema=False)
def tax_row_page(request: Request, dashboard: DashboardDep, year: YearPath, row_key: RowKeyPath) -> Response:
    """One 8949 row and the lots it used."""
    row = _row_or_404(dashboard.tax_rows(year), row_key)
    return render(
        request,
        "tax_row.html",
        {"year": year, "row": row, "row_json": json.dumps(row, indent=2, default=str)},
    )
