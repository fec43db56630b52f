#!/usr/bin/env python3
"""How fast a fault posted to one replica of a fleet applies on another, and a
clear on a third lifts it: start `target/release/fleet up --replicas 3 >
fleet.log`, then run `python3 bench/fault-propagation.py fleet.log`."""
import json, sys, time, urllib.request, urllib.error
lines = open(sys.argv[1]).read().splitlines()
field = lambda name: next(l.split()[1] for l in lines if l.startswith(name))
token = next(l.split()[2] for l in lines if l.startswith("admin token"))
admins = [next(l.split()[3] for l in lines if l.startswith(f"shop-{i}")) for i in range(3)]
publics = [next(l.split()[1] for l in lines if l.startswith(f"shop-{i}")) for i in range(3)]
def req(method, url, body=None):
    r = urllib.request.Request(url, data=body, method=method, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(r, timeout=5) as resp: return resp.status, resp.read()
    except urllib.error.HTTPError as e: return e.code, b""
def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r: return r.status
    except urllib.error.HTTPError as e: return e.code
apply, clear = [], []
for trial in range(20):
    t0 = time.monotonic()
    s, body = req("POST", admins[0] + "/admin/faults", json.dumps({"kind":"error","route":"/","probability":1,"duration_seconds":60}).encode())
    fid = json.loads(body)["id"]
    while status(publics[2] + "/") != 500: pass
    apply.append(time.monotonic() - t0)
    t0 = time.monotonic()
    req("DELETE", admins[1] + f"/admin/faults/{fid}")
    while status(publics[0] + "/") != 200: pass
    clear.append(time.monotonic() - t0)
for name, xs in (("applied on shop-2 after POST to shop-0", apply), ("cleared on shop-0 after DELETE on shop-1", clear)):
    xs = sorted(xs); print(f"{name}: median {xs[len(xs)//2]*1000:.1f} ms, max {xs[-1]*1000:.1f} ms over {len(xs)}")
