//! SSO OIDC: RegisterClient, StartDeviceAuthorization, CreateToken (device code with
//! pending/slow_down/deny/expire, authorization code with S256 verification, refresh token
//! with rotation) and the `/authorize` page of the PKCE flow.

use super::*;

pub(super) fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn register(inner: &Inner, s: &mut State, body: &Value) -> Response {
    let r = Route::RegisterClient;
    if !body["clientName"].is_string() || body["clientType"] != "public" {
        return Response::error(
            r,
            400,
            "InvalidRequestException",
            "clientName and clientType=public are required",
        );
    }
    let grants = strs(&body["grantTypes"]);
    let redirect_uris = strs(&body["redirectUris"]);
    if grants.iter().any(|g| g == "authorization_code") {
        if redirect_uris.is_empty() {
            return Response::error(
                r,
                400,
                "InvalidRedirectUriException",
                "redirectUris are required",
            );
        }
        if !body["issuerUrl"].is_string() {
            return Response::error(r, 400, "InvalidRequestException", "issuerUrl is required");
        }
    }
    let known = [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ];
    if let Some(g) = grants.iter().find(|g| !known.contains(&g.as_str())) {
        return Response::error(
            r,
            400,
            "UnsupportedGrantTypeException",
            &format!("unsupported grant {g}"),
        );
    }
    let id = random(inner, "client-", 22);
    let secret = random(inner, "eyJraWQiOiJrZXktMTU2", 120);
    let now = epoch();
    let expires = now + s.client_secret_lifetime as i64;
    s.clients.insert(
        id.clone(),
        Client {
            secret: secret.clone(),
            grants,
            redirect_uris,
            expires_at: expires,
        },
    );
    Response::json(
        200,
        json!({"clientId": id, "clientSecret": secret, "clientIdIssuedAt": now, "clientSecretExpiresAt": expires}),
    )
}

/// The client named in a request, if its id and secret match and it has not expired.
pub(super) fn client_ok(s: &State, route: Route, body: &Value) -> Result<String, Response> {
    let id = body["clientId"].as_str().unwrap_or("");
    match s.clients.get(id) {
        Some(c) if body["clientSecret"] == c.secret.as_str() && c.expires_at > epoch() => {
            Ok(id.to_string())
        }
        Some(c) if c.expires_at <= epoch() => Err(Response::error(
            route,
            401,
            "InvalidClientException",
            "Client secret expired",
        )),
        _ => Err(Response::error(
            route,
            401,
            "InvalidClientException",
            "Invalid client",
        )),
    }
}

pub(super) fn start_device(inner: &Inner, s: &mut State, body: &Value) -> Response {
    let r = Route::StartDeviceAuthorization;
    let client = match client_ok(s, r, body) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if !body["startUrl"].is_string() {
        return Response::error(r, 400, "InvalidRequestException", "startUrl is required");
    }
    let code = random(inner, "device-", 40);
    let user = random(inner, "", 8).to_uppercase();
    let user = format!("{}-{}", &user[..4], &user[4..8]);
    s.devices.insert(
        code.clone(),
        Device {
            client,
            polls: 0,
            started: Instant::now(),
            expires_in: 600,
            slowed: false,
        },
    );
    let uri = format!("{}/device", inner.base);
    Response::json(
        200,
        json!({
            "deviceCode": code,
            "userCode": user,
            "verificationUri": uri,
            "verificationUriComplete": format!("{uri}?user_code={user}"),
            "expiresIn": 600,
            "interval": 1,
        }),
    )
}

pub(super) fn issue_token(inner: &Inner, s: &mut State, client: &str) -> Response {
    let access = random(inner, "aoaAAAAAG", 60);
    s.access_tokens.insert(access.clone());
    s.issued_tokens.push(access.clone());
    let mut v =
        json!({"accessToken": access, "tokenType": "Bearer", "expiresIn": s.token_lifetime});
    if s.clients
        .get(client)
        .is_some_and(|c| c.grants.iter().any(|g| g == "refresh_token"))
    {
        let rt = random(inner, "aorAAAAAG", 60);
        s.refresh_tokens.insert(rt.clone(), client.to_string());
        v["refreshToken"] = rt.into();
    }
    Response::json(200, v)
}

