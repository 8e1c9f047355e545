# A TCP server for Service tests: answers every connection with its name, then echoes its name for every line
# it receives. Exits after IDLE seconds without a new connection (bounded), or when killed.
# Listens on BIND (default 0.0.0.0); an IPv6 BIND (e.g. ::) takes IPv6 connections only.
import socket, sys, threading
name, port, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
bind = sys.argv[4] if len(sys.argv) > 4 else "0.0.0.0"
srv = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if ":" in bind:
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
srv.bind((bind, port))
srv.listen(512)
srv.settimeout(idle)

def serve(c, peer):
    try:
        c.settimeout(idle)
        c.sendall(("%s %s\n" % (name, peer[0])).encode())
        while True:
            data = c.recv(100)
            if not data:
                break
            c.sendall(("%s %s\n" % (name, peer[0])).encode())
    except OSError:
        pass
    finally:
        c.close()

while True:
    try:
        c, peer = srv.accept()
    except socket.timeout:
        break
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
