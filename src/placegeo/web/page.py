"""The public map page."""

from __future__ import annotations

from flask import Blueprint, render_template

__all__ = ["page"]

page = Blueprint("page", __name__)


@page.get("/")
def index():
    return render_template("index.html")
