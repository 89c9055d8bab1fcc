"""Settings for mediaimport. Everything a deployment may change is read from the environment
here, through the helpers in mediaimport.env; docs/settings.md lists the variables."""

import json
import os
from pathlib import Path

import dj_database_url

from mediaimport.env import env_bool, env_int, env_list, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("MEDIAIMPORT_DATA_DIR", str(BASE_DIR / "var"))).resolve()
# Family photos, the database (sessions, password hashes) and the secret key live here: a folder
# this app creates is its owner's only, so other accounts on the server cannot look in.
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or ["localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "jobs",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mediaimport.urls"
WSGI_APPLICATION = "mediaimport.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite is shared by the web server and every cluster worker. WAL lets readers go on while one
# writer writes; IMMEDIATE transactions take the write lock at BEGIN, so two writers queue on the
# busy timeout instead of failing with "database is locked" when a read turns into a write.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA busy_timeout=30000;"
        "PRAGMA foreign_keys=ON;"
    ),
}

if database_url := env_str("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    # Tests that start a real cluster need the test database on disk, where other processes see it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
# The zone in which capture times that carry no offset are read (the contract's
# MEDIAIMPORT_TIME_ZONE); Django shows its own times (created, started) in it too.
TIME_ZONE = env_str("MEDIAIMPORT_TIME_ZONE", "UTC")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at every start when it is missing
# Served by WhiteNoise straight from the project's static/ folder, so `make run` needs no
# collectstatic step; `collectstatic` still works for a deployment that wants compressed files.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploads and thumbnails live in the data dir, reached only through Django's storage API, so a
# deployment can swap in shared or object storage (docs/deploy.md): MEDIAIMPORT_STORAGE names
# another storage class (e.g. django-storages' "storages.backends.s3.S3Storage") and
# MEDIAIMPORT_STORAGE_OPTIONS gives its options as a JSON object.
MEDIA_ROOT = DATA_DIR
MEDIA_URL = "/media/"
STORAGES = {
    "default": {
        "BACKEND": env_str("MEDIAIMPORT_STORAGE", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(env_str("MEDIAIMPORT_STORAGE_OPTIONS", "{}")),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Every uploaded file goes to a temporary file on disk, never whole into memory. The temporary
# files sit in the data dir, on the same file system as the uploads, so storing one is a rename:
# a file is in its place whole or not at all.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "incoming"
FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)

# Web security. Cookies are marked Secure and HSTS is sent when the site is served over HTTPS
# (DJANGO_HTTPS=1, behind a proxy that sets X-Forwarded-Proto); see docs/security.md.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The JSON API answers a failed CSRF check with a JSON error, the pages with Django's page.
CSRF_FAILURE_VIEW = "jobs.api.csrf_failure"
if env_bool("DJANGO_HTTPS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    # Off unless asked: they bind every subdomain of the host's domain to HTTPS, for good.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)

# --- mediaimport ---------------------------------------------------------------------------
MEDIAIMPORT_IMPORT_ROOTS = [Path(p) for p in env_list("MEDIAIMPORT_IMPORT_ROOTS", os.pathsep)]
# Folders exports from the web page and the API may write into (manage.py export is not limited).
MEDIAIMPORT_EXPORT_ROOTS = [Path(p) for p in env_list("MEDIAIMPORT_EXPORT_ROOTS", os.pathsep)]
# Files one task processes. Small enough that several workers share a job and a restarted
# worker repeats little; large enough that the queue's own cost per task stays negligible.
# Measured (docs/performance.md): 10 rather than 20 keeps every worker busy to the end of a job
# (the last batch is half as long) and spreads an upload of 20 photos over two workers, for
# well under 1 ms of queue work per file.
MEDIAIMPORT_BATCH_SIZE = env_int("MEDIAIMPORT_BATCH_SIZE", 10)
# A file whose processing took a worker down this many times is recorded as an error and skipped.
MEDIAIMPORT_MAX_FILE_ATTEMPTS = env_int("MEDIAIMPORT_MAX_FILE_ATTEMPTS", 3)
# Decompression-bomb guard: images declaring more pixels than this are refused, not decoded.
MEDIAIMPORT_MAX_IMAGE_PIXELS = env_int("MEDIAIMPORT_MAX_IMAGE_PIXELS", 200_000_000)
# One upload request: a body larger than this answers 413, more files than this answers 400.
MEDIAIMPORT_UPLOAD_MAX_BYTES = env_int("MEDIAIMPORT_UPLOAD_MAX_BYTES", 4 * 1024**3)
MEDIAIMPORT_UPLOAD_MAX_FILES = env_int("MEDIAIMPORT_UPLOAD_MAX_FILES", 1000)
DATA_UPLOAD_MAX_NUMBER_FILES = MEDIAIMPORT_UPLOAD_MAX_FILES
# Each uploaded file may come with two form fields (last_modified, relative_path).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2 * MEDIAIMPORT_UPLOAD_MAX_FILES + 100

# django-q2, with the database as the broker. The numbers are chosen together:
# - timeout: a task is one batch of MEDIAIMPORT_BATCH_SIZE files; even slow files (full HEVC
#   decodes, video probes, which have their own time limit) finish far inside it.
# - retry: the ORM broker hands a task out again once `retry` seconds pass without a result, so it
#   must exceed `timeout` or a slow batch would run twice. A task whose cluster or worker is gone
#   does not wait for it: broker_class leases every task to the cluster that takes it, and a lease
#   whose holder is gone is handed out again at once (jobs/services/liveness.py).
# - max_attempts: bounds tasks that fail by exception; per-file crash attempts are counted by
#   jobs themselves, since django-q2 does not count a killed worker's attempts.
# - ack_failures: a failed task leaves the queue instead of looping; the job's own state says
#   which files are still to do.
# - recycle / max_rss: workers restart after some batches or when they grow large, returning the
#   memory decoders leak or fragment.
# - workers: one per core; decoding is CPU-bound.
MEDIAIMPORT_TASK_TIMEOUT = env_int("MEDIAIMPORT_TASK_TIMEOUT", 600)
Q_CLUSTER = {
    "name": "mediaimport",
    "orm": "default",
    "broker_class": "jobs.services.liveness.LeasingBroker",
    "workers": env_int("MEDIAIMPORT_WORKERS", os.cpu_count() or 1),
    "timeout": MEDIAIMPORT_TASK_TIMEOUT,
    "retry": env_int("MEDIAIMPORT_TASK_RETRY", MEDIAIMPORT_TASK_TIMEOUT + 60),
    "max_attempts": 3,
    "ack_failures": True,
    "recycle": 100,
    "max_rss": 512_000,
    "save_limit": 100,
    "queue_limit": 2 * (os.cpu_count() or 1),
    "poll": 0.2,
    "catch_up": False,
    "label": "Task queue",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("MEDIAIMPORT_LOG_LEVEL", "INFO")},
    "loggers": {"django": {"level": "INFO"}, "django-q": {"level": "INFO"}},
}
