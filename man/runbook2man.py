#!/usr/bin/env python3
"""runbook2man.py README VERSION DATE — cutover-runbook(5), made from
runbooks/README.md at build time so the manual page and the reference
cannot drift apart.

The README is written in a small part of Markdown: headings, paragraphs,
tables (a runbook key's row: key | type | default | meaning | example),
bulleted and numbered lists, fenced code and inline `code`, **bold** and
[links](...). Each becomes its man(7) form; a table row becomes a tagged
paragraph (its first cell the tag), as wide tables do not fit a terminal.
Characters outside ASCII are written as groff's \\[uXXXX] so that the page
reads the same in any locale.
"""
import re
import sys


# Characters groff's ASCII device has no form for
ASCII_FORMS = {'\u2026': '...'}


def escape(text):
    out = []
    for ch in text.replace('\\', '\\e'):
        ch = ASCII_FORMS.get(ch, ch)
        if all(ord(c) < 128 for c in ch):
            out.append(ch)
        else:
            out.append('\\[u%04X]' % ord(ch))
    return ''.join(out)


def inline(text):
    """Markdown inline spans to man font changes, escaped."""
    text = re.sub(r'\[([^\]]+)\]\([^)]+\)', r'\1', text)   # links: the text
    parts = re.split(r'(`[^`]*`)', text)
    out = []
    for part in parts:
        if part.startswith('`') and part.endswith('`') and len(part) >= 2:
            code = escape(part[1:-1]).replace('-', '\\-')
            out.append('\\fB' + code + '\\fR')
        else:
            part = escape(part)
            part = re.sub(r'\*\*([^*]+)\*\*', r'\\fB\1\\fR', part)
            out.append(part)
    return ''.join(out)


def line_safe(text):
    """A text line must not start with a control character."""
    return '\\&' + text if text[:1] in ('.', "'") else text


def cells(row):
    row = row.strip()
    # split on | outside code spans
    out, cur, in_code = [], '', False
    for ch in row.strip('|'):
        if ch == '`':
            in_code = not in_code
        if ch == '|' and not in_code:
            out.append(cur.strip())
            cur = ''
        else:
            cur += ch
    out.append(cur.strip())
    return out


def table(rows, emit):
    head = cells(rows[0])
    body = [cells(r) for r in rows[2:]]
    keyed = [h.lower() for h in head[:4]] == ['key', 'type', 'default',
                                                'meaning']
    for r in body:
        emit('.TP')
        emit(line_safe(inline(r[0])))
        if keyed:
            r = r + [''] * (5 - len(r))
            what = '%s; default %s.' % (r[1], r[2]) if r[2] not in ('', '—') \
                else '%s.' % r[1]
            emit(line_safe(inline(what)))
            emit(line_safe(inline(r[3][:1].upper() + r[3][1:] + '.')))
            if r[4]:
                emit(line_safe(inline('Example: ' + r[4])))
        else:
            emit(line_safe(inline(' \u2014 '.join(c for c in r[1:] if c))))


def convert(md, version, date):
    out = []
    emit = out.append
    emit('.\\" Made from runbooks/README.md by man/runbook2man.py: edit that.')
    emit('.TH CUTOVER\\-RUNBOOK 5 "%s" "cutover %s" "File Formats"'
         % (date, version))
    emit('.nh')          # keys and values are not to be broken by hyphens
    emit('.ad l')        # nor stretched around long JSON examples
    emit('.SH NAME')
    emit('cutover\\-runbook \\- the runbook file of cutover(1): what to '
         'migrate, where to, how to switch, when to stop')
    emit('.SH DESCRIPTION')
    lines = md.splitlines()
    i, para = 0, []

    def flush():
        if para:
            emit('.PP')
            for p in para:
                emit(line_safe(inline(p)))
            para.clear()

    while i < len(lines):
        ln = lines[i]
        if ln.startswith('# '):              # the title: NAME says it
            i += 1
            continue
        if ln.startswith('```'):
            flush()
            emit('.PP')
            emit('.RS 4')
            emit('.nf')
            i += 1
            while i < len(lines) and not lines[i].startswith('```'):
                emit(line_safe(escape(lines[i]).replace('-', '\\-')))
                i += 1
            emit('.fi')
            emit('.RE')
            i += 1
            continue
        m = re.match(r'(#{2,3}) (.*)', ln)
        if m:
            flush()
            title = inline(m.group(2))
            emit(('.SH "%s"' if len(m.group(1)) == 2 else '.SS "%s"')
                 % (title.upper() if len(m.group(1)) == 2 else title))
            i += 1
            continue
        if ln.startswith('|'):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith('|'):
                rows.append(lines[i])
                i += 1
            table(rows, emit)
            emit('.PP')
            continue
        m = re.match(r'(- |\d+\. )(.*)', ln)
        if m:
            flush()
            item = [m.group(2)]
            i += 1
            while i < len(lines) and lines[i].startswith('  ') and \
                    not re.match(r'\s*(- |\d+\. )', lines[i]):
                item.append(lines[i].strip())
                i += 1
            tag = '\\(bu' if m.group(1) == '- ' else m.group(1).strip()
            emit('.IP %s 4' % tag)
            for p in item:
                emit(line_safe(inline(p)))
            continue
        if not ln.strip():
            flush()
            i += 1
            continue
        para.append(ln.strip())
        i += 1
    flush()
    emit('.SH SEE ALSO')
    emit('.BR cutover (1)')
    return '\n'.join(out) + '\n'


def main(argv):
    if len(argv) != 4:
        sys.exit('usage: runbook2man.py README VERSION DATE')
    with open(argv[1], encoding='utf-8') as f:
        sys.stdout.write(convert(f.read(), argv[2], argv[3]))


if __name__ == '__main__':
    main(sys.argv)
