//! Test support only: a simulated Kubernetes API server. It speaks the HTTP API kube-rs uses
//! (core/v1 pods, services, config maps, secrets, events and resource quotas: create, get,
//! list and watch with label and field selectors and resourceVersion, delete, replace, pod
//! status and logs), with the semantics Ember relies on — resourceVersion and 409 on
//! conflicts, 404/403/422 with real `Status` bodies, DNS-1123 name validation, owner-reference
//! garbage collection, quota admission. Its kubelet runs pods whose command is `ember` as
//! local processes: each pod gets its own loopback address (127.0.0.x), its volumes become
//! directories, Service names in its arguments resolve to the pods behind them, and its exit
//! becomes phases, exit codes and reasons. Never part of the product binary.

mod api;
mod kubelet;
mod quota;
mod status;
mod store;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{broadcast, oneshot};

pub use api::base64_lite;

/// Shared state of one simulated cluster.
pub(crate) struct Sim {
    store: Mutex<store::Store>,
    changes: broadcast::Sender<()>,
    ember: PathBuf,
    root: PathBuf,
    /// Pods whose process runs, with the sender that stops it.
    running: Mutex<HashMap<(String, String), oneshot::Sender<()>>>,
    next_ip: AtomicU32,
    /// Images the simulated registry does not have: pods using them cannot pull them.
    missing_images: Mutex<std::collections::HashSet<String>>,
}

impl Sim {
    fn changed(&self) {
        let _ = self.changes.send(());
    }

    fn pod_dir(&self, ns: &str, name: &str) -> PathBuf {
        self.root.join("pods").join(ns).join(name)
    }

    fn log_path(&self, ns: &str, name: &str) -> PathBuf {
        self.pod_dir(ns, name).join("container.log")
    }

    fn is_running(&self, ns: &str, name: &str) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&(ns.to_string(), name.to_string()))
    }

    /// Removes an object and, as the garbage collector would, everything it owns.
    fn remove(self: &Arc<Self>, plural: &str, ns: &str, name: &str) {
        let removed = {
            let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
            store.remove(plural, ns, name)
        };
        self.changed();
        let Some(object) = removed else {
            return;
        };
        let uid = object["metadata"]["uid"].as_str().unwrap_or_default();
        let dependents = {
            let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
            store.dependents(uid)
        };
        for (plural, ns, name) in dependents {
            if plural == "pods" {
                kubelet::stop(self, &ns, &name);
            } else {
                self.remove(&plural, &ns, &name);
            }
        }
    }

    fn next_pod_ip(&self) -> String {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        // 127.0.0.2 .. 127.255.255.254, skipping .0 and .255 in the last octet.
        let host = 2 + n;
        format!(
            "127.{}.{}.{}",
            (host / (254 * 256)) % 255,
            (host / 254) % 256,
            1 + host % 254
        )
    }
}

/// A running simulated cluster. Dropping it stops every pod process and the server.
pub struct KubeSim {
    sim: Arc<Sim>,
    url: String,
    runtime: Option<tokio::runtime::Runtime>,
    _root: tempfile::TempDir,
}

impl KubeSim {
    /// Starts an API server on 127.0.0.1 whose kubelet runs `ember` as `ember_binary`.
    pub fn start(ember_binary: &Path) -> std::io::Result<KubeSim> {
        let root = tempfile::Builder::new().prefix("kube-sim-").tempdir()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let sim = Arc::new(Sim {
            store: Mutex::new(store::Store::default()),
            changes: broadcast::channel(1024).0,
            ember: ember_binary.to_path_buf(),
            root: root.path().to_path_buf(),
            running: Mutex::new(HashMap::new()),
            // Each simulated cluster starts at a random place in 127/8, so clusters running
            // side by side (parallel tests) do not hand out the same pod addresses.
            next_ip: AtomicU32::new(
                u32::from_le_bytes(
                    uuid::Uuid::new_v4().as_bytes()[..4]
                        .try_into()
                        .unwrap_or_default(),
                ) % (200 * 256 * 254),
            ),
            missing_images: Default::default(),
        });
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new()
            .fallback(api::handle)
            .with_state(sim.clone());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let cluster = KubeSim {
            sim,
            url,
            runtime: Some(runtime),
            _root: root,
        };
        cluster.write_kubeconfig(&cluster.sim.root.join("kubeconfig"))?;
        Ok(cluster)
    }

    /// The API server's URL, for `--master k8s://URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A kubeconfig whose current context is this cluster, for `k8s://` without a URL.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(
            path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: {}\ncontexts:\n- name: sim\n  context:\n    cluster: sim\n    user: sim\n    namespace: default\ncurrent-context: sim\nusers:\n- name: sim\n  user: {{}}\n",
                self.url
            ),
        )
    }

    /// Every stored object of `plural` (`pods`, `services`, …) in `namespace`.
    pub fn objects(&self, plural: &str, namespace: &str) -> Vec<Value> {
        let store = self.sim.store.lock().unwrap_or_else(|p| p.into_inner());
        store
            .list(plural, Some(namespace))
            .into_iter()
            .cloned()
            .collect()
    }

    /// Stores an object as if created through the API (a ResourceQuota, say).
    pub fn create(&self, plural: &str, namespace: &str, object: Value) {
        let mut store = self.sim.store.lock().unwrap_or_else(|p| p.into_inner());
        store.create(plural, namespace, object);
        drop(store);
        self.sim.changed();
    }

    /// Makes `image` one the registry does not have: containers using it wait in
    /// `ErrImagePull`, as on a cluster with a mistyped image name.
    pub fn remove_image(&self, image: &str) {
        self.sim
            .missing_images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(image.to_string());
    }

    /// A pod vanishes the way a lost node's pods can: its process is killed and it is gone
    /// from the store, but no watcher is told. Only a full listing shows it missing.
    pub fn vanish_pod(&self, namespace: &str, name: &str) {
        let mut store = self.sim.store.lock().unwrap_or_else(|p| p.into_inner());
        store.forget("pods", namespace, name);
        drop(store);
        kubelet::stop(&self.sim, namespace, name);
    }

    /// The pid of a pod's process, while it runs.
    pub fn pod_pid(&self, namespace: &str, name: &str) -> Option<u32> {
        let store = self.sim.store.lock().unwrap_or_else(|p| p.into_inner());
        store.get("pods", namespace, name)?["metadata"]["annotations"]["kube-sim/pid"]
            .as_str()?
            .parse()
            .ok()
    }
}

impl Drop for KubeSim {
    fn drop(&mut self) {
        let running: Vec<_> = self
            .sim
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        for (_, stop) in running {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            // Give the kubelet tasks a moment to kill their processes.
            runtime.block_on(async {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await
            });
            runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}
