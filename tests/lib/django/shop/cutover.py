"""How the shop follows a cutover (README, "How the application follows
the switch"; the flag file comes from DJSHOP_SWITCH_FILE here).

A router sends every query to the database the flag file names, re-read
whenever the file changes, so a worker follows the switch within one
request, without a restart; the switch actions replace the file
atomically (write a new file, rename it over the old one). A middleware
runs each request in one transaction on the database in use, the whole
request on that database, and answers a request that met a fence with
a 503: it changed nothing, the next one goes to the other database.
(ATOMIC_REQUESTS would open a transaction on every database for every
request, on SQLite with BEGIN IMMEDIATE its write lock even for requests
that go to MySQL.)"""
import os
import threading

from django.db import DatabaseError, transaction
from django.http import HttpResponse

FLAG = os.environ.get("DJSHOP_SWITCH_FILE", "")   # names an engine
TARGET = os.environ.get("DJSHOP_TO", "mysql")     # the target's alias
_cache = {"mtime": None, "alias": "default"}
_request = threading.local()


def current_alias():
    """The database of the request in progress, else the flag file's."""
    pinned = getattr(_request, "alias", None)
    if pinned:
        return pinned
    try:
        mtime = os.stat(FLAG).st_mtime_ns
    except FileNotFoundError:
        return "default"
    if mtime != _cache["mtime"]:
        with open(FLAG) as f:
            _cache["alias"] = TARGET if f.read().strip() == TARGET \
                else "default"
        _cache["mtime"] = mtime
    return _cache["alias"]


def is_fence(exc):
    """Every fence: the source's "cutover: writes moved to target"
    (SQLite's RAISE, MySQL's SIGNAL) and the target's "cutover: writes
    moved back to source" (MySQL's 1644, PostgreSQL's 25006)."""
    return isinstance(exc, DatabaseError) and \
        "cutover: writes moved" in str(exc)


class CutoverRouter:
    def db_for_read(self, model, **hints):
        return current_alias()

    def db_for_write(self, model, **hints):
        return current_alias()

    def allow_relation(self, obj1, obj2, **hints):
        return True


class CutoverMiddleware:
    """Last in MIDDLEWARE, instead of ATOMIC_REQUESTS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        _request.alias = current_alias()
        try:
            with transaction.atomic(using=_request.alias):
                return view(request, *args, **kwargs)
        except DatabaseError as e:
            if not is_fence(e):
                raise
            return HttpResponse("The database moved; please retry.",
                                status=503, headers={"Retry-After": "1"})
        finally:
            _request.alias = None
