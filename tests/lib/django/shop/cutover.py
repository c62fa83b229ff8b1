"""The README's router for following cutover's switch (its "How the
application follows the switch", Django), with the flag file's path from
DJSHOP_FLAG: every query goes to the database the file names, "sqlite"
(the default alias) or "mysql"."""
import os

FLAG = os.environ.get("DJSHOP_FLAG", "/etc/ecommerce/db-backend")
_cache = {"mtime": None, "alias": "default"}


def current_alias():
    try:
        mtime = os.stat(FLAG).st_mtime_ns
    except FileNotFoundError:
        return "default"
    if mtime != _cache["mtime"]:
        with open(FLAG) as f:
            _cache["alias"] = "mysql" if f.read().strip() == "mysql" else "default"
        _cache["mtime"] = mtime
    return _cache["alias"]


class CutoverRouter:
    def db_for_read(self, model, **hints):
        return current_alias()

    def db_for_write(self, model, **hints):
        return current_alias()

    def allow_relation(self, obj1, obj2, **hints):
        return True
