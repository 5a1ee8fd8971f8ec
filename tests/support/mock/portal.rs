//! The SSO portal API: GetRoleCredentials, ListAccounts and ListAccountRoles (opaque
//! `nextToken` pages), Logout, each behind the bearer token.

use super::*;

pub(super) fn portal(inner: &Inner, s: &mut State, route: Route, req: &Request) -> Response {
    let token = req.header("x-amz-sso_bearer_token").unwrap_or("");
    if !s.access_tokens.contains(token) {
        return Response::error(
            route,
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        );
    }
    let q: HashMap<String, String> = query_params(&req.query).into_iter().collect();
    match route {
        Route::GetRoleCredentials => {
            let (Some(role), Some(account)) = (q.get("role_name"), q.get("account_id")) else {
                return Response::error(
                    route,
                    400,
                    "InvalidRequestException",
                    "role_name and account_id are required",
                );
            };
            let allowed = s
                .accounts
                .iter()
                .any(|a| a.id == *account && a.roles.contains(role));
            if !allowed {
                return Response::error(route, 403, "ForbiddenException", "No access");
            }
            let given = s.next_creds.pop_front();
            let lifetime = s.credential_lifetime;
            let arn = format!("arn:aws:sts::{account}:assumed-role/{role}/user@example.com");
            let c = sts::issue(inner, s, given, lifetime, &arn, false);
            s.issued_creds.push(c.clone());
            Response::json(
                200,
                json!({"roleCredentials": {
                    "accessKeyId": c.access_key_id,
                    "secretAccessKey": c.secret_access_key,
                    "sessionToken": c.session_token,
                    "expiration": c.expiration_ms,
                }}),
            )
        }
        Route::ListAccounts => {
            let items: Vec<Value> = s
                .accounts
                .iter()
                .map(|a| json!({"accountId": a.id, "accountName": a.name, "emailAddress": a.email}))
                .collect();
            page(s, route, &q, items, "accountList")
        }
        Route::ListAccountRoles => {
            let Some(account) = q.get("account_id") else {
                return Response::error(
                    route,
                    400,
                    "InvalidRequestException",
                    "account_id is required",
                );
            };
            let items: Vec<Value> = s
                .accounts
                .iter()
                .filter(|a| a.id == *account)
                .flat_map(|a| {
                    a.roles
                        .iter()
                        .map(|r| json!({"roleName": r, "accountId": a.id}))
                })
                .collect();
            page(s, route, &q, items, "roleList")
        }
        _ => {
            s.access_tokens.remove(token);
            s.logged_out.push(token.to_string());
            Response {
                status: 200,
                headers: Vec::new(),
                body: String::new(),
            }
        }
    }
}

/// One page of a listing: `max_result` bounded by the page size, `next_token` an opaque offset.
pub(super) fn page(
    s: &State,
    route: Route,
    q: &HashMap<String, String>,
    items: Vec<Value>,
    member: &str,
) -> Response {
    let size = q
        .get("max_result")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(s.page_size)
        .clamp(1, s.page_size);
    let start = match q.get("next_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match t
            .strip_prefix("page~")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n <= items.len() => n,
            _ => {
                return Response::error(
                    route,
                    400,
                    "InvalidRequestException",
                    "Invalid pagination token",
                );
            }
        },
    };
    let end = (start + size).min(items.len());
    let mut v = json!({ member: items[start..end].to_vec() });
    if end < items.len() {
        v["nextToken"] = format!("page~{end}").into();
    }
    Response::json(200, v)
}
