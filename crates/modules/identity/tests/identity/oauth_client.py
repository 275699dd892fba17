"""Drives Pasar's OAuth2 server with Authlib, a real client library, and prints what happened
as JSON. Usage: oauth_client.py BASE APP_ID APP_SECRET SERVICE_ID SERVICE_SECRET EMAIL PASSWORD"""
import html
import json
import re
import sys
from urllib.parse import parse_qs, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

base, app_id, app_secret, svc_id, svc_secret, email, password = sys.argv[1:8]
redirect = "http://127.0.0.1:8765/callback"
token_url = base + "/oauth2/token"
out = {}


def query(location):
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def sign_in(session):
    """Authorization request, then the sign-in form as a person would submit it."""
    verifier = generate_token(48)
    url, _state = session.create_authorization_url(base + "/oauth2/authorize", code_verifier=verifier)
    page = requests.get(url, allow_redirects=False)
    assert page.status_code == 200, page.text
    fields = {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    fields.update(email=email, password=password, decision="allow")
    answer = requests.post(base + "/oauth2/authorize", data=fields, allow_redirects=False)
    assert answer.status_code in (302, 303, 307), answer.text
    return verifier, answer.headers["Location"]


app = OAuth2Session(app_id, app_secret, scope="profile", redirect_uri=redirect, code_challenge_method="S256")

# 1. PKCE code flow end to end.
verifier, location = sign_in(app)
token = app.fetch_token(token_url, authorization_response=location, code_verifier=verifier)
out["pkce"] = {"token_type": token["token_type"], "scope": token.get("scope"), "has_refresh": "refresh_token" in token}
me = requests.get(base + "/api/v1/users/me", headers={"Authorization": "Bearer " + token["access_token"]})
out["me"] = {"status": me.status_code, "email": me.json().get("email")}

# 2. Refresh.
refreshed = app.refresh_token(token_url, refresh_token=token["refresh_token"])
out["refresh"] = {"new_access": refreshed["access_token"] != token["access_token"], "new_refresh": refreshed["refresh_token"] != token["refresh_token"]}
out["oauth_refresh_token"] = refreshed["refresh_token"]

# 3. The same code again.
code = query(location)["code"]
reuse = requests.post(token_url, data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier}, auth=(app_id, app_secret))
out["reused_code"] = [reuse.status_code, reuse.json().get("error")]

# 4. A wrong verifier.
_verifier, location = sign_in(app)
wrong = requests.post(token_url, data={"grant_type": "authorization_code", "code": query(location)["code"], "redirect_uri": redirect, "code_verifier": generate_token(48)}, auth=(app_id, app_secret))
out["wrong_verifier"] = [wrong.status_code, wrong.json().get("error")]

# 5. Redirect URI mismatch: at the authorize step (never redirected), and at the token step.
evil = requests.get(base + "/oauth2/authorize", params={"response_type": "code", "client_id": app_id, "redirect_uri": "http://127.0.0.1:9999/evil", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}, allow_redirects=False)
out["redirect_mismatch_authorize"] = [evil.status_code, "Location" in evil.headers]
verifier, location = sign_in(app)
mismatch = requests.post(token_url, data={"grant_type": "authorization_code", "code": query(location)["code"], "redirect_uri": redirect + "/other", "code_verifier": verifier}, auth=(app_id, app_secret))
out["redirect_mismatch_token"] = [mismatch.status_code, mismatch.json().get("error")]

# 6. Plain PKCE and no PKCE are refused, back at the client with the state.
for method in ("plain", None):
    params = {"response_type": "code", "client_id": app_id, "redirect_uri": redirect, "state": "s1", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}
    if method:
        params["code_challenge_method"] = method
    refused = requests.get(base + "/oauth2/authorize", params=params, allow_redirects=False)
    q = query(refused.headers.get("Location", ""))
    out["pkce_" + (method or "missing")] = [refused.status_code, q.get("error"), q.get("state")]

# 7. Grants that do not exist here.
implicit = requests.get(base + "/oauth2/authorize", params={"response_type": "token", "client_id": app_id, "redirect_uri": redirect, "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}, allow_redirects=False)
out["implicit"] = query(implicit.headers.get("Location", "")).get("error")
pw = requests.post(token_url, data={"grant_type": "password", "username": email, "password": password}, auth=(app_id, app_secret))
out["password_grant"] = [pw.status_code, pw.json().get("error")]

# 8. Client credentials.
service = OAuth2Session(svc_id, svc_secret, scope="orders:read")
svc_token = service.fetch_token(token_url, grant_type="client_credentials")
out["client_credentials"] = {"scope": svc_token.get("scope"), "has_refresh": "refresh_token" in svc_token}
as_user = requests.get(base + "/api/v1/users/me", headers={"Authorization": "Bearer " + svc_token["access_token"]})
out["service_on_user_route"] = as_user.status_code
bad_secret = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=(svc_id, "wrong"))
out["bad_secret"] = [bad_secret.status_code, bad_secret.json().get("error")]
too_much = requests.post(token_url, data={"grant_type": "client_credentials", "scope": "admin"}, auth=(svc_id, svc_secret))
out["bad_scope"] = [too_much.status_code, too_much.json().get("error")]
not_allowed = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=(app_id, app_secret))
out["grant_not_registered"] = [not_allowed.status_code, not_allowed.json().get("error")]

print(json.dumps(out))
