#!/usr/bin/python3
"""A tree of Open vSwitch bridges and Mininet hosts, pointed at a Sluice controller.

    sudo /usr/bin/python3 test-topologies/mininet/tree.py --controller 127.0.0.1:6653 \
        [--depth 2] [--fanout 2] [--prefix NAME] [--wait-realized http://127.0.0.1:8181] [--pingall] [--cli]

Switches are OVS bridges on the userspace datapath (there is no OVS kernel module on these machines),
speak OpenFlow 1.3-1.5 and run in fail-mode secure, so nothing passes until the controller installs flows.
`--standalone` runs them as plain learning switches with no controller, to check the machine itself.

Every node name starts with --prefix so several runs can share one Open vSwitch; the script removes
what it made on exit, on Ctrl-C and on SIGTERM. It never runs `mn -c`, which would delete other people's bridges.
"""

import os
import sys

MININET_PYTHON = '/usr/bin/python3'

try:
    import mininet  # noqa: F401  (only to see whether this interpreter has it)
except ImportError:
    # A python3 earlier on PATH (pyenv, venv) does not see Debian's packages; Mininet lives under Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath(MININET_PYTHON) and os.path.exists(MININET_PYTHON):
        os.execv(MININET_PYTHON, [MININET_PYTHON] + sys.argv)
    sys.exit('tree.py: Mininet is not installed for %s (run deploy/install-deps.sh)' % sys.executable)

import argparse
import json
import random
import signal
import string
import subprocess
import time
import urllib.error
import urllib.request

from mininet.log import setLogLevel, info, error
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController
from mininet.topo import Topo
from mininet.cli import CLI

MAX_IFNAME = 15          # Linux IFNAMSIZ - 1
REALIZE_TIMEOUT_S = 30.0


class PrefixedTree(Topo):
    """A tree of the given depth and fanout: switches <prefix>s<N>, hosts <prefix>h<N>, dpids first_dpid.. in order."""

    def build(self, depth=2, fanout=2, prefix='t', first_dpid=1):
        self.prefix = prefix
        self.first_dpid = first_dpid
        self.hostNum = 1
        self.switchNum = 1
        self.addTree(depth, fanout)

    def addTree(self, depth, fanout):
        if depth == 0:
            node = self.addHost('%sh%d' % (self.prefix, self.hostNum))
            self.hostNum += 1
            return node
        dpid = self.first_dpid + self.switchNum - 1
        node = self.addSwitch('%ss%d' % (self.prefix, self.switchNum), dpid='%016x' % dpid)
        self.switchNum += 1
        for _ in range(fanout):
            self.addLink(node, self.addTree(depth - 1, fanout))
        return node


def tree_sizes(depth, fanout):
    """(switches, hosts) of a tree: switches at levels 0..depth-1, hosts at level depth."""
    switches = sum(fanout ** level for level in range(depth))
    return switches, fanout ** depth


def longest_ifname(prefix, depth, fanout):
    """Mininet names a link end <node>-eth<N>; the longest is on the highest-numbered node with the most ports."""
    switches, hosts = tree_sizes(depth, fanout)
    sw = '%ss%d-eth%d' % (prefix, switches, fanout + 1)   # a non-root switch: uplink + fanout children
    host = '%sh%d-eth0' % (prefix, hosts)
    return max(sw, host, key=len)


def colon_dpid(dpid):
    hexs = '%016x' % dpid
    return ':'.join(hexs[i:i + 2] for i in range(0, 16, 2))


