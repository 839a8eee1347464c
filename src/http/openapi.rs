//! `GET /api/openapi.json`: the OpenAPI 3.1 description, generated from the handlers'
//! annotations (utoipa), so it cannot drift from the routes.

use axum::Json;
use utoipa::OpenApi;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "tessera",
        description = "Grid-based city governance: seamless grid layers, pin-to-grid routing."
    ),
    paths(
        super::locate::locate,
        super::grids::livez,
        super::grids::healthz,
        super::grids::grids,
        super::grids::grid,
        super::grids::outline,
        super::tiles::grid_tile,
        super::web::map_config,
        super::district::streets,
        super::district::communities,
        super::district::workers,
        super::district::departments,
        super::district::categories,
        super::layers::create,
        super::layers::list,
        super::layers::show,
        super::layers::grids,
        super::layers::diff,
        super::layers::impact,
        super::layers::repair,
        super::layers::edits,
        super::layers::check,
        super::layers::publish,
        super::cases::create,
        super::cases::list,
        super::cases::show,
        super::cases::act,
        super::cases::contact_reads,
        super::cases::contact_read_log,
        super::cases::track,
        super::cases::rate,
        super::cases::events,
        super::cases::stats,
        super::incidents::create,
        super::media::upload,
        super::media::download,
        super::audits::create,
        super::audits::show,
        super::audits::record,
        super::metrics::metrics,
        super::auth::login,
        super::auth::logout,
        super::auth::me,
        super::auth::accounts,
        super::auth::add_account,
        super::auth::disable_account,
        super::auth::api_keys,
        super::auth::add_api_key,
        super::auth::revoke_api_key,
        super::open311::get_doc,
        super::open311::post_request,
        super::open311::service,
        super::open311::request,
        super::open311::token,
    ),
    modifiers(&Security)
)]
pub struct ApiDoc;

/// Declares the two ways to sign in: the session cookie and bearer API keys.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::auth::SESSION_COOKIE,
            ))),
        );
        c.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The handler.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
