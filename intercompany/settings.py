"""Settings for the Intercompany project, driven by environment variables.

DATABASE_URL  database to use; default: an SQLite file ``db.sqlite3`` in the project folder.
              PostgreSQL: ``postgres://user@host:5432/name``.
SECRET_KEY    required when DEBUG is off.
DEBUG         ``1``/``true`` to enable debug mode; default on for a local checkout.
ALLOWED_HOSTS comma-separated host names; default ``127.0.0.1,localhost`` (plus ``testserver``).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders:sales-order-list"

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

# Origins allowed to POST besides the site itself, e.g. https://intercompany.example.com when a
# proxy rewrites the Host header (comma-separated).
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        # Failed logins, lockouts and refused access (intercompany/security.py), at WARNING.
        "intercompany": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "orders": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    },
}