pub(super) fn create_token(inner: &Inner, s: &mut State, body: &Value) -> Response {
    let r = Route::CreateToken;
    let client = match client_ok(s, r, body) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let grants = s.clients[&client].grants.clone();
    let grant = body["grantType"].as_str().unwrap_or("");
    // A client registered with grant types may use only those.
    if !grants.is_empty() && !grants.iter().any(|g| g == grant) {
        return Response::error(
            r,
            400,
            "UnauthorizedClientException",
            &format!("client is not registered for {grant}"),
        );
    }
    match grant {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let code = body["deviceCode"].as_str().unwrap_or("");
            let approval = s.device_approval;
            let Some(d) = s.devices.get_mut(code).filter(|d| d.client == client) else {
                return Response::error(r, 400, "InvalidGrantException", "Invalid device code");
            };
            if d.started.elapsed().as_secs() >= d.expires_in {
                return Response::error(r, 400, "ExpiredTokenException", "Device code expired");
            }
            match approval {
                DeviceApproval::Deny => {
                    Response::error(r, 400, "AccessDeniedException", "Access denied by the user")
                }
                DeviceApproval::Expire => {
                    Response::error(r, 400, "ExpiredTokenException", "Device code expired")
                }
                DeviceApproval::SlowDownOnce if !d.slowed => {
                    d.slowed = true;
                    Response::error(r, 400, "SlowDownException", "Client is polling too fast")
                }
                DeviceApproval::AfterPolls(n) if d.polls < n => {
                    d.polls += 1;
                    Response::error(
                        r,
                        400,
                        "AuthorizationPendingException",
                        "Authorization pending",
                    )
                }
                _ => {
                    s.devices.remove(code);
                    issue_token(inner, s, &client)
                }
            }
        }
        "authorization_code" => {
            let code = body["code"].as_str().unwrap_or("");
            let Some(c) = s.codes.remove(code).filter(|c| c.client == client) else {
                return Response::error(
                    r,
                    400,
                    "InvalidGrantException",
                    "Invalid authorization code",
                );
            };
            if body["redirectUri"] != c.redirect_uri.as_str() {
                return Response::error(
                    r,
                    400,
                    "InvalidGrantException",
                    "redirectUri does not match",
                );
            }
            let verifier = body["codeVerifier"].as_str().unwrap_or("");
            let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
            if base64url(digest.as_ref()) != c.challenge {
                return Response::error(
                    r,
                    400,
                    "InvalidGrantException",
                    "Code verifier does not match the challenge",
                );
            }
            issue_token(inner, s, &client)
        }
        "refresh_token" => {
            let rt = body["refreshToken"].as_str().unwrap_or("");
            if s.refresh_tokens.get(rt).is_none_or(|c| *c != client) {
                return Response::error(r, 400, "InvalidGrantException", "Invalid refresh token");
            }
            // Rotation: the old refresh token is spent.
            s.refresh_tokens.remove(rt);
            issue_token(inner, s, &client)
        }
        _ => Response::error(
            r,
            400,
            "UnsupportedGrantTypeException",
            "Unsupported grant type",
        ),
    }
}

pub(super) fn authorize(inner: &Inner, s: &mut State, req: &Request) -> Response {
    let r = Route::Authorize;
    let q: HashMap<String, String> = query_params(&req.query).into_iter().collect();
    let page = |status: u16, text: &str| Response {
        status,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: format!("<html><body>{text}</body></html>"),
    };
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    let Some(client) = s.clients.get(&client_id) else {
        return page(400, "unknown client");
    };
    // RFC 8252 7.3: a loopback redirect matches whatever its port.
    let without_port = |u: &str| {
        let u = u.replace("localhost", "127.0.0.1");
        match u.strip_prefix("http://127.0.0.1:") {
            Some(rest) => format!(
                "http://127.0.0.1{}",
                &rest[rest.find('/').unwrap_or(rest.len())..]
            ),
            None => u,
        }
    };
    if !client
        .redirect_uris
        .iter()
        .any(|u| without_port(u) == without_port(&redirect))
    {
        return page(400, "redirect_uri is not registered");
    }
    if q.get("response_type").map(String::as_str) != Some("code")
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
        || q.get("code_challenge").is_none_or(|c| c.len() != 43)
    {
        return page(400, "invalid PKCE request");
    }
    let state = q.get("state").cloned().unwrap_or_default();
    let code = random(inner, "code-", 32);
    let target = match s.authorize {
        AuthorizeMode::Approve | AuthorizeMode::WrongState => {
            s.codes.insert(
                code.clone(),
                Code {
                    client: client_id,
                    challenge: q["code_challenge"].clone(),
                    redirect_uri: redirect.clone(),
                },
            );
            let st = if s.authorize == AuthorizeMode::Approve {
                state
            } else {
                "not-the-state".into()
            };
            format!("{redirect}?code={code}&state={}", encode(&st))
        }
        AuthorizeMode::Deny => format!(
            "{redirect}?error=access_denied&error_description={}&state={}",
            encode("The user denied the request"),
            encode(&state)
        ),
        AuthorizeMode::NoCode => format!("{redirect}?state={}", encode(&state)),
    };
    let _ = r;
    Response {
        status: 302,
        headers: vec![
            ("Location".into(), target),
            ("Content-Type".into(), "text/html".into()),
        ],
        body: String::new(),
    }
}
