# A UDP server for Service tests: answers every datagram with its name. Exits after IDLE seconds without a datagram
# (bounded), or when killed.
import socket, sys
name, port, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", port))
s.settimeout(idle)
while True:
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        break
    s.sendto(name.encode(), peer)
