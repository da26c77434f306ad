//! The Kubernetes cluster manager: executor pods created by the driver in batches, watched,
//! replaced when they fail (with the reason in the driver's log and a bounded budget), and
//! deleted when the application ends.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ember_config::EmberConf;
use ember_driver::{ClusterManager, ExecutorLaunch};
use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::watcher;

use crate::{AppIdentity, Renderer};

/// Executor pods for one application, on the cluster at `api_server` (or the one the
/// environment points to: in-cluster configuration or the current kubeconfig context).
pub struct KubernetesCluster {
    conf: EmberConf,
    identity: AppIdentity,
    api_server: Option<String>,
    /// The driver pod, when the driver runs in one: executor pods are owned by it.
    driver_pod: Option<String>,
    running: Option<Running>,
    /// Set when the allocator gives up (spark.executor.maxNumFailures).
    failure: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

struct Running {
    stop: tokio::sync::watch::Sender<bool>,
    done: std::sync::mpsc::Receiver<()>,
    thread: std::thread::JoinHandle<()>,
}

impl KubernetesCluster {
    pub fn new(conf: EmberConf, identity: AppIdentity, api_server: Option<String>) -> Self {
        let driver_pod = (conf.get("spark.submit.deployMode") == Some("cluster"))
            .then(|| {
                conf.get("spark.kubernetes.driver.pod.name")
                    .map(str::to_string)
            })
            .flatten();
        KubernetesCluster {
            conf,
            identity,
            api_server,
            driver_pod,
            running: None,
            failure: Default::default(),
        }
    }
}

pub(crate) async fn client(api_server: Option<&str>) -> Result<kube::Client, String> {
    let config = match api_server {
        Some(url) => kube::Config::new(
            url.parse()
                .map_err(|e| format!("the API server URL `{url}` is not valid: {e}"))?,
        ),
        None => kube::Config::infer().await.map_err(|e| {
            format!("no Kubernetes configuration found (in-cluster or kubeconfig): {e}")
        })?,
    };
    kube::Client::try_from(config).map_err(|e| format!("cannot create a Kubernetes client: {e}"))
}

impl ClusterManager for KubernetesCluster {
    fn start(&mut self, launch: &ExecutorLaunch) -> Result<(), String> {
        let conf = self.conf.clone();
        let identity = self.identity.clone();
        let api_server = self.api_server.clone();
        let driver_pod = self.driver_pod.clone();
        let launch = launch.clone();
        let failure = self.failure.clone();
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let (done_tx, done) = std::sync::mpsc::channel();
        // Its own thread and runtime: the driver calls start and stop from sync code.
        let thread = std::thread::Builder::new()
            .name("ember-k8s-allocator".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let allocator =
                        match Allocator::connect(conf, identity, api_server, driver_pod, launch)
                            .await
                        {
                            Ok(allocator) => {
                                let _ = ready_tx.send(Ok(()));
                                allocator
                            }
                            Err(e) => {
                                let _ = ready_tx.send(Err(e));
                                return;
                            }
                        };
                    allocator.run(stop_rx, failure).await;
                });
                let _ = done_tx.send(());
            })
            .map_err(|e| format!("cannot start the executor allocator: {e}"))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {
                self.running = Some(Running { stop, done, thread });
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the executor allocator stopped while starting".into()),
        }
    }

    fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Deletes every executor pod (and, in client mode, the Secret) before returning, within
    /// a bound.
    fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(true);
            if running.done.recv_timeout(Duration::from_secs(30)).is_ok() {
                let _ = running.thread.join();
            } else {
                tracing::warn!("executor pods may remain: cleanup did not finish within 30 s");
            }
        }
    }
}

impl Drop for KubernetesCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the allocator knows of one executor pod.
struct Observed {
    phase: String,
    deleting: bool,
    /// The executor id its process registers with.
    executor_id: String,
    /// When the allocator asked for it (or first heard of it).
    requested: Instant,
    /// Whether the API server has shown it, in a watch event or a listing.
    seen: bool,
    /// Since when full listings have not included it, though it was seen before.
    missing_since: Option<Instant>,
    /// Why it has not started yet: its container's waiting reason or the scheduler's message.
    waiting: Option<String>,
}

