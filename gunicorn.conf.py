"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Environment:
  BIND             address to listen on, e.g. "0.0.0.0:8000" or "unix:/run/taizhang.sock"
  PORT             when BIND is unset: listen on 0.0.0.0:$PORT (the usual PaaS convention)
                   neither set: 127.0.0.1:8000
  WEB_CONCURRENCY  worker processes (default 2 x CPU cores + 1)
  FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-Proto (read by gunicorn itself;
                   default 127.0.0.1), so TAIZHANG_ENV=production sees HTTPS behind a proxy
"""

import multiprocessing
import os

if os.environ.get("BIND"):
    bind = [os.environ["BIND"]]
elif os.environ.get("PORT"):
    bind = [f"0.0.0.0:{os.environ['PORT']}"]
else:
    bind = ["127.0.0.1:8000"]

workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# Build the app once in the master; workers fork from it.
preload_app = True

accesslog = "-"  # stdout
errorlog = "-"  # stderr


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """Connections opened in the master must not be shared with the forked workers."""
    from crm.db import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


# gunicorn ≥ 25.1 opens a control socket under ~/.gunicorn; a stateless web tier needs none.
control_socket_disable = True
