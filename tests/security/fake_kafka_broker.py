#!/usr/bin/python3
"""Minimal Kafka-protocol *authentication* endpoint for connrt's tests.

Adapted from the project's reference helper. Listens on 127.0.0.1 only and
stops by itself: when its stdin reaches end of file (the test that started
it is gone) or after --lifetime seconds.

librdkafka's mock cluster has no SASL and no TLS (and test.mock.num.brokers
silently replaces security.protocol by PLAINTEXT).  This broker speaks just
enough of the Kafka protocol for a real librdkafka client to complete
TLS / mTLS and SASL PLAIN, SCRAM-SHA-256/512, OAUTHBEARER (HS256 JWT from
oauth_token_server.py) and GSSAPI (MIT keytab, python3-gssapi), then answer
Metadata.  So rd_kafka_metadata() == NO_ERROR proves the handshake worked;
(OAUTHBEARER with --msk-iam-key checks an AWS MSK IAM presigned token instead
of a JWT, with its own stdlib SigV4 code, independent of connrt's);
bad credentials give RD_KAFKA_RESP_ERR__AUTHENTICATION.  No Produce/Fetch.

APIs: ApiVersions v0-3, SaslHandshake v0-1, SaslAuthenticate v0-1,
Metadata v0-1.  Every auth outcome is printed as one line on stdout:
  EVENT tls peer=<subject or ->
  EVENT auth ok|fail mechanism=M principal=P [reason=...]

Usage:
  fake_kafka_broker.py [--port 0] [--port-file F] [--host localhost]
     [--tls-cert C --tls-key K [--tls-ca CA --require-client-cert]]
     [--mechanisms PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER,GSSAPI]
     [--user alice:secret ...] [--jwt-key K] [--jwt-scope kafka]
     [--keytab FILE]          # GSSAPI acceptor keytab (KRB5_CONFIG from env)
     [--msk-iam-key AKID:SECRET --msk-iam-region REGION]
     [--topic NAME ...] [--deny-topic NAME ...]   # Metadata content
     [--lifetime SECONDS]     # hard stop (default 300)
No --mechanisms: no SASL (PLAINTEXT or SSL listener).
Deps: /usr/bin/python3 (stdlib); GSSAPI additionally python3-gssapi.
"""
import argparse, base64, hashlib, hmac, json, os, signal, socket, ssl, struct
import sys, threading, time, secrets
import urllib.parse

API_PRODUCE, API_METADATA, API_SASL_HANDSHAKE, API_APIVERSIONS, API_SASL_AUTH = 0, 3, 17, 18, 36
API_JOINGROUP = 11
SUPPORTED = {API_METADATA: (0, 1), API_SASL_HANDSHAKE: (0, 1),
             API_APIVERSIONS: (0, 3), API_SASL_AUTH: (0, 1)}
# Advertised but not served: librdkafka 2.0.2 enables its GSSAPI feature
# only if the broker lists JoinGroup v0 (rdkafka_feature.c).
ADVERTISED = {**SUPPORTED, API_JOINGROUP: (0, 0)}
ERR_NONE, ERR_UNSUPPORTED_VERSION, ERR_UNSUPPORTED_SASL_MECH = 0, 35, 33
ERR_ILLEGAL_SASL_STATE, ERR_SASL_AUTH_FAILED = 34, 58
ERR_UNKNOWN_TOPIC, ERR_TOPIC_AUTHORIZATION_FAILED = 3, 29

out_lock = threading.Lock()


def event(msg):
    with out_lock:
        sys.stdout.write("EVENT " + msg + "\n")
        sys.stdout.flush()


# ---- wire helpers ---------------------------------------------------------
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def kstr(s): return i16(-1) if s is None else i16(len(s.encode())) + s.encode()
def kbytes(b): return i32(-1) if b is None else i32(len(b)) + b


def uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


