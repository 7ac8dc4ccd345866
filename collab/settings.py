"""Collab's settings: every value comes from an environment variable with a safe default.

With no variables at all it runs on one machine: DEBUG off, a secret key generated into
var/secret_key, SQLite in var/, Celery on the filesystem broker in var/broker, e-mail printed to
the console, answering to loopback names only. DATABASE_URL and
CELERY_BROKER_URL switch to PostgreSQL and Redis without code changes.
"""

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Turns postgres://user:pass@host:port/name or sqlite:///path into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "collab",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": env_int("COLLAB_DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            # No JIT: every query here is a short OLTP read that answers in milliseconds, and
            # PostgreSQL's cost-based JIT fires on the large estimates of dashboard ranking queries,
            # compiling hundreds of functions for seconds before the first row (bench/RESULTS.md).
            "OPTIONS": {"options": "-c jit=off"},
        }
    if parts.scheme == "sqlite":
        return sqlite_database(Path(unquote(parts.path)))
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported: use postgres:// or sqlite:///."
    )


def sqlite_database(path: Path) -> dict[str, object]:
    # Several people submit at once: WAL lets readers run beside the writer, IMMEDIATE takes the
    # write lock at BEGIN (no deadlocking lock upgrade) and the timeout makes writers queue
    # instead of failing with "database is locked".
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        # A file, not memory: threads in tests must see the real locking behaviour. One per test
        # process, so two test runs on one machine do not write into each other's database.
        "TEST": {"NAME": path.with_name(f"test-{os.getpid()}-{path.name}")},
    }


def proxy_ssl_header(header: str) -> tuple[str, str] | None:
    """ "X-Forwarded-Proto" -> ("HTTP_X_FORWARDED_PROTO", "https"), the form Django expects."""
    if not header.strip():
        return None
    name = header.strip().upper().replace("-", "_")
    return (name if name.startswith("HTTP_") else f"HTTP_{name}", "https")


def ip_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for part in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {part!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)."
            ) from None
    return networks


MIN_SECRET_KEY_LENGTH = 50


def secret_key(given: str | None, key_file: Path) -> str:
    """COLLAB_SECRET_KEY when set (refused when short), else a key generated once into key_file.

    Every process on one host reads the same file, so sessions and signed links survive restarts
    and work across the web and worker processes. Several hosts share COLLAB_SECRET_KEY instead.
    The file is created readable by its owner only, in one step (a temporary file linked into
    place), so two processes starting together never read a half-written key.
    """
    if given is not None and given != "":
        if len(given) < MIN_SECRET_KEY_LENGTH or len(set(given)) < 5:
            raise ImproperlyConfigured(
                f"COLLAB_SECRET_KEY is too short: use at least {MIN_SECRET_KEY_LENGTH} random characters, "
                "e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )
        return given
    if key_file.exists():
        return key_file.read_text().strip()
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(64))
    try:
        os.link(temporary, key_file)
    except FileExistsError:
        pass  # another process won the race; its key is the one everybody uses
    finally:
        temporary.unlink()
    return key_file.read_text().strip()


