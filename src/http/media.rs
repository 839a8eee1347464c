//! Photos and voice notes on a case: `POST /api/v1/cases/{id}/media` (multipart, one or more
//! `file` parts) stores each file under `DATA_DIR/media/{case}/` after sniffing its type from
//! its bytes (the declared type is not trusted); `GET /api/v1/cases/{id}/media/{name}` serves it
//! back. Each file is recorded on the case as an `attach` event.

use super::extract::{ApiPath, ApiQuery};
use super::{ApiError, AppState};
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

/// Largest image accepted, bytes (10 MB).
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;
/// Largest audio file accepted, bytes (5 MB).
pub const MAX_AUDIO_BYTES: usize = 5 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases/{id}/media", post(upload))
        .route("/api/v1/cases/{id}/media/{name}", get(download))
}

/// A stored file.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StoredFile {
    /// Its name on the case (for `GET /cases/{id}/media/{name}`).
    pub name: String,
    /// The type sniffed from its content.
    #[serde(rename = "type")]
    pub mime: String,
    /// Size.
    pub bytes: usize,
    /// The name it was uploaded under.
    pub uploaded_as: String,
}

/// Answer of an upload.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// The files stored, in upload order.
    pub files: Vec<StoredFile>,
}

/// The accepted kinds: MIME type sniffed from the bytes → (extension, is audio).
fn accepted(mime: &str) -> Option<(&'static str, bool)> {
    Some(match mime {
        "image/jpeg" => ("jpg", false),
        "image/png" => ("png", false),
        "image/webp" => ("webp", false),
        "image/heif" => ("heif", false),
        "audio/mpeg" => ("mp3", true),
        "audio/m4a" | "audio/x-m4a" => ("m4a", true),
        "audio/aac" => ("aac", true),
        "audio/amr" => ("amr", true),
        "audio/ogg" => ("ogg", true),
        "audio/x-wav" => ("wav", true),
        _ => return None,
    })
}

fn media_root(state: &AppState) -> Result<std::path::PathBuf, ApiError> {
    state.0.media_dir.get().cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "media_unavailable",
            "this service has no media folder configured",
        )
    })
}

/// A case's media are for the citizen holding its tracking token and for staff who may read
/// cases within whose scope it is; anyone else gets 401 (anonymous) or 403.
fn may_touch(
    state: &AppState,
    p: &crate::auth::Principal,
    case: &crate::store::cases::StoredCase,
    token: Option<&str>,
) -> Result<(), ApiError> {
    use crate::auth::{Permission, Principal};
    match p {
        Principal::Anonymous if token == Some(case.tracking_token.as_str()) => Ok(()),
        Principal::Anonymous => {
            tracing::warn!(
                case = case.id,
                "denied: media without the case's tracking token"
            );
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a case's files need its tracking token (?token=), or signing in",
            ))
        }
        p if !p.may(Permission::ReadCases) => Err(super::auth::forbidden(
            p,
            &format!(
                "the {} role may not read cases",
                p.role().map_or("", |r| r.as_str())
            ),
        )),
        p => super::cases::require_in_scope(state, p, case),
    }
}

/// Query of a case media request.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The case's tracking token (a citizen attaching to their own report).
    pub token: Option<String>,
}

/// Attach photos (JPEG, PNG, WebP, HEIF; ≤ 10 MB) or voice notes (MP3, M4A, AAC, AMR, Ogg, WAV;
/// ≤ 5 MB) to a case; the type is sniffed from the content.
#[utoipa::path(post, path = "/api/v1/cases/{id}/media", tag = "cases",
    params(("id" = i64, Path, description = "Case id"), UploadQuery),
    request_body(content_type = "multipart/form-data", description = "one or more `file` parts"),
    responses((status = 201, description = "The files stored, with their names", body = Uploaded),
              (status = 404, body = super::error::ErrorBody), (status = 413, body = super::error::ErrorBody),
              (status = 415, description = "Not an accepted image or audio type", body = super::error::ErrorBody)))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    caller: axum::Extension<super::auth::Caller>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let root = media_root(&state)?;
    // Before the body is read: the citizen's tracking token, or staff working on the case.
    let case = state
        .0
        .store
        .case(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    may_touch(&state, &caller.0.0, &case, q.token.as_deref())?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(
            e.status(),
            "invalid_body",
            format!("multipart body: {}", e.body_text()),
        )
    };
    let mut stored = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let declared = field.file_name().unwrap_or("upload").to_string();
        let bytes = field.bytes().await.map_err(bad)?;
        let mime = infer::get(&bytes)
            .map(|t| t.mime_type())
            .unwrap_or("application/octet-stream");
        let Some((ext, audio)) = accepted(mime) else {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "{declared}: its content is {mime}; photos (JPEG, PNG, WebP, HEIF) and voice notes (MP3, M4A, AAC, AMR, Ogg, WAV) are accepted"
                ),
            ));
        };
        let limit = if audio {
            MAX_AUDIO_BYTES
        } else {
            MAX_IMAGE_BYTES
        };
        if bytes.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                format!(
                    "{declared}: {} bytes; {} files may have at most {limit}",
                    bytes.len(),
                    if audio { "audio" } else { "image" }
                ),
            ));
        }
        let c = state
            .0
            .store
            .case(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
        let name = format!("{}-{}.{ext}", c.facts.version + 1, state.now());
        let dir = root.join(id.to_string());
        let path = dir.join(&name);
        let write = async {
            tokio::fs::create_dir_all(&dir).await?;
            // Write then rename, so a crash never leaves half a file under its final name.
            let tmp = dir.join(format!(".{name}.part"));
            tokio::fs::write(&tmp, &bytes).await?;
            tokio::fs::rename(&tmp, &path).await
        };
        write
            .await
            .map_err(|e| ApiError::internal(&format!("storing {}: {e}", path.display())))?;
        let version = c.facts.version;
        let file =
            json!({"name": name, "type": mime, "bytes": bytes.len(), "uploaded_as": declared});
        super::cases::attach(&state, c, version, file).await?;
        stored.push(StoredFile {
            name,
            mime: mime.to_string(),
            bytes: bytes.len(),
            uploaded_as: declared,
        });
    }
    if stored.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "no file in the multipart body",
        ));
    }
    Ok((StatusCode::CREATED, Json(Uploaded { files: stored })))
}

/// One stored file of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/media/{name}", tag = "cases",
    params(UploadQuery, ("id" = i64, Path, description = "Case id"), ("name" = String, Path, description = "File name as returned on upload")),
    responses((status = 200, description = "The file, with its sniffed content type"), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    caller: axum::Extension<super::auth::Caller>,
    ApiPath((id, name)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<UploadQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let root = media_root(&state)?;
    let case = state
        .0
        .store
        .case(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    may_touch(&state, &caller.0.0, &case, q.token.as_deref())?;
    // Names are ours: digits, a dash and an extension; anything else is not a stored file.
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        || name.starts_with('.')
    {
        return Err(ApiError::not_found(format!(
            "no file {name:?} on case {id}"
        )));
    }
    let bytes = tokio::fs::read(root.join(id.to_string()).join(&name))
        .await
        .map_err(|_| ApiError::not_found(format!("no file {name:?} on case {id}")))?;
    let mime = infer::get(&bytes)
        .map(|t| t.mime_type())
        .unwrap_or("application/octet-stream");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    ))
}
