# pristine.sh — a directory made once and kept to be copied: the pristine
# data directories of tests/lib/mariadb.sh and tests/lib/postgresql.sh.
#
#   pristine_dir CACHE KEY MARK MAKE
#
# prints CACHE/pristine-KEY, making it first when it has no MARK in it:
# `MAKE TMP` must leave the new directory in TMP/data. It is made beside
# its final place and renamed there in one step: callers running at the
# same time never see half of one, and the one that loses the race drops
# its own. Fails (1) when CACHE is empty or cannot be written.
pristine_dir() {
    local cache=$1 key=$2 mark=$3 make=$4 dir tmp
    [ -n "$cache" ] || return 1
    dir=$cache/pristine-$key
    if [ ! -e "$dir/$mark" ]; then
        mkdir -p "$cache" 2>/dev/null || return 1
        tmp=$(mktemp -d "$cache/.make.XXXXXX") || return 1
        # reachable by a server that runs as another user (postgres)
        chmod 755 "$tmp"
        "$make" "$tmp" || { rm -rf "$tmp"; return 1; }
        mv -T "$tmp/data" "$dir" 2>/dev/null
        rm -rf "$tmp"
        [ -e "$dir/$mark" ] || return 1
    fi
    echo "$dir"
}
