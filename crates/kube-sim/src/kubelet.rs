//! The simulated kubelet: runs a pod's `ember` container as a local process.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::Sim;
use crate::api::base64_lite;
use crate::store::{matches_labels, now};

pub fn start(sim: Arc<Sim>, ns: String, name: String) {
    let (stop_tx, stop_rx) = oneshot::channel();
    sim.running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert((ns.clone(), name.clone()), stop_tx);
    tokio::spawn(async move {
        run(&sim, &ns, &name, stop_rx).await;
        sim.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(ns.clone(), name.clone()));
        let deleting = {
            let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
            store
                .get("pods", &ns, &name)
                .is_some_and(|p| !p["metadata"]["deletionTimestamp"].is_null())
        };
        if deleting {
            sim.remove("pods", &ns, &name);
        }
    });
}

/// Stops a pod's process; a pod without one is removed at once.
pub fn stop(sim: &Arc<Sim>, ns: &str, name: &str) {
    let stop = sim
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(ns.to_string(), name.to_string()));
    match stop {
        Some(stop) => {
            // Marked for deletion so the kubelet task removes it after the process exits.
            {
                let mut store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(pod) = store.get("pods", ns, name).cloned()
                    && pod["metadata"]["deletionTimestamp"].is_null()
                {
                    let mut marked = pod;
                    marked["metadata"]["deletionTimestamp"] = json!(now());
                    store.update("pods", ns, marked);
                }
            }
            sim.changed();
            let _ = stop.send(());
        }
        None => sim.remove("pods", ns, name),
    }
}

fn set_status(sim: &Sim, ns: &str, name: &str, update: impl FnOnce(&mut Value)) {
    let mut store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
    let Some(mut pod) = store.get("pods", ns, name).cloned() else {
        return;
    };
    update(&mut pod);
    store.update("pods", ns, pod);
    drop(store);
    sim.changed();
}

fn waiting(sim: &Sim, ns: &str, name: &str, container: &str, reason: &str, message: &str) {
    set_status(sim, ns, name, |pod| {
        pod["status"]["phase"] = json!("Pending");
        pod["status"]["containerStatuses"] = json!([{
            "name": container, "ready": false, "restartCount": 0, "image": "", "imageID": "",
            "state": {"waiting": {"reason": reason, "message": message}},
        }]);
    });
}

/// Everything a container needs before it can start, or why it cannot yet.
struct Prepared {
    /// The file standing in for the container's terminationMessagePath.
    termination_log: PathBuf,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    container: String,
}

