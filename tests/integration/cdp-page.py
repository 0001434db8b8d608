#!/usr/bin/env python3
"""cdp-page.py: drives a headless Chromium (already started with
--remote-debugging-port) through the Chrome DevTools Protocol to test
nvo-controller's topology page.

  cdp-page.py --devtools=PORT --url=URL --out=DIR --hvs=a,b --vms=x,y
              [--token=TOKEN] [--new-vm=NAME -- CMD...]

With --token (the controller requires REST tokens): the page must first
ask for a token (and nothing else, no failed request), take TOKEN typed
into its form, and after a reload still have it (sessionStorage); at the
end a refused token must bring the form back saying so.
Loads URL; passes if the page renders (body[data-loaded]) with no console
error, no uncaught exception and no failed request; every hypervisor in
--hvs is drawn (svg g[data-hv]) and listed, every VM in --vms is shown
(tr[data-vm]); then runs CMD (e.g. nvoctl --wait port add ...) and passes
if --new-vm appears without a reload.  Saves DIR/topology.png (1440x900)
and, with --token, DIR/token-prompt.png."""
import argparse
import base64
import json
import subprocess
import sys
import time
import urllib.request

import websocket

ap = argparse.ArgumentParser()
ap.add_argument("--devtools", type=int, required=True)
ap.add_argument("--url", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--hvs", default="")
ap.add_argument("--vms", default="")
ap.add_argument("--new-vm", default="")
ap.add_argument("--token", default="")
ap.add_argument("cmd", nargs="*")
args = ap.parse_args()

fails = 0


def ok(what, cond, detail=""):
    global fails
    print(("ok: " if cond else "FAIL: ") + what
          + ("" if cond or not detail else ": " + str(detail)))
    if not cond:
        fails += 1


def poll(fn, timeout, step=0.2):
    end = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > end:
            return v
        time.sleep(step)


def targets():
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list"
                                    % args.devtools, timeout=2) as r:
            return [t for t in json.load(r) if t.get("type") == "page"]
    except OSError:
        return None


pages = poll(targets, 30)
if not pages:
    print("FAIL: no Chromium page target on port %d" % args.devtools)
    sys.exit(1)
ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"],
                                 timeout=30, suppress_origin=True)
next_id = [0]
events = []


def send(method, **params):
    next_id[0] += 1
    mid = next_id[0]
    ws.send(json.dumps({"id": mid, "method": method, "params": params}))
    while True:
        msg = json.loads(ws.recv())
        if msg.get("id") == mid:
            if "error" in msg:
                raise RuntimeError("%s: %s" % (method, msg["error"]))
            return msg.get("result", {})
        events.append(msg)


def js(expr):
    r = send("Runtime.evaluate", expression=expr, returnByValue=True)
    return r.get("result", {}).get("value")


def problems():
    """Console errors, exceptions and failed loads seen so far."""
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            out.append("exception: %s" % p["exceptionDetails"].get("text"))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.%s: %s" % (p["type"], [a.get("value") for a in p.get("args", [])]))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
        elif m == "Network.loadingFailed":
            out.append("load failed: %s" % p.get("errorText"))
        elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
            out.append("HTTP %s: %s" % (p["response"]["status"], p["response"]["url"]))
    return out


for domain in ("Runtime", "Log", "Page", "Network"):
    send(domain + ".enable")
send("Emulation.setDeviceMetricsOverride", width=1440, height=900,
     deviceScaleFactor=1, mobile=False)
t0 = time.time()
send("Page.navigate", url=args.url)
if args.token:
    asked = poll(lambda: js("document.body && document.body.getAttribute('data-auth')") == "needed", 30)
    ok("the page asks for a REST token", asked)
    ok("it says why", "requires a REST token" in (js("document.getElementById('authmsg').textContent") or ""),
       js("document.getElementById('authmsg').textContent"))
    ok("the topology is hidden until then", js("document.getElementById('main').hidden") is True)
    send("Runtime.evaluate", expression="1")
    ok("no failed request or console error while asking", not problems(), problems())
    prompt = send("Page.captureScreenshot", format="png")
    with open(args.out.rstrip("/") + "/token-prompt.png", "wb") as f:
        f.write(base64.b64decode(prompt["data"]))
    js("document.getElementById('authtoken').value = %s;"
       "document.getElementById('authform').requestSubmit(); true" % json.dumps(args.token))
