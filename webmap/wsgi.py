"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app`` (run from this folder).

Settings come from PLACEGEO_* environment variables (PLACEGEO_ATLAS, or PLACEGEO_ATLASES for one atlas
per city, PLACEGEO_TILES, ...).
"""

from placegeo.web import create_app

app = create_app()
