//! Pod templates (`spark.kubernetes.{driver,executor}.podTemplateFile`): a pod written by the
//! user that Ember starts from. Ember lays its own fields over it (name, labels, image,
//! command, resources, environment, its volumes); everything else the template says —
//! affinity, tolerations, sidecars, init containers, security context, extra volumes — stays.

use std::path::Path;

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};

use crate::KubeError;

/// The template at `path`, or an empty pod when there is none.
pub fn load(path: Option<&str>) -> Result<Pod, KubeError> {
    let Some(path) = path else {
        return Ok(Pod::default());
    };
    let fail = |message: String| KubeError::Template {
        path: Path::new(path).to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| fail(e.to_string()))?;
    if let Some(kind) = value.get("kind").and_then(|k| k.as_str())
        && kind != "Pod"
    {
        return Err(fail(format!("expected a Pod, found a {kind}")));
    }
    serde_yaml_ng::from_value(value).map_err(|e| fail(e.to_string()))
}

/// The container Ember runs in: the one named `name`, else the first; added when the
/// template has none. Returns its index in `spec.containers`.
pub fn ember_container(
    spec: &mut PodSpec,
    name: Option<&str>,
    default_name: &str,
) -> Result<usize, String> {
    if let Some(wanted) = name {
        return spec
            .containers
            .iter()
            .position(|c| c.name == wanted)
            .ok_or_else(|| {
                format!(
                    "the pod template has no container named `{wanted}` (it has: {})",
                    spec.containers
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
    }
    if spec.containers.is_empty() {
        spec.containers.push(Container {
            name: default_name.to_string(),
            ..Container::default()
        });
    }
    Ok(0)
}
