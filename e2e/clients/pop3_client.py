#!/usr/bin/env python3
"""A real POP3 client for the e2e tests: Python's poplib, driven from the command line.

usage: pop3_client.py HOST PORT USER PASSWORD (list | retr N | dele N)
Prints one JSON document: the STAT, LIST and UIDL answers, and for `retr` the
message as base64 (exactly the octets poplib received, lines joined with CRLF).
"""
import base64
import json
import poplib
import sys


def main() -> int:
    host, port, user, password, action = sys.argv[1:6]
    arg = sys.argv[6] if len(sys.argv) > 6 else None
    box = poplib.POP3(host, int(port), timeout=10)
    out = {"greeting": box.getwelcome().decode()}
    try:
        box.user(user)
        box.pass_(password)
    except poplib.error_proto as err:
        out["error"] = err.args[0].decode()
        print(json.dumps(out))
        box.quit()
        return 0
    count, size = box.stat()
    out["stat"] = [count, size]
    out["list"] = [line.decode() for line in box.list()[1]]
    out["uidl"] = [line.decode() for line in box.uidl()[1]]
    if action == "retr":
        lines = box.retr(int(arg))[1]
        out["message"] = base64.b64encode(b"\r\n".join(lines) + b"\r\n").decode()
    elif action == "dele":
        out["dele"] = box.dele(int(arg)).decode()
    out["quit"] = box.quit().decode()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
