//! Ember on Kubernetes. This crate turns an application's settings — Apache Spark's
//! `spark.kubernetes.*` keys and their neighbours — into the Kubernetes objects the
//! application runs as: the driver pod, a headless Service that gives the driver a stable
//! name, a ConfigMap carrying the application's files and settings, a Secret carrying its
//! token, and executor pods. Objects are `k8s-openapi` types, never hand-written JSON; every
//! one carries the application's labels, and everything but the driver pod is owned by the
//! driver pod, so deleting it removes the rest.

mod cluster;
mod error;
mod names;
mod render;
pub mod submit;
mod template;
mod volumes;
mod yaml;

pub use cluster::KubernetesCluster;
pub use error::KubeError;
pub use names::{AppIdentity, dns_label};
pub use render::{
    APP_FILES_DIR, CONNECT_PORT, DRIVER_PORT, DeployMode, DriverProgram, LOCAL_DIR, LocalFile,
    Rendered, Renderer,
};
pub use yaml::to_yaml_documents;
