//! Cluster-mode submission and the submitter's other verbs (`--status`, `--kill`): create the
//! driver pod and what it needs, follow it, and report how the application ended.

use std::io::Write;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};

use crate::{DriverProgram, LocalFile, Renderer};

/// A client for the cluster at `api_server`, or the one the environment names.
pub async fn connect(api_server: Option<&str>) -> Result<kube::Client, String> {
    crate::cluster::client(api_server).await
}

fn refused(what: &str, error: kube::Error) -> String {
    crate::cluster::refused(what, &error)
}

/// Creates the driver pod, then its Secret, ConfigMap and Service owned by it. A submission
/// whose driver pod already exists (the same submission id, retried) is not started again.
/// Returns the driver pod's name.
pub async fn submit(
    client: &kube::Client,
    renderer: &Renderer<'_>,
    files: &[LocalFile],
    program: &DriverProgram,
    secret: &str,
) -> Result<String, String> {
    let namespace = renderer.namespace();
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let selector = format!(
        "ember-submission-id={},ember-role=driver",
        renderer.app().submission_id
    );
    let existing = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| refused("listing driver pods", e))?;
    if let Some(pod) = existing.items.first() {
        let name = pod.metadata.name.clone().unwrap_or_default();
        eprintln!(
            "submission {} already made driver pod {namespace}/{name}; following it",
            renderer.app().submission_id
        );
        return Ok(name);
    }
    // Rendered once with a placeholder owner to create the pod, then with its real uid.
    let first = renderer
        .cluster_mode(files, program, secret, "")
        .map_err(|e| e.to_string())?;
    let name = renderer.driver_pod_name();
    let created = match pods.create(&PostParams::default(), &first.driver_pod).await {
        Ok(pod) => pod,
        Err(kube::Error::Api(status)) if status.code == 409 => pods
            .get(&name)
            .await
            .map_err(|e| refused(&format!("driver pod {name}"), e))?,
        Err(e) => return Err(refused(&format!("driver pod {name}"), e)),
    };
    let uid = created.metadata.uid.clone().unwrap_or_default();
    let owned = renderer
        .cluster_mode(files, program, secret, &uid)
        .map_err(|e| e.to_string())?;
    let create_owned = async {
        let post = PostParams::default();
        let tolerate = |result: Result<(), kube::Error>, what: &str| match result {
            Ok(()) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
            Err(e) => Err(refused(what, e)),
        };
        let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
        tolerate(
            secrets.create(&post, &owned.secret).await.map(drop),
            "the application's Secret",
        )?;
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
        tolerate(
            maps.create(&post, &owned.config_map).await.map(drop),
            "the application's ConfigMap",
        )?;
        let services: Api<Service> = Api::namespaced(client.clone(), namespace);
        tolerate(
            services.create(&post, &owned.service).await.map(drop),
            "the driver's Service",
        )?;
        Ok::<(), String>(())
    };
    if let Err(e) = create_owned.await {
        // Nothing half-made stays: deleting the driver pod takes what it owns along.
        let _ = pods.delete(&name, &DeleteParams::default()).await;
        return Err(e);
    }
    Ok(name)
}

/// How an application's driver ended.
pub struct Outcome {
    pub exit_code: i32,
    pub message: Option<String>,
}

fn terminated(pod: &Pod) -> Option<Outcome> {
    let status = pod.status.as_ref()?;
    let phase = status.phase.as_deref()?;
    if !matches!(phase, "Succeeded" | "Failed") {
        return None;
    }
    let state = status
        .container_statuses
        .as_ref()
        .and_then(|c| c.first())
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    Some(Outcome {
        exit_code: state
            .map(|t| t.exit_code)
            .unwrap_or(if phase == "Succeeded" { 0 } else { 1 }),
        message: state
            .and_then(|t| t.message.clone())
            .or(status.message.clone()),
    })
}

