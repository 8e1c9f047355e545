# A TCP server for large-Service tests: listens on COUNT ports from FIRST and answers each connection with
# "NAME:PORT PEER" (the port it was reached on, the client's address), then closes it. Exits after IDLE seconds
# without a new connection, or when killed.
import selectors, socket, sys
name, first, count, idle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
sel = selectors.DefaultSelector()
for p in range(first, first + count):
    s = socket.socket(socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p))
    s.listen(64)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, p)
print("listening", flush=True)
while True:
    ready = sel.select(idle)
    if not ready:
        break
    for key, _ in ready:
        try:
            c, peer = key.fileobj.accept()
        except OSError:
            continue
        try:
            c.settimeout(2)
            c.sendall(("%s:%d %s\n" % (name, key.data, peer[0])).encode())
        except OSError:
            pass
        finally:
            c.close()