def parse_args(argv):
    p = argparse.ArgumentParser(
        description='Run a Mininet tree of OVS userspace switches against a Sluice controller.')
    p.add_argument('--controller', default='127.0.0.1:6653', metavar='HOST:PORT',
                   help='OpenFlow controller to connect the switches to (default %(default)s)')
    p.add_argument('--standalone', action='store_true',
                   help='no controller: switches in fail-mode standalone (learning switches); '
                        'checks the machine without Sluice')
    p.add_argument('--depth', type=int, default=2, help='tree depth (default %(default)s)')
    p.add_argument('--fanout', type=int, default=2, help='tree fanout (default %(default)s)')
    p.add_argument('--prefix', default=None,
                   help='prefix of every switch, host and interface name (default: t + 3 random letters)')
    p.add_argument('--first-dpid', type=lambda s: int(s, 0), default=1,
                   help='datapath id of the first switch, the others follow in order (default %(default)s)')
    p.add_argument('--wait-realized', metavar='URL', default=None,
                   help="Sluice's HTTP address, e.g. http://127.0.0.1:8181: wait until every switch of this "
                        'tree is connected and realized (%.0f s at most)' % REALIZE_TIMEOUT_S)
    p.add_argument('--pingall', action='store_true',
                   help='ping every host from every host; exit non-zero on any loss')
    p.add_argument('--ping-timeout', default='1', help='seconds each ping waits (default %(default)s)')
    p.add_argument('--cli', action='store_true', help='open the Mininet CLI before stopping')
    p.add_argument('--verbosity', default='info', choices=['debug', 'info', 'output', 'warning', 'error'])
    a = p.parse_args(argv)

    if a.depth < 1 or a.fanout < 1:
        p.error('--depth and --fanout must be at least 1')
    if a.prefix is None:
        a.prefix = 't' + ''.join(random.choice(string.ascii_lowercase) for _ in range(3))
    if not a.prefix or not all(c.isalnum() for c in a.prefix) or not a.prefix[0].isalpha():
        p.error('--prefix must be letters and digits, starting with a letter: %r' % a.prefix)
    longest = longest_ifname(a.prefix, a.depth, a.fanout)
    if len(longest) > MAX_IFNAME:
        p.error('interface name %s would be %d characters (Linux allows %d): use a shorter --prefix'
                % (longest, len(longest), MAX_IFNAME))
    switches, _ = tree_sizes(a.depth, a.fanout)
    if a.first_dpid < 1 or a.first_dpid + switches - 1 >= 1 << 64:
        p.error('--first-dpid out of range for %d switches' % switches)
    host, _, port = a.controller.rpartition(':')
    if not a.standalone:
        if not host or not port.isdigit():
            p.error('--controller must be HOST:PORT, got %r' % a.controller)
        a.controller_ip, a.controller_port = host, int(port)
    if a.standalone and a.wait_realized:
        p.error('--wait-realized needs a controller; drop --standalone')
    return a


def disable_tx_offload(net):
    """veth hands partial checksums to the userspace datapath; with tx offload on, TCP and UDP are dropped."""
    for host in net.hosts:
        for intf in host.intfList():
            if intf.name != 'lo':
                host.cmd('ethtool -K %s tx off >/dev/null 2>&1' % intf.name)
    for switch in net.switches:
        for intf in switch.intfList():
            if intf.name != 'lo' and intf.name != switch.name:
                switch.cmd('ethtool -K %s tx off >/dev/null 2>&1' % intf.name)


def fetch_realization(url):
    with urllib.request.urlopen(url.rstrip('/') + '/api/v1/realization', timeout=2) as resp:
        return json.load(resp)


def wait_realized(url, dpids, timeout=REALIZE_TIMEOUT_S):
    """Poll Sluice until every dpid is connected and realizedGeneration == generation. Returns an error or None."""
    info('*** Waiting up to %.0f s for Sluice at %s to realize %d switches\n' % (timeout, url, len(dpids)))
    deadline = time.monotonic() + timeout
    last = 'no answer yet'
    while time.monotonic() < deadline:
        try:
            doc = fetch_realization(url)
            gen = doc['generation']
            seen = {s['datapathId'].lower(): s for s in doc.get('switches', [])}
            pending = []
            for d in dpids:
                s = seen.get(d)
                if s is None:
                    pending.append('%s unknown to the controller' % d)
                elif not s.get('connected'):
                    pending.append('%s not connected' % d)
                elif s.get('realizedGeneration') != gen:
                    pending.append('%s at generation %s of %s' % (d, s.get('realizedGeneration'), gen))
            if not pending:
                info('*** All %d switches realized generation %s\n' % (len(dpids), gen))
                return None
            last = '; '.join(pending)
        except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as e:
            last = 'GET %s/api/v1/realization failed: %s' % (url.rstrip('/'), e)
        time.sleep(0.5)
    return 'switches not realized after %.0f s: %s' % (timeout, last)


