# Captures what a real Open vSwitch sends a controller over OpenFlow 1.3 (for OpenFlowFuzzTest's seeds):
#   python3 capture.py OUT.bin   (prints the port), then:
#   ovs-vsctl add-br capbr -- set bridge capbr datapath_type=netdev protocols=OpenFlow13 \
#     other_config:datapath-id=00000000000cab01 fail_mode=secure -- set-controller capbr tcp:127.0.0.1:PORT
# ovs-3.1-of13-switch.bin was made so with OVS 3.1.0: HELLO, FEATURES_REPLY, PORT_DESC and FLOW stats replies,
# two ERRORs (a bad GROUP_DESC request, a bad FLOW_MOD), ECHO_REPLY, DESC reply, BARRIER_REPLY.
import socket, struct, time, sys, select
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(1)
port = srv.getsockname()[1]
print(port, flush=True)
c, _ = srv.accept()
def msg(t, xid, body=b"", v=4):
    return struct.pack("!BBHI", v, t, 8 + len(body), xid) + body
c.sendall(msg(0, 1))                                   # HELLO
c.sendall(msg(5, 2))                                   # FEATURES_REQUEST
c.sendall(msg(18, 3, struct.pack("!HH4x", 13, 0)))     # MULTIPART PORT_DESC
# flow stats: table all, out_port any, out_group any, cookie 0/0, empty match
fs = struct.pack("!B3xII4xQQ", 0xff, 0xffffffff, 0xffffffff, 0, 0) + struct.pack("!HH", 1, 4) + b"\0" * 4
c.sendall(msg(18, 4, struct.pack("!HH4x", 1, 0) + fs))
c.sendall(msg(18, 5, struct.pack("!HH4x", 7, 0) + struct.pack("!I4x", 0xfffffffc)))  # GROUP_DESC? (type 7 = group desc)
c.sendall(msg(2, 6, b"sluice"))                        # ECHO_REQUEST
c.sendall(msg(18, 7, struct.pack("!HH4x", 0, 0)))      # DESC
c.sendall(msg(14, 8, b"\xff" * 8))                     # a bad FLOW_MOD -> ERROR
c.sendall(msg(20, 9))                                  # BARRIER
data = b""
end = time.time() + 2
while time.time() < end:
    r, _, _ = select.select([c], [], [], 0.2)
    if r:
        d = c.recv(65536)
        if not d: break
        data += d
open(sys.argv[1], "wb").write(data)
print(len(data), flush=True)
