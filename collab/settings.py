"""Collab's settings: every value comes from an environment variable with a safe default.

With no variables at all it runs on one laptop: DEBUG on, SQLite in var/, Celery on the
filesystem broker in var/broker, e-mail printed to the console. DATABASE_URL and
CELERY_BROKER_URL switch to PostgreSQL and Redis without code changes.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
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


VAR_DIR = Path(env_str("COLLAB_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("COLLAB_DEBUG", True)

# Used only while DEBUG is on; production refuses to start without COLLAB_SECRET_KEY.
_DEV_SECRET_KEY = "collab-development-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("COLLAB_SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "COLLAB_SECRET_KEY must be set when COLLAB_DEBUG is false "
        "(a long random string, the same for every process)."
    )
# Credentials stored in the database (directory sources, robot secrets) are encrypted with a key
# derived from this; it defaults to SECRET_KEY. Set it separately to rotate SECRET_KEY on its own.
ENCRYPTION_KEY = env_str("COLLAB_ENCRYPTION_KEY", SECRET_KEY)
ALLOWED_HOSTS = env_list(
    "COLLAB_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "COLLAB_ALLOWED_HOSTS must list the host names Collab is served under "
        "when COLLAB_DEBUG is false, e.g. collab.example.com."
    )
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
    "requests_app",
    "tasks_app",
    "reviews_app",
    "collab.dashboards",
    "collab.movein",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Access refusals (collab.refusals) become 404/403 here, for every view.
    "collab.refusals.RefusalMiddleware",
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
STATIC_ROOT = Path(env_str("COLLAB_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
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

MAILERS = {
    "default": {
        "BACKEND": env_str("COLLAB_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
    }
}
# Notifications: the outbox's retries and the group robots' limits.
COLLAB_DELIVERY_MAX_ATTEMPTS = env_int("COLLAB_DELIVERY_MAX_ATTEMPTS", 10)
COLLAB_DELIVERY_BACKOFF_CAP_MINUTES = env_int("COLLAB_DELIVERY_BACKOFF_CAP_MINUTES", 60)
# Longer than any robot or SMTP timeout: a claim older than this is a crashed worker's.
COLLAB_DELIVERY_SENDING_TIMEOUT_SECONDS = env_int("COLLAB_DELIVERY_SENDING_TIMEOUT_SECONDS", 300)
COLLAB_ROBOT_RATE_LIMIT_PER_MINUTE = env_int("COLLAB_ROBOT_RATE_LIMIT_PER_MINUTE", 20)
COLLAB_ROBOT_TIMEOUT_SECONDS = env_int("COLLAB_ROBOT_TIMEOUT_SECONDS", 10)
# Where links in e-mails point: the address people open Collab at.
COLLAB_BASE_URL = env_str("COLLAB_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env_str("COLLAB_DEFAULT_FROM_EMAIL", "collab@localhost")

# Celery: Redis when CELERY_BROKER_URL says so, else kombu's filesystem transport (one host).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)  # kombu fails when the folder is missing
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("COLLAB_CELERY_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("COLLAB_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

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