impl Observed {
    fn requested(index: u32) -> Observed {
        Observed {
            phase: String::new(),
            deleting: false,
            executor_id: format!("exec-{index}"),
            requested: Instant::now(),
            seen: false,
            missing_since: None,
            waiting: None,
        }
    }

    /// Counts toward the executors wanted: asked for, pending or running, not being deleted.
    fn active(&self) -> bool {
        !self.deleting && matches!(self.phase.as_str(), "Pending" | "Running" | "")
    }

    fn pending(&self) -> bool {
        !self.deleting && matches!(self.phase.as_str(), "Pending" | "")
    }
}

/// The allocator's settings, read once.
struct Limits {
    target: usize,
    batch: usize,
    batch_delay: Duration,
    max_pending: usize,
    max_failures: usize,
    failure_window: Duration,
    delete_ended: bool,
    start_timeout: Duration,
    polling_interval: Duration,
    missing_delta: Duration,
}

impl Limits {
    fn from_conf(conf: &EmberConf) -> Limits {
        let target = conf.get_usize("spark.executor.instances").unwrap_or(2);
        let duration = |key: &str, default: u64| {
            conf.get_duration(key)
                .unwrap_or(Duration::from_secs(default))
        };
        Limits {
            target,
            batch: conf
                .get_usize("spark.kubernetes.allocation.batch.size")
                .unwrap_or(5),
            batch_delay: duration("spark.kubernetes.allocation.batch.delay", 1),
            max_pending: conf
                .get_usize("spark.kubernetes.allocation.maxPendingPods")
                .unwrap_or(usize::MAX),
            max_failures: conf
                .get_usize("spark.executor.maxNumFailures")
                .unwrap_or((2 * target).max(3)),
            failure_window: duration("spark.executor.failuresValidityInterval", 3600),
            delete_ended: conf
                .get_bool("spark.kubernetes.executor.deleteOnTermination")
                .unwrap_or(true),
            start_timeout: duration("spark.kubernetes.allocation.executor.timeout", 600),
            polling_interval: duration("spark.kubernetes.executor.apiPollingInterval", 30),
            missing_delta: duration("spark.kubernetes.executor.missingPodDetectDelta", 30),
        }
    }
}

/// The allocator's view of the application's executor pods and of their failures.
struct PodBook {
    limits: Limits,
    observed: BTreeMap<String, Observed>,
    /// Pods whose end has been explained (and counted), so watch and listing do not repeat it.
    reported: std::collections::BTreeSet<String>,
    failures: Vec<Instant>,
    /// Set once spark.executor.maxNumFailures is reached: no more pods are asked for.
    gave_up: Option<String>,
}

impl PodBook {
    fn record_failure(&mut self, why: &str) {
        let now = Instant::now();
        let window = self.limits.failure_window;
        self.failures.retain(|t| now.duration_since(*t) < window);
        self.failures.push(now);
        if self.failures.len() >= self.limits.max_failures && self.gave_up.is_none() {
            let reason = format!(
                "{} executor pods failed within {window:?} (spark.executor.maxNumFailures = {}); the last: {why}",
                self.failures.len(),
                self.limits.max_failures
            );
            tracing::error!("{reason}; not replacing executors any more");
            self.gave_up = Some(reason);
        }
    }
}

struct Allocator {
    conf: EmberConf,
    identity: AppIdentity,
    pods: Api<Pod>,
    secrets: Api<Secret>,
    driver_address: String,
    owner: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
    /// Whether this process created the Secret (client mode) and must delete it.
    owns_secret: bool,
    losses: ember_driver::ExecutorLosses,
}

