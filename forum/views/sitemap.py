"""robots.txt and the sitemap, for search engines (issue 16)."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from forum.services import sitemap

bp = Blueprint("sitemap", __name__)

XML = "application/xml"


@bp.route("/robots.txt")
def robots():
    return Response(sitemap.robots_txt(), mimetype="text/plain")


@bp.route("/sitemap.xml")
def index():
    built = sitemap.build_sitemap()
    if built.parts == 1:
        return Response("".join(sitemap.urlset_xml(sitemap.sitemap_urls(built))), mimetype=XML)
    return Response("".join(sitemap.index_xml(built.parts)), mimetype=XML)


@bp.route("/sitemap-<int:part>.xml")
def part(part: int):
    built = sitemap.build_sitemap()
    if not 1 <= part <= built.parts:
        abort(404)
    return Response("".join(sitemap.urlset_xml(sitemap.sitemap_urls(built, part))), mimetype=XML)
