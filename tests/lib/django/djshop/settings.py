"""Settings of the test Django app: Django 3.2 defaults (deferred SQLite
transactions, OPTIONS.timeout for the busy timeout, ATOMIC_REQUESTS-style
one transaction per unit of work left to the callers), the database chosen
by the environment (see manage.py). With DJSHOP_SWITCH_FILE both databases
are configured, shop.cutover.CutoverRouter follows the switch file and
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
    raise RuntimeError("DJSHOP_DB must be sqlite or mysql, not %r" % engine)


if os.environ.get("DJSHOP_SWITCH_FILE"):
    DATABASES = {"default": _database("sqlite"), "mysql": _database("mysql")}
    DATABASE_ROUTERS = ["shop.cutover.CutoverRouter"]
    MIDDLEWARE = ["shop.cutover.CutoverMiddleware"]
    ROOT_URLCONF = "djshop.urls"
    ALLOWED_HOSTS = ["testserver"]
else:
    DATABASES = {"default": _database(os.environ.get("DJSHOP_DB", "sqlite"))}
