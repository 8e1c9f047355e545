# A client for Service tests. Commands on stdin, one JSON line per command on stdout:
#   burst N [GAP_MS]   N short connections to ADDR:PORT, one after the other (GAP_MS apart, default 0);
#                      {"names": {name: count}, "failed": n, "refused": n (of failed, by a RST), "peers": [...],
#                       "order": [name of each, null when failed]}
#   open K             opens K long-lived connections; {"names": [name of each]}
#   check              one round trip on each long-lived connection; {"names": [name or null]}
import json, socket, sys, collections, time
addr, port = sys.argv[1], int(sys.argv[2])
held = []

def one(c):
    c.settimeout(2)
    line = b""
    while not line.endswith(b"\n"):
        chunk = c.recv(100)
        if not chunk:
            raise OSError("closed")
        line += chunk
    return line.decode().split()

for cmd in sys.stdin:
    parts = cmd.split()
    if not parts:
        continue
    if parts[0] == "burst":
        names, peers, failed, refused, order = collections.Counter(), set(), 0, 0, []
        gap = float(parts[2]) / 1000 if len(parts) > 2 else 0
        for i in range(int(parts[1])):
            if i > 0 and gap > 0:
                time.sleep(gap)
            try:
                c = socket.create_connection((addr, port), timeout=2)
                n, peer = one(c)
                names[n] += 1
                order.append(n)
                peers.add(peer)
                c.close()
            except ConnectionRefusedError:
                failed += 1
                refused += 1
                order.append(None)
            except OSError:
                failed += 1
                order.append(None)
        print(json.dumps({"names": names, "failed": failed, "refused": refused, "peers": sorted(peers),
                          "order": order}), flush=True)
    elif parts[0] == "open":
        out = []
        for _ in range(int(parts[1])):
            try:
                c = socket.create_connection((addr, port), timeout=2)
                out.append(one(c)[0])
                held.append(c)
            except OSError:
                out.append(None)
        print(json.dumps({"names": out}), flush=True)
    elif parts[0] == "check":
        out = []
        for c in held:
            try:
                c.sendall(b"x\n")
                out.append(one(c)[0])
            except OSError:
                out.append(None)
        print(json.dumps({"names": out}), flush=True)
