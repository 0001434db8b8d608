#!/usr/bin/env python3
"""openapi-check.py URL OPENAPI-OUT: drives a running nvo-controller through
every path of its OpenAPI document (GET URL/v1/openapi.json), successes and
errors, and validates each answer's status and body against the document
(JSON Schema 2020-12, as OpenAPI 3.1 uses, with python3-jsonschema).

Responses are closed (additionalProperties: false) and formats (ipv4,
ipv6) are checked, so a field the daemon renders but the document does not
describe fails.  The requests include every dataplane field (encap,
arp_responder, mtu, allowed_addresses), and the check asserts the answers
carry them (mtu_check, a kernel port's security counters, the kernel
hypervisor's controller).

Prints "ok: ..." / "FAIL: ..." lines; exits 1 on any failure.  The
controller must know hypervisors 'hv1' (OVS) and optionally 'hv3' (kernel)
and have no networks yet."""
import json
import sys
import time
import urllib.error
import urllib.request

import jsonschema

base = sys.argv[1].rstrip("/")
fails = 0
seen = set()


def ok(what, cond, detail=""):
    global fails
    if cond:
        print("ok: " + what)
    else:
        fails += 1
        print("FAIL: " + what + (": " + detail if detail else ""))


def http(method, path, body=None, ctype="application/json"):
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = ctype
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


status, ctype, raw = http("GET", "/v1/openapi.json")
ok("GET /v1/openapi.json answers 200 JSON", status == 200
   and ctype.startswith("application/json"), "%s %s" % (status, ctype))
doc = json.loads(raw)
with open(sys.argv[2], "w") as f:
    f.write(raw.decode())

# --- the document itself ---------------------------------------------------
ok("document is OpenAPI 3.1", doc.get("openapi", "").startswith("3.1"))
for k in ("info", "paths", "components"):
    ok("document has '%s'" % k, k in doc)


