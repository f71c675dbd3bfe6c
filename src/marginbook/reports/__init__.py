"""Render the tax engine's figures for people and for other software.

``exports.write_export`` is the entry point: given the JSON document of ``marginbook tax``
it writes the official IRS forms filled (Form 8949, Schedule D, Form 4952, from the IRS's
own fillable PDFs bundled in ``forms/``), our own statements (summary, capital loss
carryover worksheet, lot detail), a CSV of every Form 8949 row, a TXF V042 file for
desktop tax software, or TurboTax Online's crypto CSV. Every renderer starts from the same
typed document (:mod:`marginbook.reports.document`), so the files always agree.
"""
