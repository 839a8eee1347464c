//! Rate limits on the public doors: citizen intake (`POST /api/v1/cases`, Open311 POST), media
//! and ratings through a tracking token, and sign-in. Each client address, and each API key,
//! account or tracking token, has a token bucket (the `governor` crate, GCRA); a request over
//! its bucket gets 429 `rate_limited` with `Retry-After`. Limits are per minute with a burst,
//! set by `serve` (`--intake-per-minute`, `--key-per-minute`, `--login-per-minute`); 0 turns
//! one off. Without limits set (the library's default, used by tests) nothing is limited.

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::auth::Principal;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

type Keyed<K> = RateLimiter<K, governor::state::keyed::DefaultKeyedStateStore<K>, DefaultClock>;

/// Requests per minute (sustained) allowed to one client; 0: no limit. The burst is half a
/// minute's worth, at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Public intake, media and ratings, per client address.
    pub intake_per_minute: u32,
    /// The same, per API key, signed-in account or tracking token.
    pub key_per_minute: u32,
    /// Sign-in attempts per client address.
    pub login_per_minute: u32,
}

impl Default for RateLimits {
    /// The defaults of `tessera serve`: 30 reports a minute from one address, 600 per key or
    /// account (a hotline's integration), 10 sign-in attempts a minute from one address.
    fn default() -> RateLimits {
        RateLimits {
            intake_per_minute: 30,
            key_per_minute: 600,
            login_per_minute: 10,
        }
    }
}

/// The buckets, built from [`RateLimits`].
pub struct Limiter {
    /// The limits they were built from.
    pub limits: RateLimits,
    by_address: Option<Keyed<IpAddr>>,
    by_key: Option<Keyed<String>>,
    login: Option<Keyed<IpAddr>>,
}

fn keyed<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<Keyed<K>> {
    let n = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new((per_minute / 2).max(1)).unwrap_or(NonZeroU32::MIN);
    Some(RateLimiter::keyed(Quota::per_minute(n).allow_burst(burst)))
}

/// Takes one request from `key`'s bucket, or answers 429 with the wait.
fn take<K: std::hash::Hash + Eq + Clone>(
    lim: &Option<Keyed<K>>,
    key: &K,
    what: &str,
    per_minute: u32,
) -> Result<(), ApiError> {
    let Some(l) = lim else { return Ok(()) };
    l.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many requests from this {what} (at most {per_minute} a minute); try again in {secs} s"
            ),
        )
        .with_details(json!({ "retry_after_s": secs.max(1), "limit_per_minute": per_minute }))
    })
}

impl Limiter {
    /// Buckets for `limits`.
    pub fn new(limits: RateLimits) -> Limiter {
        Limiter {
            limits,
            by_address: keyed(limits.intake_per_minute),
            by_key: keyed(limits.key_per_minute),
            login: keyed(limits.login_per_minute),
        }
    }

    /// One public request from `address`.
    pub fn address(&self, address: IpAddr) -> Result<(), ApiError> {
        take(
            &self.by_address,
            &address,
            "address",
            self.limits.intake_per_minute,
        )
    }

    /// One request made with an API key, an account or a tracking token (`key`, prefixed by
    /// its kind so they never share a bucket).
    pub fn key(&self, key: &str) -> Result<(), ApiError> {
        take(
            &self.by_key,
            &key.to_string(),
            "key",
            self.limits.key_per_minute,
        )
    }

    /// One sign-in attempt from `address`.
    pub fn login(&self, address: IpAddr) -> Result<(), ApiError> {
        take(
            &self.login,
            &address,
            "address",
            self.limits.login_per_minute,
        )
    }

    /// Forgets buckets that are full again (call now and then, so memory stays bounded).
    pub fn forget_idle(&self) {
        for l in [&self.by_address, &self.login].into_iter().flatten() {
            l.retain_recent();
        }
        if let Some(l) = &self.by_key {
            l.retain_recent();
        }
    }
}

/// The routes limited, as in the route table.
pub const LIMITED: &[(&str, &str)] = &[
    ("POST", "/api/v1/cases"),
    ("POST", "/open311/v2/{file}"),
    ("POST", "/api/v1/cases/{id}/media"),
    ("POST", "/api/v1/track/{token}/rating"),
    ("POST", "/api/v1/login"),
];

/// The middleware: runs after `authenticate`, so it knows who is calling.
pub async fn throttle(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(lim) = state.0.limiter.get() else {
        return next.run(req).await;
    };
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    if !LIMITED.iter().any(|&(_, r)| r == route) {
        return next.run(req).await;
    }
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let staff = match req.extensions().get::<Caller>().map(|c| &c.0) {
        Some(Principal::Staff { name, .. }) => Some(name.clone()),
        _ => None,
    };
    let verdict = if route == "/api/v1/login" {
        address.map_or(Ok(()), |a| lim.login(a))
    } else if let Some(name) = staff {
        lim.key(&format!("account:{name}"))
    } else {
        let token = req
            .uri()
            .query()
            .and_then(|q| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix("token=").map(str::to_string))
            })
            .or_else(|| {
                route
                    .ends_with("/rating")
                    .then(|| req.uri().path().split('/').nth(4).map(str::to_string))
                    .flatten()
            });
        address
            .map_or(Ok(()), |a| lim.address(a))
            .and_then(|()| token.map_or(Ok(()), |t| lim.key(&format!("token:{t}"))))
    };
    match verdict {
        Ok(()) => next.run(req).await,
        Err(e) => {
            tracing::warn!(%route, "rate limited");
            if route.starts_with("/open311/") {
                super::open311::refusal(req.uri().path(), &e)
            } else {
                e.into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_holds_its_burst_then_asks_to_wait() {
        let l = Limiter::new(RateLimits {
            intake_per_minute: 6,
            key_per_minute: 0,
            login_per_minute: 2,
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            l.address(a).unwrap();
        }
        let e = l.address(a).unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        let wait = e.details["retry_after_s"].as_u64().unwrap();
        assert!((1..=10).contains(&wait), "{wait}");
        // Another address has its own bucket; a limit of 0 is no limit.
        l.address(b).unwrap();
        for _ in 0..1000 {
            l.key("token:x").unwrap();
        }
        l.login(a).unwrap();
        assert!(l.login(a).is_err());
    }
}
