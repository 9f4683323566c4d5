#!/usr/bin/env python3
"""A hostile git:// server for the registry tests: git_server.py PORT MODE.

  err MESSAGE  answers every request with a git protocol error, "ERR MESSAGE"
               (Python escapes such as \\n are decoded, so the message may
               hold a newline, as a hostile server's may)
"""
import socket
import sys
import threading


def pkt(payload):
    return b"%04x" % (len(payload) + 4) + payload


def serve_err(conn, message):
    try:
        conn.recv(4096)  # the client's request line
        conn.sendall(pkt(b"ERR " + message))
    finally:
        conn.close()


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    if mode == "err":
        message = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
        handler = lambda c: serve_err(c, message)
    else:
        sys.exit("unknown mode " + mode)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


main()