class Reader:
    def __init__(self, b): self.b, self.o = b, 0
    def take(self, n):
        v = self.b[self.o:self.o + n]
        if len(v) != n: raise ValueError("short")
        self.o += n
        return v
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def str(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()
    def bytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        c = sock.recv(n - len(buf))
        if not c:
            raise EOFError
        buf += c
    return buf


# ---- SASL mechanisms (server side) -------------------------------------------
class Plain:
    def __init__(self, users): self.users, self.principal = users, None
    def step(self, data):
        try:
            _authz, user, pw = data.decode().split("\0")
        except ValueError:
            raise PermissionError("malformed PLAIN message")
        if user not in self.users or not hmac.compare_digest(self.users[user], pw):
            raise PermissionError("invalid username or password")
        self.principal = user
        return b"", True


class Scram:
    def __init__(self, users, hname):
        self.users, self.h = users, getattr(hashlib, hname)
        self.hname, self.state, self.principal = hname, 0, None

    def _hmac(self, k, m): return hmac.new(k, m, self.h).digest()

    def step(self, data):
        msg = data.decode()
        if self.state == 0:
            # gs2 header "n,," or "n,a=authzid," then client-first-bare
            parts = msg.split(",", 2)
            if len(parts) != 3 or parts[0] not in ("n", "y"):
                raise PermissionError("bad gs2 header")
            self.cfb = parts[2]
            attrs = dict(kv.split("=", 1) for kv in self.cfb.split(","))
            user = attrs["n"].replace("=2C", ",").replace("=3D", "=")
            if user not in self.users:
                raise PermissionError("unknown user")
            self.user, self.nonce = user, attrs["r"] + secrets.token_hex(12)
            self.salt, self.iters = secrets.token_bytes(16), 4096
            self.sf = f"r={self.nonce},s={base64.b64encode(self.salt).decode()},i={self.iters}"
            self.state = 1
            return self.sf.encode(), False
        if self.state == 1:
            without_proof, _, proof = msg.rpartition(",p=")
            attrs = dict(kv.split("=", 1) for kv in without_proof.split(","))
            # RFC 5802 wants r == server nonce; librdkafka < 2.6.1 (Debian
            # 2.0.2 included) sends client-nonce + server-nonce, which Apache
            # Kafka >= 3.8.1 accepts with endsWith().  Do the same.
            if not attrs.get("r", "").endswith(self.nonce):
                raise PermissionError("nonce mismatch")
            salted = hashlib.pbkdf2_hmac(self.hname, self.users[self.user].encode(),
                                         self.salt, self.iters)
            client_key = self._hmac(salted, b"Client Key")
            stored_key = self.h(client_key).digest()
            auth_msg = f"{self.cfb},{self.sf},{without_proof}".encode()
            client_sig = self._hmac(stored_key, auth_msg)
            p = base64.b64decode(proof)
            if len(p) != len(client_sig) or self.h(bytes(a ^ b for a, b in zip(p, client_sig))).digest() != stored_key:
                raise PermissionError("invalid proof")
            server_sig = self._hmac(self._hmac(salted, b"Server Key"), auth_msg)
            self.principal, self.state = self.user, 2
            return b"v=" + base64.b64encode(server_sig), True
        raise PermissionError("unexpected message")


class OAuthBearer:
    def __init__(self, key, scope): self.key, self.scope, self.principal = key, scope, None

    @staticmethod
    def _b64d(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

    def step(self, data):
        msg = data.decode()
        # "n,,\x01auth=Bearer <token>\x01[k=v\x01]*\x01"
        gs2, _, rest = msg.partition("\x01")
        kv = dict(p.split("=", 1) for p in rest.split("\x01") if "=" in p)
        auth = kv.get("auth", "")
        if not auth.startswith("Bearer "):
            raise PermissionError("no bearer token")
        tok = auth[7:]
        try:
            h, p, s = tok.split(".")
            want = hmac.new(self.key.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(want, self._b64d(s)):
                raise PermissionError("bad token signature")
            claims = json.loads(self._b64d(p))
        except PermissionError:
            raise
        except Exception:
            raise PermissionError("malformed token")
        if claims.get("exp", 0) <= time.time():
            raise PermissionError("token expired")
        if self.scope and self.scope not in claims.get("scope", "").split():
            raise PermissionError("missing scope " + self.scope)
        self.principal = claims.get("sub")
        ext = sorted(k + "=" + v for k, v in kv.items() if k != "auth")
        if ext:
            self.principal += " extensions=" + ";".join(ext)
        self.lifetime_ms = int((claims["exp"] - time.time()) * 1000)
        return b"", True


class MskIam:
    """AWS MSK IAM: the bearer token is base64url(presigned SigV4 URL)."""
    def __init__(self, region, key):
        self.region, (self.akid, self.secret) = region, key.split(":", 1)
        self.principal = None

    @staticmethod
    def _q(s): return urllib.parse.quote(s, safe="-_.~")

    def _sign(self, key, msg): return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    def step(self, data):
        _gs2, _, rest = data.decode().partition("\x01")
        kv = dict(p.split("=", 1) for p in rest.split("\x01") if "=" in p)
        auth = kv.get("auth", "")
        if not auth.startswith("Bearer "):
            raise PermissionError("no bearer token")
        tok = auth[7:]
        try:
            url = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)).decode()
        except Exception:
            raise PermissionError("token is not base64url")
        u = urllib.parse.urlsplit(url)
        host = f"kafka.{self.region}.amazonaws.com"
        if u.scheme != "https" or u.netloc != host or u.path != "/":
            raise PermissionError("token is not for " + host)
        params = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        d = dict(params)
        sig = d.pop("X-Amz-Signature", "")
        d.pop("User-Agent", None)
        if d.get("Action") != "kafka-cluster:Connect":
            raise PermissionError("wrong action")
        cred = d.get("X-Amz-Credential", "").split("/")
        if len(cred) != 5 or cred[0] != self.akid or cred[2:] != [self.region, "kafka-cluster",
                                                                  "aws4_request"]:
            raise PermissionError("wrong credential scope")
        amzdate = d.get("X-Amz-Date", "")
        signed_at = time.mktime(time.strptime(amzdate, "%Y%m%dT%H%M%SZ")) - time.timezone
        expires = int(d.get("X-Amz-Expires", "0"))
        if signed_at > time.time() + 300 or signed_at + expires < time.time():
            raise PermissionError("token expired or from the future")
        pairs = sorted((self._q(k), self._q(v)) for k, v in d.items())
        cq = "&".join(f"{k}={v}" for k, v in pairs)
        creq = f"GET\n/\n{cq}\nhost:{host}\n\nhost\n{hashlib.sha256(b'').hexdigest()}"
        scope = "/".join(cred[1:])
        sts = f"AWS4-HMAC-SHA256\n{amzdate}\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}"
        k = self._sign(("AWS4" + self.secret).encode(), cred[1])
        for part in (self.region, "kafka-cluster", "aws4_request"):
            k = self._sign(k, part)
        want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig):
            raise PermissionError("bad signature")
        self.principal = self.akid + (" session" if "X-Amz-Security-Token" in d else "")
        self.lifetime_ms = int((signed_at + expires - time.time()) * 1000)
        return b"", True


