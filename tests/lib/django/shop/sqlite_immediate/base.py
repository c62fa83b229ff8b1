"""SQLite with transactions that begin with BEGIN IMMEDIATE, for Django
3.2 to 5.0 (Django 5.1 has OPTIONS {"transaction_mode": "IMMEDIATE"}).

A deferred transaction (Django's default) that has read and then writes
gets "database is locked" at once when another connection holds SQLite's
write lock or has committed since the read: the busy timeout is not used
for it. A transaction that takes the write lock first waits on the busy
timeout instead. Use it as the ENGINE: "shop.sqlite_immediate"."""
from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        self.cursor().execute("BEGIN IMMEDIATE")
