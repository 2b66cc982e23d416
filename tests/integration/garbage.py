#!/usr/bin/env python3
"""garbage.py: bad input for the broker's TCP port, for test_garbage.sh.

Two phases, both bounded:
  raw   -- plain TCP connections that never finish a CURVE handshake: random bytes,
           truncated and malformed ZMTP greetings, a bogus CURVE HELLO, a command that
           claims 9 MiB, 9 MiB of junk after a greeting, and idle connections held open.
  authd -- a real CURVE client (libzmq through ctypes, the library the product links)
           holding the keys of a directory org, which sends frames that pass the
           handshake but not the protocol: random bytes, truncated and contradictory
           protobuf, frames in the wrong direction, bad signatures, too many or too big
           events, absurd CONFIRMs, multipart messages and a frame over 8 MiB.

Usage: garbage.py raw HOST PORT COUNT SEED
       garbage.py authd ENDPOINT SERVER_KEY_HEX PUBLIC_KEY_HEX SECRET_KEY_FILE ORG SEED
Prints one JSON line of what was sent and received. Exit 0 unless the tool itself breaks:
the test judges the broker by its status, not by this tool's view.
"""
import ctypes
import ctypes.util
import json
import os
import random
import socket
import struct
import sys
import time

MIB = 1024 * 1024


# ---------------------------------------------------------------- raw TCP

def greeting(mechanism=b"CURVE", major=3, minor=0, as_server=0, signature=True):
    sig = b"\xff" + b"\0" * 8 + b"\x7f" if signature else os.urandom(10)
    return sig + bytes([major, minor]) + mechanism.ljust(20, b"\0") + bytes([as_server]) + b"\0" * 31


def raw_payloads(rng):
    """(name, bytes) generators; each call yields a fresh payload."""
    junk = lambda n: rng.randbytes(n)
    return [
        ("random", lambda: junk(rng.randint(1, 4096))),
        ("greeting-truncated", lambda: greeting()[: rng.randint(1, 63)]),
        ("greeting-bad-signature", lambda: greeting(signature=False) + junk(64)),
        ("greeting-zmtp-9.9", lambda: greeting(major=9, minor=9) + junk(64)),
        ("greeting-zmtp-1", lambda: b"\x01\x00" + junk(32)),
        ("greeting-null-mechanism", lambda: greeting(b"NULL") + b"\x04\x05\x05READY" + junk(256)),
        ("greeting-plain-mechanism", lambda: greeting(b"PLAIN") + junk(256)),
        ("greeting-unknown-mechanism", lambda: greeting(b"XYZZY") + junk(256)),
        ("greeting-as-server", lambda: greeting(as_server=1) + junk(256)),
        ("curve-hello-random", lambda: greeting() + b"\x04" + bytes([200]) + b"\x05HELLO" + junk(194)),
        ("curve-hello-truncated", lambda: greeting() + b"\x04" + bytes([200]) + b"\x05HELLO" + junk(50)),
        ("command-claims-9MiB", lambda: greeting() + b"\x06" + struct.pack(">Q", 9 * MIB) + junk(4096)),
        ("frame-claims-2^63", lambda: greeting() + b"\x02" + struct.pack(">Q", 1 << 63) + junk(64)),
    ]


def send_raw(host, port, payload, hold=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2.0)
    try:
        s.connect((host, port))
        if payload:
            s.sendall(payload)
        if hold:
            return s
        try:
            s.recv(4096)  # whatever the broker answers, if anything, before it closes
        except OSError:
            pass
    except OSError:
        pass
    s.close()
    return None


def phase_raw(host, port, count, seed):
    rng = random.Random(seed)
    kinds = raw_payloads(rng)
    sent = {}
    held = []
    for i in range(count):
        if i % 20 == 19:  # an idle connection, kept open until the end of the phase
            s = send_raw(host, port, b"", hold=True)
            if s:
                held.append(s)
            sent["idle"] = sent.get("idle", 0) + 1
            continue
        name, make = kinds[i % len(kinds)]
        send_raw(host, port, make())
        sent[name] = sent.get(name, 0) + 1
    for _ in range(3):  # over 8 MiB of junk behind a valid greeting
        send_raw(host, port, greeting() + rng.randbytes(9 * MIB))
        sent["oversize-9MiB"] = sent.get("oversize-9MiB", 0) + 1
    for s in held:
        s.close()
    return {"phase": "raw", "connections": sum(sent.values()), "sent": sent}


# ---------------------------------------------------------------- protobuf by hand

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def f_varint(num, v):
    return varint(num << 3) + varint(v)


