//! `/api/auth/*`: the native customer accounts, answered as `{"data":{"access_token","refresh_token",
//! "expires_in"}}`. Failed logins are counted per email and per IP as natively.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::MnError;
use super::{Identity, body, data, shapes};
use crate::domain::customers::accounts::{self, LoginInput, RegisterInput, Session};
use crate::http::login_limit::ClientIp;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginIn {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterIn {
    email: String,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
pub struct RefreshIn {
    refresh_token: String,
}

#[derive(Deserialize)]
pub struct LogoutIn {
    refresh_token: Option<String>,
}

fn session(s: Session) -> Json<Value> {
    data(json!({
        "access_token": s.access_token,
        "refresh_token": s.refresh_token,
        "token_type": s.token_type,
        "expires_in": s.expires_in,
        "customer": shapes::customer(&s.customer),
    }))
}

pub async fn login(
    identity: Identity,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let input: LoginIn = body(&bytes)?;
    let site_id = &identity.site_id;
    let attempt = state
        .login_limiter
        .attempt(site_id, &input.email, ip)
        .await
        .map_err(|retry_after| MnError {
            retry_after: Some(retry_after),
            ..MnError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMIT_EXCEEDED",
                format!("Too many failed login attempts; retry in {retry_after} s"),
            )
        })?;
    let input = LoginInput {
        email: input.email,
        password: input.password,
    };
    match accounts::login(&state.pool, &state.server_key, site_id, input).await? {
        Ok(s) => {
            state.login_limiter.succeeded(attempt).await;
            Ok(session(s))
        }
        Err(failure) => Err(MnError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
            failure.message(),
        )),
    }
}

pub async fn register(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), MnError> {
    let input: RegisterIn = body(&bytes)?;
    let input = RegisterInput {
        email: input.email,
        password: input.password,
        first_name: input.first_name,
        last_name: input.last_name,
    };
    let s = accounts::register(&state.pool, &state.server_key, &identity.site_id, input).await?;
    Ok((StatusCode::CREATED, session(s)))
}

pub async fn refresh(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let input: RefreshIn = body(&bytes)?;
    match accounts::refresh(
        &state.pool,
        &state.server_key,
        &identity.site_id,
        &input.refresh_token,
    )
    .await?
    {
        Ok(s) => Ok(session(s)),
        Err(failure) => Err(MnError::unauthorized(failure.message())),
    }
}

/// Revokes the refresh token (access tokens expire on their own within the hour); idempotent.
pub async fn logout(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let input: LogoutIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        LogoutIn {
            refresh_token: None,
        }
    } else {
        body(&bytes)?
    };
    if let Some(token) = input.refresh_token {
        accounts::logout(&state.pool, &state.server_key, &identity.site_id, &token).await?;
    }
    Ok(data(
        json!({"success": true, "message": "Successfully logged out"}),
    ))
}
