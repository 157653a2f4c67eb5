"""What a bound post-login Action adds to one login, measured in alternating blocks.

Logs in over one keep-alive connection (the password-realm grant, as bench/login/login.lua sends it), in blocks of
BLOCK logins, switching the post-login binding between blocks: without the Action, with it, without, ... Blocks a
fraction of a second long follow each other closely, so the machine's drift (other tenants, CPU frequency) reaches
both sides alike, which separate runs seconds apart do not give.

Environment: BASE, TOKEN (Management API), ACTION_ID (a deployed Action), CLIENT_ID, CLIENT_SECRET, USERS, PAIRS
(default 40), BLOCK (default 50).
Prints one line: pairs, logins per side, p50 of all logins without and with the Action, the median of the per-pair p50
differences, and a 95 % confidence interval of that median (order statistics of the pair differences: the range the
true median lies in unless the machine changed during the run), in ms.
"""
import math
import http.client
import json
import os
import statistics
import time
import urllib.parse

base = urllib.parse.urlsplit(os.environ["BASE"])
token = os.environ["TOKEN"]
action_id = os.environ["ACTION_ID"]
client_id, client_secret = os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]
users = int(os.environ.get("USERS", "500"))
pairs = int(os.environ.get("PAIRS", "40"))
block = int(os.environ.get("BLOCK", "50"))

connection = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
admin = http.client.HTTPConnection(base.hostname, base.port, timeout=60)


def bind(on):
    bindings = [{"ref": {"type": "action_id", "value": action_id}, "display_name": "Clear needsInvitation"}] if on else []
    admin.request("PATCH", "/api/v2/actions/triggers/post-login/bindings", json.dumps({"bindings": bindings}),
                  {"Content-Type": "application/json", "Authorization": "Bearer " + token})
    response = admin.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"binding answered {response.status}")


counter = 0


def login_block():
    global counter
    latencies = []
    for _ in range(block):
        i = counter % users
        counter += 1
        body = json.dumps({"grant_type": "http://auth0.com/oauth/grant-type/password-realm", "realm": "Username-Password-Authentication",
                           "client_id": client_id, "client_secret": client_secret, "username": f"user{i}@bench.example.com",
                           "password": f"Bench-{i}-password!", "scope": "openid profile email"})
        start = time.perf_counter()
        connection.request("POST", "/oauth/token", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            raise SystemExit(f"a login answered {response.status}")
    return latencies


without_all, with_all, differences = [], [], []
bind(False)
login_block()  # warm-up
for _ in range(pairs):
    bind(False)
    without = login_block()
    bind(True)
    with_action = login_block()
    without_all += without
    with_all += with_action
    differences.append(statistics.median(with_action) - statistics.median(without))
bind(False)
ordered = sorted(differences)
# Distribution-free interval for a median: ranks n/2 -+ 1.96 sqrt(n)/2 of the sorted differences.
spread = 1.96 * math.sqrt(len(ordered)) / 2
low = ordered[max(0, math.floor(len(ordered) / 2 - spread))]
high = ordered[min(len(ordered) - 1, math.ceil(len(ordered) / 2 + spread) - 1)]
print(f"{pairs} {len(without_all)} {statistics.median(without_all):.3f} {statistics.median(with_all):.3f} "
      f"{statistics.median(differences):.3f} {low:.3f} {high:.3f}")