VAR_DIR = Path(env_str("COLLAB_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Off unless asked for: `scripts/start --dev` (or COLLAB_DEBUG=true) turns it on.
DEBUG = env_bool("COLLAB_DEBUG", False)

SECRET_KEY = secret_key(os.environ.get("COLLAB_SECRET_KEY"), VAR_DIR / "secret_key")
# Loopback names unless told otherwise: a server reached under another name or address lists it
# (scripts/start derives the list from COLLAB_ADDR). Never "*": a forged Host header would
# otherwise reach password-reset links and absolute URLs.
ALLOWED_HOSTS = env_list("COLLAB_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
# Credentials stored in the database (directory sources, robot secrets) are encrypted with a key
# derived from this; it defaults to SECRET_KEY. Set it separately to rotate SECRET_KEY on its own.
ENCRYPTION_KEY = env_str("COLLAB_ENCRYPTION_KEY", SECRET_KEY)
# Rotation: the previous keys, comma-separated, still open stored values until
# `manage.py reseal_secrets` has encrypted them all with the current key (README).
ENCRYPTION_KEY_FALLBACKS = env_list("COLLAB_ENCRYPTION_KEY_FALLBACKS", [])
# Earlier keys still accepted for sessions and signed links while a new COLLAB_SECRET_KEY rolls out.
SECRET_KEY_FALLBACKS = env_list("COLLAB_SECRET_KEY_FALLBACKS", [])
CSRF_TRUSTED_ORIGINS = env_list("COLLAB_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "collab.org",
    "collab.audit",
    "collab.notify",
    "collab.exports",
    "requests_app",
    "tasks_app",
    "reviews_app",
    "collab.dashboards",
    "collab.movein",
]

MIDDLEWARE = [
    "collab.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the application server itself, compressed and with fingerprinted names
    # cached for ever: no separate web server is needed for them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Access refusals (collab.refusals) become 404/403 here, for every view.
    "collab.refusals.RefusalMiddleware",
    # Every write request to an archived item's pages is refused here, before its view runs.
    "requests_app.middleware.ArchivedItemMiddleware",
]

ROOT_URLCONF = "collab.urls"
WSGI_APPLICATION = "collab.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "collab.notify.context_processors.unread_notifications",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(_database_url)
    if _database_url
    else sqlite_database(VAR_DIR / "collab.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # The directory password of people synced from an LDAP source that signs people in.
    "collab.org.signin.ldap_backend.LdapBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # My work: what needs the person, most urgent first
LOGOUT_REDIRECT_URL = "login"
# A requirement form posted with an expired CSRF token is kept for its owner, not dropped.
CSRF_FAILURE_VIEW = "requests_app.draft_views.csrf_failure"
# Guardian: an anonymous user object is not needed; nobody sees anything without logging in.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["collab.formats"]
USE_I18N = True
TIME_ZONE = env_str("COLLAB_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic's output; made here so WhiteNoise finds the folder even before the first run.
STATIC_ROOT = Path(env_str("COLLAB_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes each file under a name carrying its hash, plus .gz copies.
    "staticfiles": {"BACKEND": "collab.staticfiles.StaticStorage"},
}
MEDIA_ROOT = Path(env_str("COLLAB_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: attachments go through a permission-checked view

# Background attachments of a requirement form.
COLLAB_MAX_UPLOAD_MB = env_int("COLLAB_MAX_UPLOAD_MB", 20)
COLLAB_ALLOWED_UPLOAD_EXTENSIONS = env_list(
    "COLLAB_ALLOWED_UPLOAD_EXTENSIONS",
    [
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "odt",
        "ods",
        "txt",
        "md",
        "csv",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "zip",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

_email_backend = env_str("COLLAB_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
_smtp_options: dict[str, object] = {}
if _email_backend == "django.core.mail.backends.smtp.EmailBackend":
    _smtp_options = {
        "host": env_str("COLLAB_SMTP_HOST", "localhost"),
        "port": env_int("COLLAB_SMTP_PORT", 25),
        "username": env_str("COLLAB_SMTP_USER", ""),
        "password": env_str("COLLAB_SMTP_PASSWORD", ""),
        "use_tls": env_bool("COLLAB_SMTP_STARTTLS", False),
        "use_ssl": env_bool("COLLAB_SMTP_SSL", False),
        "timeout": env_int("COLLAB_SMTP_TIMEOUT_SECONDS", 30),
    }
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _smtp_options}}
# Password guessing (collab/org/throttle.py): failures per account and per address before a
# lockout, its length, and password-reset e-mails per address within it.
COLLAB_ACCOUNT_FAILURES = env_int("COLLAB_ACCOUNT_FAILURES", 5)
COLLAB_ADDRESS_FAILURES = env_int("COLLAB_ADDRESS_FAILURES", 20)
COLLAB_LOCKOUT_MINUTES = env_int("COLLAB_LOCKOUT_MINUTES", 15)
COLLAB_RESET_REQUESTS = env_int("COLLAB_RESET_REQUESTS", 3)
# Notifications: the outbox's retries and the group robots' limits.
COLLAB_DELIVERY_MAX_ATTEMPTS = env_int("COLLAB_DELIVERY_MAX_ATTEMPTS", 10)
COLLAB_DELIVERY_BACKOFF_CAP_MINUTES = env_int("COLLAB_DELIVERY_BACKOFF_CAP_MINUTES", 60)
# The lease of a claimed delivery: older than this, the claim is a dead worker's and the message
# is sent again (robot requests time out within a third of it, SMTP's timeout is below it; see
# collab/notify/delivery.py).
COLLAB_DELIVERY_SENDING_TIMEOUT_SECONDS = env_int("COLLAB_DELIVERY_SENDING_TIMEOUT_SECONDS", 120)
# The lease of an archive being built: a build whose heartbeat is older is a dead worker's and
# is queued again by the sweep (reviews_app/archive_sweep.py; heartbeats come every quarter lease).
COLLAB_ARCHIVE_LEASE_SECONDS = env_int("COLLAB_ARCHIVE_LEASE_SECONDS", 300)
# Excel exports of more rows than this are written in the background (a page with progress, then
# a download link): a web worker's timeout (COLLAB_WEB_TIMEOUT) covers the whole response, and
# the register writes about 10,000 rows a second. Smaller ones stream at once.
COLLAB_EXPORT_BACKGROUND_ROWS = env_int("COLLAB_EXPORT_BACKGROUND_ROWS", 5000)
# How long a background export's file is kept for the person who asked for it.
COLLAB_EXPORT_KEEP_HOURS = env_int("COLLAB_EXPORT_KEEP_HOURS", 24)
# How many worker processes share a wave of due warnings on PostgreSQL (tasks_app.alerts.
# sweep_parts; SQLite always sweeps in one).
COLLAB_ALERT_SWEEP_PARTS = env_int("COLLAB_ALERT_SWEEP_PARTS", 2)
# The lease of an export being written (renewed every second while rows are written).
COLLAB_EXPORT_LEASE_SECONDS = env_int("COLLAB_EXPORT_LEASE_SECONDS", 300)
COLLAB_ROBOT_RATE_LIMIT_PER_MINUTE = env_int("COLLAB_ROBOT_RATE_LIMIT_PER_MINUTE", 20)
COLLAB_ROBOT_TIMEOUT_SECONDS = env_int("COLLAB_ROBOT_TIMEOUT_SECONDS", 10)
# Where links in e-mails point: the address people open Collab at.
COLLAB_BASE_URL = env_str("COLLAB_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env_str("COLLAB_DEFAULT_FROM_EMAIL", "collab@localhost")

# Celery: Redis when CELERY_BROKER_URL says so, else kombu's filesystem transport (one host).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # COLLAB_BROKER_DIR: another folder (each parallel test process has its own).
    _broker_dir = Path(env_str("COLLAB_BROKER_DIR", str(VAR_DIR / "broker")))
    _broker_dir.mkdir(parents=True, exist_ok=True)  # kombu fails when the folder is missing
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        # kombu's default is ./control, relative to wherever the process started.
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("COLLAB_CELERY_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE

# --- Production hardening: each switch an environment variable with a safe default ------------
# COLLAB_HTTPS=true says people reach Collab over HTTPS (directly or through a reverse proxy); it
# turns on secure cookies, the redirect to HTTPS and HSTS, each of which can still be set alone.
COLLAB_HTTPS = env_bool("COLLAB_HTTPS", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("COLLAB_SECURE_COOKIES", COLLAB_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("COLLAB_SSL_REDIRECT", COLLAB_HTTPS)
SECURE_HSTS_SECONDS = env_int("COLLAB_HSTS_SECONDS", 31_536_000 if COLLAB_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("COLLAB_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("COLLAB_HSTS_PRELOAD", False)
# The header a reverse proxy sets to say the original request was HTTPS, e.g. X-Forwarded-Proto.
# Only set it when the proxy always sets (or strips) that header: a client could send it too.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env_str("COLLAB_PROXY_SSL_HEADER", ""))
# Addresses (or networks) of reverse proxies whose X-Forwarded-For is believed. A request from one
# of them is recorded (signatures, audit, throttling) under the client address the proxy names;
# from anywhere else under the connection's own address, whatever X-Forwarded-For claims.
COLLAB_TRUSTED_PROXIES = ip_networks("COLLAB_TRUSTED_PROXIES")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (Django's own): scripts only from our static files, so an injected
# <script> or on*="..." attribute does not run. Inline style attributes stay allowed: the timeline
# and load bars position their cells with them, and styles cannot run code.
_csp = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
_csp_mode = env_str("COLLAB_CSP", "enforce")
if _csp_mode not in {"enforce", "report-only", "off"}:
    raise ImproperlyConfigured(f"COLLAB_CSP={_csp_mode!r}: use enforce, report-only or off.")
SECURE_CSP = _csp if _csp_mode == "enforce" else {}
SECURE_CSP_REPORT_ONLY = _csp if _csp_mode == "report-only" else {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("COLLAB_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every rendering step at INFO; only its warnings are worth reading.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
