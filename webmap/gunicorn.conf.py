# gunicorn settings for the public web map: `gunicorn -c gunicorn.conf.py wsgi:app`
import multiprocessing

bind = "127.0.0.1:8000"
workers = max(2, multiprocessing.cpu_count())
# the atlas and the search index are loaded once, then shared by the workers (a PostGIS atlas opens
# its connection pool again in each worker: connections are never shared across a fork)
preload_app = True
accesslog = "-"