def hello(org, proto=2, own_seq=0, cursor=0, store_id=b""):
    h = f_bytes(1, org.encode()) + f_varint(2, proto) + f_varint(3, own_seq) + f_varint(4, cursor)
    if store_id:
        h += f_bytes(5, store_id)
    return f_bytes(1, h)


def publish(events):
    return f_bytes(3, b"".join(f_bytes(1, e) for e in events))


def event(origin, seq, member="M1", etype=1, body=b"", hlc=None):
    hlc = hlc if hlc is not None else (int(time.time() * 1000) << 16)
    return (f_bytes(1, origin.encode()) + f_varint(2, seq) + f_varint(3, hlc)
            + f_bytes(4, member.encode()) + f_varint(5, 1) + f_varint(6, etype) + f_bytes(7, body))


def signed(ev, sig=None):
    return f_bytes(1, ev) + f_bytes(2, sig if sig is not None else bytes(64))


def authd_frames(rng, org, other_org):
    junk = rng.randbytes
    frames = [
        ("empty", b""),
        ("before-hello-publish", publish([signed(event(org, 1))])),
        ("before-hello-confirm", f_bytes(6, f_varint(1, 5))),
        ("hello-bad-proto", hello(org, proto=999)),
        ("hello-other-org", hello(other_org)),
        ("hello-bad-org-syntax", hello("UNIT:../../etc")),
        ("hello-invalid-utf8", f_bytes(1, f_bytes(1, b"unit:\xff\xfe"))),
        ("hello-truncated", hello(org)[:-3]),
        ("hello", hello(org)),  # a real session, so that later frames reach the protocol
    ]
    for i in range(60):
        frames.append(("random", junk(rng.randint(1, 2048))))
    frames += [
        ("varint-overlong", b"\x08" + b"\xff" * 11),
        ("length-past-end", b"\x0a\xff\xff\xff\x0f" + junk(10)),
        ("two-oneofs", hello(org) + publish([junk(10)])),
        ("unknown-field", f_bytes(99, junk(20))),
        ("wrong-direction-welcome", f_bytes(2, f_varint(1, 5))),
        ("wrong-direction-ack", f_bytes(4, f_bytes(1, org.encode()) + f_varint(2, 1 << 40))),
        ("wrong-direction-deliver", f_bytes(5, f_varint(1, 1) + f_bytes(2, junk(40)))),
        ("wrong-direction-error", f_bytes(7, f_varint(1, 1))),
        ("publish-empty", f_bytes(3, b"")),
        ("publish-random-events", publish([junk(rng.randint(1, 300)) for _ in range(20)])),
        ("publish-bad-signature", publish([signed(event(org, 1))])),
        ("publish-random-signature", publish([signed(event(org, 1), junk(64))])),
        ("publish-short-signature", publish([signed(event(org, 1), junk(7))])),
        ("publish-other-origin", publish([signed(event(other_org, 1))])),
        ("publish-seq-gap", publish([signed(event(org, 5))])),
        ("publish-seq-0", publish([signed(event(org, 0))])),
        ("publish-seq-max", publish([signed(event(org, (1 << 64) - 1))])),
        ("publish-unknown-type", publish([signed(event(org, 1, etype=4000000000))])),
        ("publish-bad-member", publish([signed(event(org, 1, member="x" * 300))])),
        ("publish-event-over-64KiB", publish([signed(event(org, 1, body=junk(70 * 1024)))])),
        ("publish-2000-events", publish([signed(event(org, i + 1)) for i in range(2000)])),
        ("confirm-2^64-1", f_bytes(6, f_varint(1, (1 << 64) - 1))),
        ("confirm-huge", f_bytes(6, f_varint(1, 1 << 40))),
        ("confirm-0", f_bytes(6, f_varint(1, 0))),
        ("ping", f_bytes(8, f_varint(1, 42))),
        ("pong", f_bytes(9, f_varint(1, 42))),
        ("hello-again", hello(org, own_seq=1 << 50, cursor=1 << 50)),
    ]
    return frames


# ---------------------------------------------------------------- libzmq client

ZMQ_DEALER, ZMQ_LINGER, ZMQ_RCVTIMEO, ZMQ_SNDTIMEO = 5, 17, 27, 28
ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY, ZMQ_CURVE_SERVERKEY = 48, 49, 50
ZMQ_SNDMORE, ZMQ_DONTWAIT = 2, 1


