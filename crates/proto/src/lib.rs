//! The control plane between Ember's driver and its executors: one long-lived bidirectional
//! gRPC stream per executor (`Driver.Attach`). The executor registers on it and then reports
//! task status and heartbeats; the driver pushes task launches, kills and shutdown. Every call
//! carries the application's secret in the `authorization` metadata (see [`AUTH_HEADER`]).
//! Data moves on a separate plane (Arrow Flight); only block locations travel here.

#[allow(clippy::all)]
mod generated {
    tonic::include_proto!("ember.v1");
}

mod tls;

pub use generated::*;
pub use tls::{Tls, TlsError, TlsFiles, scheme};

/// Metadata key carrying `Bearer <secret>` on every driver and Flight call.
pub const AUTH_HEADER: &str = "authorization";

/// gRPC message size limit for both directions. Plans of complex queries (TPC-H Q11, Q21,
/// Q22 with their subqueries) run to megabytes once encoded; tonic's 4 MiB default is too
/// small to be safe.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// The `authorization` value that carries `secret`.
pub fn bearer(
    secret: &str,
) -> Result<tonic::metadata::MetadataValue<tonic::metadata::Ascii>, tonic::Status> {
    format!("Bearer {secret}").parse().map_err(|_| {
        tonic::Status::invalid_argument("the application secret is not valid header text")
    })
}

/// A server interceptor that refuses every call not presenting `secret`. Refusals are logged
/// with the caller's address, never with what it presented.
pub fn require_secret(
    secret: std::sync::Arc<str>,
    service: &'static str,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone {
    let expected = format!("Bearer {secret}");
    move |request: tonic::Request<()>| {
        let presented = request
            .metadata()
            .get(AUTH_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if constant_time_eq(presented, expected.as_bytes()) {
            Ok(request)
        } else {
            let peer = request
                .remote_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|| "an unknown address".into());
            tracing::warn!(%peer, service, "refused a call without the application secret");
            Err(tonic::Status::unauthenticated(
                "this Ember application requires its secret",
            ))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_secret_passes() {
        let mut check = require_secret("s3cret".into(), "test");
        let mut good = tonic::Request::new(());
        good.metadata_mut()
            .insert(AUTH_HEADER, bearer("s3cret").unwrap());
        assert!(check(good).is_ok());
        let mut bad = tonic::Request::new(());
        bad.metadata_mut()
            .insert(AUTH_HEADER, bearer("guess").unwrap());
        let status = check(bad).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(!status.message().contains("s3cret"));
        assert!(check(tonic::Request::new(())).is_err());
    }
}