impl Allocator {
    async fn connect(
        conf: EmberConf,
        identity: AppIdentity,
        api_server: Option<String>,
        driver_pod: Option<String>,
        launch: ExecutorLaunch,
    ) -> Result<Allocator, String> {
        let client = client(api_server.as_deref()).await?;
        let renderer = Renderer::new(&conf, identity.clone()).map_err(|e| e.to_string())?;
        let namespace = renderer.namespace().to_string();
        let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let secrets: Api<Secret> = Api::namespaced(client, &namespace);
        let owner = match &driver_pod {
            Some(name) => {
                let pod = wait_until_ready(&pods, name).await?;
                let uid = pod.metadata.uid.unwrap_or_default();
                Some(Renderer::owner_reference(name, &uid))
            }
            None => None,
        };
        // In cluster mode `ember submit` made the Secret; in client mode this process does.
        let owns_secret = driver_pod.is_none();
        if owns_secret {
            let secret = Secret {
                metadata: kube::api::ObjectMeta {
                    name: Some(renderer.secret_name()),
                    labels: Some(renderer.selector("driver")),
                    ..Default::default()
                },
                type_: Some("Opaque".into()),
                data: Some(BTreeMap::from([(
                    "secret".to_string(),
                    ByteString(launch.secret.clone().into_bytes()),
                )])),
                ..Default::default()
            };
            secrets
                .create(&PostParams::default(), &secret)
                .await
                .map_err(|e| refused("the application's Secret", &e))?;
        }
        Ok(Allocator {
            conf,
            identity,
            pods,
            secrets,
            driver_address: launch.driver_address,
            owner,
            owns_secret,
            losses: launch.losses,
        })
    }

