"""Cross-check the emulator with ServiceNow's official Python client, pysnc.

The authorization-code grant is driven by requests-oauthlib (the consent page, then the exchange).
Run by .ci/pysnc.sh against `emulate --scenario healthy`. Environment:
SN_INSTANCE (https://127.0.0.1:PORT), SN_CA (the emulator's CA PEM), and the test credentials
SN_USER, SN_PASSWORD, SN_INT_USER, SN_INT_PASSWORD, SN_CLIENT_ID, SN_CLIENT_SECRET.
Every step asserts what the real platform would answer; any failure exits non-zero.
"""

import os
import sys

from pysnc import ServiceNowClient
from pysnc.auth import ServiceNowPasswordGrantFlow

BATCH = 40


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"crosscheck: {name} is not set")
    return value


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    print(f"ok  {message}")


def query_and_page(client):
    gr = client.GlideRecord("incident", batch_size=BATCH)
    gr.add_encoded_query("priority=1^ORpriority=2^ORDERBYnumber")
    gr.query()
    total = gr.get_row_count()
    seen = []
    for record in gr:
        seen.append((record.number.get_value(), record.priority.get_value()))
    check(total > BATCH, f"encoded query matched {total} rows, more than one page of {BATCH}")
    check(len(seen) == total, f"paged through all {total} rows ({len(seen)} read)")
    check(all(p in ("1", "2") for _, p in seen), "every row satisfies priority=1^ORpriority=2")
    numbers = [n for n, _ in seen]
    check(numbers == sorted(numbers), "ORDERBYnumber is honoured across pages")
    check(len(set(numbers)) == len(numbers), "no row appears twice across pages")
    first = client.GlideRecord("incident")
    first.add_query("number", numbers[0])
    first.query()
    check(first.next(), f"{numbers[0]} found again by add_query")
    check(first.priority.get_display_value() in ("1 - Critical", "2 - High"),
          "choice labels come back with sysparm_display_value=all")


def crud(client):
    gr = client.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "pysnc cross-check"
    gr.impact = "1"
    gr.urgency = "2"
    gr.correlation_id = "pysnc-crosscheck"
    sys_id = gr.insert()
    check(sys_id is not None and len(str(sys_id)) == 32, f"insert returned sys_id {sys_id}")
    check(str(gr.number).startswith("INC"), f"insert assigned number {gr.number}")

    read = client.GlideRecord("incident")
    check(read.get(str(sys_id)), "the inserted record reads back by sys_id")
    check(read.short_description == "pysnc cross-check", "short_description round-trips")
    check(read.priority.get_value() == "2", "priority derived from impact 1 / urgency 2")

    read.state = "2"
    read.update()
    again = client.GlideRecord("incident")
    again.get(str(sys_id))
    check(again.state.get_value() == "2", "update is visible to a later read")

    check(again.delete(), "delete answered 204")
    gone = client.GlideRecord("incident")
    check(not gone.get(str(sys_id)), "the deleted record is gone (404)")


def batch(client, instance):
    """The Batch API as pysnc drives it: update_multiple, delete_multiple and a long query."""
    created = []
    for i in range(3):
        gr = client.GlideRecord("incident")
        gr.initialize()
        gr.short_description = f"pysnc batch {i}"
        gr.correlation_id = "pysnc-batch"
        created.append(str(gr.insert()))
    check(len(created) == 3 and all(len(s) == 32 for s in created), "three records to batch over")

    batch_of = client.GlideRecord("incident")
    batch_of.add_query("correlation_id", "pysnc-batch")
    batch_of.query()
    for record in batch_of:
        record.state = "2"
    check(batch_of.update_multiple(), "update_multiple: every PATCH in the batch answered 200")
    updated = client.GlideRecord("incident")
    updated.add_query("correlation_id", "pysnc-batch")
    updated.add_query("state", "2")
    updated.query()
    check(updated.get_row_count() == 3, "the batched updates are visible to a later read")

    # A query longer than pysnc's URL limit (10,000 characters) travels inside a batch; the
    # sub-response's X-Total-Count and body must read like a direct answer.
    long_query = "^OR".join(f"sys_id={s}" for s in created) + "".join(
        f"^ORshort_description=no such text {i:05d}" for i in range(300))
    check(len(long_query) > 10000, f"a {len(long_query)}-character encoded query")
    longer = client.GlideRecord("incident")
    longer.add_encoded_query(long_query)
    longer.query()
    found = sorted(r.sys_id.get_value() for r in longer)
    check(longer.get_row_count() == 3 and found == sorted(created),
          "the long query, sent through the Batch API, found the three records")

    doomed = client.GlideRecord("incident")
    doomed.add_query("correlation_id", "pysnc-batch")
    check(doomed.delete_multiple(), "delete_multiple: every DELETE in the batch answered 204")
    gone = client.GlideRecord("incident")
    gone.add_query("correlation_id", "pysnc-batch")
    gone.query()
    check(gone.get_row_count() == 0, "the batched deletes removed every record")

    # The platform answers batch_request_id as a string, whatever the client sent.
    raw = client.session.post(instance + "/api/now/v1/batch", json={
        "batch_request_id": 41,
        "rest_requests": [{"id": "one", "method": "GET",
                           "url": "/api/now/table/incident?sysparm_limit=1",
                           "headers": [{"name": "Accept", "value": "application/json"}]}]})
    answer = raw.json()
    check(answer["batch_request_id"] == "41", "batch_request_id comes back as the string \"41\"")
    item = answer["serviced_requests"][0]
    names = [h["name"] for h in item["headers"]]
    check("X-Total-Count" in names and "Content-Type" in names,
          f"sub-response headers use the platform's casing ({', '.join(names)})")


