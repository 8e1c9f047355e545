#!/usr/bin/python3
"""A leaf-spine fabric of Open vSwitch bridges emulating OpenFlow 1.3 hardware, pointed at a Sluice controller.

    sudo /usr/bin/python3 test-topologies/mininet/leafspine.py --controller 127.0.0.1:6653 \
        [--spines 2] [--leaves 3] [--hosts-per-leaf 2] [--table-limits 1024,2048,8192] \
        [--wait-realized http://127.0.0.1:8181] [--wait-links http://127.0.0.1:8181] [--pingall] \
        [--link-down-during-ping] [--cli]

Every leaf is linked to every spine, so the fabric has loops: Sluice must discover the links (LLDP), flood along a
spanning tree, and spread traffic over the spines. Switches are OVS bridges on the userspace datapath speaking
OpenFlow 1.3 only, in fail-mode secure; with --table-limits, each has only the tables a hardware profile declares
(Flow_Table rows: table i holds at most the i-th limit, every other table nothing, overflow refused), as
`--profile DPID=openflow13-generic` describes it (1024,2048,8192).

Names start with --prefix; the script removes what it made on exit, on Ctrl-C and on SIGTERM (never `mn -c`).
"""

import os
import sys

MININET_PYTHON = '/usr/bin/python3'

try:
    import mininet  # noqa: F401
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath(MININET_PYTHON) and os.path.exists(MININET_PYTHON):
        os.execv(MININET_PYTHON, [MININET_PYTHON] + sys.argv)
    sys.exit('leafspine.py: Mininet is not installed for %s (run deploy/install-deps.sh)' % sys.executable)

import argparse
import json
import random
import re
import signal
import string
import subprocess
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tree import (MAX_IFNAME, colon_dpid, disable_tx_offload, interrupt_busy_nodes,  # noqa: E402
                  leftover_cleanup, wait_realized)

from mininet.log import setLogLevel, info, error  # noqa: E402
from mininet.net import Mininet  # noqa: E402
from mininet.node import OVSSwitch, RemoteController  # noqa: E402
from mininet.topo import Topo  # noqa: E402
from mininet.cli import CLI  # noqa: E402

LINKS_TIMEOUT_S = 30.0


class LeafSpine(Topo):
    """Spines <prefix>s1.., leaves <prefix>l1.., hosts <prefix>h<leaf><n>; every leaf linked to every spine."""

    def build(self, spines=2, leaves=3, hosts=2, prefix='f', first_dpid=1):
        self.spine_names = []
        self.leaf_names = []
        for s in range(1, spines + 1):
            self.spine_names.append(self.addSwitch('%ss%d' % (prefix, s), dpid='%016x' % (first_dpid + s - 1)))
        for l in range(1, leaves + 1):
            leaf = self.addSwitch('%sl%d' % (prefix, l), dpid='%016x' % (first_dpid + 0x10 + l - 1))
            self.leaf_names.append(leaf)
            for s in self.spine_names:
                self.addLink(leaf, s)
            for h in range(1, hosts + 1):
                host = self.addHost('%sh%d%d' % (prefix, l, h), ip='10.74.%d.%d/16' % (l, h))
                self.addLink(host, leaf)


def parse_args(argv):
    p = argparse.ArgumentParser(description='Run a Mininet leaf-spine fabric of OpenFlow 1.3 switches against Sluice.')
    p.add_argument('--controller', default='127.0.0.1:6653', metavar='HOST:PORT')
    p.add_argument('--spines', type=int, default=2)
    p.add_argument('--leaves', type=int, default=3)
    p.add_argument('--hosts-per-leaf', type=int, default=2)
    p.add_argument('--prefix', default=None, help='prefix of every name (default: f + 3 random letters)')
    p.add_argument('--first-dpid', type=lambda s: int(s, 0), default=1,
                   help='spine K has FIRST+K-1, leaf K has FIRST+0x10+K-1 (default %(default)s)')
    p.add_argument('--table-limits', default=None, metavar='N,N,...',
                   help='emulate a hardware switch: table i holds at most the i-th number of flows, others none')
    p.add_argument('--wait-realized', metavar='URL', default=None)
    p.add_argument('--wait-links', metavar='URL', default=None,
                   help="poll URL/api/v1/topology until it lists every link of the fabric (%.0f s at most)"
                        % LINKS_TIMEOUT_S)
    p.add_argument('--pingall', action='store_true', help='every host pings every other; exit 1 on any loss')
    p.add_argument('--ping-timeout', default='1')
    p.add_argument('--link-down-during-ping', action='store_true',
                   help='ping at 10 ms intervals from the last leaf to the first, take down the first leaf\'s uplink '
                        'that carries the replies after 1 s, print the loss; exit 1 unless traffic recovers')
    p.add_argument('--cli', action='store_true')
    p.add_argument('--verbosity', default='info', choices=['debug', 'info', 'output', 'warning', 'error'])
    a = p.parse_args(argv)
    if a.spines < 1 or a.leaves < 2 or a.hosts_per_leaf < 1 or a.leaves > 9 or a.hosts_per_leaf > 9:
        p.error('need 1+ spines, 2-9 leaves, 1-9 hosts per leaf')
    if a.prefix is None:
        a.prefix = 'f' + ''.join(random.choice(string.ascii_lowercase) for _ in range(3))
    if not re.match(r'^[A-Za-z][A-Za-z0-9]*$', a.prefix):
        p.error('--prefix must be letters and digits, starting with a letter')
    longest = '%sl%d-eth%d' % (a.prefix, a.leaves, a.spines + a.hosts_per_leaf)
    if len(longest) > MAX_IFNAME:
        p.error('interface name %s would be too long: use a shorter --prefix' % longest)
    host, _, port = a.controller.rpartition(':')
    if not host or not port.isdigit():
        p.error('--controller must be HOST:PORT')
    a.controller_ip, a.controller_port = host, int(port)
    a.limits = [int(x) for x in a.table_limits.split(',')] if a.table_limits else None
    return a


