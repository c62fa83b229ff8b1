"""Settings of the test Django app: Django 3.2 defaults (deferred SQLite
transactions, OPTIONS.timeout for the busy timeout, ATOMIC_REQUESTS-style
one transaction per unit of work left to the callers), the database chosen
by the environment (see manage.py)."""
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


def _database(engine=None):
    engine = engine or os.environ.get("DJSHOP_DB", "sqlite")
    if engine == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
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


DATABASES = {"default": _database()}

# DJSHOP_FLAG=PATH: the README's way of following the switch ("How the
# application follows the switch", Django): both databases configured, and
# a router (shop/cutover.py) sends every query to the one the flag file
# names.
if os.environ.get("DJSHOP_FLAG"):
    DATABASES = {"default": _database("sqlite"), "mysql": _database("mysql")}
    DATABASE_ROUTERS = ["shop.cutover.CutoverRouter"]
