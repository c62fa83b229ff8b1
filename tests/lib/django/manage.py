#!/usr/bin/python3
"""manage.py of the test Django app (Debian's python3-django 3.2).

The database comes from the environment, so one app follows a migration:
  DJSHOP_DB=sqlite DJSHOP_SQLITE=/path/shop.sqlite3
  DJSHOP_DB=mysql  DJSHOP_MYSQL_SOCKET=/path/mysqld.sock DJSHOP_MYSQL_DB=shop
                   [DJSHOP_MYSQL_USER=root DJSHOP_MYSQL_PASSWORD=...]
"""
import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djshop.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
