#!/usr/bin/python3
"""OAuth 2.0 client-credentials token endpoint for connrt's tests (stdlib only).

Adapted from the project's reference helper. Stops by itself when its stdin
reaches end of file (the test that started it is gone) or after --lifetime
seconds. Prints one line per token request:
  EVENT token ok n=N client=ID auth=basic|post scope=S
  EVENT token fail n=N status=CODE error=E

Listens on 127.0.0.1 only.  POST /token with
  Content-Type: application/x-www-form-urlencoded
  body: grant_type=client_credentials[&scope=...]
  client auth: HTTP Basic (client_secret_basic, RFC 6749 2.3.1: id and secret
  form-urlencoded before base64) or client_id/client_secret in the body
  (client_secret_post).
Answers {"access_token", "token_type": "Bearer", "expires_in", "scope"}.
The token is a JWT signed HS256 with --jwt-key, so a fake broker can check it
offline (iss, sub, scope, exp).  Errors follow RFC 6749 5.2.

  oauth_token_server.py [--port 0] [--port-file F] [--client-id ID]
      [--client-secret S] [--scopes "kafka other"] [--expires-in 3600]
      [--jwt-key K] [--fail-first N] [--tls-cert C --tls-key K]
Prints "READY <port>" on stdout once listening.  Stops on SIGTERM/SIGINT.
GET /stats returns {"token_requests": n, "issued": n}.
"""
import argparse, base64, hashlib, hmac, json, os, signal, sys, threading, time
import urllib.parse
out_lock = threading.Lock()


def event(msg):
    with out_lock:
        sys.stdout.write("EVENT " + msg + "\n")
        sys.stdout.flush()


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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_jwt(key, claims):
    h = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(key.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--client-id", default="connrt-test")
    ap.add_argument("--client-secret", default="s3cr3t")
    ap.add_argument("--scopes", default="kafka")
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--jwt-key", default="test-jwt-key")
    ap.add_argument("--tls-cert", help="serve https with this cert (PEM)")
    ap.add_argument("--tls-key")
    ap.add_argument("--fail-first", type=int, default=0,
                    help="answer 503 to the first N token requests")
    ap.add_argument("--lifetime", type=float, default=300)
    a = ap.parse_args()
    allowed = set(a.scopes.split())
    stats = {"token_requests": 0, "issued": 0}
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("oauth: " + (fmt % args) + "\n")

        def reply(self, code, obj, extra=None):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/stats":
                with lock:
                    return self.reply(200, dict(stats))
            self.reply(404, {"error": "not_found"})

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode("utf-8", "replace")
            if self.path != "/token":
                return self.reply(404, {"error": "not_found"})
            with lock:
                stats["token_requests"] += 1
                k = stats["token_requests"]
            if k <= a.fail_first:
                event(f"token fail n={k} status=503 error=temporarily_unavailable")
                return self.reply(503, {"error": "temporarily_unavailable"})
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype != "application/x-www-form-urlencoded":
                return self.reply(400, {"error": "invalid_request",
                                        "error_description": "bad content type"})
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
            cid = csec = None
            auth = self.headers.get("Authorization") or ""
            how = "basic" if auth.startswith("Basic ") else "post"
            if auth.startswith("Basic "):
                try:
                    dec = base64.b64decode(auth[6:]).decode()
                    u, _, p = dec.partition(":")
                    cid, csec = urllib.parse.unquote_plus(u), urllib.parse.unquote_plus(p)
                except Exception:
                    pass
            elif "client_id" in form:
                cid, csec = form.get("client_id"), form.get("client_secret")
            if not (cid == a.client_id and csec is not None and
                    hmac.compare_digest(csec, a.client_secret)):
                event(f"token fail n={k} status=401 error=invalid_client")
                return self.reply(401, {"error": "invalid_client"},
                                  {"WWW-Authenticate": 'Basic realm="test"'})
            if form.get("grant_type") != "client_credentials":
                return self.reply(400, {"error": "unsupported_grant_type"})
            req = set(form.get("scope", "").split()) or set(allowed)
            if not req <= allowed:
                event(f"token fail n={k} status=400 error=invalid_scope")
                return self.reply(400, {"error": "invalid_scope"})
            now = int(time.time())
            scope = " ".join(sorted(req))
            tok = make_jwt(a.jwt_key, {"iss": "connrt-test-oauth", "sub": cid,
                                       "scope": scope, "iat": now,
                                       "exp": now + a.expires_in})
            with lock:
                stats["issued"] += 1
            event(f"token ok n={k} client={cid} auth={how} scope={scope}")
            self.reply(200, {"access_token": tok, "token_type": "Bearer",
                             "expires_in": a.expires_in, "scope": scope})

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)  # loopback only
    srv.daemon_threads = True
    if a.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(a.port_file + ".tmp", a.port_file)
    # exit at once on SIGTERM, even with a client connection hanging
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    stop_by_itself(a.lifetime)
    print(f"READY {port}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    srv.server_close()


if __name__ == "__main__":
    main()
