#!/bin/bash
# check_layers.sh [ROOT] — the floors of DESIGN §1 hold: every file of the
# program includes only its own floor and the floors below it, and an
# engine's client header only inside that engine's driver folder.
#
#   1 lib/          2 checkpoints/    3 sync/ (sync/drivers/ included)
#   4 stages/ (stages/plan/ included) 5 orchestrator/
#
# An engine's folder, sync/drivers/ENGINE/, is private to it: only files in
# it include its headers (the registry reaches a driver through the ops
# table it exports, declared in sync/drivers/source.h or target.h).
# Prints one line per broken rule, naming the file, the line and the
# include, and exits 1 when there is any; 0 and "layers: ok" otherwise.
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2

files=$(find lib checkpoints sync stages orchestrator -name '*.[ch]' \
        2>/dev/null | sort)
# One awk over every file: a subshell per include would take seconds.
# shellcheck disable=SC2086
awk '
function floor_of(p) {
    if (p ~ /^lib\//) return 1
    if (p ~ /^checkpoints\//) return 2
    if (p ~ /^sync\//) return 3
    if (p ~ /^stages\//) return 4
    if (p ~ /^orchestrator\//) return 5
    return 0
}
function engine_of(h) {
    if (h == "sqlite3.h") return "sqlite"
    if (h ~ /^(mysql\.h|mysql\/|mysqld_error\.h|errmsg\.h|mariadb_)/)
        return "mysql"
    if (h ~ /^(libpq-fe\.h|libpq\/|pg_config)/) return "postgresql"
    return ""
}
function complain(msg) { print "layers: " FILENAME ":" FNR ": " msg; bad = 1 }
match($0, /^[ \t]*#[ \t]*include[ \t]*[<"][^>"]*[>"]/) {
    inc = substr($0, RSTART, RLENGTH); sub(/^[^<"]*/, "", inc)
    name = substr(inc, 2, length(inc) - 2)
    here = floor_of(FILENAME)
    if (substr(inc, 1, 1) == "\"") {
        there = floor_of(name)
        if (there > here)
            complain("includes \"" name "\" (floor " there ") from floor " \
                     here ": an include must not run uphill")
        if (name ~ /^sync\/drivers\/[^\/]+\//) {
            split(name, part, "/")
            if (index(FILENAME, "sync/drivers/" part[3] "/") != 1)
                complain("includes \"" name "\", private to sync/drivers/" \
                         part[3] "/")
        }
    } else if ((engine = engine_of(name)) != "" &&
               index(FILENAME, "sync/drivers/" engine "/") != 1) {
        complain("includes " inc " outside sync/drivers/" engine "/")
    }
}
END {
    if (bad) exit 1
    print "layers: ok (" ARGC - 1 " files)"
}' $files