class Zmq:
    def __init__(self):
        lib = ctypes.CDLL(ctypes.util.find_library("zmq") or "libzmq.so.5", use_errno=True)
        lib.zmq_ctx_new.restype = ctypes.c_void_p
        lib.zmq_socket.restype = ctypes.c_void_p
        lib.zmq_socket.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.zmq_setsockopt.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
        lib.zmq_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.zmq_send.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        lib.zmq_recv.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        lib.zmq_close.argtypes = [ctypes.c_void_p]
        lib.zmq_ctx_term.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.ctx = lib.zmq_ctx_new()

    def dealer(self, endpoint, server_key, public_key, secret_key):
        s = self.lib.zmq_socket(self.ctx, ZMQ_DEALER)
        for opt, val in ((ZMQ_CURVE_SERVERKEY, server_key), (ZMQ_CURVE_PUBLICKEY, public_key),
                         (ZMQ_CURVE_SECRETKEY, secret_key)):
            self.lib.zmq_setsockopt(s, opt, val, len(val))
        for opt, val in ((ZMQ_LINGER, 2000), (ZMQ_RCVTIMEO, 10), (ZMQ_SNDTIMEO, 1000)):
            v = ctypes.c_int(val)
            self.lib.zmq_setsockopt(s, opt, ctypes.byref(v), ctypes.sizeof(v))
        if self.lib.zmq_connect(s, endpoint.encode()) != 0:
            raise OSError(ctypes.get_errno(), "zmq_connect " + endpoint)
        return s

    def send(self, s, data, more=False):
        return self.lib.zmq_send(s, data, len(data), ZMQ_SNDMORE if more else 0)

    def recv(self, s):
        buf = ctypes.create_string_buffer(1 << 16)
        n = self.lib.zmq_recv(s, buf, len(buf), 0)
        return None if n < 0 else buf.raw[:min(n, len(buf))]


def read_secret(path):
    text = open(path).read().split()
    if not text or len(text[0]) < 64:
        raise SystemExit("garbage.py: cannot read a hex CURVE secret key from " + path)
    return bytes.fromhex(text[0][:64])


def phase_authd(endpoint, server_hex, public_hex, secret_path, org, seed):
    rng = random.Random(seed)
    other = "unit:u1" if org != "unit:u1" else "unit:u2"
    z = Zmq()
    s = z.dealer(endpoint, bytes.fromhex(server_hex), bytes.fromhex(public_hex),
                 read_secret(secret_path))
    replies = []

    def drain(wait_s):
        end = time.time() + wait_s
        while time.time() < end:
            r = z.recv(s)
            if r is not None:
                replies.append(r)

    # Wait for the handshake: a PING is answered once the session is up.
    z.send(s, f_bytes(8, f_varint(1, 7)))
    drain(1.0)
    sent = 0
    # The broker disconnects a peer after 32 refused frames and refuses its key for a
    # while (docs/PROTOCOL.md "Budgets"): once a send times out, we are that peer.
    banned = False
    for name, data in authd_frames(rng, org, other):
        if z.send(s, data) < 0:
            banned = True
            break
        sent += 1
        drain(0.02)
    # multipart messages: the broker expects exactly one part. Once banned, every send
    # would wait out its timeout (1 s a part) and reach no one.
    for parts in ([b"a", b"b"], [hello(org), hello(org)], [b"", b"", b""]):
        for i, p in enumerate(parts):
            banned = banned or z.send(s, p, more=i < len(parts) - 1) < 0
        sent += not banned
    drain(0.5)
    got_before_oversize = len(replies)
    if not banned and z.send(s, b"\x1a" + rng.randbytes(8 * MIB + 4096)) >= 0:  # over the limit
        sent += 1
        drain(1.0)
    z.lib.zmq_close(s)
    z.lib.zmq_ctx_term(z.ctx)
    kinds = {}
    for r in replies:
        k = KINDS.get(r[0] >> 3, "other") if r else "empty"
        kinds[k] = kinds.get(k, 0) + 1
    if os.environ.get("GARBAGE_VERBOSE"):
        for r in replies:
            sys.stderr.write(repr(r[:120]) + "\n")
    return {"phase": "authd", "frames": sent, "replies": got_before_oversize,
            "replies_total": len(replies), "reply_kinds": kinds}


KINDS = {1: "hello", 2: "welcome", 3: "publish", 4: "ack", 5: "deliver", 6: "confirm",
         7: "error", 8: "ping", 9: "pong"}


def main(argv):
    if len(argv) == 6 and argv[1] == "raw":
        out = phase_raw(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif len(argv) == 8 and argv[1] == "authd":
        out = phase_authd(argv[2], argv[3], argv[4], argv[5], argv[6], int(argv[7]))
    else:
        sys.stderr.write(__doc__)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
