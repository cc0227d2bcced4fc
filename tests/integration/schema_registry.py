#!/usr/bin/env python3
"""A small schema registry for tests (stdlib only), the REST subset connrt uses:

  GET  /subjects                               list of subjects
  GET  /subjects/{s}/versions                  list of versions
  GET  /subjects/{s}/versions/{v|latest}       {"subject","version","id","schema"[,"schemaType"]}
  POST /subjects/{s}/versions                  {"schema"[,"schemaType"]} -> {"id"}
  GET  /schemas/ids/{id}                       {"schema"[,"schemaType"]}
  GET  /schemas/ids/{id}/versions              [{"subject","version"}]
  POST /compatibility/subjects/{s}/versions/latest  {"is_compatible": bool}
  GET  /stats                                  {"requests": N, "paths": {"GET /p": N}}

Test controls (no auth, not counted in /stats):
  POST /test/fault {"path": "/schemas/ids/3", "status": 503, "count": 2}
       the next COUNT requests of that exact path (any method) answer STATUS
       (count -1: until cleared)
  POST /test/clear                             drop every fault

Compatibility (BACKWARD, Avro only): a new record schema may add fields only
with a default, and may not change a kept field's type. A schema already
registered under a subject gets its existing id. Basic auth with --user
USER:PASSWORD; HTTPS with --tls CERT KEY; --state FILE keeps the schemas
across restarts (as a real registry keeps them in Kafka). Listens on 127.0.0.1 only (on
--port, or a free one), prints "READY <port>", and stops when its parent
dies, on SIGTERM, or after --timeout seconds.
"""
import argparse
import base64
import json
import os
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

lock = threading.Lock()
schemas = {}   # id -> {"schema", "schemaType"}
subjects = {}  # subject -> [id, ...] (version i+1 is ids[i])
stats = {"requests": 0, "paths": {}}
faults = {}    # path -> [status, remaining count (-1: forever)]
auth = None
state_file = None


def save_state():
    """Called with the lock held, after each change."""
    if state_file:
        with open(state_file + ".tmp", "w") as f:
            json.dump({"schemas": schemas, "subjects": subjects}, f)
        os.replace(state_file + ".tmp", state_file)


def load_state():
    if state_file and os.path.exists(state_file):
        with open(state_file) as f:
            saved = json.load(f)
        schemas.update({int(k): v for k, v in saved["schemas"].items()})
        subjects.update(saved["subjects"])


def canonical(text):
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