    fn renderer(&self) -> Result<Renderer<'_>, String> {
        Renderer::new(&self.conf, self.identity.clone()).map_err(|e| e.to_string())
    }

    async fn run(
        self,
        mut stop: tokio::sync::watch::Receiver<bool>,
        failure: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    ) {
        let limits = Limits::from_conf(&self.conf);
        let selector = format!("ember-app-id={},ember-role=executor", self.identity.id);
        let mut events = watcher(
            self.pods.clone(),
            watcher::Config::default().labels(&selector),
        )
        .boxed();
        // Watches can miss events (a dropped connection, a compacted history); full listings
        // at this interval catch what they missed.
        let mut polling = tokio::time::interval(limits.polling_interval);
        polling.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next_index: u32 = 1;
        let mut backoff = limits.batch_delay;
        let mut not_before = Instant::now();
        let mut book = PodBook {
            limits,
            observed: BTreeMap::new(),
            reported: Default::default(),
            failures: Vec::new(),
            gave_up: None,
        };
        loop {
            self.expire_unstarted(&mut book).await;
            if let Some(reason) = &book.gave_up {
                let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                if slot.is_none() {
                    *slot = Some(reason.clone());
                }
            }
            let limits = &book.limits;
            let active = book.observed.values().filter(|o| o.active()).count();
            let pending = book.observed.values().filter(|o| o.pending()).count();
            if book.gave_up.is_none() && active < limits.target && Instant::now() >= not_before {
                let room = limits.max_pending.saturating_sub(pending);
                let wanted = (limits.target - active).min(limits.batch).min(room);
                for _ in 0..wanted {
                    match self.create_executor(next_index).await {
                        Ok(name) => {
                            book.observed.insert(name, Observed::requested(next_index));
                            next_index += 1;
                            backoff = book.limits.batch_delay;
                        }
                        Err(message) => {
                            tracing::warn!(
                                "{message}; retrying in {:.0?} with the {active} executor pod(s) there are",
                                backoff
                            );
                            not_before = Instant::now() + backoff;
                            backoff = (backoff * 2).min(Duration::from_secs(60));
                            break;
                        }
                    }
                }
                if not_before <= Instant::now() {
                    not_before = Instant::now() + book.limits.batch_delay;
                }
            }
            let wake = tokio::time::sleep_until(tokio::time::Instant::from_std(
                not_before.max(Instant::now() + Duration::from_millis(50)),
            ));
            tokio::select! {
                _ = stop.changed() => break,
                _ = wake => {}
                _ = polling.tick() => self.reconcile(&mut book, &selector).await,
                event = events.next() => match event {
                    Some(Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod))) => {
                        self.on_pod(&mut book, &pod).await;
                    }
                    Some(Ok(watcher::Event::Delete(pod))) => {
                        let name = pod.metadata.name.clone().unwrap_or_default();
                        self.on_gone(&mut book, &name, "its pod was deleted");
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "watching executor pods failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    None => break,
                },
            }
        }
        self.clean_up(&selector).await;
    }

    /// What the API server says of one executor pod: a pod that ended is explained, counted
    /// when it failed, and deleted (spark.kubernetes.executor.deleteOnTermination).
    async fn on_pod(&self, book: &mut PodBook, pod: &Pod) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        let entry = book.observed.entry(name.clone()).or_insert_with(|| {
            let index = pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("ember-exec-id"))
                .and_then(|i| i.parse().ok())
                .unwrap_or_default();
            Observed::requested(index)
        });
        entry.seen = true;
        entry.missing_since = None;
        entry.deleting |= pod.metadata.deletion_timestamp.is_some();
        entry.phase = phase.clone();
        entry.waiting = not_started_because(pod);
        let executor_id = entry.executor_id.clone();
        if matches!(phase.as_str(), "Failed" | "Succeeded") && book.reported.insert(name.clone()) {
            let why = explain(pod);
            tracing::warn!(pod = %name, "executor pod ended: {why}");
            self.losses
                .report(&executor_id, &format!("its pod {name} ended: {why}"));
            if phase == "Failed" {
                book.record_failure(&why);
            }
            if book.limits.delete_ended {
                let _ = self.pods.delete(&name, &DeleteParams::default()).await;
            }
        }
    }

    /// A pod that is gone: its executor is lost, and a replacement will be asked for.
    fn on_gone(&self, book: &mut PodBook, name: &str, why: &str) {
        let Some(gone) = book.observed.remove(name) else {
            return;
        };
        if !book.reported.contains(name) {
            tracing::warn!(pod = %name, "executor lost: {why}; replacing it");
        }
        self.losses.report(&gone.executor_id, why);
    }

    /// Compares the book with a full listing: pods the watch missed are added, and pods seen
    /// before but missing from listings for spark.kubernetes.executor.missingPodDetectDelta
    /// are taken as lost.
    async fn reconcile(&self, book: &mut PodBook, selector: &str) {
        let listed = match self
            .pods
            .list(&ListParams::default().labels(selector))
            .await
        {
            Ok(list) => list.items,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list executor pods; trying again later");
                return;
            }
        };
        let names: std::collections::BTreeSet<String> = listed
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        for pod in &listed {
            self.on_pod(book, pod).await;
        }
        let now = Instant::now();
        let delta = book.limits.missing_delta;
        let mut lost = Vec::new();
        for (name, pod) in book.observed.iter_mut() {
            if names.contains(name) || !pod.seen {
                continue;
            }
            if pod.deleting {
                lost.push((name.clone(), "its pod was deleted".to_string()));
                continue;
            }
            let since = *pod.missing_since.get_or_insert(now);
            if now.duration_since(since) >= delta {
                lost.push((
                    name.clone(),
                    format!(
                        "its pod has been missing from the API server's listings for {:.0?} (spark.kubernetes.executor.missingPodDetectDelta)",
                        now.duration_since(since)
                    ),
                ));
            }
        }
        for (name, why) in lost {
            self.on_gone(book, &name, &why);
        }
    }

    /// Pods not running within spark.kubernetes.allocation.executor.timeout of being asked
    /// for (never shown by the API server, or still Pending) are deleted and counted as
    /// failures, so an image that cannot be pulled or a pod that cannot be scheduled does not
    /// hold the application forever.
    async fn expire_unstarted(&self, book: &mut PodBook) {
        let timeout = book.limits.start_timeout;
        let expired: Vec<(String, String)> = book
            .observed
            .iter()
            .filter(|(_, o)| o.pending() && o.requested.elapsed() > timeout)
            .map(|(name, o)| {
                let why = match (&o.waiting, o.seen) {
                    (Some(waiting), _) => waiting.clone(),
                    (None, false) => "the API server never showed it".to_string(),
                    (None, true) => "still Pending".to_string(),
                };
                (name.clone(), why)
            })
            .collect();
        for (name, why) in expired {
            let why = format!(
                "executor pod {name} did not start within {timeout:?} (spark.kubernetes.allocation.executor.timeout): {why}"
            );
            tracing::warn!("{why}; deleting it");
            let _ = self.pods.delete(&name, &DeleteParams::default()).await;
            book.reported.insert(name.clone());
            book.record_failure(&why);
            if let Some(pod) = book.observed.get_mut(&name) {
                pod.deleting = true;
            }
        }
    }

    async fn create_executor(&self, index: u32) -> Result<String, String> {
        let renderer = self.renderer()?;
        let pod = renderer
            .executor_pod(index, &self.driver_address, self.owner.clone())
            .map_err(|e| e.to_string())?;
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.pods
            .create(&PostParams::default(), &pod)
            .await
            .map_err(|e| refused(&format!("executor pod {name}"), &e))?;
        tracing::info!(pod = %name, "requested executor pod");
        Ok(name)
    }

    /// Deletes this application's executor pods and waits until they are gone.
    async fn clean_up(&self, selector: &str) {
        let listed = ListParams::default().labels(selector);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let pods = match self.pods.list(&listed).await {
                Ok(pods) => pods.items,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list executor pods to delete them");
                    break;
                }
            };
            if pods.is_empty() || Instant::now() > deadline {
                break;
            }
            for pod in pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
            {
                let name = pod.metadata.name.clone().unwrap_or_default();
                let _ = self.pods.delete(&name, &DeleteParams::default()).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if self.owns_secret
            && let Ok(renderer) = self.renderer()
        {
            let _ = self
                .secrets
                .delete(&renderer.secret_name(), &DeleteParams::default())
                .await;
        }
    }
}

