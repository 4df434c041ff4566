#!/usr/bin/env python3
"""python-socketio client (polling only) against the conformance app.

    python3 tests/integration/py/client.py http://127.0.0.1:PORT/

Connects to "/" and "/custom" with an auth payload, emits "message" and
checks "message-back" (text, unicode, bytes), uses call() for
"message-with-ack", answers a server ack request, lives through two ping
cycles, then disconnects.  Prints ONE JSON line:

    {"ok": true|false, "versions": {...}, "engine_sid": "...",
     "checks": {"name": true|false, ...}, "errors": ["...", ...]}

and exits 0 only if every check passed.
"""

import json
import signal
import sys
import threading
import time
import traceback

TIMEOUT = 5

result = {"ok": False, "versions": {}, "engine_sid": None, "checks": {}, "errors": []}


def finish(code=None):
    result["ok"] = bool(result["checks"]) and all(result["checks"].values()) and not result["errors"]
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    # Exit hard: the client's background threads must not keep us alive.
    import os
    os._exit(code if code is not None else (0 if result["ok"] else 1))


def on_alarm(signum, frame):
    result["errors"].append("timed out after 25 s")
    finish(1)


def check(name, cond, detail=None):
    result["checks"][name] = bool(cond)
    if not cond:
        result["errors"].append("%s: %s" % (name, detail))


class Inbox:
    """Arguments of the events received, per (event, namespace)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = {}

    def put(self, key, args):
        with self.cond:
            self.items.setdefault(key, []).append(args)
            self.cond.notify_all()

    def get(self, key, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        with self.cond:
            while not self.items.get(key):
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.items[key].pop(0)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: client.py URL\n")
        sys.exit(2)
    url = sys.argv[1].rstrip("/")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(25)

    try:
        import socketio
        import engineio
    except ImportError as e:
        result["errors"].append("import: %s" % e)
        finish(3)
    result["versions"] = {
        "socketio": getattr(socketio, "__version__", None) or _dist_version("python-socketio"),
        "engineio": getattr(engineio, "__version__", None) or _dist_version("python-engineio"),
        "python": sys.version.split()[0],
    }

    inbox = Inbox()
    sio = socketio.Client(reconnection=False)
    acked = []

    for ns in ("/", "/custom"):
        def make(ns):
            def on_auth(*args):
                inbox.put(("auth", ns), list(args))

            def on_back(*args):
                inbox.put(("message-back", ns), list(args))

            def on_ack_back(*args):
                inbox.put(("ack-back", ns), list(args))

            def on_ack_request(*args):
                acked.append(list(args))
                return ("py-acked", len(args), b"\x00\x1e\xff")

            def on_disconnect():
                inbox.put(("disconnect", ns), [])

            sio.on("auth", on_auth, namespace=ns)
            sio.on("message-back", on_back, namespace=ns)
            sio.on("ack-back", on_ack_back, namespace=ns)
            sio.on("server-ack-request", on_ack_request, namespace=ns)
            sio.on("disconnect", on_disconnect, namespace=ns)
        make(ns)

    auth = {"token": "py", "u": "\u00e9\u20ac\U0001F600"}
    kwargs = dict(transports=["polling"], namespaces=["/", "/custom"], auth=auth)
    try:
        sio.connect(url, wait_timeout=TIMEOUT, **kwargs)
    except TypeError:  # python-socketio without wait_timeout
        sio.connect(url, **kwargs)

    result["engine_sid"] = sio.eio.sid
    check("transport is polling", sio.transport() == "polling", sio.transport())
    check("connected to / and /custom",
          sorted(sio.namespaces) == ["/", "/custom"] if isinstance(sio.namespaces, (list, dict))
          else False, sio.namespaces)
    sid_root = sio.get_sid("/")
    sid_custom = sio.get_sid("/custom")
    check("Socket.IO sids", bool(sid_root) and bool(sid_custom) and sid_root != sid_custom
          and sid_root != sio.eio.sid, (sid_root, sid_custom, sio.eio.sid))

    got = inbox.get(("auth", "/"))
    check("auth echoed on /", got == [auth], got)
    got = inbox.get(("auth", "/custom"))
    check("auth echoed on /custom", got == [auth], got)

    # Events with several arguments, unicode and U+001E included.
    args = ["hello", 1, 2.5, {"a": [True, None, False]}, "\u00e9\u20ac\U0001F600", "x\x1ey", ""]
    sio.emit("message", tuple(args))
    got = inbox.get(("message-back", "/"))
    check("message -> message-back", got == args, got)

    sio.emit("message", ("to-custom",), namespace="/custom")
    got = inbox.get(("message-back", "/custom"))
    check("message-back on /custom", got == ["to-custom"], got)

    # Acks from the server.
    got = sio.call("message-with-ack", ("x", 2, {"k": "v"}), timeout=TIMEOUT)
    check("call(message-with-ack) with 3 args", got == ("x", 2, {"k": "v"}), got)
    got = sio.call("message-with-ack", "single", timeout=TIMEOUT)
    check("call(message-with-ack) with 1 arg", got == "single", got)
    got = sio.call("message-with-ack", "c", namespace="/custom", timeout=TIMEOUT)
    check("call(message-with-ack) on /custom", got == "c", got)

    # Binary, top level and nested, several attachments.
    b1 = bytes(range(256))
    b2 = b"\x00\x1e\x1e\xff"
    b3 = b""
    sio.emit("message", (b1, {"nested": [b2, "t", {"deep": b3}]}, "text"))
    got = inbox.get(("message-back", "/"))
    check("bytes -> message-back", got == [b1, {"nested": [b2, "t", {"deep": b3}]}, "text"], repr(got)[:300])
    got = sio.call("message-with-ack", ({"bin": b2},), timeout=TIMEOUT)
    check("bytes through an ack", got == {"bin": b2}, repr(got))

    # A server ack request answered by a handler's return value.
    sio.emit("request-ack", ("q", 7))
    got = inbox.get(("ack-back", "/"))
    check("request-ack -> ack-back", got == ["py-acked", 2, b"\x00\x1e\xff"], repr(got))
    check("server-ack-request args", acked == [["q", 7]], acked)

    # Two ping cycles (300 ms) and still connected.
    time.sleep(0.8)
    check("connected after ping cycles", sio.connected and sio.eio.sid == result["engine_sid"],
          (sio.connected, sio.eio.sid))
    got = sio.call("message-with-ack", "late", timeout=TIMEOUT)
    check("ack after ping cycles", got == "late", got)

    sio.disconnect()
    # disconnect() does not wait for the DISCONNECT and close packets to be
    # POSTed (engineio disconnect(abort=True)): wait for the write loop.
    task = getattr(sio.eio, "write_loop_task", None)
    if task is not None:
        task.join(timeout=TIMEOUT)
    check("disconnect on /", inbox.get(("disconnect", "/"), timeout=2) == [], "no disconnect event")
    check("disconnected", not sio.connected, sio.connected)
    finish()


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # any failure is reported in the JSON line
        result["errors"].append("%s: %s" % (type(e).__name__, e))
        result["errors"].append(traceback.format_exc()[-1500:])
        finish(1)
