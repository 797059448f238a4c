#!/usr/bin/env python3
# slowproxy.py -- a UDP DNS relay that answers late (integration tests only).
#
#   python3 tests/tools/slowproxy.py LISTEN-PORT UPSTREAM-PORT DELAY [LIFETIME]
#
# Listens on 127.0.0.1:LISTEN-PORT (UDP), and for each datagram waits DELAY
# seconds (a float), relays it to 127.0.0.1:UPSTREAM-PORT and sends the
# reply (if one comes within 2 s) back to the sender.  Queries are handled
# concurrently, so one slow query does not hold the next.  Prints "ready"
# once bound, and "query" as each datagram comes in.  Loopback only; it exits by itself after LIFETIME seconds
# (default 300), so a test that dies cannot leave it running for long.
# Used by tests/integration/test_zones.sh to keep a query in flight on the
# default upstream while the configuration is reloaded.

import socket
import sys
import threading
import time


def main():
    if len(sys.argv) not in (4, 5):
        sys.stderr.write("usage: slowproxy.py LISTEN-PORT UPSTREAM-PORT "
                         "DELAY [LIFETIME]\n")
        return 2
    lport, uport = int(sys.argv[1]), int(sys.argv[2])
    delay = float(sys.argv[3])
    lifetime = float(sys.argv[4]) if len(sys.argv) == 5 else 300.0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", lport))
    s.settimeout(1.0)
    print("ready", flush=True)

    def relay(data, addr):
        time.sleep(delay)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(2.0)
        try:
            u.sendto(data, ("127.0.0.1", uport))
            r, _ = u.recvfrom(65535)
            s.sendto(r, addr)
        except OSError:
            pass
        finally:
            u.close()

    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        print("query", flush=True)
        threading.Thread(target=relay, args=(data, addr),
                         daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