/// Follows the driver pod: reports its phase, streams its log to `out`, and returns how it
/// ended.
pub async fn follow(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    report_interval: Duration,
    out: &mut (dyn Write + Send),
) -> Result<Outcome, String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut last_phase = String::new();
    let mut streamed = false;
    loop {
        let pod = match pods.get(name).await {
            Ok(pod) => pod,
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Err(format!(
                    "driver pod {namespace}/{name} was deleted before it finished (killed?)"
                ));
            }
            Err(e) => return Err(refused(&format!("driver pod {name}"), e)),
        };
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase != last_phase {
            eprintln!("driver pod {namespace}/{name}: {phase}");
            last_phase = phase.clone();
        }
        if !streamed && phase != "Pending" {
            streamed = true;
            let params = LogParams {
                follow: true,
                ..LogParams::default()
            };
            match pods.log_stream(name, &params).await {
                Ok(stream) => {
                    let mut lines = stream.lines();
                    while let Some(line) = lines.next().await {
                        match line {
                            Ok(line) => {
                                let _ = writeln!(out, "{line}");
                            }
                            Err(e) => {
                                eprintln!("the driver's log stream broke: {e}");
                                break;
                            }
                        }
                    }
                }
                Err(e) => eprintln!("cannot stream the driver's log: {e}"),
            }
        }
        if let Some(outcome) = terminated(&pod) {
            return Ok(outcome);
        }
        tokio::time::sleep(report_interval).await;
    }
}

/// Driver pods matching `pattern` (a name, or a prefix ending in `*`).
async fn matching(pods: &Api<Pod>, pattern: &str) -> Result<Vec<Pod>, String> {
    let listed = pods
        .list(&ListParams::default().labels("ember-role=driver"))
        .await
        .map_err(|e| refused("listing driver pods", e))?;
    let matches = |name: &str| match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    };
    Ok(listed
        .items
        .into_iter()
        .filter(|p| p.metadata.name.as_deref().is_some_and(matches))
        .collect())
}

/// `NAMESPACE:NAME` as spark-submit takes it for --status and --kill.
pub fn split_target(target: &str) -> Result<(String, String), String> {
    match target.split_once(':') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
            Ok((ns.to_string(), name.to_string()))
        }
        _ => Err(format!(
            "`{target}`: expected NAMESPACE:NAME (a trailing * in NAME matches a prefix)"
        )),
    }
}

/// One line per matching driver pod: its phase and, once it ended, its exit code and why.
pub async fn status(client: &kube::Client, target: &str) -> Result<Vec<String>, String> {
    let (namespace, pattern) = split_target(target)?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let found = matching(&pods, &pattern).await?;
    if found.is_empty() {
        return Err(format!("no Ember driver pod matches {namespace}:{pattern}"));
    }
    Ok(found
        .iter()
        .map(|pod| {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let phase = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into());
            match terminated(pod) {
                Some(outcome) => format!(
                    "{namespace}:{name} {phase}, exit code {}{}",
                    outcome.exit_code,
                    outcome
                        .message
                        .filter(|_| outcome.exit_code != 0)
                        .and_then(|m| m
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty())
                            .map(|l| format!(": {l}")))
                        .unwrap_or_default()
                ),
                None => format!("{namespace}:{name} {phase}"),
            }
        })
        .collect())
}

/// Deletes matching driver pods; what they own (executor pods, Service, ConfigMap, Secret)
/// goes with them.
pub async fn kill(client: &kube::Client, target: &str) -> Result<Vec<String>, String> {
    let (namespace, pattern) = split_target(target)?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let found = matching(&pods, &pattern).await?;
    if found.is_empty() {
        return Err(format!("no Ember driver pod matches {namespace}:{pattern}"));
    }
    let mut killed = Vec::new();
    for pod in found {
        let name = pod.metadata.name.clone().unwrap_or_default();
        pods.delete(&name, &DeleteParams::background())
            .await
            .map_err(|e| refused(&format!("deleting driver pod {name}"), e))?;
        killed.push(format!("{namespace}:{name}"));
    }
    Ok(killed)
}
