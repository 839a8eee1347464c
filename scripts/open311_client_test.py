#!/usr/bin/env python3
"""Open311 GeoReport v2 against the real `tessera serve`, with a real client library.

Starts `tessera serve` on a fresh SQLite folder, makes an integration key with
`tessera api-key create`, and then, in JSON and in XML:

* reads the services, a service definition and requests with `georeport` (PyPI), a GeoReport
  v2 client;
* posts requests form-encoded with `requests`, as the specification describes (with the key;
  without it the answer is 403 in the errors shape);
* checks every XML answer's element names against the specification's (discovery, services,
  service_definition, service_requests, errors), and that no answer carries a contact.

Exit status 0 when every check passes. Usage: open311_client_test.py --tessera BIN
"""

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import requests
from georeport import GeoReport

# Element names of GeoReport v2 (http://wiki.open311.org/GeoReport_v2).
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url",
}
POST_FIELDS = {"service_request_id", "token", "service_notice", "account_id"}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
ATTRIBUTE_FIELDS = {"variable", "code", "datatype", "required", "datatype_description", "order",
                    "description", "values"}
DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def children(el):
    return {c.tag for c in el}


def xml(resp):
    return ET.fromstring(resp.content)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tessera", required=True)
    args = ap.parse_args()
    tessera = os.path.abspath(args.tessera)
    with tempfile.TemporaryDirectory() as data:
        key = subprocess.run(
            [tessera, "api-key", "create", "open311 client", "--data-dir", data],
            check=True, capture_output=True, text=True, cwd=data,
        ).stdout.strip()
        check(key.startswith("tsk_"), "api-key create prints the key")
        dispatcher = subprocess.run(
            [tessera, "api-key", "create", "dispatch desk", "--role", "dispatcher", "--data-dir", data],
            check=True, capture_output=True, text=True, cwd=data,
        ).stdout.strip()
        # An account with a password of one's own, from stdin.
        added = subprocess.run(
            [tessera, "user", "add", "plan.li", "--role", "planner", "--password-stdin", "--data-dir", data],
            input="a planner's long password\n", capture_output=True, text=True, cwd=data,
        )
        check(added.returncode == 0 and added.stdout == "", f"user add --password-stdin ({added.stderr.strip()})")
        log_path = os.path.join(data, "serve.log")
        with open(log_path, "w") as log:
            server = subprocess.Popen(
                [tessera, "serve", "--bind", "127.0.0.1:0", "--data-dir", data],
                stdout=subprocess.PIPE, stderr=log, text=True, cwd=data,
                env={**os.environ, "RUST_LOG": "info"},
            )
            try:
                first = server.stdout.readline()
                base = first.split("http://", 1)[1].strip()
                demo = demo_accounts(server)
                run(f"http://{base}", key, dispatcher)
                sessions(f"http://{base}", demo)
            finally:
                server.terminate()
                server.wait(timeout=30)
        # Each denial is logged; the log holds no phone, name or key.
        text = open(log_path, encoding="utf-8").read()
        for what in ("denied: not signed in", "denied: CSRF token missing",
                     "denied: the integration role may not GET /api/v1/cases",
                     "denied: the dispatcher role may not supervise a case",
                     "denied: Open311 POST without"):
            check(what in text, f"the log records '{what}'")
        for secret in ("13912341234", "张三", key, dispatcher, "a planner's long password"):
            check(secret not in text, f"the service log does not contain {secret[:6]}…")
    if failures:
        print(f"{len(failures)} Open311 checks failed", file=sys.stderr)
        return 1
    print("Open311: every check passed")
    return 0


def demo_accounts(server):
    """The demo accounts `serve` prints once at first start: {role: (name, password)}."""
    accounts = {}
    while True:
        line = server.stdout.readline()
        if not line:
            break
        if line.startswith("demo accounts"):
            check("not for real use" in line, "the demo accounts are said to be demo accounts")
            continue
        parts = line.split()
        if len(parts) >= 5 and parts[0].startswith("demo-") and parts[-2] == "password":
            accounts[parts[1]] = (parts[0], parts[-1])
            if len(accounts) == 8:
                break
    check(len(accounts) == 8, f"one demo account per role ({sorted(accounts)})")
    return accounts


