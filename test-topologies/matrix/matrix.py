#!/usr/bin/python3
"""Connectivity-matrix harness: build a scenario's pods (and nodes' host networks, external hosts) on Open vSwitch,
run Sluice on them, probe every (from, to, port) and compare what passes with the scenario's expected matrix; then
open TCP connections to Service addresses and compare which endpoints answered, and how many connections failed,
with the scenario's services.txt.

    sudo test-topologies/matrix/matrix.py SCENARIO_DIR [--sluice ./sluice] [--keep] [--standalone]

SCENARIO_DIR holds topology.json (bridges, links, nodes, external hosts, the gateway, namespaces, pods),
manifests/ (NetworkPolicies, Services and anything else Sluice should load), expected.txt (the expected matrix),
optionally services.txt (Service checks) and steps/NN-name/ (changes applied mid-test, each with its own
expected.txt). The formats are in test-topologies/README.md.

Exit status: 0 every matrix and Service check matched ("matrix OK"), 1 one differed (both are printed),
2 the scenario or the machine is not usable (bad files, OVS not running, Sluice did not start or realize).

Standard library only (Debian's /usr/bin/python3). Needs root: network namespaces, veths, OVS bridges.
Every name it creates starts with a per-run prefix (default mx + 4 hex digits); everything it made is removed on
exit, on error, on Ctrl-C and on SIGTERM. A run killed with SIGKILL is cleaned up by the next run (its record is
in /run/sluice-matrix/). It never touches bridges, namespaces or links without its own prefix.
"""

import argparse
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

OK, FAIL = '\u2713', '\u2717'
ALLOW_MARKS = {OK, 'Y', 'y'}
DENY_MARKS = {FAIL, 'N', 'n', 'x', 'X'}
SELF = '.'
PROTOCOLS = ('tcp', 'udp', 'sctp')
MAX_IFNAME = 15
STATE_DIR = '/run/sluice-matrix'
OVSDB_DEFAULT = 'unix:/var/run/openvswitch/db.sock'
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class ScenarioError(Exception):
    """The scenario files are wrong (exit 2)."""


class SetupError(Exception):
    """The machine, OVS or Sluice did not do what the harness needs (exit 2)."""


def log(msg):
    try:
        print(msg, flush=True)
    except BrokenPipeError:   # the reader went away (| head): keep going so that cleanup still runs
        sys.stdout = open(os.devnull, 'w')


# ---------------------------------------------------------------------------------------------------------------
# Scenario: topology.json
# ---------------------------------------------------------------------------------------------------------------

class Probe:
    """One probe target of a destination: protocol, port number, address family, optional port name."""

    def __init__(self, proto, port, v6=False, name=None):
        self.proto, self.port, self.v6, self.name = proto, port, v6, name

    @property
    def token(self):
        return '%s%s/%d' % (self.proto, '6' if self.v6 else '', self.port)

    def label(self):
        return self.token + ('(%s)' % self.name if self.name else '')


def parse_ips(where, ips):
    """(IPv4, IPv6 or None) from a list of one IPv4 and optionally one IPv6 literal, as the API server prints them."""
    v4 = v6 = None
    if not isinstance(ips, list):
        raise ScenarioError('%s: "ips" must be a list of addresses' % where)
    for ip in ips:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            raise ScenarioError('%s: %r is not an IP address' % (where, ip))
        if addr.version == 4 and v4 is None:
            v4 = str(addr)
        elif addr.version == 6 and v6 is None:
            v6 = str(addr)
        else:
            raise ScenarioError('%s: at most one IPv4 and one IPv6 address' % where)
    if v4 is None:
        raise ScenarioError('%s: an IPv4 address is required (IPv6 is optional)' % where)
    return v4, v6


def parse_port_tokens(where, tokens):
    """[(proto, port)] from ["tcp/9000", "udp/53", "sctp/9"]."""
    out = []
    for tok in tokens or []:
        m = re.fullmatch(r'(tcp|udp|sctp)/(\d+)', str(tok))
        if not m or not 0 < int(m.group(2)) < 65536:
            raise ScenarioError('%s: %r is not PROTO/PORT (tcp, udp, sctp)' % (where, tok))
        out.append((m.group(1), int(m.group(2))))
    return out


def mac_of(v4):
    """The MAC the harness gives an address's owner (and the gateway): 0a:58: and the four IPv4 octets."""
    return '0a:58:%02x:%02x:%02x:%02x' % tuple(int(o) for o in v4.split('.'))


class Member:
    """What the harness builds a network namespace for and probes from and to: a pod, a node's host network
    (kind "node") or an external host (kind "external"). Its key names it in expected.txt and services.txt."""
    kind = None

    def __init__(self, key, index):
        self.key, self.index = key, index
        self.v4 = self.v6 = None
        self.ips = []
        self.mac = None
        self.ports = []          # (name or None, port, PROTO) as declared in a Pod manifest
        self.extra = []          # (proto, port): listened on and probed, not declared in any manifest
        self.bridge = None       # Bridge
        # Set when the topology is built:
        self.netns = self.host_if = self.peer_if = None
        self.ofport = None

    def set_ips(self, v4, v6):
        self.v4, self.v6 = v4, v6
        self.ips = [v4] + ([v6] if v6 else [])
        self.mac = mac_of(v4)

    def declared_ports(self):
        """(port name or None, port, PROTO, who answers) of every port served in this namespace, declared ones first."""
        return [(name, port, proto, self.key) for name, port, proto in self.ports]

    def probes(self, dual_stack):
        out, seen = [], set()
        families = [False, True] if dual_stack else [False]
        for v6 in families:
            for name, port, proto, _ in self.declared_ports():
                if (proto.lower(), port, v6) not in seen:
                    seen.add((proto.lower(), port, v6))
                    out.append(Probe(proto.lower(), port, v6, name))
            for proto, port in self.extra:
                if (proto, port, v6) not in seen:
                    seen.add((proto, port, v6))
                    out.append(Probe(proto, port, v6))
        return out

    def listen_ports(self):
        """{'tcp': {port: name it answers with}, 'udp': [ports]} for the in-namespace server (SCTP cannot be served:
        no kernel SCTP). A TCP server sends the name of what owns the port (a pod key, node:NAME, external:NAME)."""
        tcp, udp = {}, set()
        for _, port, proto, who in self.declared_ports():
            if proto.lower() == 'tcp':
                tcp.setdefault(port, who)
            elif proto.lower() == 'udp':
                udp.add(port)
        for proto, port in self.extra:
            if proto == 'tcp':
                tcp.setdefault(port, self.key)
            elif proto == 'udp':
                udp.add(port)
        return {'tcp': {str(p): who for p, who in sorted(tcp.items())}, 'udp': sorted(udp)}

    def port_external_ids(self):
        """external_ids of its port's Interface on the bridge."""
        return {'attached-mac': self.mac}


class Pod(Member):
    kind = 'pod'

    def __init__(self, doc, index):
        where = 'topology.json pods[%d]' % index
        for key in ('namespace', 'name'):
            if key not in doc:
                raise ScenarioError('%s: "%s" is missing' % (where, key))
        unknown = set(doc) - {'namespace', 'name', 'labels', 'ips', 'ports', 'extraPorts', 'hostNetwork', 'comment'}
        if unknown:
            raise ScenarioError('%s: unknown keys %s' % (where, sorted(unknown)))
        super().__init__('%s/%s' % (doc['namespace'], doc['name']), index)
        self.ns, self.name = doc['namespace'], doc['name']
        self.labels = dict(doc.get('labels', {}))
        self.host_network = bool(doc.get('hostNetwork', False))
        self.in_node = None      # NodeHost: a hostNetwork pod on a bridge with a node runs in the node's namespace
        where = '%s (%s)' % (where, self.key)
        if 'ips' in doc:
            self.set_ips(*parse_ips(where, doc['ips']))
        elif not self.host_network:
            raise ScenarioError('%s: "ips" is missing (only a hostNetwork pod on a bridge with a node may leave it '
                                'out: it has its node\'s addresses)' % where)
        for j, p in enumerate(doc.get('ports', [])):
            proto = str(p.get('protocol', 'TCP')).upper()
            port = p.get('port')
            if proto.lower() not in PROTOCOLS or not isinstance(port, int) or not 0 < port < 65536:
                raise ScenarioError('%s ports[%d]: needs "port" 1-65535 and "protocol" TCP, UDP or SCTP' % (where, j))
            self.ports.append((p.get('name'), port, proto))
        self.extra = parse_port_tokens(where + ' extraPorts', doc.get('extraPorts', []))

    def port_external_ids(self):
        ids = super().port_external_ids()
        if not self.host_network:   # a hostNetwork pod stands for the node: no pod interface on the bridge
            ids.update({'pod-namespace': self.ns, 'pod-name': self.name})
        return ids


class NodeHost(Member):
    """A node's host network: a namespace on its bridge (the bridge's name is the node's name) that owns the node's
    InternalIPs. Its port has external_ids sluice-role=node; hostNetwork pods of the node run in it."""
    kind = 'node'

    def __init__(self, doc, bridge):
        where = 'topology.json bridge %s: "node"' % bridge.name
        if not isinstance(doc, dict):
            raise ScenarioError('%s must be an object {"ips": [...], "ports": [...]}' % where)
        unknown = set(doc) - {'ips', 'ports', 'comment'}
        if unknown:
            raise ScenarioError('%s: unknown keys %s' % (where, sorted(unknown)))
        if 'ips' not in doc:
            raise ScenarioError('%s: "ips" (the node\'s InternalIPs) is missing' % where)
        super().__init__('node:' + bridge.name, bridge.index)
        self.set_ips(*parse_ips(where, doc['ips']))
        self.extra = parse_port_tokens(where + ' ports', doc.get('ports', []))
        self.bridge = bridge
        self.host_pods = []      # hostNetwork pods: their ports are served here, answering with the pod's key

    def declared_ports(self):
        return [(name, port, proto, pod.key) for pod in self.host_pods for name, port, proto in pod.ports]

    def port_external_ids(self):
        ids = super().port_external_ids()
        ids['sluice-role'] = 'node'
        return ids


