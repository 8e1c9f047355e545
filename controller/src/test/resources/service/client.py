# A client for Service tests. Commands on stdin, one JSON line per command on stdout:
#   burst N            N short connections to ADDR:PORT;
#                      {"names": {name: count}, "failed": n, "refused": n (of failed, by a RST), "peers": [...]}
#   open K             opens K long-lived connections; {"names": [name of each]}
#   check              one round trip on each long-lived connection; {"names": [name or null]}
import json, socket, sys, collections
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
        names, peers, failed, refused = collections.Counter(), set(), 0, 0
        for _ in range(int(parts[1])):
            try:
                c = socket.create_connection((addr, port), timeout=2)
                n, peer = one(c)
                names[n] += 1
                peers.add(peer)
                c.close()
            except ConnectionRefusedError:
                failed += 1
                refused += 1
            except OSError:
                failed += 1
        print(json.dumps({"names": names, "failed": failed, "refused": refused, "peers": sorted(peers)}), flush=True)
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
