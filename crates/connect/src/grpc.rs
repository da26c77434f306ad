//! The Spark Connect gRPC service, routed by hand: the proto crate generates only a client, so
//! this maps each method path to its handler with tonic's codec and server machinery.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::FutureExt;
use futures::future::BoxFuture;
use tonic::body::Body;
use tonic::server::{Grpc, NamedService};

use crate::error::SparkError;
use crate::service::{ConnectService, panic_message};

/// Largest message accepted: local relations (createDataFrame) arrive whole in one request.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// `spark.connect.SparkConnectService` over a [`ConnectService`], refusing calls without the
/// configured bearer token.
#[derive(Clone)]
pub struct SparkConnectServer {
    service: Arc<ConnectService>,
    token: Option<Arc<str>>,
}

impl SparkConnectServer {
    pub fn new(service: Arc<ConnectService>, token: Option<String>) -> SparkConnectServer {
        SparkConnectServer {
            service,
            token: token.map(Arc::from),
        }
    }

    fn authorized(&self, request: &http::Request<Body>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let presented = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        constant_time_eq(presented.as_bytes(), token.as_bytes())
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl NamedService for SparkConnectServer {
    const NAME: &'static str = "spark.connect.SparkConnectService";
}

/// Dispatches one method to `ConnectService::$method` with tonic's `$kind` handling.
macro_rules! route {
    ($self:ident, $request:ident, $kind:ident, $method:ident) => {{
        let service = $self.service.clone();
        Box::pin(async move {
            let handler = tower::service_fn(move |call| {
                let service = service.clone();
                // A panic while handling the call answers it with INTERNAL_ERROR.
                async move {
                    AssertUnwindSafe(service.$method(call))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|panic| {
                            Err(SparkError::internal(panic_message(&*panic)).to_status())
                        })
                }
            });
            let mut grpc = Grpc::new(tonic_prost::ProstCodec::default())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES);
            Ok(grpc.$kind(handler, $request).await)
        })
    }};
}

impl tower::Service<http::Request<Body>> for SparkConnectServer {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if !self.authorized(&request) {
            let status = tonic::Status::unauthenticated(
                "this Ember server requires a token: connect with sc://HOST:PORT/;token=TOKEN (ember.connect.token)",
            );
            return Box::pin(async move { Ok(status.into_http()) });
        }
        let method = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        match method.as_str() {
            "ExecutePlan" => route!(self, request, server_streaming, execute_plan),
            "ReattachExecute" => route!(self, request, server_streaming, reattach_execute),
            "AnalyzePlan" => route!(self, request, unary, analyze_plan),
            "Config" => route!(self, request, unary, config),
            "AddArtifacts" => route!(self, request, client_streaming, add_artifacts),
            "ArtifactStatus" => route!(self, request, unary, artifact_status),
            "Interrupt" => route!(self, request, unary, interrupt),
            "ReleaseExecute" => route!(self, request, unary, release_execute),
            "ReleaseSession" => route!(self, request, unary, release_session),
            "FetchErrorDetails" => route!(self, request, unary, fetch_error_details),
            other => {
                let status = tonic::Status::unimplemented(format!(
                    "Ember does not implement the Spark Connect method {other}"
                ));
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}