loaded = poll(lambda: js("document.body && document.body.getAttribute('data-loaded')") == "1", 30)
ok("the page loads and renders the controller's state (%.1f s)" % (time.time() - t0), loaded)
# Let a couple of refreshes run, so errors of the polling show up too.
poll(lambda: False, 4.5)
send("Runtime.evaluate", expression="1")   # drains pending events
ok("no console error, exception or failed request", not problems(), problems())

ext = js("Array.from(document.querySelectorAll('link[href],script[src],img[src]'))"
         ".map(e => e.href || e.src).filter(u => !u.startsWith('data:'))")
ok("no external assets", ext == [], ext)

drawn = js("Array.from(document.querySelectorAll('#graph g[data-hv]')).map(e => e.dataset.hv)") or []
rows = js("Array.from(document.querySelectorAll('#hvtable tr[data-hv]')).map(e => e.dataset.hv)") or []
for hv in filter(None, args.hvs.split(",")):
    ok("hypervisor %s is drawn and listed" % hv, hv in drawn and hv in rows,
       "drawn %s, listed %s" % (drawn, rows))
tunnels = js("document.querySelectorAll('#graph line[data-tunnel]').length")
ok("tunnels are drawn (%s)" % tunnels, (tunnels or 0) > 0)
vms = js("Array.from(document.querySelectorAll('#nets tr[data-vm]')).map(e => e.dataset.vm)") or []
for vm in filter(None, args.vms.split(",")):
    ok("VM %s is shown" % vm, vm in vms, vms)
states = js("Array.from(document.querySelectorAll('#hvtable .pill')).map(e => e.textContent)") or []
ok("every hypervisor shows a connection state", len(states) == len(rows) and all(states), states)

if args.new_vm:
    ok("VM %s is not shown before it starts" % args.new_vm, args.new_vm not in vms)
    r = subprocess.run(args.cmd, capture_output=True, text=True)
    shown = [a for a in args.cmd if not a.startswith("--token")]   # No secrets.
    ok("started VM %s (%s)" % (args.new_vm, " ".join(shown[-6:])), r.returncode == 0,
       r.stderr.strip())
    appeared = poll(lambda: args.new_vm in (js(
        "Array.from(document.querySelectorAll('#nets tr[data-vm]')).map(e => e.dataset.vm)") or []), 20)
    ok("the page shows VM %s without a reload" % args.new_vm, appeared)
    ok("still no console error after the update", not problems(), problems())

if args.token:
    send("Page.reload")
    again = poll(lambda: js("document.body && document.body.getAttribute('data-loaded')") == "1"
                 and js("document.body.getAttribute('data-auth')") == "token", 30)
    ok("after a reload the page uses the token kept in the tab", again)
    send("Runtime.evaluate", expression="1")
    ok("no console error after the reload", not problems(), problems())

shot = send("Page.captureScreenshot", format="png")
path = args.out.rstrip("/") + "/topology.png"
with open(path, "wb") as f:
    f.write(base64.b64decode(shot["data"]))
print("screenshot: " + path)
if args.token:
    # Last (its 401 is expected): a refused token brings the form back.
    js("sessionStorage.setItem('nvo-token', 'not-a-valid-token-0000'); location.reload(); true")
    refused = poll(lambda: js("document.body && document.body.getAttribute('data-auth')") == "needed"
                   and "refused" in (js("document.getElementById('authmsg').textContent") or ""), 30)
    ok("a refused token brings the form back, saying it was refused", refused,
       js("document.getElementById('authmsg') && document.getElementById('authmsg').textContent"))
    ok("and forgets it", js("sessionStorage.getItem('nvo-token')") is None)
ws.close()
print("cdp-page: %d failure(s)" % fails)
sys.exit(1 if fails else 0)