def backward_compatible(old, new):
    """Can readers of `new` read data written with `old`?"""
    try:
        o, n = json.loads(old), json.loads(new)
    except ValueError:
        return False
    if not (isinstance(o, dict) and isinstance(n, dict) and o.get("type") == "record"):
        return True
    old_fields = {f["name"]: f for f in o.get("fields", [])}
    for f in n.get("fields", []):
        if f["name"] in old_fields:
            if json.dumps(old_fields[f["name"]]["type"], sort_keys=True) != \
                    json.dumps(f["type"], sort_keys=True):
                return False
        elif "default" not in f:
            return False
    return True


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, code, error_code, message):
        self.reply(code, {"error_code": error_code, "message": message})

    def control(self):
        """Test controls and injected faults: True when the request is answered."""
        if self.path == "/test/fault" and self.command == "POST":
            req = self.body()
            with lock:
                faults[req["path"]] = [int(req.get("status", 503)), int(req.get("count", 1))]
            self.reply(200, {})
            return True
        if self.path == "/test/clear" and self.command == "POST":
            with lock:
                faults.clear()
            self.reply(200, {})
            return True
        if self.path == "/stats":
            with lock:
                self.reply(200, stats)
            return True
        with lock:
            stats["requests"] += 1
            key = self.command + " " + self.path
            stats["paths"][key] = stats["paths"].get(key, 0) + 1
            fault = faults.get(self.path)
            if fault is not None:
                if fault[1] > 0:
                    fault[1] -= 1
                if fault[1] == 0:
                    del faults[self.path]
        if fault is not None:
            self.error(fault[0], fault[0] * 100, "injected fault")
            return True
        return False

    def authorised(self):
        if self.control():
            return False
        if auth is None:
            return True
        given = self.headers.get("Authorization", "")
        if given == "Basic " + base64.b64encode(auth.encode()).decode():
            return True
        self.error(401, 401, "Unauthorized")
        return False

    body_left = True

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.body_left = False
        return json.loads(self.rfile.read(n) or b"{}")

    def version_of(self, subject, version):
        ids = subjects.get(subject)
        if not ids:
            return None, self.error(404, 40401, "Subject '%s' not found." % subject)
        if version == "latest":
            return len(ids), None
        v = int(version)
        if v < 1 or v > len(ids):
            return None, self.error(404, 40402, "Version %d not found." % v)
        return v, None

    def schema_body(self, sid):
        s = schemas[sid]
        out = {"schema": s["schema"]}
        if s["schemaType"] != "AVRO":
            out["schemaType"] = s["schemaType"]
        return out

    def do_GET(self):
        if not self.authorised():
            return
        parts = [unquote(p) for p in self.path.strip("/").split("/")]
        with lock:
            if parts == ["subjects"]:
                return self.reply(200, sorted(subjects))
            if len(parts) >= 3 and parts[:2] == ["schemas", "ids"]:
                sid = int(parts[2])
                if sid not in schemas:
                    return self.error(404, 40403, "Schema %d not found" % sid)
                if len(parts) == 4 and parts[3] == "versions":
                    return self.reply(200, [{"subject": s, "version": i + 1}
                                            for s, ids in sorted(subjects.items())
                                            for i, x in enumerate(ids) if x == sid])
                return self.reply(200, self.schema_body(sid))
            if len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
                if parts[1] not in subjects:
                    return self.error(404, 40401, "Subject '%s' not found." % parts[1])
                return self.reply(200, list(range(1, len(subjects[parts[1]]) + 1)))
            if len(parts) == 4 and parts[0] == "subjects" and parts[2] == "versions":
                v, _ = self.version_of(parts[1], parts[3])
                if v is None:
                    return
                sid = subjects[parts[1]][v - 1]
                out = {"subject": parts[1], "version": v, "id": sid}
                out.update(self.schema_body(sid))
                return self.reply(200, out)
        self.error(404, 404, "Not found: " + self.path)

    def do_POST(self):
        if not self.authorised():
            return
        parts = [unquote(p) for p in self.path.strip("/").split("/")]
        req = self.body() if self.body_left else {}
        text, kind = req.get("schema"), req.get("schemaType", "AVRO")
        if text is None:
            return self.error(422, 42201, "Invalid schema: no \"schema\"")
        with lock:
            if len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
                subject = parts[1]
                for sid, s in schemas.items():
                    if canonical(s["schema"]) == canonical(text) and s["schemaType"] == kind:
                        if sid in subjects.get(subject, []):
                            return self.reply(200, {"id": sid})
                        break
                else:
                    sid = None
                ids = subjects.get(subject, [])
                if ids and kind == "AVRO" and \
                        not backward_compatible(schemas[ids[-1]]["schema"], text):
                    return self.error(409, 409, "Schema being registered is incompatible "
                                      "with an earlier schema for subject \"%s\"" % subject)
                if sid is None:
                    sid = max(schemas, default=0) + 1
                    schemas[sid] = {"schema": text, "schemaType": kind}
                subjects.setdefault(subject, []).append(sid)
                save_state()
                return self.reply(200, {"id": sid})
            if len(parts) == 5 and parts[0] == "compatibility" and parts[1] == "subjects":
                v, _ = self.version_of(parts[2], parts[4])
                if v is None:
                    return
                old = schemas[subjects[parts[2]][v - 1]]["schema"]
                return self.reply(200, {"is_compatible": backward_compatible(old, text)})
        self.error(404, 404, "Not found: " + self.path)


def main():
    global auth, state_file
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user", help="USER:PASSWORD for basic auth")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    ap.add_argument("--state", help="file that keeps the schemas across restarts")
    args = ap.parse_args()
    auth = args.user
    state_file = args.state
    load_state()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*args.tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    parent = os.getppid()

    def watchdog():
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline and os.getppid() == parent:
            time.sleep(0.5)
        server.shutdown()

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    threading.Thread(target=watchdog, daemon=True).start()
    print("READY %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