/// The driver's pod once it is Ready: only then does its headless Service resolve, so only
/// then can executor pods find the driver.
async fn wait_until_ready(pods: &Api<Pod>, name: &str) -> Result<Pod, String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let pod = pods
            .get(name)
            .await
            .map_err(|e| format!("cannot find this driver's pod {name}: {e}"))?;
        let ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if ready {
            return Ok(pod);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "this driver's pod {name} did not become Ready within 120 s, so executors could not reach it"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Why the API refused something, in the API server's words (quota, forbidden, invalid).
pub(crate) fn refused(what: &str, error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!(
            "the Kubernetes API refused {what} ({} {}): {}",
            status.code, status.reason, status.message
        ),
        other => format!("cannot create {what}: {other}"),
    }
}

/// Why a pod ended, from its container's last state, for people.
fn explain(pod: &Pod) -> String {
    let status = pod.status.as_ref();
    let terminated = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    let reason = status.and_then(|s| s.reason.clone());
    match terminated {
        Some(t) => {
            let meaning = match (t.exit_code, t.reason.as_deref()) {
                (_, Some("OOMKilled")) => " (killed: out of memory; raise spark.executor.memoryOverhead or spark.executor.memory)".to_string(),
                (137, _) => " (killed, likely out of memory or by someone deleting it)".to_string(),
                (143, _) => " (terminated)".to_string(),
                _ => String::new(),
            };
            let message = t
                .message
                .as_deref()
                .and_then(|m| m.lines().rev().find(|l| !l.trim().is_empty()))
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            format!(
                "exit code {}{meaning}, reason {}{message}",
                t.exit_code,
                t.reason.as_deref().unwrap_or("unknown")
            )
        }
        None => match reason {
            Some(reason) => format!("{reason} (evicted or rejected by the node)"),
            None => "no container status".into(),
        },
    }
}

/// Why a pod has not started: its container's waiting reason, or the scheduler's message.
fn not_started_because(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    let waiting = status
        .container_statuses
        .as_ref()
        .and_then(|c| c.first())
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.waiting.as_ref());
    if let Some(waiting) = waiting {
        return Some(format!(
            "{}: {}",
            waiting.reason.as_deref().unwrap_or("waiting"),
            waiting.message.as_deref().unwrap_or_default()
        ));
    }
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| {
            format!(
                "unschedulable: {}",
                c.message.as_deref().unwrap_or_default()
            )
        })
}