class ExternalHost(Member):
    """A host outside the cluster: a namespace behind a port with external_ids sluice-role=uplink."""
    kind = 'external'

    def __init__(self, doc, index):
        where = 'topology.json externalHosts[%d]' % index
        unknown = set(doc) - {'name', 'bridge', 'ips', 'ports', 'comment'}
        if unknown:
            raise ScenarioError('%s: unknown keys %s' % (where, sorted(unknown)))
        name = str(doc.get('name', ''))
        if not re.fullmatch(r'[a-z0-9][a-z0-9-]{0,14}', name):
            raise ScenarioError('%s: "name" must be 1-15 of [a-z0-9-]' % where)
        if 'ips' not in doc:
            raise ScenarioError('%s: "ips" is missing' % where)
        super().__init__('external:' + name, index)
        self.name = name
        self.bridge_name = doc.get('bridge')
        self.set_ips(*parse_ips(where, doc['ips']))
        self.extra = parse_port_tokens(where + ' ports', doc.get('ports', []))

    def port_external_ids(self):
        ids = super().port_external_ids()
        ids['sluice-role'] = 'uplink'
        return ids


class Bridge:
    def __init__(self, name, index):
        self.name, self.index = name, index
        self.pods = []
        self.node = None         # NodeHost, when the topology has nodes
        self.ovs_name = None
        self.dpid = None


