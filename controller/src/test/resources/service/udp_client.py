# A UDP client for Service tests: from one source port, sends a datagram to ADDRESS:PORT every PERIOD seconds for at
# most DURATION seconds (or until stdin closes), and prints one line per reply: "<sender address> <reply text>".
import select, socket, sys, time
address, port, sport, period, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", sport))
end = time.monotonic() + duration
nxt = time.monotonic()
while time.monotonic() < end:
    now = time.monotonic()
    if now >= nxt:
        s.sendto(b"ping", (address, port))
        nxt = now + period
    r, _, _ = select.select([s, sys.stdin], [], [], max(0.0, nxt - time.monotonic()))
    if sys.stdin in r and not sys.stdin.readline():
        break
    if s in r:
        data, peer = s.recvfrom(2048)
        print(peer[0], data.decode(), flush=True)
