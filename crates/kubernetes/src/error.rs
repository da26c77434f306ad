use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("{key} is required for a k8s:// master: {hint}")]
    Missing {
        key: &'static str,
        hint: &'static str,
    },
    #[error("{key} = `{value}`: {message}")]
    Invalid {
        key: String,
        value: String,
        message: String,
    },
    #[error("cannot read the pod template {}: {message}", path.display())]
    Template { path: PathBuf, message: String },
    #[error("cannot read the application file {}: {message}", path.display())]
    AppFile { path: PathBuf, message: String },
    #[error(
        "the application's files and settings come to {bytes} bytes, over the {limit}-byte limit of a ConfigMap; put large files in a custom image (FROM ember) or object storage. spark.kubernetes.file.upload.path is not supported yet"
    )]
    TooLargeForConfigMap { bytes: usize, limit: usize },
}
