#!/usr/bin/python3
"""Printing and probing for deploy/demo/demo.sh (Debian's python3, standard library only).

    report.py wait-ready URL PID TIMEOUT          wait for GET URL/readyz == 200 while process PID lives
    report.py wait-realized URL DPID TIMEOUT      wait until DPID is connected and realizedGeneration == generation
    report.py switches URL|- BRIDGE               what Sluice sees (GET URL/api/v1/switches), or with '-' what OVSDB has
    report.py matrix PORT NS:POD:IP...            ping and TCP PORT from every pod's namespace to every other pod
    report.py service NETNS VIP PORT N            N HTTP requests from NETNS to a Service's VIP:PORT; who answered

Exit status 0 when all went well, 1 otherwise; every error names what was waited for and what was seen.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

OK, FAIL = '\u2713', '\u2717'


def get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read()


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(') ')[-1][0] != 'Z'
    except OSError:
        return False


def wait_ready(base, pid, timeout):
    deadline = time.monotonic() + timeout
    last = 'no answer yet'
    while time.monotonic() < deadline:
        if not alive(pid):
            print('demo: the controller (pid %d) exited before %s/readyz answered 200' % (pid, base), file=sys.stderr)
            return 1
        try:
            status, _ = get(base + '/readyz')
            if status == 200:
                return 0
            last = 'HTTP %d' % status
        except urllib.error.HTTPError as e:
            last = 'HTTP %d' % e.code
        except (urllib.error.URLError, OSError) as e:
            last = str(getattr(e, 'reason', e))
        time.sleep(0.5)
    print('demo: %s/readyz not 200 after %d s (last: %s)' % (base, timeout, last), file=sys.stderr)
    return 1


def generation(base):
    _, body = get(base + '/api/v1/realization')
    return json.loads(body)['generation']


def wait_realized(base, dpid, timeout, after=None):
    """Waits until the switch realized the controller's generation (and that generation is > after, if given)."""
    deadline = time.monotonic() + timeout
    last = 'no answer yet'
    while time.monotonic() < deadline:
        try:
            _, body = get(base + '/api/v1/realization')
            doc = json.loads(body)
            gen = doc['generation']
            sw = next((s for s in doc.get('switches', []) if s['datapathId'].lower() == dpid), None)
            if sw is None:
                last = 'switch %s not listed' % dpid
            elif not sw.get('connected'):
                last = 'switch %s not connected' % dpid
            elif after is not None and gen <= after:
                last = 'controller still at generation %s (waiting for the change to load)' % gen
            elif sw.get('realizedGeneration') != gen:
                last = 'switch %s realized generation %s, controller is at %s' % (
                    dpid, sw.get('realizedGeneration'), gen)
            else:
                print('Sluice realized generation %s on %s (%s flows)' % (gen, dpid, sw.get('flows', '?')))
                return 0
        except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as e:
            last = 'GET %s/api/v1/realization: %s' % (base, e)
        time.sleep(0.5)
    print('demo: not realized after %d s: %s' % (timeout, last), file=sys.stderr)
    return 1


def ovsdb_interfaces():
    """name -> {ofport, mac, link, pod} from OVSDB; pod is what the demo wrote into external_ids."""
    out = subprocess.run(['ovs-vsctl', '--timeout=5', '--format=json', '--data=json',
                          '--columns=name,ofport,mac_in_use,link_state,external_ids', 'list', 'Interface'],
                         capture_output=True, text=True, check=True).stdout
    rows = {}
    for name, ofport, mac, link, ext in json.loads(out)['data']:
        ids = dict(ext[1]) if isinstance(ext, list) and ext[0] == 'map' else {}
        pod = ''
        if 'pod-namespace' in ids and 'pod-name' in ids:
            pod = '%s/%s' % (ids['pod-namespace'], ids['pod-name'])
        plain = lambda v: '' if isinstance(v, list) else v  # noqa: E731  (empty OVSDB sets come as ["set", []])
        rows[name] = {'ofport': plain(ofport), 'mac': plain(mac), 'link': plain(link), 'pod': pod,
                      'attached-mac': ids.get('attached-mac', '')}
    return rows


