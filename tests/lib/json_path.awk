# json_path.awk — one value out of a JSON document, without starting
# Python: what common.sh's json_get uses for the paths the wait loops poll
# many times a second.
#
#   JSON_PATH='d["sync"]["backlog_rows"]' awk -f json_path.awk < doc.json
#
# JSON_PATH (from the environment: awk -v would expand backslashes) is a
# chain of subscripts on d, the document: ["key"], ['key'] (a key without
# a backslash) or [index]. Prints the value as Python's print() would: a
# string as its text, an integer as it is, true/false/null as
# True/False/None. Exits 2 (the caller then asks Python) for anything it
# does not print the same way: a path that is not there, an object or
# array, a number in a form python_float does not take, a string with a
# \u escape, a malformed document. Prints only at the end, once the whole
# document has been read.

BEGIN {
    path = ENVIRON["JSON_PATH"]
    want = ""
    bad_path = substr(path, 1, 1) != "d"
    rest = substr(path, 2)
    while (rest != "" && !bad_path) {
        if (match(rest, /^\["[^"\\]*"\]/) || match(rest, /^\['[^'\\]*'\]/))
            want = want SUBSEP "k" substr(rest, 3, RLENGTH - 4)
        else if (match(rest, /^\[[0-9]+\]/))
            want = want SUBSEP "i" (substr(rest, 2, RLENGTH - 2) + 0)
        else
            bad_path = 1
        rest = substr(rest, RLENGTH + 1)
    }
    if (bad_path)
        exit 2
}

{ doc = doc $0 "\n" }

END {
    if (bad_path)       # an exit in BEGIN still runs END
        exit 2
    s = doc; n = length(s); i = 1
    if (!value("") || !found)
        exit 2
    print result
    exit 0
}

function skip_space() {
    while (i <= n && index(" \t\r\n", substr(s, i, 1)))
        i++
}

# string: the JSON string at i (on its opening quote), unescaped; sets
# escaped_u when it held a \u escape
function string(   out, c, e) {
    out = ""
    i++
    while (i <= n && (c = substr(s, i, 1)) != "\"") {
        if (c == "\\") {
            e = substr(s, i + 1, 1)
            i += 2
            if (e == "n") out = out "\n"
            else if (e == "t") out = out "\t"
            else if (e == "r") out = out "\r"
            else if (e == "b") out = out "\b"
            else if (e == "f") out = out "\f"
            else if (e == "u") { escaped_u = 1; i += 4 }
            else out = out e
            continue
        }
        out = out c
        i++
    }
    if (i > n)
        return ""
    i++
    return out
}

# value(at): parse the value at i, whose path is at; print it if it is the
# one wanted. Returns 0 on a malformed document.
function value(at,   c, c2, key, idx, start, text) {
    skip_space()
    c = substr(s, i, 1)
    if (c == "{" || c == "[") {
        if (at == want)
            return 0            # an object or array: Python prints those
        i++
        skip_space()
        if (substr(s, i, 1) == (c == "{" ? "}" : "]")) {
            i++
            return 1
        }
        for (idx = 0; ; idx++) {
            skip_space()
            if (c == "{") {
                if (substr(s, i, 1) != "\"")
                    return 0
                key = string()
                skip_space()
                if (substr(s, i, 1) != ":")
                    return 0
                i++
                if (!value(at SUBSEP "k" key))
                    return 0
            } else if (!value(at SUBSEP "i" idx))
                return 0
            skip_space()
            c2 = substr(s, i, 1)
            i++
            if (c2 == ",")
                continue
            return c2 == (c == "{" ? "}" : "]")
        }
    }
    if (c == "\"") {
        escaped_u = 0
        text = string()
        if (at == want) {
            if (escaped_u)
                return 0
            result = text
            found = 1
        }
        return 1
    }
    start = i
    while (i <= n && !index(",]} \t\r\n", substr(s, i, 1)))
        i++
    text = substr(s, start, i - start)
    if (text == "")
        return 0
    if (at == want) {
        if (text == "true") result = "True"
        else if (text == "false") result = "False"
        else if (text == "null") result = "None"
        else if (text ~ /^-?[0-9]+$/ && text != "-0") result = text
        else if ((result = python_float(text)) == "") return 0
        found = 1
    }
    return 1
}

# python_float(text): a JSON number with a fraction as Python prints it
# (the shortest digits that read back as the same double), or "" when
# awk cannot be sure. A decimal of at most 15 significant digits reads
# back unchanged (DBL_DIG), so with no exponent and a size Python shows
# without one (1e-4 up to 1e16) those digits, less trailing zeros, are
# the ones Python prints.
function python_float(t,   sign, ip, fp, digits) {
    if (t !~ /^-?[0-9]+\.[0-9]+$/)
        return ""
    sign = ""
    if (substr(t, 1, 1) == "-") {
        sign = "-"
        t = substr(t, 2)
    }
    ip = substr(t, 1, index(t, ".") - 1)
    fp = substr(t, index(t, ".") + 1)
    sub(/0+$/, "", fp)
    if (fp == "")
        fp = "0"
    digits = ip fp
    sub(/^0+/, "", digits)
    sub(/0+$/, "", digits)
    if (length(digits) > 15 || length(ip) > 16)
        return ""
    if (ip == "0" && digits != "" && fp ~ /^0000/)
        return ""
    return sign ip "." fp
}