def resolve(node):
    """The schema with every local $ref replaced by its target."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target = doc
            for part in ref[2:].split("/"):
                target = target[part]
            return resolve(target)
        return {k: resolve(v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v) for v in node]
    return node


V = jsonschema.Draft202012Validator
FORMATS = V.FORMAT_CHECKER


def validator(schema):
    return V(schema, format_checker=FORMATS)


bad_refs = []
for name, schema in doc["components"]["schemas"].items():
    try:
        V.check_schema(resolve(schema))
    except Exception as e:  # a dangling $ref or a bad schema
        bad_refs.append("%s: %s" % (name, e))
ok("every component schema is valid JSON Schema and its $refs resolve",
   not bad_refs, "; ".join(bad_refs))
methods = ("get", "post", "put", "patch", "delete")
ops = []
for path, item in doc["paths"].items():
    for m in methods:
        if m in item:
            ops.append((m.upper(), path))
            op = resolve(item[m])
            ok("%s %s documents its responses" % (m.upper(), path),
               bool(op.get("responses")))


def template_match(tpath, path):
    a = tpath.strip("/").split("/")
    b = path.split("?")[0].strip("/").split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{")
                                    for x, y in zip(a, b))


def check(method, path, body=None, want=None, ctype="application/json"):
    """Sends the request; validates the answer against the document."""
    if body is not None and not isinstance(body, bytes):
        body_b = body
    else:
        body_b = body
    status, rtype, raw = http(method, path, body_b, ctype)
    what = "%s %s -> %s" % (method, path, status)
    if want is not None and status != want:
        ok(what + " (expected %s)" % want, False, raw[:200].decode("utf-8",
                                                                    "replace"))
        return status, None
    tpath = next((t for t in doc["paths"] if template_match(t, path)), None)
    if tpath is None:
        # An undocumented path: a JSON 404 in the documented error shape.
        errors = list(validator(resolve({"$ref": "#/components/schemas/Error"}))
                      .iter_errors(json.loads(raw or b"null")))
        ok(what + ": unknown path answers a JSON 404 error",
           status == 404 and not errors)
        return status, None
    op = doc["paths"][tpath].get(method.lower())
    if op is None:
        # Undocumented method: the answer must be a documented-style 405.
        ok(what + ": undocumented method answers 405", status == 405)
        return status, None
    seen.add((method, tpath))
    resp = op["responses"].get(str(status))
    if resp is None:
        ok(what + ": status documented", False,
           "documented: %s" % sorted(op["responses"]))
        return status, None
    resp = resolve(resp)
    content = resp.get("content")
    if not content:
        ok(what + ": no body documented, none sent", not raw)
        return status, None
    mtype = rtype.split(";")[0].strip()
    ok(what + ": media type %s documented" % mtype, mtype in content)
    if mtype != "application/json" or mtype not in content:
        return status, raw
    data = json.loads(raw)
    schema = resolve(content[mtype]["schema"])
    errors = sorted(validator(schema).iter_errors(data), key=lambda e: e.path)
    ok(what + ": body matches the schema", not errors,
       "; ".join("%s at %s" % (e.message, list(e.path)) for e in errors[:3]))
    return status, data


def check_request(name, body):
    schema = resolve({"$ref": "#/components/schemas/" + name})
    errors = list(validator(schema).iter_errors(body))
    ok("request body matches %s" % name, not errors,
       "; ".join(e.message for e in errors[:3]))


check("GET", "/", want=200)
check("GET", "/healthz", want=200)
check("GET", "/metrics", want=200)
check("GET", "/v1/status", want=200)
check("GET", "/v1/hypervisors", want=200)
check("GET", "/v1/hypervisors/hv1", want=200)
check("GET", "/v1/hypervisors/nosuch", want=404)
net = {"name": "red", "vni": 5001, "bum": "head-end"}
check_request("NetworkCreate", net)
check("POST", "/v1/networks", net, want=201)
check("POST", "/v1/networks", net, want=409)
check("POST", "/v1/networks", {"name": "x"}, want=400)
check("POST", "/v1/networks", b"{not json", want=400)
check("POST", "/v1/networks", b'{"name":"y","vni":7}', want=415,
      ctype="text/plain")
check("POST", "/v1/networks", {"name": "big", "pad": "x" * (1024 * 1024)},
      want=413)
check("POST", "/v1/networks?wait=1", {"name": "blue", "vni": 5002}, want=201)
check("GET", "/v1/networks", want=200)
check("GET", "/v1/networks/red", want=200)
check("PATCH", "/v1/networks/blue?wait=1", {"bum": "service-node"}, want=200)
check("PATCH", "/v1/networks/blue", {"vni": 9}, want=400)
check("PATCH", "/v1/networks/blue", {"name": "blue"}, want=400)
# The dataplane fields: encapsulation, ARP responder, MTU.
green = {"name": "green", "vni": 5003, "encap": "geneve",
         "arp_responder": False, "mtu": 1400}
check_request("NetworkCreate", green)
_, g = check("POST", "/v1/networks?wait=1", green, want=201)
ok("the created network carries encap, arp_responder and mtu",
   bool(g) and g.get("encap") == "geneve" and g.get("arp_responder") is False
   and g.get("mtu") == 1400, str(g))
check("POST", "/v1/networks", dict(green, name="g2", vni=5004, mtu=100),
      want=400)
check("POST", "/v1/networks", dict(green, name="g3", vni=5005, encap="ipip"),
      want=400)
patch = {"arp_responder": True, "mtu": 1450}
check_request("NetworkPatch", patch)
_, g = check("PATCH", "/v1/networks/green?wait=1", patch, want=200)
ok("the patch changed arp_responder and mtu",
   bool(g) and g.get("arp_responder") is True and g.get("mtu") == 1450, str(g))
_, red = check("GET", "/v1/networks/red", want=200)
ok("a network without mtu has no mtu field, encap vxlan, arp_responder on",
   bool(red) and "mtu" not in red and red.get("encap") == "vxlan"
   and red.get("arp_responder") is True, str(red))
check("PUT", "/v1/networks/blue", {"bum": "head-end"}, want=405)
port = {"vm": "vm1", "network": "red", "hypervisor": "hv1",
        "mac": "02:00:00:00:00:01", "ip": "10.0.0.1", "iface": "v-vm1",
        "allowed_addresses": ["10.0.0.100", "10.0.1.0/24"]}
check_request("PortCreate", port)
_, p1 = check("POST", "/v1/ports?wait=1", port, want=201)
check("POST", "/v1/ports", port, want=409)
check("POST", "/v1/ports", dict(port, network="nosuch", mac="02:00:00:00:00:09"),
      want=404)
check("GET", "/v1/ports", want=200)
check("GET", "/v1/ports?network=red&hypervisor=hv1", want=200)
check("GET", "/v1/ports?network=nosuch", want=404)
ok("the created port carries allowed_addresses",
   bool(p1) and p1.get("allowed_addresses") == ["10.0.0.100", "10.0.1.0/24"],
   str(p1))
check("POST", "/v1/ports", dict(port, vm="vm9", mac="02:00:00:00:00:09",
                                allowed_addresses=["nope"]), want=400)
_, g = check("GET", "/v1/networks/green", want=200)
mc = (g or {}).get("mtu_check") or {}
ok("GET of a network with mtu reports mtu_check (Geneve: 1450 + 50)",
   mc.get("required_underlay_mtu") == 1500, str(g))
if p1:
    check("GET", "/v1/ports/%d" % p1["id"], want=200)
    check("PATCH", "/v1/ports/%d?wait=1" % p1["id"], {"iface": "v-vm1"},
          want=200)
check("GET", "/v1/ports/999999", want=404)
status, hv = http("GET", "/v1/hypervisors/hv3")[0], None
if status == 200:
    p3 = dict(port, vm="vm3", hypervisor="hv3", mac="02:00:00:00:00:03",
              ip="10.0.0.3", iface="v-vm3")
    _, p3r = check("POST", "/v1/ports?wait=1", p3, want=201)
    # Port-security counters come with the agent's next heartbeat.
    sec = None
    end = time.time() + 15
    while p3r and time.time() < end:
        _, p3g = check("GET", "/v1/ports/%d" % p3r["id"], want=200)
        sec = (p3g or {}).get("security")
        if sec is not None:
            break
        time.sleep(0.5)
    ok("a kernel hypervisor's port reports security.dropped_packets",
       sec is not None and sec.get("dropped_packets", -1) >= 0, str(sec))
    check("GET", "/v1/hypervisors/hv3", want=200)
st, sdata = check("GET", "/v1/status", want=200)
check("GET", "/v1/audit", want=200)
check("POST", "/v1/audit/repair", want=200)
check("GET", "/v1/trace?from=vm1&to=ff:ff:ff:ff:ff:ff", want=200)
check("GET", "/v1/trace?from=vm1&to=10.0.0.3", want=200)
check("GET", "/v1/trace?from=vm1", want=400)
check("GET", "/v1/trace?from=nosuch&to=10.0.0.3", want=404)
check("DELETE", "/v1/networks/red", want=409)
hvnew = {"name": "hvx", "tunnel_ip": "192.0.2.99", "dataplane": "kernel"}
check_request("HypervisorCreate", hvnew)
check("POST", "/v1/hypervisors", hvnew, want=201)
check("POST", "/v1/hypervisors", hvnew, want=409)
check("DELETE", "/v1/hypervisors/hvx", want=204)
check("DELETE", "/v1/hypervisors/hvx", want=404)
if p1:
    check("DELETE", "/v1/ports/%d?wait=1" % p1["id"], want=204)
check("DELETE", "/v1/networks/blue?wait=1", want=204)
# Last, as it upsets hv1 for a while: a port whose interface hv1 lacks.
# Without ?wait it is created; hv1 cannot apply it and says why.
port_g = {"vm": "vmg", "network": "green", "hypervisor": "hv1",
          "mac": "02:00:00:00:00:0a", "iface": "v-nosuch"}
check_request("PortCreate", port_g)
_, pg = check("POST", "/v1/ports", port_g, want=201)
ok("a port without ip has ip null", bool(pg) and pg.get("ip", 0) is None,
   str(pg))
err = None
end = time.time() + 15
while pg and time.time() < end:
    _, h1 = check("GET", "/v1/hypervisors/hv1", want=200)
    err = (h1 or {}).get("error")
    if err:
        break
    time.sleep(0.5)
ok("a hypervisor that cannot apply its revision says why (error)",
   bool(err) and "v-nosuch" in err, str(err))
if pg:
    check("DELETE", "/v1/ports/%d?wait=1" % pg["id"], want=204)
check("DELETE", "/v1/networks/green?wait=1", want=204)
check("GET", "/v1/nosuch", want=404)
check("GET", "/v1/openapi.json", want=200)

missing = [("%s %s" % o) for o in ops if o not in seen]
ok("every documented operation was exercised", not missing,
   ", ".join(missing))
print("openapi-check: %d operations documented, %d failure(s)"
      % (len(ops), fails))
sys.exit(1 if fails else 0)
