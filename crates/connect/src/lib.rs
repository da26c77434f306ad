//! Ember's Spark Connect endpoint: the gRPC protocol PySpark (and other Spark Connect
//! clients) speak, served over Ember sessions. Each client session gets its own Ember session;
//! relations become DataFusion logical plans with Spark's naming, resolution and error rules,
//! and run wherever the server's master runs queries (in process, or on executors).

mod analyze;
mod catalog;
mod conf;
mod error;
mod expr;
mod functions;
mod generator;
mod grpc;
mod lambda;
mod literal;
mod na;
mod naming;
mod relation;
mod service;
mod session;
mod show;
mod sources;
mod sql;
mod sql_naming;
mod stat_functions;
mod stats;
mod types;
mod write;

pub use error::{SparkClass, SparkError};
pub use grpc::SparkConnectServer;
pub use service::{ConnectService, SPARK_VERSION, SessionFactory};