async fn run(sim: &Arc<Sim>, ns: &str, name: &str, mut stop: oneshot::Receiver<()>) {
    let ip = sim.next_pod_ip();
    let dir = sim.pod_dir(ns, name);
    let _ = std::fs::create_dir_all(&dir);
    // Like a kubelet, wait for what the pod refers to (secrets, config maps) to exist.
    let prepared = loop {
        let pod = {
            let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
            store.get("pods", ns, name).cloned()
        };
        let Some(pod) = pod else { return };
        match prepare(sim, ns, &pod, &ip, &dir) {
            Ok(prepared) => break prepared,
            Err((container, reason, message)) => {
                waiting(sim, ns, name, &container, &reason, &message);
                tokio::select! {
                    _ = &mut stop => return,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    };
    let cannot_run = |e: std::io::Error| {
        waiting(
            sim,
            ns,
            name,
            &prepared.container,
            "RunContainerError",
            &e.to_string(),
        )
    };
    let log = match std::fs::File::create(sim.log_path(ns, name)) {
        Ok(log) => log,
        Err(e) => return cannot_run(e),
    };
    let stderr = log.try_clone().ok();
    let mut command = tokio::process::Command::new(&prepared.program);
    command
        .args(&prepared.args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TMPDIR", dir.join("tmp"))
        // Stands in for the service account credentials a kubelet mounts: clients in the
        // pod (kube-rs's Config::infer) find this cluster.
        .env("KUBECONFIG", sim.root.join("kubeconfig"))
        .envs(prepared.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr.map(Stdio::from).unwrap_or_else(Stdio::null))
        .kill_on_drop(true);
    let _ = std::fs::create_dir_all(dir.join("tmp"));
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return cannot_run(e),
    };
    let pid = child.id().unwrap_or_default();
    let started = now();
    let container = prepared.container.clone();
    set_status(sim, ns, name, |pod| {
        pod["metadata"]["annotations"]["kube-sim/pid"] = json!(pid.to_string());
        pod["spec"]["nodeName"] = json!("kube-sim");
        pod["status"] = json!({
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "hostIP": "127.0.0.1",
            "startTime": started,
            "qosClass": "Burstable",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
                {"type": "Ready", "status": "True", "lastTransitionTime": started},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": started},
            ],
            "containerStatuses": [{
                "name": container, "ready": true, "started": true, "restartCount": 0,
                "image": "ember", "imageID": "",
                "state": {"running": {"startedAt": started}},
            }],
        });
    });
    let exit = tokio::select! {
        status = child.wait() => status.ok(),
        _ = &mut stop => {
            let _ = child.kill().await;
            child.wait().await.ok()
        }
    };
    let code = exit
        .map(|s| {
            use std::os::unix::process::ExitStatusExt;
            s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(9))
        })
        .unwrap_or(137);
    let written = std::fs::read_to_string(&prepared.termination_log).unwrap_or_default();
    let tail = std::fs::read_to_string(sim.log_path(ns, name))
        .map(|t| {
            let lines: Vec<&str> = t.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        })
        .unwrap_or_default();
    let finished = now();
    set_status(sim, ns, name, |pod| {
        let phase = if code == 0 { "Succeeded" } else { "Failed" };
        let reason = if code == 0 { "Completed" } else { "Error" };
        pod["status"]["phase"] = json!(phase);
        for condition in pod["status"]["conditions"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if condition["type"] != "PodScheduled" {
                condition["status"] = json!("False");
            }
        }
        let mut terminated = json!({
            "exitCode": code, "reason": reason, "startedAt": started, "finishedAt": finished,
        });
        // What the container wrote to its termination message; with FallbackToLogsOnError
        // (or when nothing was written, as this kubelet always falls back) the log's tail
        // stands in on failure.
        if !written.trim().is_empty() {
            terminated["message"] = json!(written);
        } else if code != 0 && !tail.is_empty() {
            terminated["message"] = json!(tail);
        }
        pod["status"]["containerStatuses"][0]["ready"] = json!(false);
        pod["status"]["containerStatuses"][0]["started"] = json!(false);
        pod["status"]["containerStatuses"][0]["state"] = json!({"terminated": terminated});
    });
}

type NotReady = (String, String, String);

fn prepare(
    sim: &Sim,
    ns: &str,
    pod: &Value,
    ip: &str,
    dir: &std::path::Path,
) -> Result<Prepared, NotReady> {
    let containers = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let container = containers
        .iter()
        .find(|c| c["command"][0] == "ember")
        .or(containers.first())
        .cloned()
        .unwrap_or(Value::Null);
    let cname = container["name"].as_str().unwrap_or("main").to_string();
    let not_ready = |reason: &str, message: String| (cname.clone(), reason.to_string(), message);
    if container["command"][0] != "ember" {
        return Err(not_ready(
            "ErrImagePull",
            "the simulated kubelet runs only containers whose command is `ember`".into(),
        ));
    }
    let image = container["image"].as_str().unwrap_or_default();
    let missing = sim
        .missing_images
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(image);
    if missing {
        return Err(not_ready(
            "ErrImagePull",
            format!("failed to pull image \"{image}\": not found"),
        ));
    }
    let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
    // Volumes become directories; mount paths are rewritten to them.
    let mut dirs: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut config_files: Vec<(PathBuf, String)> = Vec::new();
    for volume in pod["spec"]["volumes"].as_array().into_iter().flatten() {
        let vname = volume["name"].as_str().unwrap_or_default().to_string();
        let path = if let Some(host) = volume["hostPath"]["path"].as_str() {
            PathBuf::from(host)
        } else if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
            sim.root.join("volumes").join(ns).join(claim)
        } else {
            dir.join("volumes").join(&vname)
        };
        if let Some(map) = volume["configMap"]["name"].as_str() {
            let config = store.get("configmaps", ns, map).ok_or_else(|| {
                not_ready(
                    "ContainerCreating",
                    format!("configmap \"{map}\" not found"),
                )
            })?;
            for (key, value) in config["data"].as_object().into_iter().flatten() {
                config_files.push((path.join(key), value.as_str().unwrap_or_default().into()));
            }
        }
        dirs.insert(vname, path);
    }
    let mut mounts: Vec<(String, PathBuf)> = Vec::new();
    // Like a kubelet, give the container a file at its terminationMessagePath.
    let termination_log = dir.join("termination-log");
    let _ = std::fs::write(&termination_log, "");
    mounts.push((
        container["terminationMessagePath"]
            .as_str()
            .unwrap_or("/dev/termination-log")
            .to_string(),
        termination_log.clone(),
    ));
    for mount in container["volumeMounts"].as_array().into_iter().flatten() {
        let (Some(vname), Some(at)) = (mount["name"].as_str(), mount["mountPath"].as_str()) else {
            continue;
        };
        if let Some(path) = dirs.get(vname) {
            let path = match mount["subPath"].as_str() {
                Some(sub) => path.join(sub),
                None => path.clone(),
            };
            mounts.push((at.trim_end_matches('/').to_string(), path));
        }
    }
    // Longest mount path first, so /a/b wins over /a.
    mounts.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
    let remap = |text: &str| -> String {
        let mut out = text.to_string();
        for (at, path) in &mounts {
            out = out.replace(at.as_str(), &path.display().to_string());
        }
        out
    };
    for (_, path) in &mounts {
        let _ = std::fs::create_dir_all(path);
    }
    for (path, contents) in config_files {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&path, remap(&contents));
    }

    let mut env: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_array().into_iter().flatten() {
        let vname = var["name"].as_str().unwrap_or_default().to_string();
        let value = if let Some(value) = var["value"].as_str() {
            expand(value, &env)
        } else if let Some(secret) = var["valueFrom"]["secretKeyRef"].as_object() {
            let sname = secret["name"].as_str().unwrap_or_default();
            let key = secret["key"].as_str().unwrap_or_default();
            let data = store
                .get("secrets", ns, sname)
                .and_then(|s| s["data"][key].as_str())
                .and_then(base64_lite::decode)
                .ok_or_else(|| {
                    not_ready(
                        "CreateContainerConfigError",
                        format!("secret \"{sname}\" not found"),
                    )
                })?;
            String::from_utf8_lossy(&data).into_owned()
        } else if let Some(field) = var["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
            match field {
                "status.podIP" => ip.to_string(),
                "metadata.name" => pod["metadata"]["name"].as_str().unwrap_or_default().into(),
                "metadata.namespace" => ns.to_string(),
                _ => String::new(),
            }
        } else if let Some(reference) = var["valueFrom"]["configMapKeyRef"].as_object() {
            let map = reference["name"].as_str().unwrap_or_default();
            let key = reference["key"].as_str().unwrap_or_default();
            store
                .get("configmaps", ns, map)
                .and_then(|c| c["data"][key].as_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    not_ready(
                        "CreateContainerConfigError",
                        format!("configmap \"{map}\" not found"),
                    )
                })?
        } else {
            String::new()
        };
        env.push((vname, remap(&value)));
    }
    // Service names resolve to the ready pods behind them, as cluster DNS would.
    let mut services: Vec<(String, String)> = Vec::new();
    for service in store.list("services", None) {
        let sname = service["metadata"]["name"].as_str().unwrap_or_default();
        let sns = service["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default();
        let selector = service["spec"]["selector"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let target = store
            .list("pods", Some(sns))
            .into_iter()
            .filter(|p| !selector.is_empty() && matches_labels(&selector, &p["metadata"]["labels"]))
            .find_map(|p| p["status"]["podIP"].as_str().map(str::to_string));
        if let Some(target) = target {
            for form in [
                format!("{sname}.{sns}.svc.cluster.local"),
                format!("{sname}.{sns}.svc"),
            ] {
                services.push((form, target.clone()));
            }
        }
    }
    services.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    let args = container["args"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let mut arg = remap(&expand(a.as_str().unwrap_or_default(), &env));
            for (form, target) in &services {
                arg = arg.replace(form.as_str(), target);
            }
            arg
        })
        .collect();
    Ok(Prepared {
        termination_log,
        program: sim.ember.clone(),
        args,
        env,
        container: cname,
    })
}

/// `$(VAR)` from the container's earlier variables, as Kubernetes expands them.
fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (name, value) in env {
        out = out.replace(&format!("$({name})"), value);
    }
    out
}
