"""The platform's settings. parlor's part is ``INSTALLED_APPS`` and ``PARLOR``; the values come
from the environment, as in production (the tests set them for the parlor they started)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "test-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "tests.marketplace.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "parlor.django",
    "tests.marketplace",
]

PARLOR = {
    "URL": os.environ.get("PARLOR_URL", "http://127.0.0.1:8080"),  # parlor as browsers reach it
    "API_KEY": os.environ.get("PARLOR_API_KEY", ""),  # parlor's api_key: the server API
    "JWT_SECRET": os.environ.get("PARLOR_JWT_SECRET", ""),  # parlor's jwt_secret: users' tokens
    "WEBHOOK_SECRET": os.environ.get("PARLOR_WEBHOOK_SECRET", ""),  # the webhook endpoint's secret
}

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("DJANGO_DB_PATH", ":memory:")}
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The platform's own API tokens (SimpleJWT); test_simplejwt.py hands these to parlor.
SIMPLE_JWT = {"SIGNING_KEY": os.environ.get("SIMPLEJWT_SIGNING_KEY", "simplejwt-test-signing-key-0123456789")}
