"""Settings for the Intercompany project, driven by environment variables.

DATABASE_URL  database to use; default: an SQLite file ``db.sqlite3`` in the project folder.
              PostgreSQL: ``postgres://user@host:5432/name``.
SECRET_KEY    required when DEBUG is off.
DEBUG         ``1``/``true`` to enable debug mode; default on for a local checkout.
ALLOWED_HOSTS comma-separated host names; default ``127.0.0.1,localhost`` (plus ``testserver``).
TASKS_BACKEND ``database`` (default: queued in the database, run by ``manage.py db_worker``) or
              ``immediate`` (run in the web process right after the commit; no worker needed).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only for a local checkout with DEBUG on; never used in production.
    SECRET_KEY = "django-insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    # Slows down and locks out repeated failed logins (see the security settings below).
    "axes",
    "intercompany",
    "orders",
    "alerts",
    "webhooks",
    # The HTTP API (/api/v1/); "ninja" serves the documentation page's assets from its package.
    "ninja",
    "api",
]

# -- Background tasks (Django's Tasks framework) -------------------------------------------------
# Django 6 has it built in (django.tasks); on Django 5.2 the django-tasks backport provides the
# same API as an app. intercompany/background.py is the one place code imports it from.
TASKS_MODULE = "django.tasks" if django.VERSION >= (6, 0) else "django_tasks"
if TASKS_MODULE == "django_tasks":
    INSTALLED_APPS.append("django_tasks")
# The queue lives in the database (django-tasks-db): enqueuing inside a transaction commits or
# rolls back with it, and `manage.py db_worker` processes run the tasks, several of them safely
# against one PostgreSQL (each task is claimed under a row lock). `TASKS_BACKEND=immediate` runs
# each task in the web process after the commit instead, for an installation without a worker.
INSTALLED_APPS.append("django_tasks_db")
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend",
}
_tasks_backend = os.environ.get("TASKS_BACKEND", "").strip().lower() or "database"
if _tasks_backend not in TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}, not {_tasks_backend!r}."
    )
# "webhooks": change-event deliveries, on their own queue so that a worker of their own keeps a
# slow or failing receiver from delaying anything else (see README, Background workers).
TASKS = {
    "default": {"BACKEND": TASK_BACKENDS[_tasks_backend], "QUEUES": ["default", "webhooks"]}
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (settings below).
    "csp.middleware.CSPMiddleware",
    # Serves the collected static files (compressed, cached forever by their hashed names) from
    # the app server itself: no separate web server needed in front of gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the browser (Accept-Language) or of the switcher's cookie; an employee's
    # saved choice overrides it below, once the employee is known.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The logged-in employee's language and time zone (Preferences), for the whole request.
    "intercompany.locale.EmployeeLocaleMiddleware",
    # Every page needs a login unless its view says otherwise (only the login pages do), so a
    # new page cannot be published to anonymous visitors by forgetting a decorator.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Logs refused access (403, and 404s raised by views for logged-in employees).
    "intercompany.security.RefusalLogMiddleware",
    # Cache-Control: private, no-store on every page of a logged-in employee.
    "intercompany.security.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Lets django-simple-history attribute admin changes to the logged-in employee.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "intercompany.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alerts.context_processors.unread_alerts",
            ],
        },
    },
]

WSGI_APPLICATION = "intercompany.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several clerks saving at once on the embedded database: wait for the write lock instead of
    # failing with "database is locked", and take it at BEGIN so a transaction never has to
    # upgrade a read lock (the cause of SQLite's immediate "database is locked" errors).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

AUTH_USER_MODEL = "intercompany.Employee"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# -- Login throttling (django-axes) -------------------------------------------------------------
# The lockout check runs first; ModelBackend then checks the password. Five failed logins for one
# username from one address lock that pair for 15 minutes (a success resets the count): guessing
# is slowed to a crawl, yet nobody can lock a colleague out from another machine, nor lock a whole
# office behind one address. `manage.py axes_reset` (or the admin's "Access attempts") unlocks.
AUTHENTICATION_BACKENDS = [
    "intercompany.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "intercompany.security.lockout_response"
AXES_USERNAME_CALLABLE = "intercompany.security.username_for_throttling"
# Behind a reverse proxy, the client address is in X-Forwarded-For: set TRUSTED_PROXY_COUNT to
# the number of proxies in front of gunicorn (never set it when clients reach gunicorn directly:
# they could then forge their address).
if os.environ.get("TRUSTED_PROXY_COUNT"):
    AXES_IPWARE_PROXY_COUNT = int(os.environ["TRUSTED_PROXY_COUNT"])
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# English by default; French for employees who choose it (Preferences, the header's switcher)
# or whose browser asks for it. The catalogue is locale/fr/LC_MESSAGES/django.po (README,
# "Translations").
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The default time zone: of employees who chose none, of management commands and of logs. Each
# employee's own zone (Preferences) is activated for their requests.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# With DEBUG on (a local checkout, the tests), WhiteNoise serves the files straight from the app
# folders, so no collectstatic is needed; with DEBUG off, from STATIC_ROOT (see STORAGES below).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- HTTP API -----------------------------------------------------------------------------------
# Requests per minute for each API token (and each browser session's employee), counted in the
# database so that the limit holds across every gunicorn process.
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "600"))

LOGIN_URL = "login"
# After login, and at "/": the Needs attention page (alerts, orders other companies changed).
LOGIN_REDIRECT_URL = "alerts:needs-attention"

# Production safety comes from the environment: with DEBUG off, cookies are secure and HTTPS is
# enforced, so `manage.py check --deploy` is clean.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # `manage.py collectstatic` writes hashed, compressed copies that WhiteNoise serves with
    # far-future cache headers. Only without DEBUG: tests and a local checkout need no
    # collectstatic.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# -- Content-Security-Policy (django-csp 4) ------------------------------------------------------
# Everything comes from the site itself and nothing inline: the clerk screens have no JavaScript,
# and the admin's (Django 5.2+) is served from static files with its data in attributes, so an
# injected <script> or style="" would not run even if one got through the escaping. No framing
# (clickjacking), no plugins, forms post only to the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
    },
}
# -- Email ------------------------------------------------------------------------------------
# With EMAIL_HOST set, mail goes through that SMTP server; without it (the demo, a local
# checkout) it is printed on the console of the worker that sends it. A stalled SMTP server must
# not hold a worker: EMAIL_TIMEOUT gives up the attempt, and the alert email is retried later.
_smtp_port = int(os.environ.get("EMAIL_PORT", "587"))
MAIL_OPTIONS = {
    # In production (DEBUG off) mail always goes through SMTP, to localhost unless EMAIL_HOST
    # says otherwise: a console backend there would drop every alert email silently.
    "host": os.environ.get("EMAIL_HOST", "" if DEBUG else "localhost"),
    "port": _smtp_port,
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", _smtp_port == 587),
    "use_ssl": env_bool("EMAIL_USE_SSL", _smtp_port == 465),
    "timeout": int(os.environ.get("EMAIL_TIMEOUT", "20")),
}
_mail_backend = (
    "django.core.mail.backends.smtp.EmailBackend" if MAIL_OPTIONS["host"]
    else "django.core.mail.backends.console.EmailBackend"
)
if django.VERSION >= (6, 1):
    # Django 6.1 configures mail as MAILERS (the EMAIL_* settings are deprecated there).
    MAILERS = {
        "default": {
            "BACKEND": _mail_backend,
            "OPTIONS": MAIL_OPTIONS if MAIL_OPTIONS["host"] else {},
        }
    }
else:
    EMAIL_BACKEND = _mail_backend
    if MAIL_OPTIONS["host"]:
        EMAIL_HOST = MAIL_OPTIONS["host"]
        EMAIL_PORT = MAIL_OPTIONS["port"]
        EMAIL_HOST_USER = MAIL_OPTIONS["username"]
        EMAIL_HOST_PASSWORD = MAIL_OPTIONS["password"]
        EMAIL_USE_TLS = MAIL_OPTIONS["use_tls"]
        EMAIL_USE_SSL = MAIL_OPTIONS["use_ssl"]
    EMAIL_TIMEOUT = MAIL_OPTIONS["timeout"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Intercompany <intercompany@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where the links in emails point: the address clerks open the application at.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Alert emails the SMTP server refused or could not take: retried after 1, 2, 4 ... minutes
# (at most an hour apart), then recorded as failed after the last attempt.
ALERT_EMAIL_MAX_ATTEMPTS = int(os.environ.get("ALERT_EMAIL_MAX_ATTEMPTS", "6"))
ALERT_EMAIL_RETRY_BASE_SECONDS = float(os.environ.get("ALERT_EMAIL_RETRY_BASE_SECONDS", "60"))
ALERT_EMAIL_RETRY_MAX_SECONDS = float(os.environ.get("ALERT_EMAIL_RETRY_MAX_SECONDS", "3600"))

# Origins allowed to POST besides the site itself, e.g. https://intercompany.example.com when a
# proxy rewrites the Host header (comma-separated).
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# -- Change events (webhooks) -------------------------------------------------------------------
# Seconds. An attempt fails without a 2xx answer within WEBHOOK_TIMEOUT_SECONDS (to connect, and
# again to read); it is retried after WEBHOOK_RETRY_BASE_SECONDS, doubling up to
# WEBHOOK_RETRY_MAX_DELAY_SECONDS, for WEBHOOK_RETRY_FOR_SECONDS (a day), then marked failed. An
# endpoint whose attempts all failed for WEBHOOK_DISABLE_AFTER_SECONDS (3 days) is disabled.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "10"))
WEBHOOK_RETRY_MAX_DELAY_SECONDS = float(os.environ.get("WEBHOOK_RETRY_MAX_DELAY_SECONDS", "7200"))
WEBHOOK_RETRY_FOR_SECONDS = float(os.environ.get("WEBHOOK_RETRY_FOR_SECONDS", "86400"))
WEBHOOK_DISABLE_AFTER_SECONDS = float(os.environ.get("WEBHOOK_DISABLE_AFTER_SECONDS", "259200"))
# Webhooks go to the internet only: private, loopback and link-local addresses are refused, at
# registration and on connecting (webhooks/addresses.py). Set to 1 for receivers on the
# internal network.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        # Failed logins, lockouts and refused access (intercompany/security.py), at WARNING.
        "intercompany": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "orders": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        # Alert emails retried (WARNING) or given up (ERROR).
        "alerts": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "webhooks": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    },
}
