"""Settings of the test Django app: Django 3.2 defaults (deferred SQLite
transactions, OPTIONS.timeout for the busy timeout, ATOMIC_REQUESTS-style
one transaction per unit of work left to the callers), the database chosen
by the environment (see manage.py). With DJSHOP_SWITCH_FILE both databases
are configured (the source, DJSHOP_FROM, as "default"; the target,
DJSHOP_TO, under its engine's name: sqlite → mysql unless they say
otherwise), shop.cutover.CutoverRouter follows the switch file and
shop.cutover.CutoverMiddleware runs each request (the checkout view of
djshop/urls.py) in one transaction;
DJSHOP_BEGIN=immediate makes SQLite transactions BEGIN IMMEDIATE
(shop.sqlite_immediate)."""
import os

SECRET_KEY = "test-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "shop",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _database(engine):
    if engine == "sqlite":
        immediate = os.environ.get("DJSHOP_BEGIN", "deferred") == "immediate"
        return {
            "ENGINE": "shop.sqlite_immediate" if immediate
            else "django.db.backends.sqlite3",
            "NAME": os.environ["DJSHOP_SQLITE"],
            "OPTIONS": {"timeout": float(os.environ.get("DJSHOP_TIMEOUT", "10"))},
        }
    if engine == "mysql":
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": os.environ.get("DJSHOP_MYSQL_DB", "shop"),
            "USER": os.environ.get("DJSHOP_MYSQL_USER", "root"),
            "PASSWORD": os.environ.get("DJSHOP_MYSQL_PASSWORD", ""),
            "HOST": os.environ.get("DJSHOP_MYSQL_SOCKET", ""),
            "OPTIONS": {"charset": "utf8mb4"},
        }
    if engine == "postgresql":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("DJSHOP_PG_DB", "shop"),
            "USER": os.environ.get("DJSHOP_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("DJSHOP_PG_PASSWORD", ""),
            "HOST": os.environ.get("DJSHOP_PG_HOST", ""),
            "PORT": os.environ.get("DJSHOP_PG_PORT", ""),
        }
    raise RuntimeError("the engine must be sqlite, mysql or postgresql, "
                       "not %r" % engine)


if os.environ.get("DJSHOP_SWITCH_FILE"):
    TARGET = os.environ.get("DJSHOP_TO", "mysql")
    DATABASES = {"default": _database(os.environ.get("DJSHOP_FROM", "sqlite")),
                 TARGET: _database(TARGET)}
    DATABASE_ROUTERS = ["shop.cutover.CutoverRouter"]
    MIDDLEWARE = ["shop.cutover.CutoverMiddleware"]
    ROOT_URLCONF = "djshop.urls"
    ALLOWED_HOSTS = ["testserver"]
else:
    DATABASES = {"default": _database(os.environ.get("DJSHOP_DB", "sqlite"))}
