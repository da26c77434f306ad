//! The API server's error bodies: `Status` objects shaped as a real API server sends them,
//! because clients (kube-rs among them) read `reason`, `code` and `message` from them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub struct ApiError {
    code: StatusCode,
    body: Value,
}

impl ApiError {
    fn new(code: StatusCode, reason: &str, message: String, details: Value) -> ApiError {
        ApiError {
            code,
            body: json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": message,
                "reason": reason,
                "details": details,
                "code": code.as_u16(),
            }),
        }
    }

    pub fn not_found(plural: &str, name: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{plural} \"{name}\" not found"),
            json!({"name": name, "kind": plural}),
        )
    }

    pub fn already_exists(plural: &str, name: &str) -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{plural} \"{name}\" already exists"),
            json!({"name": name, "kind": plural}),
        )
    }

    pub fn conflict(plural: &str, name: &str) -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            json!({"name": name, "kind": plural}),
        )
    }

    /// 422 for a field that fails validation, e.g. a name that is not a DNS label.
    pub fn invalid(kind: &str, plural: &str, name: &str, field: &str, detail: String) -> ApiError {
        let cause = format!("Invalid value: \"{name}\": {detail}");
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!("{kind} \"{name}\" is invalid: {field}: {cause}"),
            json!({
                "name": name,
                "kind": plural,
                "causes": [{"reason": "FieldValueInvalid", "message": cause, "field": field}],
            }),
        )
    }

    /// 403, as quota admission and RBAC send it.
    pub fn forbidden(plural: &str, name: &str, why: String) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("{plural} \"{name}\" is forbidden: {why}"),
            json!({"name": name, "kind": plural}),
        )
    }

    pub fn bad_request(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", message, json!({}))
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
            json!({}),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code, axum::Json(self.body)).into_response()
    }
}