def sessions(base, demo):
    """Sign in as the demo dispatcher: a session cookie and its CSRF token."""
    name, password = demo["dispatcher"]
    s = requests.Session()
    bad = s.post(f"{base}/api/v1/login", json={"name": name, "password": password + "x"})
    check(bad.status_code == 401, "a wrong password is 401")
    r = s.post(f"{base}/api/v1/login", json={"name": name, "password": password})
    check(r.status_code == 200 and "tessera_session" in s.cookies, f"sign in as {name}")
    cookie = r.headers.get("set-cookie", "")
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie, f"the cookie is HttpOnly, SameSite=Strict ({cookie})")
    csrf = r.json()["csrf_token"]
    listed = s.get(f"{base}/api/v1/cases?per_page=1")
    check(listed.status_code == 200 and listed.json()["total"] > 0, "the session lists cases")
    case = listed.json()["cases"][0]
    act = {"action": "supervise", "note": "n", "version": case["version"]}
    no_csrf = s.post(f"{base}/api/v1/cases/{case['id']}/actions", json=act)
    check(no_csrf.status_code == 403, f"an action without the CSRF token is 403 ({no_csrf.status_code})")
    # A dispatcher may not write supervisors' notes, but with the token the refusal is the role's.
    with_csrf = s.post(f"{base}/api/v1/cases/{case['id']}/actions", json=act, headers={"X-CSRF-Token": csrf})
    check(with_csrf.status_code == 403 and with_csrf.json()["error"]["code"] == "forbidden",
          f"the role is what refuses then ({with_csrf.text[:120]})")
    out = s.post(f"{base}/api/v1/logout", headers={"X-CSRF-Token": csrf})
    check(out.status_code == 204, "sign out")
    check(s.get(f"{base}/api/v1/cases").status_code == 401, "signed out, the cookie opens nothing")
    planner = requests.post(f"{base}/api/v1/login", json={"name": "plan.li", "password": "a planner's long password"})
    check(planner.status_code == 200 and planner.json()["role"] == "planner", "the account from user add signs in")