class Topology:
    def __init__(self, path):
        try:
            with open(path, encoding='utf-8') as f:
                doc = json.load(f)
        except OSError as e:
            raise ScenarioError('cannot read %s: %s' % (path, e))
        except ValueError as e:
            raise ScenarioError('%s is not valid JSON: %s' % (path, e))
        unknown = set(doc) - {'description', 'comment', 'ipv4PrefixLength', 'ipv6PrefixLength', 'namespaces',
                              'bridges', 'links', 'pods', 'gateway', 'externalHosts'}
        if unknown:
            raise ScenarioError('topology.json: unknown keys %s' % sorted(unknown))
        self.description = doc.get('description', '')
        self.v4len, self.v6len = int(doc.get('ipv4PrefixLength', 24)), int(doc.get('ipv6PrefixLength', 64))
        self.pods = [Pod(p, i) for i, p in enumerate(doc.get('pods', []))]
        self.pod_by_key = {}
        for p in self.pods:
            if p.key in self.pod_by_key:
                raise ScenarioError('topology.json: pod %s is listed twice' % p.key)
            self.pod_by_key[p.key] = p
        self.namespaces = {}
        for ns, nsdoc in (doc.get('namespaces') or {}).items():
            self.namespaces[ns] = dict((nsdoc or {}).get('labels', {}))
        for p in self.pods:
            self.namespaces.setdefault(p.ns, {})
        self._bridges(doc)
        self._links(doc.get('links', []))
        self.externals = [ExternalHost(e, i) for i, e in enumerate(doc.get('externalHosts') or [])]
        for e in self.externals:
            name = e.bridge_name or self.bridges[0].name
            if name not in self.bridge_by_name:
                raise ScenarioError('topology.json external host %s: no bridge %s' % (e.name, name))
            e.bridge = self.bridge_by_name[name]
        self.nodes = [b.node for b in self.bridges if b.node is not None]
        # What the matrix names: pods with a namespace of their own, then nodes, then external hosts.
        self.members = [p for p in self.pods if p.in_node is None] + self.nodes + self.externals
        if len(self.members) < 2:
            raise ScenarioError('topology.json: at least two pods (or nodes, external hosts) are needed')
        self.by_key = {}
        for m in self.members:
            if m.key in self.by_key:
                raise ScenarioError('topology.json: %s is named twice' % m.key)
            self.by_key[m.key] = m
        self._addresses(doc.get('gateway'))

    def _bridges(self, doc):
        bridges = doc.get('bridges') or [{'name': 'br', 'pods': [p.key for p in self.pods]}]
        self.bridges = []
        names = set()
        for i, b in enumerate(bridges):
            name = str(b.get('name', ''))
            # The bridge's name (with the run's prefix) is its node's name: a DNS label, and an interface name.
            if not re.fullmatch(r'[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?', name) or name in names:
                raise ScenarioError('topology.json bridges[%d]: name %r must be unique, 1-8 of [a-z0-9-], starting '
                                    'and ending with a letter or digit' % (i, name))
            unknown = set(b) - {'name', 'pods', 'node', 'comment'}
            if unknown:
                raise ScenarioError('topology.json bridge %s: unknown keys %s' % (name, sorted(unknown)))
            names.add(name)
            br = Bridge(name, i)
            if b.get('node') is not None:
                br.node = NodeHost(b['node'], br)
            for key in b.get('pods', []):
                pod = self.pod_by_key.get(key)
                if pod is None:
                    raise ScenarioError('topology.json bridge %s: no pod %s in "pods"' % (name, key))
                if pod.bridge is not None:
                    raise ScenarioError('topology.json: pod %s is on two bridges' % key)
                pod.bridge = br
                br.pods.append(pod)
            self.bridges.append(br)
        missing = [p.key for p in self.pods if p.bridge is None]
        if missing:
            raise ScenarioError('topology.json: pods on no bridge: %s' % ', '.join(missing))
        with_node = [b.name for b in self.bridges if b.node is not None]
        if with_node and len(with_node) != len(self.bridges):
            raise ScenarioError('topology.json: every bridge is a node, or none is; bridges without "node": %s'
                                % ', '.join(b.name for b in self.bridges if b.node is None))
        for p in self.pods:
            node = p.bridge.node
            if p.host_network and node is not None:
                # A hostNetwork pod has its node's addresses and runs in the node's namespace.
                if p.v4 is not None and p.ips != node.ips:
                    raise ScenarioError('topology.json pod %s: a hostNetwork pod on bridge %s has the node\'s '
                                        'addresses %s: leave "ips" out or give exactly those'
                                        % (p.key, p.bridge.name, node.ips))
                p.set_ips(node.v4, node.v6)
                p.in_node = node
                node.host_pods.append(p)
            elif p.v4 is None:
                raise ScenarioError('topology.json pod %s: "ips" is missing (bridge %s has no node whose addresses a '
                                    'hostNetwork pod would take)' % (p.key, p.bridge.name))
        self.bridge_by_name = {b.name: b for b in self.bridges}

    def _links(self, links):
        if isinstance(links, str):
            # "line": b1-b2, b2-b3, ...; "star": the first bridge to each other one. Patch-port pairs.
            if links not in ('line', 'star'):
                raise ScenarioError('topology.json "links": "line", "star" or a list of links, not %r' % links)
            hub = self.bridges[0]
            pairs = [(self.bridges[i - 1] if links == 'line' else hub, self.bridges[i])
                     for i in range(1, len(self.bridges))]
            links = [{'type': 'patch', 'bridges': [a.name, b.name]} for a, b in pairs]
        self.links = []
        for i, l in enumerate(links):
            kind = l.get('type', 'patch')
            ends = l.get('bridges', [])
            if kind not in ('patch', 'veth') or len(ends) != 2 or any(e not in self.bridge_by_name for e in ends) \
                    or ends[0] == ends[1]:
                raise ScenarioError('topology.json links[%d]: needs "type" patch|veth and "bridges" [two bridge names]'
                                    % i)
            self.links.append({'type': kind, 'a': self.bridge_by_name[ends[0]], 'b': self.bridge_by_name[ends[1]],
                               'index': i})
        # Every bridge must reach every other one, or cross-bridge probes are meaningless.
        reach, todo = {self.bridges[0].name}, [self.bridges[0].name]
        while todo:
            cur = todo.pop()
            for l in self.links:
                for x, y in ((l['a'], l['b']), (l['b'], l['a'])):
                    if x.name == cur and y.name not in reach:
                        reach.add(y.name)
                        todo.append(y.name)
        if len(reach) != len(self.bridges):
            raise ScenarioError('topology.json: bridges %s are not linked to %s'
                                % (sorted(set(self.bridge_by_name) - reach), self.bridges[0].name))

    def _addresses(self, gateway):
        """One Ethernet segment: every member's addresses in one subnet per family, each owned once; the gateway
        (if any) in that subnet too, owned by nobody."""
        owners = {}
        for m in self.members:
            for ip in m.ips:
                if ip in owners:
                    raise ScenarioError('topology.json: %s and %s share the address %s' % (owners[ip], m.key, ip))
                owners[ip] = m.key
        with_v6 = [m.key for m in self.members if m.v6]
        if with_v6 and len(with_v6) != len(self.members):
            raise ScenarioError('topology.json: either every pod, node and external host has an IPv6 address (dual '
                                'stack) or none; without one: %s' % ', '.join(m.key for m in self.members if not m.v6))
        self.dual_stack = bool(with_v6)
        first = self.members[0]
        self.net4 = ipaddress.ip_network('%s/%d' % (first.v4, self.v4len), strict=False)
        self.net6 = ipaddress.ip_network('%s/%d' % (first.v6, self.v6len), strict=False) if first.v6 else None
        for m in self.members:
            for ip, net in ((m.v4, self.net4), (m.v6, self.net6)):
                if ip and ipaddress.ip_address(ip) not in net:
                    raise ScenarioError('topology.json: %s (%s) is outside %s, the segment every pod, node and '
                                        'external host shares (ipv4PrefixLength, ipv6PrefixLength)' % (ip, m.key, net))
        self.gateway = None
        if gateway is None:
            return
        where = 'topology.json "gateway"'
        unknown = set(gateway) - {'ipv4', 'ipv6', 'comment'} if isinstance(gateway, dict) else {'(not an object)'}
        if unknown or 'ipv4' not in gateway:
            raise ScenarioError('%s: {"ipv4": ADDRESS, "ipv6": ADDRESS (dual stack)}' % where)
        v4, v6 = parse_ips(where, [gateway['ipv4']] + ([gateway['ipv6']] if gateway.get('ipv6') else []))
        if self.dual_stack != bool(v6):
            raise ScenarioError('%s: "ipv6" is needed exactly when the scenario is dual stack' % where)
        for ip, net in ((v4, self.net4), (v6, self.net6)):
            if ip is None:
                continue
            if ipaddress.ip_address(ip) not in net:
                raise ScenarioError('%s: %s is not on the segment %s' % (where, ip, net))
            if ip in owners:
                raise ScenarioError('%s: %s belongs to %s; the gateway is an address no port owns'
                                    % (where, ip, owners[ip]))
        self.gateway = {'v4': v4, 'v6': v6, 'mac': mac_of(v4)}

    def probes(self, member):
        return member.probes(self.dual_stack)

    def apply_labels(self, path):
        """A step's labels.json: {"pods": {"ns/name": {labels}}, "namespaces": {"ns": {labels}}}; sets replace."""
        try:
            with open(path, encoding='utf-8') as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise ScenarioError('%s: %s' % (path, e))
        for key, labels in (doc.get('pods') or {}).items():
            if key not in self.pod_by_key:
                raise ScenarioError('%s: no pod %s in topology.json' % (path, key))
            self.pod_by_key[key].labels = dict(labels)
        for ns, labels in (doc.get('namespaces') or {}).items():
            if ns not in self.namespaces:
                raise ScenarioError('%s: no namespace %s in topology.json' % (path, ns))
            self.namespaces[ns] = dict(labels)

    def manifests(self):
        """Namespaces, Nodes and Pods as one v1 List, the way the API server would store them (status included)."""
        items = []
        for ns, labels in sorted(self.namespaces.items()):
            lab = dict(labels)
            lab['kubernetes.io/metadata.name'] = ns
            items.append({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': ns, 'labels': lab}})
        for node in self.nodes:
            name = node.bridge.ovs_name
            addresses = [{'type': 'InternalIP', 'address': ip} for ip in node.ips] + \
                        [{'type': 'Hostname', 'address': name}]
            meta = {'name': name, 'labels': {'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux'}}
            if node.bridge.dpid:   # which switch is this node's (NodePorts, Local traffic policies, masquerade)
                meta['annotations'] = {'sluice.io/datapath-ids': '0x' + node.bridge.dpid}
            items.append({'apiVersion': 'v1', 'kind': 'Node', 'metadata': meta, 'status': {'addresses': addresses}})
        for p in self.pods:
            container = {'name': 'main', 'image': 'busybox:1.36'}
            if p.ports:
                container['ports'] = []
                for name, port, proto in p.ports:
                    cp = {'containerPort': port, 'protocol': proto}
                    if name:
                        cp['name'] = name
                    container['ports'].append(cp)
            spec = {'nodeName': p.bridge.ovs_name or p.bridge.name, 'containers': [container]}
            if p.host_network:
                spec['hostNetwork'] = True
            status = {'phase': 'Running', 'podIP': p.v4, 'podIPs': [{'ip': ip} for ip in p.ips]}
            # The node's addresses are every pod's status.hostIP(s). Without nodes, a hostNetwork pod with its own
            # namespace stands for its bridge's node.
            node = p.bridge.node or next((q for q in self.pods if q.host_network and q.bridge is p.bridge), None)
            if node is not None:
                status['hostIP'] = node.v4
                status['hostIPs'] = [{'ip': ip} for ip in node.ips]
            items.append({'apiVersion': 'v1', 'kind': 'Pod',
                          'metadata': {'name': p.name, 'namespace': p.ns, 'labels': dict(p.labels)},
                          'spec': spec, 'status': status})
        return {'apiVersion': 'v1', 'kind': 'List', 'items': items}


# ---------------------------------------------------------------------------------------------------------------
# expected.txt: parse and print
# ---------------------------------------------------------------------------------------------------------------

def parse_expected(path, topo):
    """Returns {(from_key, to_key): [True/False per probe of to]}. Raises ScenarioError naming the line."""
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ScenarioError('cannot read %s: %s' % (path, e))
    rel = os.path.relpath(path)
    if rel.startswith('..'):
        rel = path
    header = None
    rows = {}
    for n, raw in enumerate(lines, 1):
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        where = '%s:%d' % (rel, n)
        if line.startswith('ports ') or line.startswith('ports\t'):
            m = re.fullmatch(r'ports\s+(\S+?)\s*:(?:\s+(.*)|$)', line)   # node:NAME has a colon of its own
            if not m or m.group(1) not in topo.by_key:
                raise ScenarioError('%s: "ports POD: PROBE..." names no pod (node:NAME, external:NAME) of topology.json'
                                    % where)
            pod = topo.by_key[m.group(1)]
            listed = [re.sub(r'\(.*\)$', '', t) for t in (m.group(2) or '').split()]
            actual = [pr.token for pr in topo.probes(pod)]
            if listed != actual:
                raise ScenarioError('%s: %s is probed on %s (from topology.json), not %s'
                                    % (where, pod.key, ' '.join(actual) or '(nothing)', ' '.join(listed)))
            continue
        tokens = line.split()
        if header is None:
            header = tokens[1:]
            bad = [t for t in header if t not in topo.by_key]
            if bad:
                raise ScenarioError('%s: header names what topology.json does not have: %s' % (where, ', '.join(bad)))
            if sorted(header) != sorted(topo.by_key):
                raise ScenarioError('%s: header must name every pod (node, external host) once; missing: %s' % (
                    where, ', '.join(sorted(set(topo.by_key) - set(header))) or '(duplicates)'))
            continue
        src = tokens[0]
        if src not in topo.by_key:
            raise ScenarioError('%s: row %r is not a pod (node:NAME, external:NAME) of topology.json' % (where, src))
        if src in rows:
            raise ScenarioError('%s: a second row for %s' % (where, src))
        if len(tokens) - 1 != len(header):
            raise ScenarioError('%s: %d cells, the header has %d columns' % (where, len(tokens) - 1, len(header)))
        rows[src] = dict(zip(header, tokens[1:]))
        for dst, cell in rows[src].items():
            if dst == src:
                if cell != SELF:
                    raise ScenarioError('%s: the cell %s -> itself must be "%s" (not probed)' % (where, src, SELF))
                continue
            probes = topo.probes(topo.by_key[dst])
            marks = list(cell)
            if any(c not in ALLOW_MARKS | DENY_MARKS for c in marks):
                raise ScenarioError('%s: cell %s -> %s is %r: use %s/Y (allowed) and %s/N/x (blocked), one per port'
                                    % (where, src, dst, cell, OK, FAIL))
            if len(marks) == 1:
                marks = marks * len(probes)
            if len(marks) != len(probes):
                raise ScenarioError('%s: cell %s -> %s has %d marks; %s is probed on %d ports (%s): give one mark '
                                    'for all, or one per port' % (where, src, dst, len(cell), dst, len(probes),
                                                                   ' '.join(pr.token for pr in probes)))
            rows[src][dst] = [c in ALLOW_MARKS for c in marks]
    if header is None:
        raise ScenarioError('%s: no matrix (a header line "from\\to POD..." and one row per pod)' % rel)
    missing = sorted(set(topo.by_key) - set(rows))
    if missing:
        raise ScenarioError('%s: no row for %s' % (rel, ', '.join(missing)))
    return {(s, d): v for s, r in rows.items() for d, v in r.items() if s != d}


def cell_text(marks):
    if not marks:
        return '-'
    if all(marks):
        return OK
    if not any(marks):
        return FAIL
    return ''.join(OK if m else FAIL for m in marks)


def legend(topo):
    return ['ports %s: %s' % (m.key, ' '.join(pr.label() for pr in topo.probes(m)) or '(none)') for m in topo.members]


def render(topo, matrix, flag=None):
    """The table lines of a matrix in expected.txt format; flag: set of (src, dst) to mark with '*'."""
    keys = [m.key for m in topo.members]
    lines = []
    table = [['from\\to'] + keys]
    for s in keys:
        row = [s]
        for d in keys:
            if s == d:
                row.append(SELF)
            else:
                row.append(cell_text(matrix[(s, d)]) + ('*' if flag and (s, d) in flag else ''))
        table.append(row)
    widths = [max(len(r[i]) for r in table) for i in range(len(keys) + 1)]
    for r in table:
        lines.append('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return lines


def side_by_side(left, right, ltitle, rtitle):
    w = max([len(x) for x in left] + [len(ltitle)])
    out = ['%s | %s' % (ltitle.ljust(w), rtitle), '%s-+-%s' % ('-' * w, '-' * max(len(x) for x in right + [rtitle]))]
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ''
        b = right[i] if i < len(right) else ''
        out.append('%s | %s' % (a.ljust(w), b))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Helpers: commands, HTTP
# ---------------------------------------------------------------------------------------------------------------

def run(cmd, check=True, timeout=20, quiet=False):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SetupError('%s: no answer in %d s' % (' '.join(cmd), timeout))
    if check and r.returncode != 0:
        raise SetupError('%s: exit %d: %s' % (' '.join(cmd), r.returncode, (r.stderr or r.stdout).strip()))
    if not quiet and r.stderr.strip() and cmd[0] == 'ovs-vsctl':
        # ovs-vsctl add-br exits 0 even when the datapath could not be set up: its stderr says so.
        raise SetupError('%s: %s' % (' '.join(cmd), r.stderr.strip()))
    return r


def vsctl(*args, **kw):
    return run(['ovs-vsctl', '--timeout=10'] + list(args), **kw)


def http_get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def pid_alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(') ', 1)[-1][0] != 'Z'
    except (OSError, IndexError):
        return False


def kill_group(proc, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# ---------------------------------------------------------------------------------------------------------------
# The run: topology, servers, Sluice, probes
# ---------------------------------------------------------------------------------------------------------------

class Run:
    def __init__(self, args, topo, scenario):
        self.args, self.topo, self.scenario = args, topo, scenario
        self.prefix = args.prefix
        self.work = None
        self.sluice = None
        self.servers = []
        self.state_file = os.path.join(STATE_DIR, self.prefix + '.json')
        self.created = {'pid': os.getpid(), 'bridges': [], 'netns': [], 'links': [], 'procs': [], 'workdirs': []}
        self.api = None
        self.run_id = random.randint(0x100, 0xfff) if args.dpid_base is None else args.dpid_base
        self.manifest_files = {}   # relative name -> source path currently in force

    # -- bookkeeping so a killed run can be cleaned up by the next one --
    def remember(self, kind, name):
        self.created[kind].append(name)
        os.makedirs(STATE_DIR, exist_ok=True)
        tmp = self.state_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.created, f)
        os.replace(tmp, self.state_file)

    def names(self):
        p = self.prefix
        for br in self.topo.bridges:
            br.ovs_name = '%s-%s' % (p, br.name)
            br.dpid = '%016x' % ((0x5c << 40) | (self.run_id << 8) | (br.index + 1))
        # Namespaces and the veth ends on the bridge and in the namespace: pods PREFIX-pN, nodes PREFIX-nN (N: the
        # bridge's number), external hosts PREFIX-xN; a hostNetwork pod on a node shares its node's.
        ids = [(m, 'p' if m.kind == 'pod' else 'n' if m.kind == 'node' else 'x') for m in self.topo.members]
        for m, letter in ids:
            m.netns = '%s-%s%d' % (p, letter, m.index + 1)
            m.host_if = '%s-%s%db' % (p, letter, m.index + 1)
            m.peer_if = '%s-%s%dc' % (p, letter, m.index + 1)
        for pod in self.topo.pods:
            if pod.in_node is not None:
                pod.netns, pod.host_if, pod.peer_if = pod.in_node.netns, pod.in_node.host_if, pod.in_node.peer_if
        for l in self.topo.links:
            l['ends'] = ('%s-l%da' % (p, l['index'] + 1), '%s-l%db' % (p, l['index'] + 1))
        longest = max([b.ovs_name for b in self.topo.bridges] + [m.peer_if for m in self.topo.members] +
                      [e for l in self.topo.links for e in l['ends']], key=len)
        if len(longest) > MAX_IFNAME:
            raise ScenarioError('interface name %s is longer than %d characters: use a shorter --prefix or bridge name'
                                % (longest, MAX_IFNAME))

    def build(self):
        of_target = 'tcp:127.0.0.1:%d' % self.of_port
        for br in self.topo.bridges:
            self.remember('bridges', br.ovs_name)
            # a hardware profile: the bridge speaks OpenFlow 1.3 only, as such a switch does
            protocols = 'OpenFlow13' if self.args.profile != 'ovs' else 'OpenFlow13,OpenFlow14,OpenFlow15'
            cmd = ['add-br', br.ovs_name, '--', 'set', 'bridge', br.ovs_name, 'datapath_type=netdev',
                   'protocols=' + protocols, 'other-config:datapath-id=%s' % br.dpid]
            if self.args.standalone:
                cmd += ['fail_mode=standalone']
            else:
                # The controller goes in with the bridge: connecting one later flushes the bridge's flows.
                cmd += ['fail_mode=secure', '--', 'set-controller', br.ovs_name, of_target,
                        '--', 'set', 'controller', br.ovs_name, 'max_backoff=1000']
            vsctl(*cmd)
        for l in self.topo.links:
            a, b = l['ends']
            if l['type'] == 'patch':
                vsctl('add-port', l['a'].ovs_name, a, '--', 'set', 'interface', a, 'type=patch', 'options:peer=' + b,
                      '--', 'add-port', l['b'].ovs_name, b, '--', 'set', 'interface', b, 'type=patch',
                      'options:peer=' + a)
            else:
                self.remember('links', a)
                run(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b])
                for end, br in ((a, l['a']), (b, l['b'])):
                    run(['ethtool', '-K', end, 'tx', 'off'])
                    run(['ip', 'link', 'set', end, 'up'])
                    vsctl('add-port', br.ovs_name, end)
        for m in self.topo.members:
            self.add_namespace(m)
        for m in self.topo.members:
            m.ofport = int(vsctl('get', 'interface', m.host_if, 'ofport').stdout.strip())
            if m.ofport <= 0:
                raise SetupError('interface %s got no OpenFlow port (ofport %d)' % (m.host_if, m.ofport))
        for pod in self.topo.pods:
            if pod.in_node is not None:
                pod.ofport = pod.in_node.ofport

    def add_namespace(self, m):
        """A pod, node or external host: its namespace with eth0 (MAC, addresses, default route via the gateway and
        the gateway's permanent neighbour entry), the veth to its bridge, the port with its external_ids."""
        self.remember('netns', m.netns)
        self.remember('links', m.host_if)
        ns = m.netns
        topo = self.topo
        run(['ip', 'netns', 'add', ns])
        run(['ip', 'link', 'add', m.peer_if, 'type', 'veth', 'peer', 'name', m.host_if])
        run(['ip', 'link', 'set', m.peer_if, 'netns', ns])
        run(['ip', '-n', ns, 'link', 'set', m.peer_if, 'name', 'eth0'])
        run(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', m.mac])
        run(['ip', '-n', ns, 'addr', 'add', '%s/%d' % (m.v4, topo.v4len), 'dev', 'eth0'])
        if m.v6:
            run(['ip', '-n', ns, 'addr', 'add', '%s/%d' % (m.v6, topo.v6len), 'dev', 'eth0', 'nodad'])
        run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
        run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
        gw = topo.gateway
        if gw is not None:
            # Off-link traffic (cluster IPs, externalIPs) goes to a gateway no port owns, pinned so that nobody is
            # asked for it: the bridge where the packet enters translates it.
            for fam, ip in (('-4', gw['v4']), ('-6', gw['v6'])):
                if ip is None:
                    continue
                run(['ip', '-n', ns, fam, 'neigh', 'replace', ip, 'lladdr', gw['mac'], 'dev', 'eth0',
                     'nud', 'permanent'])
                run(['ip', '-n', ns, fam, 'route', 'add', 'default', 'via', ip, 'dev', 'eth0'])
        run(['ip', 'link', 'set', m.host_if, 'up'])
        # The userspace datapath forwards veth's partial checksums as they are: tx offload off, both ends.
        run(['ip', 'netns', 'exec', ns, 'ethtool', '-K', 'eth0', 'tx', 'off'])
        run(['ethtool', '-K', m.host_if, 'tx', 'off'])
        ofport = {'pod': 1, 'node': 101, 'external': 201}[m.kind] + m.index
        ext = ['external_ids:%s=%s' % kv for kv in sorted(m.port_external_ids().items())]
        vsctl('add-port', m.bridge.ovs_name, m.host_if, '--', 'set', 'interface', m.host_if,
              'ofport_request=%d' % ofport, *ext)

    def start_servers(self):
        for m in self.topo.members:
            spec = m.listen_ports()
            if not spec['tcp'] and not spec['udp']:
                continue
            spec['v6'] = bool(m.v6)
            proc = subprocess.Popen(['ip', 'netns', 'exec', m.netns, sys.executable, os.path.abspath(__file__),
                                     '_serve', json.dumps(spec)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, start_new_session=True)
            self.servers.append((m, proc))
        deadline = time.monotonic() + 10
        for pod, proc in self.servers:
            line = read_line(proc.stdout, max(0.1, deadline - time.monotonic()))
            if line is None or not line.startswith('READY'):
                raise SetupError('the servers in %s (%s) did not start: %s' % (pod.netns, pod.key, line or 'no answer'))

    def write_manifests(self, manifest_src_dirs, deletions=()):
        """manifests/ of the scenario (and of steps so far) -> WORK/manifests; topology -> WORK/topology.
        Files are written under a dot-name and renamed: the watcher skips dot-names, so it never reads half a file."""
        topo_dir = os.path.join(self.work, 'topology')
        man_dir = os.path.join(self.work, 'manifests')
        os.makedirs(topo_dir, exist_ok=True)
        os.makedirs(man_dir, exist_ok=True)
        atomic_write(os.path.join(topo_dir, 'pods.json'), json.dumps(self.topo.manifests(), indent=1))
        for rel in deletions:
            target = os.path.join(man_dir, rel)
            if not os.path.exists(target):
                raise ScenarioError('delete.txt names %s, which is not in the manifests in force (%s)'
                                    % (rel, ', '.join(sorted(self.manifest_files)) or 'none'))
            os.remove(target)
            self.manifest_files.pop(rel, None)
        for src in manifest_src_dirs:
            if not os.path.isdir(src):
                continue
            for dirpath, _, files in os.walk(src):
                for fname in sorted(files):
                    if fname.startswith('.'):
                        continue
                    path = os.path.join(dirpath, fname)
                    rel = os.path.relpath(path, src)
                    os.makedirs(os.path.dirname(os.path.join(man_dir, rel)), exist_ok=True)
                    with open(path, 'rb') as f:
                        atomic_write(os.path.join(man_dir, rel), f.read())
                    self.manifest_files[rel] = path

    def start_sluice(self):
        sluice = self.args.sluice
        args = [sluice, 'run', '--listen', '127.0.0.1:%d' % self.of_port, '--http', '127.0.0.1:%d' % self.http_port,
                '--manifests', self.work, '--ovsdb', self.args.ovsdb, '--profile', self.args.profile]
        self.sluice_log = os.path.join(self.work, 'sluice.log')
        log('$ %s   (log: %s)' % (' '.join(args), self.sluice_log))
        with open(self.sluice_log, 'wb') as out:
            self.sluice = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        # A later run kills it if this one is SIGKILLed: its process group, if its command line still says so.
        self.remember('procs', {'pgid': self.sluice.pid, 'marker': '--http 127.0.0.1:%d' % self.http_port})

    def sluice_tail(self, n=40):
        try:
            with open(self.sluice_log, encoding='utf-8', errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except (OSError, AttributeError):
            return ''

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = 'no answer yet'
        while time.monotonic() < deadline:
            if self.sluice.poll() is not None:
                raise SetupError('Sluice exited (status %s) before /readyz answered 200' % self.sluice.returncode)
            try:
                status, body = http_get(self.api + '/readyz')
                if status == 200:
                    return
                last = 'HTTP %d %s' % (status, body.decode(errors='replace').strip())
            except (urllib.error.URLError, OSError) as e:
                last = str(getattr(e, 'reason', e))
            time.sleep(0.3)
        raise SetupError('%s/readyz not 200 after %d s (last: %s)' % (self.api, timeout, last))

    def realization(self):
        _, body = http_get(self.api + '/api/v1/realization')
        return json.loads(body)

    def wait_realized(self, timeout, after_generation=None):
        """Every scenario bridge connected, every pod bound, every connected switch realizedGeneration == generation
        (and, after a change, generation > after_generation). Returns the generation."""
        want = {':'.join(b.dpid[i:i + 2] for i in range(0, 16, 2)): b.ovs_name for b in self.topo.bridges}
        pods = {p.key for p in self.topo.pods if not p.host_network}
        deadline = time.monotonic() + timeout
        last = 'no answer yet'
        stable_gen, stable_since = None, 0.0
        while time.monotonic() < deadline:
            if self.sluice.poll() is not None:
                raise SetupError('Sluice exited (status %s)' % self.sluice.returncode)
            continue_wait = False
            try:
                doc = self.realization()
                gen = doc['generation']
                sws = {s['datapathId'].lower(): s for s in doc.get('switches', [])}
                _, pbody = http_get(self.api + '/api/v1/ports')
                bound = {b['pod'] for b in json.loads(pbody).get('bindings', [])}
                missing = [name for dpid, name in want.items() if not sws.get(dpid, {}).get('connected')]
                behind = ['%s at %s' % (s['datapathId'], s.get('realizedGeneration')) for s in sws.values()
                          if s.get('connected') and s.get('realizedGeneration') != gen]
                unbound = sorted(pods - bound)
                if missing:
                    last = 'bridges not connected: %s' % ', '.join(missing)
                elif unbound:
                    last = 'pods not bound to a switch port yet: %s' % ', '.join(unbound)
                elif after_generation is not None and gen <= after_generation:
                    last = 'generation still %s (the change is not loaded yet)' % gen
                elif behind:
                    last = 'generation %s, switches behind: %s' % (gen, ', '.join(behind))
                elif stable_gen != gen:
                    # Bindings show in /api/v1/ports a moment before the model generation that holds them,
                    # and a manifest change can land in two batches: only a generation that stays put counts.
                    stable_gen, stable_since = gen, time.monotonic()
                    last = 'generation %s realized, waiting %.1f s for it to stay put' % (gen, self.args.quiet)
                    continue_wait = True
                elif time.monotonic() - stable_since >= self.args.quiet:
                    flows = ', '.join('%s %s flows' % (want[d], sws[d].get('flows', '?')) for d in want)
                    log('Sluice realized generation %s on every bridge (%s)' % (gen, flows))
                    return gen
                else:
                    continue_wait = True
                if not continue_wait:
                    stable_gen = None
            except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as e:
                last = 'GET %s: %s' % (self.api, e)
            time.sleep(0.2)
        raise SetupError('not realized after %d s: %s' % (timeout, last))

    def check_errors(self):
        status, body = http_get(self.api + '/api/v1/errors')
        if status != 200:
            return
        errs = json.loads(body)
        if errs:
            lines = ['  ' + json.dumps(e, sort_keys=True) for e in errs]
            raise ScenarioError('Sluice rejected documents of the scenario (GET /api/v1/errors):\n' + '\n'.join(lines))

    def settle(self):
        # OVS re-judges cached datapath flows asynchronously after a table change: drop them before probing.
        run(['ovs-appctl', 'revalidator/purge'], timeout=10)

    # -- probing --
    def probe_all(self, only=None):
        """{(src, dst): [bool per probe of dst]}; details[(src, dst, token)] = how it ended."""
        jobs = {}      # src pod key -> list of probe dicts
        sctp = []      # (src, dst, probe index, Probe)
        result = {}
        for s in self.topo.members:
            for d in self.topo.members:
                if s is d:
                    continue
                probes = self.topo.probes(d)
                result[(s.key, d.key)] = [None] * len(probes)
                for i, pr in enumerate(probes):
                    if only is not None and (s.key, d.key, i) not in only:
                        continue
                    if pr.proto == 'sctp':
                        sctp.append((s, d, i, pr))
                    else:
                        jobs.setdefault(s.key, []).append({'id': '%s|%d' % (d.key, i), 'proto': pr.proto,
                                                            'ip': d.v6 if pr.v6 else d.v4, 'port': pr.port,
                                                            'timeout': self.args.probe_timeout})
        details = {}
        with ThreadPoolExecutor(max_workers=max(1, len(jobs) + min(4, len(sctp)))) as pool:
            futs = {pool.submit(self.probe_from, self.topo.by_key[k], v): k for k, v in jobs.items()}
            sfuts = [(pool.submit(self.trace_sctp, s, d, pr), s, d, i, pr) for s, d, i, pr in sctp]
            for fut, k in futs.items():
                for pid, outcome in fut.result().items():
                    dkey, i = pid.rsplit('|', 1)
                    result[(k, dkey)][int(i)] = outcome == 'ok'
                    details[(k, dkey, int(i))] = outcome
            for fut, s, d, i, pr in sfuts:
                ok, why = fut.result()
                result[(s.key, d.key)][i] = ok
                details[(s.key, d.key, i)] = why
        return result, details

    def probe_from(self, pod, probes):
        budget = 15 + 2 * self.args.probe_timeout * (1 + len(probes) // 32)
        try:
            r = subprocess.run(['ip', 'netns', 'exec', pod.netns, sys.executable, os.path.abspath(__file__), '_probe'],
                               input=json.dumps(probes), capture_output=True, text=True, timeout=budget)
        except subprocess.TimeoutExpired:
            return {p['id']: 'prober timed out' for p in probes}
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise SetupError('the prober in %s failed: %s' % (pod.netns, (r.stderr or r.stdout).strip()[-500:]))

    def probe_services(self, checks, jobs, factor=1):
        """{(check index, client): {'answers': {name: count}, 'failures': {why: count}}}, one prober per client."""
        per_client = {}
        for i, c in jobs:
            per_client.setdefault(c, []).append({'id': str(i), 'ip': checks[i].ip, 'port': checks[i].port,
                                                 'connections': checks[i].connections * factor,
                                                 'source_port': checks[i].source_port,
                                                 'timeout': self.args.probe_timeout})
        out = {}

        def one(client, batch):
            # Connections of one check run one after the other, each at most connect + answer timeouts.
            budget = 15 + max(b['connections'] for b in batch) * 2 * self.args.probe_timeout * (1 + len(batch) // 16)
            try:
                r = subprocess.run(['ip', 'netns', 'exec', client.netns, sys.executable, os.path.abspath(__file__),
                                    '_svcprobe'], input=json.dumps(batch), capture_output=True, text=True,
                                   timeout=budget)
            except subprocess.TimeoutExpired:
                return {b['id']: {'answers': {}, 'failures': {'prober timed out': b['connections']}} for b in batch}
            try:
                return json.loads(r.stdout)
            except ValueError:
                raise SetupError('the Service prober in %s failed: %s' % (client.netns,
                                                                          (r.stderr or r.stdout).strip()[-500:]))
        with ThreadPoolExecutor(max_workers=max(1, len(per_client))) as pool:
            futs = {pool.submit(one, c, batch): c for c, batch in per_client.items()}
            for fut, c in futs.items():
                for i, outcome in fut.result().items():
                    out[(int(i), c)] = outcome
        return out


    def dp_ports(self):
        out = run(['ovs-appctl', 'dpif/show'], timeout=10).stdout
        ports = {}
        for line in out.splitlines():
            m = re.match(r'\s+(\S+) (\d+)/(\d+)', line)
            if m:
                ports[m.group(1)] = int(m.group(3))
        return ports

    def trace_sctp(self, src, dst, probe):
        """SCTP cannot be sent (no kernel SCTP): ask OVS what its tables would do with the first packet.
        Allowed when the last 'Datapath actions' of every hop outputs to the interface towards dst."""
        try:
            dp = self.dp_ports()
            hops = self.trace_hops(src, dst)
            for bridge, in_port, exit_if in hops:
                if probe.v6:
                    flow = 'in_port=%d,sctp6,dl_src=%s,dl_dst=%s,ipv6_src=%s,ipv6_dst=%s,sctp_src=40000,sctp_dst=%d' % (
                        in_port, src.mac, dst.mac, src.v6, dst.v6, probe.port)
                else:
                    flow = 'in_port=%d,sctp,dl_src=%s,dl_dst=%s,nw_src=%s,nw_dst=%s,sctp_src=40000,sctp_dst=%d' % (
                        in_port, src.mac, dst.mac, src.v4, dst.v4, probe.port)
                # NORMAL forwards by MAC learning: early in a run a bridge may not know (or misplace) the
                # destination's MAC and send the packet elsewhere. That is forwarding, not policy: trace again
                # (3 times at most) before calling it blocked. A policy drop says "drop" every time.
                for attempt in range(3):
                    out = run(['ovs-appctl', 'ofproto/trace', bridge, flow, '--ct-next', 'trk,new'], timeout=10).stdout
                    actions = [l for l in out.splitlines() if l.startswith('Datapath actions:')]
                    if not actions:
                        return False, 'trace on %s printed no Datapath actions' % bridge
                    verdict = actions[-1].split(':', 1)[1].strip()
                    outputs = trace_outputs(verdict)
                    if dp.get(exit_if) in outputs or not outputs:
                        break
                    time.sleep(0.3)
                if dp.get(exit_if) not in outputs:
                    return False, 'trace on %s: Datapath actions: %s (%s)' % (
                        bridge, verdict, 'dropped' if not outputs else
                        'not to %s, dp port %s' % (exit_if, dp.get(exit_if)))
            return True, 'ok (trace)'
        except SetupError as e:
            return False, str(e)

    def trace_hops(self, src, dst):
        """[(ovs bridge, OpenFlow in_port, interface the packet must leave by)] from src's bridge to dst.
        Bridges joined by patch ports are one hop (a trace follows patch ports); a veth link starts a new hop."""
        comp = {b.name: b.name for b in self.topo.bridges}

        def find(x):
            while comp[x] != x:
                x = comp[x]
            return x
        for l in self.topo.links:
            if l['type'] == 'patch':
                comp[find(l['a'].name)] = find(l['b'].name)
        # BFS over patch-components through veth links.
        start, goal = find(src.bridge.name), find(dst.bridge.name)
        prev = {start: None}
        queue = [start]
        while queue:
            cur = queue.pop(0)
            for l in self.topo.links:
                if l['type'] != 'veth':
                    continue
                for (x, xe), (y, ye) in (((l['a'], l['ends'][0]), (l['b'], l['ends'][1])),
                                         ((l['b'], l['ends'][1]), (l['a'], l['ends'][0]))):
                    if find(x.name) == cur and find(y.name) not in prev:
                        prev[find(y.name)] = (cur, x, xe, y, ye)
                        queue.append(find(y.name))
        path = []
        node = goal
        while prev[node] is not None:
            path.append(prev[node])
            node = prev[node][0]
        path.reverse()
        hops = []
        bridge, in_port = src.bridge.ovs_name, src.ofport
        for _, _, exit_end, y, enter_end in path:
            hops.append((bridge, in_port, exit_end))
            bridge = y.ovs_name
            in_port = int(vsctl('get', 'interface', enter_end, 'ofport').stdout.strip())
        hops.append((bridge, in_port, dst.host_if))
        return hops

    # -- cleanup --
    def cleanup(self):
        # A second Ctrl-C must not stop the cleanup half-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for _, proc in self.servers:
            kill_group(proc, grace=1.0)
        if self.sluice is not None:
            kill_group(self.sluice, grace=10.0)
        remove_resources(self.created)
        try:
            os.remove(self.state_file)
        except OSError:
            pass
        if self.work and not self.args.keep_workdir:
            shutil.rmtree(self.work, ignore_errors=True)


def trace_outputs(actions):
    """Datapath port numbers a 'Datapath actions:' line outputs to (top-level plain numbers)."""
    outputs, depth, tok = set(), 0, ''
    for ch in actions + ',':
        if ch == '(':
            depth += 1
        elif ch == ')':
            depth -= 1
        if ch == ',' and depth == 0:
            if tok.strip().isdigit():
                outputs.add(int(tok.strip()))
            tok = ''
        else:
            tok += ch
    return outputs


def remove_resources(created):
    for proc in created.get('procs', []):
        try:
            with open('/proc/%d/cmdline' % proc['pgid'], 'rb') as f:
                cmdline = f.read().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            cmdline = ''
        # The launcher execs java with the same arguments; check before killing (the pid may be reused).
        if proc['marker'] in cmdline:
            try:
                os.killpg(proc['pgid'], signal.SIGKILL)
            except OSError:
                pass
    for br in created.get('bridges', []):
        run(['ovs-vsctl', '--timeout=10', '--if-exists', 'del-br', br], check=False, quiet=True)
    for link in created.get('links', []):
        if os.path.exists('/sys/class/net/%s' % link):
            run(['ip', 'link', 'del', link], check=False)
    for ns in created.get('netns', []):
        if os.path.exists('/run/netns/%s' % ns):
            pids = run(['ip', 'netns', 'pids', ns], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            run(['ip', 'netns', 'del', ns], check=False)


def remove_stale(created):
    remove_resources(created)
    for d in created.get('workdirs', []):
        if os.path.basename(d).startswith('sluice-matrix-'):
            shutil.rmtree(d, ignore_errors=True)


def clean_stale_runs():
    """Remove what runs killed without cleanup left behind (their owner process is gone)."""
    if not os.path.isdir(STATE_DIR):
        return
    for fname in os.listdir(STATE_DIR):
        if not fname.endswith('.json'):
            continue
        path = os.path.join(STATE_DIR, fname)
        try:
            with open(path) as f:
                created = json.load(f)
        except (OSError, ValueError):
            continue
        if pid_alive(int(created.get('pid', 0))):
            continue
        log('Removing leftovers of an earlier run that was killed: %s' % fname[:-5])
        remove_stale(created)
        try:
            os.remove(path)
        except OSError:
            pass


def atomic_write(path, data):
    d, base = os.path.split(path)
    tmp = os.path.join(d, '.%s.tmp' % base)
    mode = 'wb' if isinstance(data, bytes) else 'w'
    with open(tmp, mode) as f:
        f.write(data)
    os.replace(tmp, path)


def read_line(stream, timeout):
    box = []
    t = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return box[0].strip() if box else None


# ---------------------------------------------------------------------------------------------------------------
# services.txt: Service probes (TCP connections to a virtual address; who answers, how many fail)
# ---------------------------------------------------------------------------------------------------------------

CLIENT_GROUPS = ('all', 'pods', 'nodes', 'externals')
# How a failed Service connection ended, as service_connect() names it: no answer to the SYN (dropped), a RST to the
# SYN, a RST later.
FAILURE_KINDS = ('timeout', 'refused', 'reset')


class ServiceCheck:
    """One line of services.txt: clients, a virtual address and port, how many connections each client opens, the
    endpoints that must answer (exactly those) and how many connections must fail."""

    def __init__(self, where, line, clients, ip, port, connections, answered, failures, source=None, failed_how=None,
                 source_port=None):
        self.where, self.line = where, line
        self.source_port = source_port   # None (the kernel picks), or the first of consecutive bound source ports
        self.clients, self.ip, self.port = clients, ip, port
        self.connections, self.answered, self.failures = connections, answered, failures
        self.failed_how = failed_how   # None (any way), or how every failed connection must end: FAILURE_KINDS
        self.source = source     # None (not checked), 'client', 'own-node' or a NodeHost

    @property
    def v6(self):
        return ':' in self.ip

    def source_of(self, client):
        """The address every answering endpoint must have seen the connections come from, or None (not checked):
        the client's own (source=client), the node of the bridge the client is on (source=own-node: a connection
        translated and masqueraded where it enters), or a named node's (source=node:NAME), in the target's family."""
        if self.source is None:
            return None
        who = client if self.source == 'client' else client.bridge.node if self.source == 'own-node' else self.source
        return who.v6 if self.v6 else who.v4

    def source_text(self):
        if self.source is None:
            return ''
        return '; seen from %s' % ("the client's own address" if self.source == 'client' else
                                   "the client's node's address" if self.source == 'own-node' else
                                   "%s's address" % self.source.key)

    @property
    def target(self):
        return ('[%s]:%d' if ':' in self.ip else '%s:%d') % (self.ip, self.port)

    def expectation(self, client=None):
        text = 'answered by %s; %d failed' % (' '.join(sorted(self.answered)) or 'nobody', self.failures)
        if self.failed_how:
            text += ' (%s)' % self.failed_how
        if client is not None and self.source is not None:
            return text + '; seen from %s' % self.source_of(client)
        return text + self.source_text()


def parse_services(path, topo):
    """[ServiceCheck] from services.txt: FROM TO CONNECTIONS ANSWERED-BY... FAILED per line ('#' comments).
    FROM: comma-separated pods, nodes, externals, all, or keys (ns/pod, node:NAME, external:NAME).
    TO: IPv4:PORT or [IPv6]:PORT. ANSWERED-BY: the keys whose servers must answer (every one of them, no other),
    or '-' for none. CONNECTIONS: N, or N@PORT to open them from source ports PORT, PORT+1, ... (each client the same
    ports: what makes tuples meet in conntrack). FAILED: how many of each client's connections must fail, N or N:HOW (every one ended so:
    timeout, refused or reset). An optional last token
    source=client|own-node|node:NAME: the address every answering endpoint saw the connections come from."""
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ScenarioError('cannot read %s: %s' % (path, e))
    rel = os.path.relpath(path)
    if rel.startswith('..'):
        rel = path
    answerers = set(topo.by_key) | set(topo.pod_by_key)
    checks = []
    for n, raw in enumerate(lines, 1):
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        where = '%s:%d' % (rel, n)
        tokens = line.split()
        source = None
        if tokens and tokens[-1].startswith('source='):
            value = tokens.pop()[len('source='):]
            if value in ('client', 'own-node'):
                source = value
            elif value.startswith('node:') and value in topo.by_key:
                source = topo.by_key[value]
            else:
                raise ScenarioError('%s: %r: source= is client (the client\'s own address), own-node (the address of '
                                    'the node whose bridge the client is on) or node:NAME of topology.json'
                                    % (where, 'source=' + value))
        if len(tokens) < 5:
            raise ScenarioError('%s: a check is FROM TO CONNECTIONS ANSWERED-BY... FAILED [source=WHO], e.g. '
                                '"pods 10.96.0.10:80 30 shop/web-1 shop/web-2 0"' % where)
        clients = []
        for c in tokens[0].split(','):
            if c in CLIENT_GROUPS:
                kinds = {'all': ('pod', 'node', 'external'), 'pods': ('pod',), 'nodes': ('node',),
                         'externals': ('external',)}[c]
                group = [m for m in topo.members if m.kind in kinds]
                if not group:
                    raise ScenarioError('%s: "%s" names nobody in topology.json' % (where, c))
            elif c in topo.by_key:
                group = [topo.by_key[c]]
            else:
                raise ScenarioError('%s: client %r is not %s, nor a pod (node:NAME, external:NAME) with a namespace '
                                    'of its own in topology.json' % (where, c, ', '.join(CLIENT_GROUPS)))
            clients += [m for m in group if m not in clients]
        m = re.fullmatch(r'\[([0-9a-fA-F:.]+)\]:(\d+)|([0-9.]+):(\d+)', tokens[1])
        try:
            ip = str(ipaddress.ip_address(m.group(1) or m.group(3)))
            port = int(m.group(2) or m.group(4))
            if not 0 < port < 65536:
                raise ValueError(port)
        except (AttributeError, ValueError):
            raise ScenarioError('%s: %r is not IPv4:PORT or [IPv6]:PORT' % (where, tokens[1]))
        if ':' in ip and not topo.dual_stack:
            raise ScenarioError('%s: %s is IPv6, but the pods have no IPv6 addresses' % (where, ip))
        failed, _, failed_why = tokens[-1].partition(':')
        count, _, first_port = tokens[2].partition('@')
        try:
            connections, failures = int(count), int(failed)
            source_port = int(first_port) if first_port else None
        except ValueError:
            raise ScenarioError('%s: CONNECTIONS (%r: N or N@PORT) and FAILED (%r) are numbers'
                                % (where, tokens[2], tokens[-1]))
        if source_port is not None and not 1024 <= source_port <= 65535 - 2 * connections:
            raise ScenarioError('%s: CONNECTIONS N@PORT: source ports PORT..PORT+2N (a retry doubles N) lie in '
                                '1024-65535' % where)
        if failed_why and (failed_why not in FAILURE_KINDS or failures == 0):
            raise ScenarioError('%s: FAILED is N or N:HOW, HOW one of %s (how every failed connection ended), not %r'
                                % (where, ', '.join(FAILURE_KINDS), tokens[-1]))
        if not 1 <= connections <= 1000 or not 0 <= failures <= connections:
            raise ScenarioError('%s: CONNECTIONS is 1-1000 and FAILED 0-CONNECTIONS' % where)
        named = tokens[3:-1]
        answered = set() if named == ['-'] else set(named)
        unknown = sorted(answered - answerers)
        if unknown or not named:
            raise ScenarioError('%s: ANSWERED-BY names %s: give pods (node:NAME, external:NAME) of topology.json, or '
                                '"-" for nobody' % (where, ', '.join(unknown) or 'nothing'))
        if len(answered) > connections - failures:
            raise ScenarioError('%s: %d answering endpoints cannot all answer %d successful connections'
                                % (where, len(answered), connections - failures))
        check = ServiceCheck(where, line, clients, ip, port, connections, answered, failures, source,
                             failed_why or None, source_port)
        if source is not None:
            if not answered:
                raise ScenarioError('%s: source= needs endpoints that answer' % where)
            if source == 'own-node' and any(c.bridge.node is None for c in clients):
                raise ScenarioError('%s: source=own-node needs bridges with a "node"' % where)
            if any(check.source_of(c) is None for c in clients):
                raise ScenarioError('%s: source= names an address the target\'s family does not have' % where)
        checks.append(check)
    if not checks:
        raise ScenarioError('%s: no check (FROM TO CONNECTIONS ANSWERED-BY... FAILED per line)' % rel)
    return checks


def service_outcome_text(outcome):
    answers = ', '.join('%s x%d' % (k, v) for k, v in sorted(outcome['answers'].items())) or 'nobody answered'
    failed = sum(outcome['failures'].values())
    why = ' (%s)' % ', '.join('%s x%d' % (k, v) for k, v in sorted(outcome['failures'].items())) if failed else ''
    seen = outcome.get('sources') or {}
    peers = '; seen from %s' % ', '.join('%s x%d' % (k, v) for k, v in sorted(seen.items())) if seen else ''
    return '%s; %d failed%s%s' % (answers, failed, why, peers)


def same_address(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def service_outcome_matches(check, outcome, client):
    if set(outcome['answers']) != check.answered or sum(outcome['failures'].values()) != check.failures:
        return False
    if check.failed_how and set(outcome['failures']) - {check.failed_how}:
        return False
    want = check.source_of(client)
    if want is None:
        return True
    # Every answer must have said where the connection came from, and that is the expected address.
    seen = outcome.get('sources') or {}
    return sum(seen.values()) == sum(outcome['answers'].values()) and all(same_address(a, want) for a in seen)


def compare_services(run_, title, checks, retry=True):
    """Probes every (check, client), probes the differing ones that got some answer once more (alone, with twice the
    connections: an endpoint the select group never picked in a short run, or a first packet a loaded machine lost),
    prints each check and its clients, and returns True when every one matched."""
    jobs = [(i, c) for i, ch in enumerate(checks) for c in ch.clients]
    outcomes = run_.probe_services(checks, jobs)
    wrong = [j for j in jobs if not service_outcome_matches(checks[j[0]], outcomes[j], j[1])]
    # Only where some connection got an answer: then the path works, and a missing endpoint or a failure may be
    # chance. Where every connection failed, probing again only doubles the wait.
    again = [j for j in wrong if outcomes[j]['answers']] if retry else []
    if again:
        log('%s: %d Service probe(s) differ from services.txt; probing them once more, alone, with twice the '
            'connections: %s' % (title, len(again),
                                 ', '.join('%s -> %s' % (c.key, checks[i].target) for i, c in again)))
        outcomes.update(run_.probe_services(checks, again, factor=2))
        wrong = [j for j in jobs if not service_outcome_matches(checks[j[0]], outcomes[j], j[1])]
    log('')
    log('%s: Service probes (%d clients x addresses; TCP connections, each endpoint answers with its name):'
        % (title, len(jobs)))
    width = max(len('%s (%s)' % (c.key, c.bridge.name)) for _, c in jobs)
    for i, ch in enumerate(checks):
        log('  %s  from %s, %d connections each; expected: %s' % (
            ch.target, ', '.join(c.key for c in ch.clients), ch.connections, ch.expectation()))
        for c in ch.clients:
            mark = OK if (i, c) not in wrong else FAIL + ' MISMATCH'
            log('    %s  %s  %s' % (('%s (%s)' % (c.key, c.bridge.name)).ljust(width), mark,
                                    service_outcome_text(outcomes[(i, c)])))
    if wrong:
        log('%s: services MISMATCH in %d of %d Service probes:' % (title, len(wrong), len(jobs)))
        for i, c in wrong:
            log('  %s (%s) -> %s: expected %s; observed %s' % (
                c.key, checks[i].where, checks[i].target, checks[i].expectation(c),
                service_outcome_text(outcomes[(i, c)])))
        return False
    log('%s: services OK' % title)
    return True


# ---------------------------------------------------------------------------------------------------------------
# Comparing and printing
# ---------------------------------------------------------------------------------------------------------------

def compare(run_, title, expected, retry=True):
    topo = run_.topo
    observed, details = run_.probe_all()
    wrong = {(s, d, i) for (s, d), marks in expected.items() for i, m in enumerate(marks) if observed[(s, d)][i] != m}
    if wrong and retry:
        # A loaded machine can lose a first packet: probe the differing cells once more, alone.
        log('%s: %d probe(s) differ from expected.txt; probing them once more: %s' % (
            title, len(wrong), '; '.join('%s -> %s %s %s' % (s, d, topo.probes(topo.by_key[d])[i].token,
                                                              details[(s, d, i)]) for s, d, i in sorted(wrong))))
        again, details2 = run_.probe_all(only=wrong)
        for (s, d, i) in wrong:
            observed[(s, d)][i] = again[(s, d)][i]
            details[(s, d, i)] = details2[(s, d, i)]
        wrong = {(s, d, i) for (s, d, i) in wrong if observed[(s, d)][i] != expected[(s, d)][i]}
    total = sum(len(v) for v in observed.values())
    log('')
    if not wrong:
        log('%s: observed matrix (%d probes; row = from, column = to):' % (title, total))
        for line in legend(topo) + render(topo, observed):
            log('  ' + line)
        log('%s: matrix OK' % title)
        return True
    flag = {(s, d) for s, d, _ in wrong}
    log('%s: MISMATCH in %d of %d probes (cells marked *):' % (title, len(wrong), total))
    for line in legend(topo):
        log('  ' + line)
    for line in side_by_side(render(topo, expected, flag), render(topo, observed, flag), 'expected', 'observed'):
        log('  ' + line)
    log('Differences:')
    for s, d, i in sorted(wrong):
        pr = topo.probes(topo.by_key[d])[i]
        log('  %s -> %s %s: expected %s, observed %s (%s)' % (s, d, pr.label(), OK if expected[(s, d)][i] else FAIL,
                                                              OK if observed[(s, d)][i] else FAIL, details[(s, d, i)]))
    return False


def list_steps(scenario):
    steps_dir = os.path.join(scenario, 'steps')
    if not os.path.isdir(steps_dir):
        return []
    return [os.path.join(steps_dir, d) for d in sorted(os.listdir(steps_dir))
            if os.path.isdir(os.path.join(steps_dir, d)) and not d.startswith('.')]


def load_step(step, topo):
    """Checks a step's files before anything is built, so a typo fails in a second, not after the setup."""
    known = {'manifests', 'delete.txt', 'labels.json', 'expected.txt', 'services.txt', 'README.md', 'README'}
    extra = sorted(set(os.listdir(step)) - known)
    if extra:
        raise ScenarioError('%s: unknown entries %s (a step holds manifests/, delete.txt, labels.json, expected.txt, '
                            'services.txt)' % (os.path.relpath(step), extra))
    deletions = []
    if os.path.exists(os.path.join(step, 'delete.txt')):
        with open(os.path.join(step, 'delete.txt'), encoding='utf-8') as f:
            deletions = [l.split('#', 1)[0].strip() for l in f]
        deletions = [d for d in deletions if d]
    return deletions


def optional_services(directory, topo):
    path = os.path.join(directory, 'services.txt')
    return parse_services(path, topo) if os.path.exists(path) else None


def check_services(run_, title, checks):
    if checks is None:
        return True
    if run_.args.standalone:
        log('%s: standalone, no controller translates Service addresses: the %d checks of services.txt are not run'
            % (title, len(checks)))
        return True
    return compare_services(run_, title, checks)


def main_run(args):
    scenario = os.path.abspath(args.scenario)
    topo = Topology(os.path.join(scenario, 'topology.json'))
    expected = parse_expected(os.path.join(scenario, 'expected.txt'), topo)
    services = optional_services(scenario, topo)
    steps = []
    for step in list_steps(scenario):
        deletions = load_step(step, topo)
        # Parse each step's expected matrix against the labels it will have (labels don't change the probes).
        steps.append((step, deletions, parse_expected(os.path.join(step, 'expected.txt'), topo),
                      optional_services(step, topo)))

    if not args.standalone:
        if not os.access(args.sluice, os.X_OK):
            raise SetupError('%s is not an executable (the repository\'s ./sluice, made by the build)' % args.sluice)
    if run(['ovs-vsctl', '--timeout=3', 'show'], check=False, quiet=True).returncode != 0:
        raise SetupError('Open vSwitch is not running (start it with deploy/ovs-start.sh)')
    for tool in ('ip', 'ethtool', 'ovs-appctl'):
        if shutil.which(tool) is None:
            raise SetupError('%s is missing (deploy/install-deps.sh installs it)' % tool)

    clean_stale_runs()
    r = Run(args, topo, scenario)
    r.names()
    log('Scenario %s: %s' % (os.path.basename(scenario), topo.description or '(no description)'))
    log('Run prefix %s: bridges %s; %d pods, %d node namespaces, %d external hosts; %d step(s)' % (
        r.prefix, ', '.join(b.ovs_name for b in topo.bridges), len(topo.pods), len(topo.nodes), len(topo.externals),
        len(steps)))
    all_ok = True
    try:
        r.work = tempfile.mkdtemp(prefix='sluice-matrix-%s.' % r.prefix)
        r.remember('workdirs', r.work)
        r.of_port, r.http_port = free_port(), free_port()
        while r.http_port == r.of_port:
            r.http_port = free_port()
        r.api = 'http://127.0.0.1:%d' % r.http_port
        r.write_manifests([os.path.join(scenario, 'manifests')])
        if not args.standalone:
            r.start_sluice()           # the JVM starts while the topology is built
        r.build()
        r.start_servers()
        if args.standalone:
            log('Standalone: no controller, the bridges are learning switches')
            time.sleep(0.5)
        else:
            r.wait_ready(args.ready_timeout)
            r.check_errors()
            gen = r.wait_realized(args.realize_timeout)
        r.settle()
        all_ok &= compare(r, 'initial', expected)
        all_ok &= check_services(r, 'initial', services)
        for step, deletions, step_expected, step_services in steps:
            name = os.path.basename(step)
            log('')
            log('== step %s' % name)
            if os.path.exists(os.path.join(step, 'labels.json')):
                topo.apply_labels(os.path.join(step, 'labels.json'))
            r.write_manifests([os.path.join(step, 'manifests')], deletions)
            if not args.standalone:
                gen = r.wait_realized(args.realize_timeout, after_generation=gen)
                r.check_errors()
            r.settle()
            all_ok &= compare(r, 'step ' + name, step_expected)
            all_ok &= check_services(r, 'step ' + name, step_services)
        if args.keep:
            log('')
            log('--keep: everything stays up. Namespaces %s-*, bridges %s, Sluice API %s. Ctrl-C removes it all.'
                % (r.prefix, ', '.join(b.ovs_name for b in topo.bridges), r.api))
            for _ in range(7 * 24 * 3600):
                if r.sluice is not None and r.sluice.poll() is not None:
                    log('Sluice exited (status %s)' % r.sluice.returncode)
                    break
                time.sleep(1)
    except (SetupError, ScenarioError) as e:
        tail = r.sluice_tail() if r.sluice is not None else ''
        if tail:
            log('Last lines of the Sluice log:\n' + tail)
        log('matrix: %s' % e)
        e.printed = True
        raise
    finally:
        r.cleanup()
        log('Cleaned up: bridges, namespaces, veths and processes of run %s' % r.prefix)
    if all_ok:
        log('matrix OK')
        return 0
    log('matrix FAILED')
    return 1


# ---------------------------------------------------------------------------------------------------------------
# In-namespace helpers (run through `ip netns exec`): servers and probers
# ---------------------------------------------------------------------------------------------------------------

def serve(spec):
    """TCP: accept, send the name of what owns the port and a newline, then 'from ' and the address the connection
    came from and a newline, close. UDP: echo. On every port of the spec, IPv4 and (if v6) IPv6. Prints READY."""
    import selectors
    sel = selectors.DefaultSelector()
    families = [(socket.AF_INET, '0.0.0.0')] + ([(socket.AF_INET6, '::')] if spec.get('v6') else [])
    for fam, addr in families:
        for port, who in spec.get('tcp', {}).items():
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, int(port)))
            s.listen(128)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ('tcp', (who + '\n').encode()))
        for port in spec.get('udp', []):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ('udp', None))
    print('READY', flush=True)
    while True:
        for key, _ in sel.select(timeout=5):
            s = key.fileobj
            kind, answer = key.data
            try:
                if kind == 'tcp':
                    conn, peer = s.accept()
                    try:
                        conn.settimeout(1)
                        conn.sendall(answer + ('from %s\n' % peer[0]).encode())
                    finally:
                        conn.close()
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
            except OSError:
                pass
        if os.getppid() == 1:   # the harness is gone
            return


def probe_one(p):
    fam = socket.AF_INET6 if ':' in p['ip'] else socket.AF_INET
    timeout = float(p['timeout'])
    try:
        if p['proto'] == 'tcp':
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect((p['ip'], p['port']))
                return 'ok'
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.connect((p['ip'], p['port']))
            nonce = os.urandom(8)
            s.send(nonce)
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return 'timeout (no echo)'
                s.settimeout(left)
                if s.recv(2048) == nonce:
                    return 'ok'
    except socket.timeout:
        return 'timeout'
    except ConnectionRefusedError:
        return 'refused (nothing listens, or ICMP unreachable)'
    except OSError as e:
        return 'error: %s' % (e.strerror or e)


def probe_batch():
    probes = json.load(sys.stdin)
    with ThreadPoolExecutor(max_workers=min(64, max(1, len(probes)))) as pool:
        results = list(pool.map(probe_one, probes))
    json.dump({p['id']: r for p, r in zip(probes, results)}, sys.stdout)
    return 0


def service_connect(ip, port, timeout, source_port=None):
    """One TCP connection to a Service address, from source_port when given: (name the endpoint answered, the
    address it saw the connection come from or None, None) or (None, None, why it failed)."""
    fam = socket.AF_INET6 if ':' in ip else socket.AF_INET
    try:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            if source_port is not None:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(('::' if fam == socket.AF_INET6 else '0.0.0.0', source_port))
            s.settimeout(timeout)
            s.connect((ip, port))
            # The server sends two lines and closes: read both (or until it closes, or the timeout).
            data, deadline, closed = b'', time.monotonic() + timeout, False
            while data.count(b'\n') < 2 and len(data) < 512:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    chunk = s.recv(512)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                data += chunk
            lines = data.decode(errors='replace').split('\n')
            name = lines[0].strip() if len(lines) > 1 else ''
            peer = lines[1].strip() if len(lines) > 2 else ''
            peer = peer[len('from '):] if peer.startswith('from ') else None
            if not name:
                return None, None, 'closed without an answer' if closed else 'connected, no answer'
            return name, peer, None
    except socket.timeout:
        return None, None, 'timeout'
    except ConnectionRefusedError:
        return None, None, 'refused'
    except ConnectionResetError:
        return None, None, 'reset'
    except OSError as e:
        return None, None, 'error: %s' % (e.strerror or e)


def service_check(c):
    answers, failures, sources = {}, {}, {}
    first = c.get('source_port')
    for i in range(int(c['connections'])):
        name, peer, why = service_connect(c['ip'], int(c['port']), float(c['timeout']),
                                          None if first is None else first + i)
        if name is not None:
            answers[name] = answers.get(name, 0) + 1
            if peer is not None:
                sources[peer] = sources.get(peer, 0) + 1
        else:
            failures[why] = failures.get(why, 0) + 1
    return {'answers': answers, 'failures': failures, 'sources': sources}


def service_probe_batch():
    """In a client's namespace: each check's connections one after the other, the checks side by side."""
    checks = json.load(sys.stdin)
    with ThreadPoolExecutor(max_workers=min(16, max(1, len(checks)))) as pool:
        results = list(pool.map(service_check, checks))
    json.dump({c['id']: r for c, r in zip(checks, results)}, sys.stdout)
    return 0


# ---------------------------------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(prog='matrix.py', description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog='Formats: test-topologies/README.md')
    ap.add_argument('scenario', help='scenario directory (topology.json, manifests/, expected.txt, steps/)')
    ap.add_argument('--sluice', default=os.path.join(REPO, 'sluice'),
                    help='the Sluice launcher to run (default: the repository\'s ./sluice)')
    ap.add_argument('--ovsdb', default=OVSDB_DEFAULT, help='OVSDB server Sluice reads port bindings from (default %(default)s)')
    ap.add_argument('--keep', action='store_true',
                    help='after the probes, keep everything up (to inspect) until Ctrl-C, then clean up')
    ap.add_argument('--keep-workdir', action='store_true', help='do not delete the work directory (manifests, Sluice log)')
    ap.add_argument('--prefix', default='mx%04x' % random.randint(0, 0xffff),
                    help='prefix of every bridge, namespace and interface (default mx + 4 random hex digits)')
    ap.add_argument('--dpid-base', type=lambda s: int(s, 0), default=None, help=argparse.SUPPRESS)
    ap.add_argument('--standalone', action='store_true',
                    help='no controller: bridges are learning switches (checks the machine and the harness)')
    ap.add_argument('--profile', default='ovs',
                    help='the pipeline profile Sluice gives every bridge (sluice run --profile NAME): ovs (default), '
                         'openflow13-generic or openflow13-single-table (the stateless pipeline; bridges then '
                         'speak OpenFlow 1.3 only)')
    ap.add_argument('--probe-timeout', type=float, default=1.0, help='seconds per TCP connect / UDP echo (default 1)')
    ap.add_argument('--quiet', type=float, default=1.5,
                    help='seconds a realized generation must stay unchanged before probing (default 1.5)')
    ap.add_argument('--ready-timeout', type=float, default=90, help='seconds to wait for /readyz (default 90)')
    ap.add_argument('--realize-timeout', type=float, default=30,
                    help='seconds to wait for every bridge to realize a generation (default 30)')
    args = ap.parse_args(argv)
    if not re.fullmatch(r'[a-z][a-z0-9]{1,5}', args.prefix):
        ap.error('--prefix must be 2-6 of [a-z0-9], starting with a letter')
    args.sluice = os.path.abspath(args.sluice)
    return args


def main(argv):
    if argv[:1] == ['_serve']:
        serve(json.loads(argv[1]))
        return 0
    if argv[:1] == ['_probe']:
        return probe_batch()
    if argv[:1] == ['_svcprobe']:
        return service_probe_batch()
    args = parse_args(argv)
    if os.geteuid() != 0:
        if shutil.which('sudo'):
            os.execvp('sudo', ['sudo', '-E', sys.executable, os.path.abspath(__file__)] + argv)
        print('matrix: needs root (network namespaces, veths, OVS bridges)', file=sys.stderr)
        return 2

    def on_term(signum, _frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    try:
        return main_run(args)
    except (SetupError, ScenarioError) as e:
        if not getattr(e, 'printed', False):
            log('matrix: %s' % e)
        return 2
    except KeyboardInterrupt:
        log('matrix: interrupted; cleaned up')
        return 130


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
