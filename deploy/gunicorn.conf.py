"""Gunicorn settings for Collab, used by scripts/start and by the systemd unit in deploy/.

Defaults suit the embedded setup (SQLite, 2 cores): 2 worker processes x 4 threads.
- Processes: one per core. Page rendering, Excel and PDF work is CPU-bound Python, so more
  processes than cores only queue on the CPU; 2 also means one slow request (a PDF) never stalls
  everybody.
- Threads: most of a request's time is spent waiting on the database or the disk, and threads
  wait cheaply. SQLite lets any number of readers run beside one writer (WAL); writers queue on
  its lock (IMMEDIATE transactions, 30 s timeout) however many processes there are, so more
  processes would not write faster.
On PostgreSQL set COLLAB_WEB_WORKERS to about 2 x cores (+1) per machine.
"""

import os

bind = os.environ.get("COLLAB_ADDR", "127.0.0.1:8000")
workers = int(os.environ.get("COLLAB_WEB_WORKERS", "2"))
threads = int(os.environ.get("COLLAB_WEB_THREADS", "4"))
worker_class = "gthread"
# A PDF of a long form takes seconds; nothing legitimate takes a minute.
timeout = int(os.environ.get("COLLAB_WEB_TIMEOUT", "60"))
graceful_timeout = 20
# Restart a process now and then so a slow leak never grows into an outage: rarely, since a new
# process starts cold (imports, connections, compiled statements) while the other carries the
# load. At 2,000, a worker serving 50 requests a second restarted every 40 s (bench/RESULTS.md,
# run 7).
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
# Gunicorn believes X-Forwarded-Proto only from these addresses (Collab itself believes
# X-Forwarded-For only from COLLAB_TRUSTED_PROXIES): the reverse proxy's, loopback by default.
forwarded_allow_ips = os.environ.get("COLLAB_TRUSTED_PROXIES", "127.0.0.1,::1")
# Gunicorn 23+ opens a control socket in the home folder; Collab does not use it, and two servers
# on one machine would fight over it.
control_socket_disable = True

# After this many requests a process has built what it keeps for its life (URL patterns,
# templates, translations, compiled statements): the garbage collector leaves it alone from then
# on (collab.lib.memory.settle). Its full passes over all of it took 150-230 ms of CPU with the
# GIL held, stalling the process's threads (bench/RESULTS.md, run 8). 0: never.
SETTLE_AFTER_REQUESTS = int(os.environ.get("COLLAB_WEB_SETTLE_AFTER", "50"))


def post_request(worker, req, environ, resp):  # gunicorn calls it after each request
    if SETTLE_AFTER_REQUESTS and worker.nr >= SETTLE_AFTER_REQUESTS:
        from collab.lib.memory import settle

        settle()
