#!/usr/bin/env python3
"""A misbehaving git:// server for the registry tests: git_server.py PORT MODE

MODE is one of
  err MESSAGE   answers every request with a git protocol error, "ERR MESSAGE"
                (Python escapes such as \\n are decoded, so the message may
                hold a newline, as a hostile server's may)
  silent        accepts and never answers (a stalled git host)
  proxy PORT    relays each connection to a real server on 127.0.0.1:PORT
  @FILE         reads one of the above from FILE at each connection, so a
                test can switch it while clients come and go
"""
import socket
import sys
import threading


def pkt(payload):
    return b"%04x" % (len(payload) + 4) + payload


def serve_err(conn, message):
    conn.recv(4096)  # the client's request line
    conn.sendall(pkt(b"ERR " + message.encode().decode("unicode_escape").encode("latin-1")))


def serve_silent(conn):
    while conn.recv(4096):  # until the client gives up
        pass


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve_proxy(conn, port):
    up = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    up.settimeout(None)
    back = threading.Thread(target=pump, args=(up, conn), daemon=True)
    back.start()
    pump(conn, up)
    back.join()
    up.close()


def serve(conn, mode):
    if mode.startswith("@"):
        with open(mode[1:]) as f:
            mode = f.read().strip()
    name, _, arg = mode.partition(" ")
    try:
        if name == "err":
            serve_err(conn, arg)
        elif name == "silent":
            serve_silent(conn)
        elif name == "proxy":
            serve_proxy(conn, arg)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    port, mode = int(sys.argv[1]), " ".join(sys.argv[2:])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


main()