def table(headers, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda r: '  '.join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip()  # noqa: E731
    print('  ' + line(headers))
    for r in rows:
        print('  ' + line(r))


def switches(base, bridge):
    ovsdb = ovsdb_interfaces()
    if base == '-':
        print('Switch %s (standalone test mode: no controller; ports as OVSDB reports them)' % bridge)
        out = subprocess.run(['ovs-vsctl', '--timeout=5', 'list-ifaces', bridge],
                             capture_output=True, text=True, check=True).stdout.split()
        rows = [(ovsdb[n]['ofport'], n, ovsdb[n]['mac'], ovsdb[n]['link'], ovsdb[n]['pod'] or '-')
                for n in out if n in ovsdb]
        rows.sort(key=lambda r: r[0] if isinstance(r[0], int) else 0)
        table(('port', 'name', 'hwAddr', 'link', 'pod (demo-attached, OVSDB external_ids)'), rows)
        return 0
    bound = {}
    try:
        deadline = time.time() + 10
        while True:
            _, pbody = get(base + '/api/v1/ports')
            bindings = json.loads(pbody).get('bindings', [])
            if len(bindings) >= len([i for i in ovsdb.values() if i.get('pod')]) or time.time() > deadline:
                break
            time.sleep(0.1)
        for b in bindings:
            bound[(b['datapathId'].lower(), b['ofport'])] = b['pod']
    except Exception:  # an older build without /api/v1/ports: fall back to OVSDB's external_ids
        bound = None
    _, body = get(base + '/api/v1/switches')
    doc = json.loads(body)
    print('What Sluice sees (GET %s/api/v1/switches): %d switch(es)' % (base, len(doc)))
    for sw in doc:
        print()
        print('Switch %s  connected=%s  version=%s  address=%s  flows=%s' % (
            sw.get('datapathId'), sw.get('connected'), sw.get('version'), sw.get('address'), sw.get('flows')))
        rows = []
        for p in sorted(sw.get('ports', []), key=lambda p: p.get('portNo', 0)):
            if bound is not None:
                pod = bound.get((sw.get('datapathId', '').lower(), p.get('portNo')), '-')
            else:
                pod = ovsdb.get(p.get('name'), {}).get('pod') or '-'
            rows.append((p.get('portNo'), p.get('name'), p.get('hwAddr'), 'up' if p.get('up') else 'down', pod))
        if rows:
            source = 'pod (bound by Sluice, GET /api/v1/ports)' if bound is not None else 'pod (demo-attached, OVSDB external_ids)'
            table(('port', 'name', 'hwAddr', 'state', source), rows)
        else:
            print('  (no ports reported)')
    return 0


def probe(src, dst, port):
    ns = 'sd-' + src[1]
    ping = subprocess.run(['timeout', '3', 'ip', 'netns', 'exec', ns, 'ping', '-n', '-q', '-c', '1', '-W', '1', dst[2]],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    tcp = subprocess.run(['timeout', '3', 'ip', 'netns', 'exec', ns, 'nc', '-z', '-w', '1', dst[2], str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    return ping, tcp


def matrix(port, pods):
    pods = [p.split(':') for p in pods]
    pairs = [(s, d) for s in pods for d in pods if s != d]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(zip([(s[1], d[1]) for s, d in pairs], pool.map(lambda sd: probe(sd[0], sd[1], port), pairs)))
    names = ['%s/%s' % (p[0], p[1]) for p in pods]
    print('Connectivity (row = from, column = to; each cell: ping / TCP %d):' % port)
    rows = []
    for s, sname in zip(pods, names):
        cells = []
        for d in pods:
            if s is d:
                cells.append('-')
            else:
                ping, tcp = results[(s[1], d[1])]
                cells.append('%s / %s' % (OK if ping else FAIL, OK if tcp else FAIL))
        rows.append([sname] + cells)
    table(['from \\ to'] + ['%s (%s)' % (n, p[2]) for n, p in zip(names, pods)], rows)
    failed = sum((not a) + (not b) for a, b in results.values())
    total = 2 * len(results)
    print('probes: %d passed, %d failed' % (total - failed, failed))
    return 0 if failed == 0 else 1


def service(netns, vip, port, n):
    """n requests from a pod to a Service's cluster IP; each endpoint answers with its own name."""
    seen = {}
    for _ in range(n):
        r = subprocess.run(['timeout', '3', 'ip', 'netns', 'exec', netns, 'curl', '-s', '-m', '2',
                            'http://%s:%d/' % (vip, port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        who = r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else '(no answer)'
        seen[who] = seen.get(who, 0) + 1
    print('%d requests from %s to http://%s:%d/, answered by:' % (n, netns, vip, port))
    for who, count in sorted(seen.items()):
        print('  %-20s %d' % (who, count))
    answered = {w for w in seen if w != '(no answer)'}
    return 0 if len(answered) >= 2 and '(no answer)' not in seen else 1


def explain(sluice, manifests, src, dst, port):
    """True when `sluice explain` (the reference evaluator) allows src -> dst:port/TCP."""
    r = subprocess.run([sluice, 'explain', '--manifests', manifests, '--from', '%s/%s' % (src[0], src[1]),
                        '--to', '%s/%s' % (dst[0], dst[1]), '--port', '%d/tcp' % port],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if r.returncode not in (0, 1):
        raise RuntimeError('sluice explain failed: %s' % r.stderr.strip())
    return r.returncode == 0


def policy_matrix(port, sluice, manifests, pods):
    """TCP connectivity observed on the wire, each cell checked against what `sluice explain` says."""
    pods = [p.split(':') for p in pods]
    pairs = [(s, d) for s in pods for d in pods if s != d]
    with ThreadPoolExecutor(max_workers=8) as pool:
        observed = dict(zip([(s[1], d[1]) for s, d in pairs], pool.map(lambda sd: probe(sd[0], sd[1], port)[1], pairs)))
    # explain starts a JVM per question: ask them two at a time
    with ThreadPoolExecutor(max_workers=2) as pool:
        expected = dict(zip([(s[1], d[1]) for s, d in pairs],
                            pool.map(lambda sd: explain(sluice, manifests, sd[0], sd[1], port), pairs)))
    names = ['%s/%s' % (p[0], p[1]) for p in pods]
    print('TCP %d with the policies (row = from, column = to; a cell marked ! disagrees with `sluice explain`):' % port)
    rows = []
    for s, sname in zip(pods, names):
        cells = []
        for d in pods:
            if s is d:
                cells.append('-')
            else:
                o, e = observed[(s[1], d[1])], expected[(s[1], d[1])]
                cells.append((OK if o else FAIL) + ('' if o == e else ' !'))
        rows.append([sname] + cells)
    table(['from \\ to'] + names, rows)
    wrong = [k for k in observed if observed[k] != expected[k]]
    print('%d of %d cells as `sluice explain` predicts%s' % (len(observed) - len(wrong), len(observed),
          '' if not wrong else '; wrong: ' + ', '.join('%s->%s' % k for k in wrong)))
    return 0 if not wrong else 1


def audit(base, n):
    """The audit log's most recent entries (denied connections with pod names), newest first."""
    time.sleep(1.5)  # repeats within a second are merged before an entry is written
    status, body = get(base + '/api/v1/audit?limit=%d' % n)
    if status != 200:
        print('audit log not available: HTTP %d' % status)
        return 1
    entries = json.loads(body)

    def who(p):
        name = '%s/%s' % (p['namespace'], p['pod']) if 'pod' in p else p.get('ip', '?')
        return name + (':%d' % p['port'] if 'port' in p else '')
    rows = [(e['time'][11:19], e['verdict'], e['direction'], who(e['source']), who(e['destination']), e['protocol'],
             e['policy'] + ('' if e.get('rule') is None else ' rule %d' % e['rule']), e['count']) for e in entries]
    table(('time', 'verdict', 'direction', 'source', 'destination', 'proto', 'policy', 'count'), rows)
    print('%d entries shown; all of them: %s/api/v1/audit' % (len(rows), base))
    return 0


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == 'wait-ready':
        return wait_ready(args[0], int(args[1]), int(args[2]))
    if cmd == 'wait-realized':
        return wait_realized(args[0], args[1].lower(), int(args[2]), int(args[3]) if len(args) > 3 else None)
    if cmd == 'generation':
        print(generation(args[0]))
        return 0
    if cmd == 'policy-matrix':
        return policy_matrix(int(args[0]), args[1], args[2], args[3:])
    if cmd == 'switches':
        return switches(args[0], args[1])
    if cmd == 'matrix':
        return matrix(int(args[0]), args[1:])
    if cmd == 'audit':
        return audit(args[0], int(args[1]))
    if cmd == 'service':
        return service(args[0], args[1], int(args[2]), int(args[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # Ctrl-C: demo.sh's trap cleans up; no traceback
        sys.exit(130)