def emulate_tables(switch, limits):
    """Flow_Table rows: table i holds at most limits[i] flows, tables past the list none; overflow refused."""
    cmd = ['ovs-vsctl', '--', '--id=@none', 'create', 'Flow_Table', 'flow_limit=0', 'overflow_policy=refuse']
    tables = []
    for t in range(255):
        if t < len(limits):
            cmd += ['--', '--id=@t%d' % t, 'create', 'Flow_Table', 'flow_limit=%d' % limits[t], 'overflow_policy=refuse']
            tables.append('%d=@t%d' % (t, t))
        else:
            tables.append('%d=@none' % t)
    cmd += ['--', 'set', 'bridge', switch.name, 'flow_tables={%s}' % ','.join(tables)]
    subprocess.run(cmd, check=True, capture_output=True)


def wait_links(url, dpids, expected, timeout=LINKS_TIMEOUT_S):
    """Poll Sluice's topology until it lists `expected` links between our switches. Returns an error or None."""
    info('*** Waiting up to %.0f s for Sluice to discover %d links\n' % (timeout, expected))
    ours = set(d.replace(':', '').lstrip('0') for d in dpids)
    deadline = time.monotonic() + timeout
    found = -1
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url.rstrip('/') + '/api/v1/topology', timeout=2) as resp:
                doc = json.load(resp)
            found = 0
            for link in doc.get('links', []):
                text = json.dumps(link).lower().replace(':', '')
                if sum(1 for d in ours if re.search(r'(?<![0-9a-f])0*' + d + r'(?![0-9a-f])', text)) >= 2:
                    found += 1
            if found >= expected:
                print('links: %d discovered in %.1f s' % (found, time.monotonic() - t0), flush=True)
                return None
        except (urllib.error.URLError, OSError, ValueError) as e:
            found = 'GET failed: %s' % e
        time.sleep(0.2)
    return 'links not discovered after %.0f s: %s of %d' % (timeout, found, expected)


def link_down_during_ping(net, topo, args):
    """Ping at 10 ms from the last leaf's first host to the first leaf's first host; take a spine link down."""
    src = net.get('%sh%d1' % (args.prefix, args.leaves))
    dst = net.get('%sh11' % args.prefix)
    count = 600
    # the first leaf's uplink that carries the replies (its select group hashed them to one spine): the link to cut
    leaf = topo.leaf_names[0]
    uplinks = {s: net.get(leaf).connectionsTo(net.get(s))[0][0].name for s in topo.spine_names}

    def tx():
        out = {}
        for s, intf in uplinks.items():
            with open('/sys/class/net/%s/statistics/tx_packets' % intf) as f:
                out[s] = int(f.read())
        return out
    before = tx()
    src.cmd('ping -q -c 50 -i 0.01 -W 1 %s' % dst.IP())
    after = tx()
    spine = max(topo.spine_names, key=lambda s: after[s] - before[s])
    info('*** Replies leave %s by its link to %s (%s)\n' % (leaf, spine, uplinks[spine]))
    p = src.popen(['ping', '-i', '0.01', '-c', str(count), '-W', '1', dst.IP()], stdout=subprocess.PIPE,
                  stderr=subprocess.STDOUT, text=True)
    time.sleep(1.0)
    net.configLinkStatus(spine, leaf, 'down')
    info('*** Link %s-%s down\n' % (spine, leaf))
    out, _ = p.communicate(timeout=60)
    net.configLinkStatus(spine, leaf, 'up')
    m = re.search(r'(\d+) packets transmitted, (\d+) received', out)
    if not m:
        error('*** ping printed no summary:\n%s\n' % out)
        return 1
    sent, got = int(m.group(1)), int(m.group(2))
    seqs = sorted(int(s) for s in re.findall(r'icmp_seq=(\d+)', out))
    tail_ok = bool(seqs) and seqs[-1] >= count - 5
    # the longest run of missing sequence numbers: the outage
    longest, prev = 0, 0
    for s in seqs:
        longest = max(longest, s - prev - 1)
        prev = s
    print('linkdown: %d sent, %d received, %d lost (%.1f%%), longest outage %d pings (~%d ms at 10 ms)'
          % (sent, got, sent - got, 100.0 * (sent - got) / max(sent, 1), longest, longest * 10), flush=True)
    print('BENCH leafspine.link_down_lost_pings %d pings' % (sent - got), flush=True)
    print('BENCH leafspine.link_down_loss_ms %d ms' % (longest * 10), flush=True)
    if not tail_ok:
        error('*** traffic did not recover: last reply icmp_seq=%s of %d\n' % (seqs[-1] if seqs else None, count))
        return 1
    return 0


