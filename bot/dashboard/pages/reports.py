"""The overview's counts and the CSV and XLSX exports of the list."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from urllib.parse import urlencode

from starlette.responses import Response, StreamingResponse

from bot.dashboard import labels
from bot.dashboard.views import Ctx, Views
from bot.store import dashboard as ds


class ReportPages(Views):
    def overview_page(self, ctx: Ctx) -> Response:
        filters = ds.Filters.parse(ctx.request.query_params)
        data = ds.overview(ctx.db, ctx.me, filters)
        t = self.gettext

        def named(rows, names):
            return [(t(names[k]) if k in names else k, n) for k, n in rows]

        charts = [
            (t("Par statut"), named(data.by_status, labels.STATUS)),
            (t("Par catégorie"), named(data.by_category, labels.CATEGORY)),
            (t("Par pays"), named(data.by_country, labels.COUNTRIES)),
            (t("Par zone"), data.by_cluster),
            (t("Par semaine de réception"), data.by_week),
        ]
        return self.render("overview.html", ctx, data=data, charts=charts,
                           query=filters.as_params())

    def _export_rows(self, ctx: Ctx, kind: str) -> tuple[ds.Principal, ds.Filters]:
        filters = ds.Filters.parse(ctx.request.query_params)
        ds.audit(ctx.db, ctx.me, "export", detail=f"{kind} {urlencode(filters.as_params())}",
                 address=ctx.address)
        return ctx.me, filters

    def _rows(self, me: ds.Principal, filters: ds.Filters) -> Iterator[list[str]]:
        with self.db.session() as session:
            yield from ds.export_rows(session, me, filters)

    def export_csv(self, ctx: Ctx) -> Response:
        me, filters = self._export_rows(ctx, "csv")

        def chunks() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
            for n, row in enumerate(self._rows(me, filters)):
                writer.writerow([neutralise(v) for v in row])
                if n % 200 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="demandes.csv"'})

    def export_xlsx(self, ctx: Ctx) -> Response:
        me, filters = self._export_rows(ctx, "xlsx")

        def chunks() -> Iterator[bytes]:
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell

            # Write-only mode keeps rows on disk, not in memory; the finished file is then
            # streamed (an XLSX is a zip: nothing can be sent before it is complete).
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("demandes")
            for row in self._rows(me, filters):
                cells = []
                for value in row:
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"  # text, always: "=..." is never a formula
                    cells.append(cell)
                sheet.append(cells)
            with tempfile.TemporaryFile() as handle:
                workbook.save(handle)
                handle.seek(0)
                while block := handle.read(64 * 1024):
                    yield block

        return StreamingResponse(
            chunks(), media_type="application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="demandes.xlsx"'})


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A CSV cell a spreadsheet will not read as a formula."""
    return "'" + value if value and value.startswith(_FORMULA_START) else value