class Gssapi:
    """RFC 4752 server side: GSS context, then the security-layer exchange."""
    def __init__(self):
        import gssapi  # python3-gssapi
        self.g, self.ctx, self.state, self.principal = gssapi, None, 0, None

    def step(self, data):
        g = self.g
        try:
            if self.state == 0:
                if self.ctx is None:
                    self.ctx = g.SecurityContext(usage="accept")  # KRB5_KTNAME keytab
                out = self.ctx.step(data) or b""
                if not self.ctx.complete:
                    return out, False
                self.state = 1
                if out:
                    return out, False      # AP-REP; client answers with empty token
                data = b""
            if self.state == 1:
                # offer "no security layer" (1), max buffer 0
                self.state = 2
                return self.ctx.wrap(b"\x01\x00\x00\x00", False).message, False
            if self.state == 2:
                resp = self.ctx.unwrap(data).message
                if not resp or not resp[0] & 1:
                    raise PermissionError("client chose unsupported security layer")
                self.principal = str(self.ctx.initiator_name)
                return b"", True
        except g.exceptions.GSSError as e:
            raise PermissionError("GSSAPI: " + str(e).replace("\n", " "))
        raise PermissionError("unexpected message")


# ---- connection handler ------------------------------------------------------
class Conn(threading.Thread):
    def __init__(self, srv, sock, peer):
        super().__init__(daemon=True)
        self.srv, self.sock, self.peer = srv, sock, peer
        self.authenticated = not srv.a.mechanisms
        self.mech = None

    def send(self, corr, body, flexible_hdr=False):
        hdr = i32(corr) + (b"\x00" if flexible_hdr else b"")
        self.sock.sendall(i32(len(hdr) + len(body)) + hdr + body)

    def run(self):
        try:
            if self.srv.tls:
                try:
                    self.sock = self.srv.tls.wrap_socket(self.sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    event(f"tls fail reason={type(e).__name__}:{e}".replace("\n", " "))
                    return
                cert = self.sock.getpeercert()
                subj = ",".join("=".join(x[0]) for x in cert.get("subject", ())) if cert else "-"
                event(f"tls peer={subj or '-'}")
            while True:
                n = struct.unpack(">i", recv_exact(self.sock, 4))[0]
                if n < 0 or n > 10 << 20:
                    return
                self.handle(recv_exact(self.sock, n))
        except (EOFError, ConnectionError, OSError, ssl.SSLError):
            pass
        except Exception as e:  # protocol error: drop connection
            sys.stderr.write(f"fake-broker: {type(e).__name__}: {e}\n")
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def handle(self, frame):
        r = Reader(frame)
        key, ver, corr = r.i16(), r.i16(), r.i32()
        r.str()  # client_id
        if key == API_APIVERSIONS:
            if ver > 3:  # answer v0 with UNSUPPORTED_VERSION, client retries
                return self.send(corr, i16(ERR_UNSUPPORTED_VERSION) + i32(0))
            return self.send(corr, self.apiversions(ver))
        if key not in SUPPORTED or not SUPPORTED[key][0] <= ver <= SUPPORTED[key][1]:
            sys.stderr.write(f"fake-broker: unsupported api {key} v{ver}\n")
            raise EOFError
        if key == API_SASL_HANDSHAKE:
            mech = r.str()
            mechs = self.srv.a.mechanisms
            body = b"".join(kstr(m) for m in mechs)
            if mech not in mechs:
                return self.send(corr, i16(ERR_UNSUPPORTED_SASL_MECH) + i32(len(mechs)) + body)
            self.mech, self.mech_name = self.srv.new_mech(mech), mech
            if ver == 0:  # legacy: raw length-prefixed SASL tokens follow
                self.send(corr, i16(ERR_NONE) + i32(len(mechs)) + body)
                return self.legacy_sasl()
            return self.send(corr, i16(ERR_NONE) + i32(len(mechs)) + body)
        if key == API_SASL_AUTH:
            data = r.bytes() or b""
            if self.mech is None:
                return self.send(corr, i16(ERR_ILLEGAL_SASL_STATE) + kstr("no handshake") + kbytes(b""))
            try:
                out, done = self.mech.step(data)
            except (PermissionError, KeyError, ValueError) as e:
                event(f"auth fail mechanism={self.mech_name} reason={str(e).replace(' ', '_')}")
                self.send(corr, i16(ERR_SASL_AUTH_FAILED) + kstr(f"Authentication failed: {e}")
                          + kbytes(b"") + (i64(0) if ver >= 1 else b""))
                raise EOFError
            if done:
                self.authenticated = True
                event(f"auth ok mechanism={self.mech_name} principal={self.mech.principal}")
            life = getattr(self.mech, "lifetime_ms", 0) if done else 0
            return self.send(corr, i16(ERR_NONE) + kstr(None) + kbytes(out)
                             + (i64(life) if ver >= 1 else b""))
        if not self.authenticated:
            sys.stderr.write("fake-broker: request before authentication\n")
            raise EOFError
        if key == API_METADATA:
            n = r.i32()
            wanted = None if n < 0 or (n == 0 and ver == 0) else [r.str() for _ in range(n)]
            return self.send(corr, self.metadata(ver, wanted))

    def legacy_sasl(self):
        while True:
            n = struct.unpack(">i", recv_exact(self.sock, 4))[0]
            try:
                out, done = self.mech.step(recv_exact(self.sock, n))
            except (PermissionError, KeyError, ValueError) as e:
                event(f"auth fail mechanism={self.mech_name} reason={str(e).replace(' ', '_')}")
                raise EOFError
            self.sock.sendall(i32(len(out)) + out)
            if done:
                self.authenticated = True
                event(f"auth ok mechanism={self.mech_name} principal={self.mech.principal}")
                return

    def apiversions(self, ver):
        keys = sorted(ADVERTISED.items())
        if ver >= 3:  # flexible body (header stays v0 for ApiVersions)
            body = i16(0) + uvarint(len(keys) + 1)
            for k, (lo, hi) in keys:
                body += i16(k) + i16(lo) + i16(hi) + b"\x00"
            return body + i32(0) + b"\x00"
        body = i16(0) + i32(len(keys)) + b"".join(i16(k) + i16(lo) + i16(hi) for k, (lo, hi) in keys)
        return body + (i32(0) if ver >= 1 else b"")

    def metadata(self, ver, wanted):
        a = self.srv.a
        broker = i32(1) + kstr(a.host) + i32(self.srv.port) + (kstr(None) if ver >= 1 else b"")
        body = i32(1) + broker
        if ver >= 1:
            body += i32(1)  # controller id
        names = wanted if wanted is not None else a.topic + a.deny_topic
        body += i32(len(names))
        for t in names:
            if t in a.deny_topic:
                err, parts = ERR_TOPIC_AUTHORIZATION_FAILED, b""
                n = 0
            elif t in a.topic:
                err, n = ERR_NONE, 1
                parts = i16(0) + i32(0) + i32(1) + i32(1) + i32(1) + i32(1) + i32(1)
            else:
                err, parts, n = ERR_UNKNOWN_TOPIC, b"", 0
            body += i16(err) + kstr(t) + (b"\x00" if ver >= 1 else b"") + i32(n) + parts
        return body


class Server:
    def __init__(self, a):
        self.a = a
        self.users = dict(u.split(":", 1) for u in a.user)
        self.tls = None
        if a.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(a.tls_cert, a.tls_key)
            if a.tls_ca:
                ctx.load_verify_locations(a.tls_ca)
                ctx.verify_mode = ssl.CERT_REQUIRED if a.require_client_cert else ssl.CERT_OPTIONAL
            self.tls = ctx
        if a.keytab:
            os.environ["KRB5_KTNAME"] = "FILE:" + os.path.abspath(a.keytab)
            os.environ.setdefault("KRB5RCACHETYPE", "none")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", a.port))  # loopback only
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def new_mech(self, m):
        if m == "PLAIN": return Plain(self.users)
        if m == "SCRAM-SHA-256": return Scram(self.users, "sha256")
        if m == "SCRAM-SHA-512": return Scram(self.users, "sha512")
        if m == "OAUTHBEARER" and self.a.msk_iam_key:
            return MskIam(self.a.msk_iam_region, self.a.msk_iam_key)
        if m == "OAUTHBEARER": return OAuthBearer(self.a.jwt_key, self.a.jwt_scope)
        if m == "GSSAPI": return Gssapi()
        raise ValueError(m)

    def serve(self):
        while True:
            try:
                s, peer = self.sock.accept()
            except OSError:
                return
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            Conn(self, s, peer).start()


def stop_by_itself(lifetime):
    """Exit when stdin ends (the test is gone) or after `lifetime` seconds."""
    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        os._exit(0)
    threading.Thread(target=watch_stdin, daemon=True).start()
    timer = threading.Timer(lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--host", default="localhost", help="advertised host in Metadata")
    ap.add_argument("--tls-cert"); ap.add_argument("--tls-key"); ap.add_argument("--tls-ca")
    ap.add_argument("--require-client-cert", action="store_true")
    ap.add_argument("--mechanisms", default="")
    ap.add_argument("--user", action="append", default=[])
    ap.add_argument("--jwt-key", default="test-jwt-key")
    ap.add_argument("--jwt-scope", default="")
    ap.add_argument("--keytab")
    ap.add_argument("--msk-iam-key")
    ap.add_argument("--msk-iam-region", default="us-east-1")
    ap.add_argument("--topic", action="append", default=[])
    ap.add_argument("--deny-topic", action="append", default=[])
    ap.add_argument("--lifetime", type=float, default=300)
    a = ap.parse_args()
    a.mechanisms = [m for m in a.mechanisms.split(",") if m]
    srv = Server(a)
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(f"{srv.port}\n")
        os.replace(a.port_file + ".tmp", a.port_file)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    stop_by_itself(a.lifetime)
    print(f"READY {srv.port}", flush=True)
    try:
        srv.serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
