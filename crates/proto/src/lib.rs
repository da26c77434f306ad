//! The control plane between Ember's driver and its executors: one long-lived bidirectional
//! gRPC stream per executor (`Driver.Attach`). The executor registers on it and then reports
//! task status and heartbeats; the driver pushes task launches, kills and shutdown. Every call
//! carries the application's secret in the `authorization` metadata (see [`AUTH_HEADER`]).
//! Data moves on a separate plane (Arrow Flight); only block locations travel here.

#[allow(clippy::all)]
mod generated {
    tonic::include_proto!("ember.v1");
}

pub use generated::*;

/// Metadata key carrying `Bearer <secret>` on every driver and Flight call.
pub const AUTH_HEADER: &str = "authorization";

/// gRPC message size limit for both directions. Plans of complex queries (TPC-H Q11, Q21,
/// Q22 with their subqueries) run to megabytes once encoded; tonic's 4 MiB default is too
/// small to be safe.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