def run(base, key, dispatcher):
    root = f"{base}/open311/v2"
    pin = {"lat": "36.81", "long": "118.05"}
    # An integration key submits; it does not read the staff's case lists.
    lists = requests.get(f"{base}/api/v1/cases", headers={"Authorization": f"Bearer {key}"})
    check(lists.status_code == 403, f"an integration key may not list cases ({lists.status_code})")
    for fmt in ("json", "xml"):
        client = GeoReport(root, api_key=key, output_format=fmt)
        services = client.get_service_list()
        codes = {s["service_code"] for s in services}
        check("C01" in codes and len(codes) >= 30, f"{fmt}: services list the categories")
        check(all(s["metadata"] in (True, "true") for s in services), f"{fmt}: services say they take attributes")
        definition = client.get_service_definition("C01")
        attrs = definition["attributes"]
        if fmt == "xml":
            attrs = attrs["attribute"]
        check({a["code"] for a in attrs} == {"crs", "external_ticket"}, f"{fmt}: service definition attributes")
        # A POST, form-encoded, with the key; a GCJ-02 pin given as such.
        posted = requests.post(f"{root}/requests.{fmt}", data={
            "api_key": key, "service_code": "C01", "description": "垃圾桶满溢 (Open311)",
            "attribute[crs]": "gcj02", "lat": "36.8093", "long": "118.0561",
            "first_name": "三", "last_name": "张", "phone": "13912341234",
            "media_url": "https://example.org/p.jpg",
        })
        check(posted.status_code == 201, f"{fmt}: POST with api_key answers 201 ({posted.status_code} {posted.text[:200]})")
        if fmt == "json":
            reply = posted.json()[0]
        else:
            doc = xml(posted)
            check(doc.tag == "service_requests" and children(doc[0]) <= POST_FIELDS,
                  f"xml: POST answer elements {doc.tag}/{sorted(children(doc[0]))}")
            reply = {c.tag: c.text for c in doc[0]}
        rid = reply["service_request_id"]
        check(bool(rid) and bool(reply.get("service_notice")), f"{fmt}: POST gives the id and the routing reason")
        # Without a key: 403 in the errors shape.
        bare = requests.post(f"{root}/requests.{fmt}", data={"service_code": "C01", "description": "x", **pin})
        if fmt == "json":
            err = bare.json()
            check(bare.status_code == 403 and err[0]["code"] == 403 and err[0]["description"],
                  f"json: POST without api_key is 403 [{{code, description}}] ({bare.status_code})")
        else:
            doc = xml(bare)
            check(bare.status_code == 403 and doc.tag == "errors" and children(doc[0]) == {"code", "description"},
                  f"xml: POST without api_key is 403 <errors><error> ({bare.status_code})")
        # An unknown service: 400 naming it.
        bad = requests.post(f"{root}/requests.{fmt}", data={"api_key": key, "service_code": "C999",
                                                              "description": "x", **pin})
        check(bad.status_code == 400 and "C999" in bad.text, f"{fmt}: an unknown service_code is 400 naming it")
        # The service center triages and dispatches it (the REST API, as a dispatcher); then
        # read it back through the client.
        staff = {"Authorization": f"Bearer {dispatcher}"}
        for version, action in ((1, {"action": "triage", "urgency": "yellow"}), (2, {"action": "dispatch"})):
            r = requests.post(f"{base}/api/v1/cases/{rid}/actions", json={**action, "version": version}, headers=staff)
            check(r.status_code == 200, f"{fmt}: dispatcher {action['action']} ({r.status_code} {r.text[:200]})")
        one = client.get_service_request(rid)
        check(one["service_request_id"] == rid and one["service_code"] == "C01", f"{fmt}: GET requests/{{id}}")
        check(one["status"] == "open" and one["agency_responsible"] and one["expected_datetime"],
              f"{fmt}: status, agency and expected time ({one['status']}, {one['agency_responsible']})")
        check(abs(float(one["lat"]) - 36.8093) < 0.01 and float(one["lat"]) != 36.8093,
              f"{fmt}: the GCJ-02 pin is stored as WGS84 ({one['lat']}, {one['long']})")
        listed = client.get_service_requests(service_code="C01", status="open")
        if isinstance(listed, dict):
            listed = [listed]
        check(any(r["service_request_id"] == rid for r in listed), f"{fmt}: GET requests by code and status")
        # Over 90 days is refused.
        try:
            client.get_service_requests(start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z")
            check(False, f"{fmt}: a window over 90 days is refused")
        except requests.HTTPError as e:
            check(e.response.status_code == 400, f"{fmt}: a window over 90 days is 400")
        # The token finds the request.
        tok = requests.get(f"{root}/tokens/{reply['token']}.{fmt}")
        check(tok.status_code == 200 and rid in tok.text, f"{fmt}: GET tokens/{{token}}")
        # No contact in any answer.
        for r in (requests.get(f"{root}/requests/{rid}.{fmt}"), requests.get(f"{root}/requests.{fmt}")):
            check("13912341234" not in r.text and "张三" not in r.text, f"{fmt}: no contact in {r.url}")
        missing = requests.get(f"{root}/requests/999999.{fmt}")
        check(missing.status_code == 404, f"{fmt}: an unknown request is 404")
    # XML element names against the specification.
    d = xml(requests.get(f"{root}/discovery.xml"))
    check(d.tag == "discovery" and children(d) == DISCOVERY_FIELDS, f"xml: discovery {sorted(children(d))}")
    ep = d.find("endpoints/endpoint")
    check(ep is not None and children(ep) == ENDPOINT_FIELDS, "xml: discovery endpoint elements")
    check({f.text for f in d.findall("endpoints/endpoint/formats/format")} == {"text/xml", "application/json"},
          "xml: discovery formats")
    s = xml(requests.get(f"{root}/services.xml"))
    check(s.tag == "services" and all(c.tag == "service" and children(c) <= SERVICE_FIELDS for c in s),
          "xml: services/service elements")
    sd = xml(requests.get(f"{root}/services/C01.xml"))
    attrs = sd.findall("attributes/attribute")
    check(sd.tag == "service_definition" and attrs and all(children(a) <= ATTRIBUTE_FIELDS for a in attrs),
          "xml: service_definition/attributes/attribute elements")
    check(len(sd.findall("attributes/attribute/values/value/key")) == 3, "xml: attribute values/value/key")
    rq = xml(requests.get(f"{root}/requests.xml"))
    check(rq.tag == "service_requests" and len(rq) > 0
          and all(c.tag == "request" and children(c) == REQUEST_FIELDS for c in rq),
          "xml: service_requests/request elements")


if __name__ == "__main__":
    sys.exit(main())