def header_casing(client, instance):
    """Header names on the wire as the platform writes them (http.client keeps their case)."""
    r = client.session.get(instance + "/api/now/table/incident",
                           params={"sysparm_limit": "1"}, headers={"Accept": "application/json"})
    names = [name for name, _ in r.raw._original_response.getheaders()]
    for wanted in ("X-Total-Count", "Link", "Content-Type"):
        check(wanted in names, f"the {wanted} header is sent with the platform's casing")


def oauth(instance, ca):
    flow = ServiceNowPasswordGrantFlow(
        env("SN_INT_USER"), env("SN_INT_PASSWORD"), env("SN_CLIENT_ID"), env("SN_CLIENT_SECRET")
    )
    client = ServiceNowClient(instance, flow, verify=ca)
    token = client.session.token
    check(token.get("token_type") == "Bearer" and token.get("access_token"),
          "password grant returned a Bearer token")
    check(bool(token.get("refresh_token")), "password grant returned a refresh token")
    gr = client.GlideRecord("sys_user")
    gr.add_encoded_query("user_name=javascript:gs.getUserName()")
    gr.query()
    check(gr.next(), "the token authenticates Table API reads")
    check(gr.user_name == env("SN_INT_USER"), "gs.getUserName() resolves to the token's user")


def authorization_code(instance, ca):
    """The connector's grant, driven by requests-oauthlib: sign in, consent, exchange the code."""
    import re

    import requests
    from requests_oauthlib import OAuth2Session

    redirect = "https://security.microsoft.com/connectors/servicenow/oauth/callback"
    oauth = OAuth2Session(env("SN_CLIENT_ID"), redirect_uri=redirect)
    url, state = oauth.authorization_url(instance + "/oauth_auth.do")
    browser = requests.Session()
    browser.verify = ca
    page = browser.get(url, allow_redirects=False)
    check(page.status_code == 200 and "user_password" in page.text,
          "oauth_auth.do shows the login page to a signed-out browser")
    login = browser.post(instance + "/login.do", allow_redirects=False, data={
        "user_name": env("SN_INT_USER"), "user_password": env("SN_INT_PASSWORD"),
        "sysparm_goto_url": url[len(instance):]})
    check(login.status_code == 302 and "JSESSIONID" in browser.cookies, "login.do opened a session")
    consent = browser.get(url, allow_redirects=False)
    check(">Allow<" in consent.text, "the signed-in browser gets the consent page")
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"/>', consent.text))
    form["action"] = "allow"
    allowed = browser.post(instance + "/oauth_auth.do", data=form, allow_redirects=False)
    location = allowed.headers.get("Location", "")
    check(allowed.status_code == 302 and location.startswith(redirect + "?code="),
          "Allow redirects to the client with a code")
    token = oauth.fetch_token(instance + "/oauth_token.do", authorization_response=location,
                              client_secret=env("SN_CLIENT_SECRET"), verify=ca)
    check(bool(token.get("access_token")) and bool(state),
          "requests-oauthlib exchanged the code (state checked) for a token")
    me = oauth.get(instance + "/api/now/ui/user/current_user",
                   headers={"Accept": "application/json"}, verify=ca)
    check(me.json()["result"]["user_name"] == env("SN_INT_USER"), "the code's token is the user's")


def main():
    instance = env("SN_INSTANCE")
    ca = env("SN_CA")
    client = ServiceNowClient(instance, (env("SN_USER"), env("SN_PASSWORD")), verify=ca)
    query_and_page(client)
    crud(client)
    batch(client, instance)
    header_casing(client, instance)
    oauth(instance, ca)
    authorization_code(instance, ca)
    print("pysnc cross-check passed")


if __name__ == "__main__":
    main()
