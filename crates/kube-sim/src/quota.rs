//! Resource quotas: quantities as Kubernetes spells them, and admission of new pods.

use serde_json::Value;

/// A quantity in base units (cores for cpu, bytes for memory), or `None` if unreadable.
pub fn parse_quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        _ => return None,
    };
    Some(number * factor)
}

/// What one pod asks for, per quota resource name.
fn pod_usage(pod: &Value, resource: &str) -> f64 {
    if resource == "pods" || resource == "count/pods" {
        return 1.0;
    }
    let Some((section, name)) = resource.split_once('.') else {
        return 0.0;
    };
    let section = match section {
        "requests" => "requests",
        "limits" => "limits",
        _ => return 0.0,
    };
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["resources"][section][name].as_str())
        .filter_map(parse_quantity)
        .sum()
}

fn display(resource: &str, value: f64) -> String {
    if resource.ends_with("cpu") {
        if value.fract() == 0.0 {
            format!("{value}")
        } else {
            format!("{}m", (value * 1000.0).round())
        }
    } else if resource.ends_with("memory") {
        format!("{}Mi", (value / (1024.0 * 1024.0)).round())
    } else {
        format!("{value}")
    }
}

/// Admits `pod` against every quota of its namespace given the pods already there, or says
/// which quota it exceeds, in the API server's words.
pub fn admit(pod: &Value, quotas: &[&Value], existing: &[&Value]) -> Result<(), String> {
    for quota in quotas {
        let Some(hard) = quota["spec"]["hard"].as_object() else {
            continue;
        };
        let mut requested = Vec::new();
        let mut used = Vec::new();
        let mut limited = Vec::new();
        for (resource, limit) in hard {
            let Some(limit_value) = limit.as_str().and_then(parse_quantity) else {
                continue;
            };
            let asked = pod_usage(pod, resource);
            if asked == 0.0 {
                continue;
            }
            let in_use: f64 = existing.iter().map(|p| pod_usage(p, resource)).sum();
            if in_use + asked > limit_value + 1e-9 {
                requested.push(format!("{resource}={}", display(resource, asked)));
                used.push(format!("{resource}={}", display(resource, in_use)));
                limited.push(format!("{resource}={}", limit.as_str().unwrap_or_default()));
            }
        }
        if !requested.is_empty() {
            return Err(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                quota["metadata"]["name"].as_str().unwrap_or_default(),
                requested.join(","),
                used.join(","),
                limited.join(",")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert_eq!(parse_quantity("1Gi"), Some(1073741824.0));
        assert_eq!(parse_quantity("1408Mi"), Some(1408.0 * 1048576.0));
        assert_eq!(parse_quantity("x"), None);
    }

    #[test]
    fn a_pod_over_quota_is_refused_with_the_api_servers_words() {
        let pod = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}});
        let quota = json!({"metadata": {"name": "small"}, "spec": {"hard": {"pods": "2", "requests.cpu": "4"}}});
        assert!(admit(&pod, &[&quota], &[&pod]).is_ok());
        let err = admit(&pod, &[&quota], &[&pod, &pod]).unwrap_err();
        assert_eq!(
            err,
            "exceeded quota: small, requested: pods=1, used: pods=2, limited: pods=2"
        );
    }
}
