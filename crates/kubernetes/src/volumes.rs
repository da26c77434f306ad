//! Volumes from Spark's keys: `spark.kubernetes.{driver,executor}.volumes.TYPE.NAME.mount.path`,
//! `.mount.readOnly`, `.mount.subPath` and `.options.*`.

use std::collections::BTreeMap;

use ember_config::EmberConf;
use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, HostPathVolumeSource, PersistentVolumeClaimVolumeSource, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::KubeError;

/// The volumes configured for one role (`driver` or `executor`), with their mounts.
pub fn configured_volumes(
    conf: &EmberConf,
    role: &str,
) -> Result<Vec<(Volume, VolumeMount)>, KubeError> {
    let prefix = format!("spark.kubernetes.{role}.volumes.");
    // (type, name) -> field -> value
    let mut grouped: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    for (rest, value) in conf.with_prefix(&prefix) {
        let invalid = |message: &str| KubeError::Invalid {
            key: format!("{prefix}{rest}"),
            value: value.to_string(),
            message: message.to_string(),
        };
        let mut parts = rest.splitn(3, '.');
        let (Some(kind), Some(name), Some(field)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                "expected TYPE.NAME.mount.path, .mount.readOnly, .mount.subPath or .options.KEY",
            ));
        };
        grouped
            .entry((kind.to_string(), name.to_string()))
            .or_default()
            .insert(field.to_string(), value.to_string());
    }
    grouped
        .into_iter()
        .map(|((kind, name), fields)| volume(&prefix, &kind, &name, &fields))
        .collect()
}

fn volume(
    prefix: &str,
    kind: &str,
    name: &str,
    fields: &BTreeMap<String, String>,
) -> Result<(Volume, VolumeMount), KubeError> {
    let key = |field: &str| format!("{prefix}{kind}.{name}.{field}");
    let invalid = |field: &str, message: String| KubeError::Invalid {
        key: key(field),
        value: fields.get(field).cloned().unwrap_or_default(),
        message,
    };
    let allowed: &[&str] = match kind {
        "hostPath" => &["options.path", "options.type"],
        "emptyDir" => &["options.medium", "options.sizeLimit"],
        "persistentVolumeClaim" => &["options.claimName"],
        _ => {
            return Err(invalid(
                "mount.path",
                format!(
                    "unsupported volume type `{kind}`; Ember supports hostPath, emptyDir and persistentVolumeClaim (others can come from a pod template)"
                ),
            ));
        }
    };
    for field in fields.keys() {
        if !field.starts_with("mount.") && !allowed.contains(&field.as_str()) {
            return Err(invalid(
                field,
                format!(
                    "unknown setting; a {kind} volume takes {}",
                    allowed.join(", ")
                ),
            ));
        }
        if field.starts_with("mount.")
            && !matches!(
                field.as_str(),
                "mount.path" | "mount.readOnly" | "mount.subPath"
            )
        {
            return Err(invalid(
                field,
                "unknown setting; mounts take mount.path, mount.readOnly and mount.subPath".into(),
            ));
        }
    }
    let required = |field: &str| {
        fields
            .get(field)
            .cloned()
            .ok_or_else(|| KubeError::Invalid {
                key: key(field),
                value: String::new(),
                message: "required for this volume".into(),
            })
    };
    let read_only = match fields.get("mount.readOnly").map(String::as_str) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(invalid("mount.readOnly", "expected true or false".into())),
    };
    let mount = VolumeMount {
        name: name.to_string(),
        mount_path: required("mount.path")?,
        read_only,
        sub_path: fields.get("mount.subPath").cloned(),
        ..VolumeMount::default()
    };
    let mut volume = Volume {
        name: name.to_string(),
        ..Volume::default()
    };
    match kind {
        "hostPath" => {
            volume.host_path = Some(HostPathVolumeSource {
                path: required("options.path")?,
                type_: fields.get("options.type").cloned(),
            })
        }
        "emptyDir" => {
            volume.empty_dir = Some(EmptyDirVolumeSource {
                medium: fields.get("options.medium").cloned(),
                size_limit: fields.get("options.sizeLimit").cloned().map(Quantity),
                ..EmptyDirVolumeSource::default()
            })
        }
        _ => {
            volume.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: required("options.claimName")?,
                read_only,
            })
        }
    }
    Ok((volume, mount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ember_config::ConfSource;

    fn conf(pairs: &[(&str, &str)]) -> EmberConf {
        let mut conf = EmberConf::new();
        for (k, v) in pairs {
            conf.set(k, v, ConfSource::CommandLine).unwrap();
        }
        conf
    }

    #[test]
    fn spark_volume_keys_become_volumes_and_mounts() {
        let conf = conf(&[
            (
                "spark.kubernetes.executor.volumes.persistentVolumeClaim.data.mount.path",
                "/data",
            ),
            (
                "spark.kubernetes.executor.volumes.persistentVolumeClaim.data.mount.readOnly",
                "true",
            ),
            (
                "spark.kubernetes.executor.volumes.persistentVolumeClaim.data.options.claimName",
                "warehouse",
            ),
            (
                "spark.kubernetes.executor.volumes.hostPath.logs.mount.path",
                "/logs",
            ),
            (
                "spark.kubernetes.executor.volumes.hostPath.logs.options.path",
                "/var/log/ember",
            ),
            (
                "spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path",
                "/scratch",
            ),
        ]);
        let volumes = configured_volumes(&conf, "executor").unwrap();
        assert_eq!(volumes.len(), 2);
        let (pvc, mount) = volumes.iter().find(|(v, _)| v.name == "data").unwrap();
        assert_eq!(
            pvc.persistent_volume_claim.as_ref().unwrap().claim_name,
            "warehouse"
        );
        assert_eq!(
            (mount.mount_path.as_str(), mount.read_only),
            ("/data", Some(true))
        );
        assert_eq!(configured_volumes(&conf, "driver").unwrap().len(), 1);
    }

    #[test]
    fn incomplete_or_unknown_volumes_are_named() {
        let missing = configured_volumes(
            &conf(&[(
                "spark.kubernetes.driver.volumes.hostPath.x.mount.path",
                "/x",
            )]),
            "driver",
        )
        .unwrap_err();
        assert!(
            missing.to_string().contains("hostPath.x.options.path"),
            "{missing}"
        );
        let unknown = configured_volumes(
            &conf(&[("spark.kubernetes.driver.volumes.nfs.x.mount.path", "/x")]),
            "driver",
        )
        .unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("unsupported volume type `nfs`"),
            "{unknown}"
        );
    }
}
