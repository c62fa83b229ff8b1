#!/bin/bash
# package.sh build|test — the Debian package of cutover.
#
#   build  copies the tree (tracked and untracked files, not the build
#          output) to build/package/cutover-VERSION and runs
#          `dpkg-buildpackage -us -uc -b` there: Debian's own tools only;
#          the .deb lands in build/package/.
#   test   builds it, then:
#          1. lintian on the .deb and the .changes: no error and no warning
#             (overrides only with a reason, in debian/);
#          2. installs it with `dpkg --root` into a throwaway root (an empty
#             dpkg database; the libraries it needs are the machine's);
#          3. runs the installed `cutover --version` (the VERSION file's
#             version) and `cutover plan` on the installed minimal.json,
#             pointed at a small SQLite file and a private MariaDB;
#          4. renders both installed manual pages with `man --warnings -l`:
#             no warning; the installed bash completion completes commands
#             and ctl verbs;
#          5. migrates the demo database with the installed binary
#             (examples/demo.sh, DEMO_ROWS rows, default 3000): completed,
#             0 lost writes.
# Exit 0 when all of it holds; prints the package's size and lintian's
# output.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
VERSION=$(cat VERSION)
ARCH=$(dpkg --print-architecture)
OUT=$ROOT/build/package
DEB=$OUT/cutover_${VERSION}_${ARCH}.deb
PY=/usr/bin/python3

fail() { echo "package: FAIL: $*" >&2; exit 1; }

build() {
    local src=$OUT/cutover-$VERSION
    rm -rf "$OUT"
    mkdir -p "$src"
    git ls-files -z --cached --others --exclude-standard |
        xargs -0 cp --parents -t "$src" 2>/dev/null ||
        fail "could not copy the tree (is this a git checkout?)"
    echo "package: dpkg-buildpackage -us -uc -b in $src"
    (cd "$src" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 ||
        { tail -30 "$OUT/build.log" >&2; fail "dpkg-buildpackage failed (log: $OUT/build.log)"; }
    [ -f "$DEB" ] || fail "no $DEB after the build"
    echo "package: $(basename "$DEB"), $(stat -c %s "$DEB") bytes" \
         "($(dpkg-deb -f "$DEB" Installed-Size) KiB installed)"
}

check_lintian() {
    local report=$OUT/lintian.txt
    lintian --allow-root --fail-on error,warning "$DEB" \
        "$OUT/cutover_${VERSION}_${ARCH}.changes" >"$report" 2>&1 ||
        { cat "$report" >&2; fail "lintian reports errors or warnings"; }
    echo "package: lintian: $(grep -c . "$report" || true) lines of output"
    sed 's/^/    /' "$report"
}

test_installed() {
    local root mysqld out
    T=$(mktemp -d /tmp/co-pkg.XXXXXX)
    root=$T/root
    mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
    : >"$root/var/lib/dpkg/status"
    # the dependencies are the machine's own libraries, not in this root
    dpkg --root="$root" --force-depends --force-not-root \
        --log="$T/dpkg.log" -i "$DEB" >"$T/dpkg.out" 2>&1 ||
        { cat "$T/dpkg.out" >&2; fail "dpkg --root -i"; }
    local bin=$root/usr/bin/cutover
    [ -x "$bin" ] || fail "no usr/bin/cutover in the package"

    out=$("$bin" --version)
    echo "$out" | head -1 | grep -qx "cutover $VERSION" ||
        fail "cutover --version says: $out"
    echo "package: installed cutover --version: $(echo "$out" | head -1)"

    # plan on the installed minimal runbook
    # shellcheck source=tests/lib/mariadb.sh
    . "$ROOT/tests/lib/mariadb.sh"
    trap 'mariadb_stop "$T/db"; rm -rf "$T"' EXIT
    mariadb_start "$T/db" || fail "MariaDB did not start"
    mysqld=$MARIADB_SOCKET
    mariadb --no-defaults -S "$mysqld" -uroot -e \
        "CREATE USER migrator@localhost IDENTIFIED BY 'pw';
         GRANT ALL ON *.* TO migrator@localhost" ||
        fail "could not add the migrator user"
    sqlite3 "$T/app.sqlite3" "PRAGMA journal_mode=WAL;
        CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
        INSERT INTO note (body) VALUES ('one'), ('two')" >/dev/null
    $PY - "$root/usr/share/doc/cutover/examples/minimal.json" "$T" "$mysqld" <<'PYEOF'
import json, sys
rb = json.load(open(sys.argv[1]))
T, sock = sys.argv[2], sys.argv[3]
rb["state_dir"] = T + "/state"
rb["source"]["path"] = T + "/app.sqlite3"
rb["target"]["socket"] = sock
json.dump(rb, open(T + "/app.json", "w"))
PYEOF
    CUTOVER_TARGET_PASSWORD=pw "$bin" plan "$T/app.json" >"$T/plan.out" 2>&1 ||
        { cat "$T/plan.out" >&2; fail "installed cutover plan"; }
    grep -q "nothing blocks the migration" "$T/plan.out" ||
        { cat "$T/plan.out" >&2; fail "plan's report"; }
    echo "package: installed cutover plan on examples/minimal.json: nothing blocks"

    local page warn
    for page in man1/cutover.1.gz man5/cutover-runbook.5.gz; do
        [ -f "$root/usr/share/man/$page" ] || fail "no $page in the package"
        for loc in C C.UTF-8; do
            warn=$(LC_ALL=$loc MANWIDTH=80 man --warnings -l \
                   "$root/usr/share/man/$page" 2>&1 >/dev/null)
            [ -z "$warn" ] || fail "man -l $page ($loc): $warn"
        done
    done
    echo "package: both manual pages render without a warning"

    # the installed bash completion offers the commands and the ctl verbs
    out=$(bash -c '. /usr/share/bash-completion/bash_completion
        . "$1"
        complete_words() {
            COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
            _cutover; echo "${COMPREPLY[*]}"
        }
        complete_words cutover r; complete_words cutover ctl x.json ro' \
        sh "$root/usr/share/bash-completion/completions/cutover")
    [ "$out" = "run resume restore-backup
rollback" ] || fail "bash completion offers: $out"
    echo "package: bash completion offers the commands and ctl verbs"
    mariadb_stop "$T/db"
    trap 'rm -rf "$T"' EXIT

    out=$(CUTOVER_BIN=$bin DEMO_ROWS=${DEMO_ROWS:-3000} examples/demo.sh 2>&1) ||
        { echo "$out" | tail -30 >&2; fail "the demo with the installed cutover"; }
    echo "$out" | grep -E "^ +(migration|lost writes) " | sed 's/^/    /'
    echo "$out" | grep -qE "^ +migration +completed" || fail "demo: not completed"
    echo "$out" | grep -qE "^ +lost writes +0 " || fail "demo: writes lost"
    echo "package: the installed cutover migrated the demo database"
}

case "${1:-}" in
build) build ;;
test) build; check_lintian; test_installed; echo "package: ok" ;;
*) echo "usage: package.sh build|test" >&2; exit 2 ;;
esac
