# gunicorn settings for the public web map, behind nginx (webmap/nginx.conf.template, started together by
# webmap/serve-prod or `make serve-prod`): `gunicorn -c gunicorn.conf.py 'placegeo.web:create_app()'`
#
# Worker class: sync. nginx buffers every request until it is complete and takes every answer at once,
# so a worker is busy only while it computes; no slow client ever holds it. The work is CPU-bound Python
# (search, GeoJSON), where threads (gthread) gain nothing under the GIL and would share one snapshot
# cache between concurrent requests. Without nginx in front, sync workers are NOT safe on a public
# network: two clients sending headers slowly block two workers until `timeout`.
import multiprocessing

bind = "127.0.0.1:8000"
worker_class = "sync"
workers = max(2, multiprocessing.cpu_count())
timeout = 60  # seconds a worker may spend on one request (the first download of a large layer)
graceful_timeout = 30
# the atlas and the search index are loaded once, then shared by the workers (a PostGIS atlas opens
# its connection pool again in each worker: connections are never shared across a fork)
preload_app = True
accesslog = "-"
