"""The public transparency report and its tables as CSV."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from forum.permissions import require
from forum.services import transparency

bp = Blueprint("transparency", __name__)


@bp.route("/transparency")
def report():
    require(current_user, "view_transparency_report")
    return render_template(
        "transparency.html",
        report=transparency.transparency_report(),
        small_group=transparency.SMALL_GROUP,
        tables=transparency.TABLES,
    )


@bp.route("/transparency/<name>.csv")
def table_csv(name: str):
    require(current_user, "view_transparency_report")
    if name not in transparency.TABLES:
        abort(404)
    header, rows = transparency.table(transparency.transparency_report(), name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=transparency-{name}.csv"},
    )
