#!/usr/bin/python3
# promcheck.py -- check Prometheus text exposition (format 0.0.4) read on
# stdin, as dnsward's metrics endpoint serves it, and list its samples.
#
# usage: curl -s http://127.0.0.1:9153/metrics | tests/tools/promcheck.py
#
# The text is parsed with the official Python client's parser
# (prometheus_client.parser; Debian package python3-prometheus-client).
# That parser is lax -- a sample that belongs to no declared family comes
# out as a family of its own, and a counter's samples get "_total" added --
# so the rules it does not enforce are checked on the raw lines too:
#   - every family has one "# HELP" and one "# TYPE", in that order, before
#     its samples; no family is declared twice;
#   - every name starts with dnsward_;
#   - counters are named ..._total, and so are their samples (or _created);
#   - no sample outside a declared family, no series twice;
#   - histograms: buckets cumulative in le order, le="+Inf" equal to _count.
# Any failure: a message on stderr, exit status 1.
#
# Output, on success: one line per sample, sorted,
#   name{label="value",...} value
# with labels sorted by name, values escaped as in the exposition format,
# and integral values without a fraction, so shell tests can grep:
#   promcheck.py <m.txt | grep -Fx 'dnsward_queries_total{transport="udp"} 3'
#
# The interpreter is /usr/bin/python3 on purpose: the distribution's, which
# is where python3-prometheus-client installs (a python3 found first on
# PATH, pyenv's for one, may lack it).

import math
import re
import sys

PREFIX = 'dnsward_'
NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')
SUFFIXES = {
    'counter': ('',),
    'gauge': ('',),
    'untyped': ('',),
    'histogram': ('_bucket', '_sum', '_count'),
    'summary': ('', '_sum', '_count'),
}


class Bad(Exception):
    pass


def check_raw(text):
    """The rules the parser does not enforce, on the lines as written."""
    helped = set()
    typed = {}
    current = None      # (family, type) of the last TYPE
    prev = None
    for n, line in enumerate(text.split('\n'), 1):
        where = 'line %d: ' % n
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] == 'HELP':
                if parts[2] in helped:
                    raise Bad(where + 'second HELP for ' + parts[2])
                helped.add(parts[2])
            elif len(parts) >= 3 and parts[1] == 'TYPE':
                name = parts[2]
                typ = parts[3] if len(parts) == 4 else ''
                if name in typed:
                    raise Bad(where + 'second TYPE for ' + name)
                if typ not in TYPES:
                    raise Bad(where + 'bad type %r for %s' % (typ, name))
                if prev is None or prev.split(None, 3)[:3] != \
                        ['#', 'HELP', name]:
                    raise Bad(where + 'no HELP just before TYPE of ' + name)
                if not name.startswith(PREFIX):
                    raise Bad(where + 'family %s: not %s*' % (name, PREFIX))
                if typ == 'counter' and not name.endswith('_total'):
                    raise Bad(where + 'counter %s: not *_total' % name)
                typed[name] = typ
                current = (name, typ)
        elif line.strip() != '':
            m = re.match(NAME, line)
            if m is None:
                raise Bad(where + 'no metric name: ' + line)
            if current is None:
                raise Bad(where + 'sample before any TYPE: ' + line)
            fam, typ = current
            if m.group(0) not in [fam + s for s in SUFFIXES[typ]]:
                raise Bad(where + 'sample %s outside family %s' %
                          (m.group(0), fam))
        prev = line
    for name in helped - set(typed):
        raise Bad('HELP without TYPE: ' + name)


def escape(v):
    return v.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def show_value(v):
    if math.isnan(v):
        return 'NaN'
    if math.isinf(v):
        return '+Inf' if v > 0 else '-Inf'
    if v == int(v) and abs(v) < 2 ** 63:
        return str(int(v))
    return repr(v)


def series(name, labels):
    if not labels:
        return name
    return name + '{' + ','.join('%s="%s"' % (k, escape(labels[k]))
                                 for k in sorted(labels)) + '}'


def le_key(le):
    return math.inf if le == '+Inf' else float(le)


def check_histogram(fam):
    groups = {}
    for s in fam.samples:
        rest = tuple(sorted((k, v) for k, v in s.labels.items() if k != 'le'))
        g = groups.setdefault(rest, {'buckets': [], 'count': None})
        if s.name.endswith('_bucket'):
            if 'le' not in s.labels:
                raise Bad('%s: bucket without le' % series(s.name, s.labels))
            g['buckets'].append((le_key(s.labels['le']), s.value))
        elif s.name.endswith('_count'):
            g['count'] = s.value
    for rest, g in groups.items():
        what = series(fam.name, dict(rest))
        buckets = sorted(g['buckets'])
        if not buckets or buckets[-1][0] != math.inf:
            raise Bad('%s: no le="+Inf" bucket' % what)
        for (_, a), (le, b) in zip(buckets, buckets[1:]):
            if b < a:
                raise Bad('%s: bucket le=%s below the one before' %
                          (what, le))
        if g['count'] is None or g['count'] != buckets[-1][1]:
            raise Bad('%s: _count %s, le="+Inf" %s' %
                      (what, g['count'], buckets[-1][1]))


def check(text):
    from prometheus_client.parser import text_string_to_metric_families

    check_raw(text)
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:
        raise Bad('parse error: %s' % e)
    out = []
    seen = set()
    for fam in families:
        if fam.type == 'untyped':
            raise Bad('untyped family %s (a sample without TYPE?)' %
                      fam.name)
        for s in fam.samples:
            if not s.name.startswith(PREFIX):
                raise Bad('sample %s: not %s*' % (s.name, PREFIX))
            if fam.type == 'counter' and \
                    not s.name.endswith(('_total', '_created')):
                raise Bad('counter sample %s: not *_total' % s.name)
            line = series(s.name, s.labels)
            if line in seen:
                raise Bad('series twice: ' + line)
            seen.add(line)
            out.append('%s %s' % (line, show_value(s.value)))
        if fam.type == 'histogram':
            check_histogram(fam)
    if not out:
        raise Bad('no samples')
    return sorted(out)


def main():
    if len(sys.argv) > 1:
        sys.stderr.write('usage: promcheck.py <exposition-text\n')
        return 2
    try:
        text = sys.stdin.buffer.read().decode('utf-8')
    except UnicodeDecodeError as e:
        sys.stderr.write('promcheck: not UTF-8: %s\n' % e)
        return 1
    try:
        lines = check(text)
    except Bad as e:
        sys.stderr.write('promcheck: %s\n' % e)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