def main(argv):
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit('leafspine.py: Mininet needs root')
    setLogLevel(args.verbosity)

    def on_term(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    topo = LeafSpine(spines=args.spines, leaves=args.leaves, hosts=args.hosts_per_leaf, prefix=args.prefix,
                     first_dpid=args.first_dpid)
    switch_names = set(topo.switches())
    intf_names = set()
    for n1, n2, info_ in topo.links(withInfo=True):
        intf_names.add('%s-eth%d' % (n1, info_['port1']))
        intf_names.add('%s-eth%d' % (n2, info_['port2']))
    dpids = sorted(colon_dpid(int(topo.nodeInfo(s)['dpid'], 16)) for s in topo.switches())
    fabric_links = args.spines * args.leaves

    class HardwareLikeSwitch(OVSSwitch):
        """Userspace datapath, OpenFlow 1.3 only, fail-mode secure."""
        def __init__(self, name, **params):
            OVSSwitch.__init__(self, name, datapath='user', failMode='secure', protocols='OpenFlow13', **params)

    net = Mininet(topo=topo, switch=HardwareLikeSwitch, controller=None, build=False, autoSetMacs=True)
    rc = 0
    try:
        net.addController(args.prefix + 'c0', controller=RemoteController, ip=args.controller_ip,
                          port=args.controller_port)
        net.build()
        # IPv4 only, and quiet: until Sluice has discovered the links, a switch floods on every port, and in a fabric
        # with loops an IPv6 router solicitation or MLD report sent then would circle (docs/pipeline.md)
        for host in net.hosts:
            host.cmd('sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1')
        net.start()
        for sw in net.switches:
            subprocess.run(['sysctl', '-qw', 'net.ipv6.conf.%s.disable_ipv6=1' % sw.name], capture_output=True)
        if args.limits:
            for sw in net.switches:
                emulate_tables(sw, args.limits)
        disable_tx_offload(net)
        info('*** Leaf-spine %s: %d spines, %d leaves, %d hosts (%s)\n' % (
            args.prefix, args.spines, args.leaves, len(net.hosts), ', '.join(dpids)))
        if not net.waitConnected(timeout=10):
            error('*** Not every switch connected within 10 s\n')
            rc = 1
        if rc == 0 and args.wait_links:
            problem = wait_links(args.wait_links, dpids, fabric_links)
            if problem:
                error('*** %s\n' % problem)
                rc = 1
        if rc == 0 and args.wait_realized:
            problem = wait_realized(args.wait_realized, dpids)
            if problem:
                error('*** %s\n' % problem)
                rc = 1
        if rc == 0 and args.pingall:
            # every host speaks once (its ARP makes Sluice learn it: a new generation on every switch), then the
            # switches settle, then the pings count
            for i, host in enumerate(net.hosts):
                host.cmd('ping -c 1 -W 1 %s >/dev/null 2>&1' % net.hosts[(i + 1) % len(net.hosts)].IP())
            if args.wait_realized:
                problem = wait_realized(args.wait_realized, dpids)
                if problem:
                    error('*** %s\n' % problem)
                    rc = 1
        if rc == 0 and args.pingall:
            loss = net.pingAll(timeout=args.ping_timeout)
            print('pingall: %d hosts, %.0f%% loss' % (len(net.hosts), loss), flush=True)
            if loss > 0:
                rc = 1
        if rc == 0 and args.link_down_during_ping:
            rc = link_down_during_ping(net, topo, args)
        if args.cli:
            CLI(net)
    except KeyboardInterrupt:
        error('\n*** Interrupted\n')
        rc = 130
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            interrupt_busy_nodes(net)
            net.stop()
        except Exception as e:
            error('*** net.stop() failed (%s: %s); removing what is left by name\n' % (type(e).__name__, e))
            for node in net.hosts + net.switches:
                node.terminate()
            rc = rc or 1
        finally:
            leftover_cleanup({'switches': switch_names, 'intfs': intf_names})
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