def leftover_cleanup(names):
    """Remove bridges and links with exactly our names, if net.stop() could not (e.g. build failed half way)."""
    bridges = subprocess.run(['ovs-vsctl', '--timeout=5', 'list-br'], capture_output=True, text=True).stdout.split()
    for br in bridges:
        if br in names['switches']:
            subprocess.run(['ovs-vsctl', '--timeout=5', '--if-exists', 'del-br', br])
    links = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True).stdout
    for line in links.splitlines():
        parts = line.split(':')
        if len(parts) > 1:
            name = parts[1].strip().split('@')[0]
            if name in names['intfs'] or name in names['switches']:
                subprocess.run(['ip', 'link', 'del', name], stderr=subprocess.DEVNULL)


def interrupt_busy_nodes(net, timeout=3.0):
    """A node still running a command (Ctrl-C during a ping) refuses net.stop()'s commands: interrupt it first."""
    for node in net.hosts + net.switches:
        if getattr(node, 'shell', None) and node.waiting:
            node.sendInt()
            deadline = time.monotonic() + timeout
            while node.waiting and time.monotonic() < deadline:
                node.monitor(timeoutms=200)
            node.waiting = False


def main(argv):
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit('tree.py: Mininet needs root: sudo %s %s' % (MININET_PYTHON, ' '.join([sys.argv[0]] + argv)))
    setLogLevel(args.verbosity)

    # SIGTERM becomes an exception like Ctrl-C, so the finally below always removes the network.
    def on_term(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    topo = PrefixedTree(depth=args.depth, fanout=args.fanout, prefix=args.prefix, first_dpid=args.first_dpid)
    switch_names = set(topo.switches())
    intf_names = set()
    for n1, n2, info_ in topo.links(withInfo=True):
        intf_names.add('%s-eth%d' % (n1, info_['port1']))
        intf_names.add('%s-eth%d' % (n2, info_['port2']))
    dpids = sorted(colon_dpid(int(topo.nodeInfo(s)['dpid'], 16)) for s in topo.switches())

    fail_mode = 'standalone' if args.standalone else 'secure'

    class SluiceSwitch(OVSSwitch):
        """Userspace datapath (no OVS kernel module here), OpenFlow 1.3-1.5, fail mode from the command line."""
        def __init__(self, name, **params):
            OVSSwitch.__init__(self, name, datapath='user', failMode=fail_mode,
                               protocols='OpenFlow13,OpenFlow14,OpenFlow15', **params)

    net = Mininet(topo=topo, switch=SluiceSwitch, controller=None, build=False, autoSetMacs=True)
    rc = 0
    try:
        if not args.standalone:
            net.addController(args.prefix + 'c0', controller=RemoteController,
                              ip=args.controller_ip, port=args.controller_port)
        net.build()
        net.start()
        disable_tx_offload(net)
        info('*** Tree %s: %d switches (%s), %d hosts, fail-mode %s%s\n' % (
            args.prefix, len(net.switches), ', '.join(dpids), len(net.hosts), fail_mode,
            '' if args.standalone else ', controller tcp:%s' % args.controller))

        if not args.standalone and not net.waitConnected(timeout=10):
            error('*** Not every switch connected to tcp:%s within 10 s\n' % args.controller)
            if args.wait_realized or args.pingall:
                rc = 1
        if rc == 0 and args.wait_realized:
            problem = wait_realized(args.wait_realized, dpids)
            if problem:
                error('*** %s\n' % problem)
                rc = 1
        if rc == 0 and args.pingall:
            loss = net.pingAll(timeout=args.ping_timeout)
            print('pingall: %d hosts, %.0f%% loss' % (len(net.hosts), loss), flush=True)
            if loss > 0:
                rc = 1
        if args.cli:
            CLI(net)
    except KeyboardInterrupt:
        error('\n*** Interrupted\n')
        rc = 130
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    finally:
        # Further signals must not interrupt the cleanup itself.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            interrupt_busy_nodes(net)
            net.stop()
        except Exception as e:  # keep going: the bridges and links below must still go
            error('*** net.stop() failed (%s: %s); removing what is left by name\n' % (type(e).__name__, e))
            for node in net.hosts + net.switches:
                node.terminate()
            rc = rc or 1
        finally:
            leftover_cleanup({'switches': switch_names, 'intfs': intf_names})
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
