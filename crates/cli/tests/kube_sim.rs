//! The simulated Kubernetes API server, driven by the real kube-rs client: the semantics
//! Ember relies on, and its kubelet running an `ember` pod as a process.

mod common;

use std::time::Duration;

use ember_kube_sim::KubeSim;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

fn client(sim: &KubeSim) -> kube::Client {
    let config = kube::Config::new(sim.url().parse().unwrap());
    kube::Client::try_from(config).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn pod(name: &str, args: &[&str]) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "t"}},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "main", "image": "ember:test", "command": ["ember"], "args": args,
            "env": [{"name": "EMBER_SECRET", "value": "s"}],
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
        }]},
    }))
    .unwrap()
}

async fn wait_for_phase(pods: &Api<Pod>, name: &str, phase: &str) -> Pod {
    for _ in 0..200 {
        if let Ok(pod) = pods.get(name).await
            && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(phase)
        {
            return pod;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "pod {name} never reached {phase}: {:?}",
        pods.get(name).await
    );
}

#[test]
fn api_semantics_that_ember_relies_on() {
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    runtime().block_on(async {
        let client = client(&sim);
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let map: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "conf", "labels": {"app": "t"}}, "data": {"k": "v"}
        }))
        .unwrap();
        let created = maps.create(&PostParams::default(), &map).await.unwrap();
        assert!(created.metadata.uid.is_some() && created.metadata.resource_version.is_some());
        // 409 with reason AlreadyExists.
        match maps.create(&PostParams::default(), &map).await {
            Err(kube::Error::Api(status)) => {
                assert_eq!(
                    (status.code, status.reason.as_str()),
                    (409, "AlreadyExists")
                )
            }
            other => panic!("{other:?}"),
        }
        // 422 for a name that is not a DNS subdomain.
        let mut bad = map.clone();
        bad.metadata.name = Some("Not_Valid".into());
        match maps.create(&PostParams::default(), &bad).await {
            Err(kube::Error::Api(status)) => {
                assert_eq!(status.code, 422);
                assert!(status.message.contains("RFC 1123"), "{}", status.message);
            }
            other => panic!("{other:?}"),
        }
        // 404 with reason NotFound.
        match maps.get("nope").await {
            Err(kube::Error::Api(status)) => assert_eq!(status.reason, "NotFound"),
            other => panic!("{other:?}"),
        }
        // Label selectors.
        let listed = maps
            .list(&ListParams::default().labels("app=t"))
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        assert!(
            maps.list(&ListParams::default().labels("app=other"))
                .await
                .unwrap()
                .items
                .is_empty()
        );

        // A watch from the list's resourceVersion sees a later change.
        let version = listed.metadata.resource_version.unwrap();
        let mut events = maps
            .watch(&WatchParams::default().labels("app=t"), &version)
            .await
            .unwrap()
            .boxed();
        maps.delete("conf", &DeleteParams::default()).await.unwrap();
        let event = tokio::time::timeout(Duration::from_secs(5), events.try_next())
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(event, Some(WatchEvent::Deleted(_))), "{event:?}");

        // Quota admission refuses a pod over quota with the API server's words.
        sim.create(
            "resourcequotas",
            "default",
            json!({
                "apiVersion": "v1", "kind": "ResourceQuota",
                "metadata": {"name": "two-pods"}, "spec": {"hard": {"pods": "1"}},
            }),
        );
        let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
        pods.create(&PostParams::default(), &pod("first", &["conf"]))
            .await
            .unwrap();
        wait_for_phase(&pods, "first", "Succeeded").await;
        // A finished pod no longer counts, so a second one fits; a third one alongside does not.
        pods.create(
            &PostParams::default(),
            &pod(
                "second",
                &[
                    "executor",
                    "--driver",
                    "127.0.0.1:1",
                    "--connect-attempts",
                    "100",
                ],
            ),
        )
        .await
        .unwrap();
        match pods
            .create(&PostParams::default(), &pod("third", &["conf"]))
            .await
        {
            Err(kube::Error::Api(status)) => {
                assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
                assert!(
                    status.message.contains(
                        "exceeded quota: two-pods, requested: pods=1, used: pods=1, limited: pods=1"
                    ),
                    "{}",
                    status.message
                );
            }
            other => panic!("{other:?}"),
        }
        // Deleting a running pod kills its process; owner references take dependents along.
        let running = wait_for_phase(&pods, "second", "Running").await;
        let pid = sim
            .pod_pid("default", "second")
            .expect("a running pod has a process");
        let owned: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "owned", "ownerReferences": [{
                "apiVersion": "v1", "kind": "Pod", "name": "second",
                "uid": running.metadata.uid.unwrap(),
            }]},
        }))
        .unwrap();
        maps.create(&PostParams::default(), &owned).await.unwrap();
        pods.delete("second", &DeleteParams::default())
            .await
            .unwrap();
        for _ in 0..100 {
            if pods.get("second").await.is_err() && maps.get("owned").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            pods.get("second").await.is_err(),
            "the pod outlived its deletion"
        );
        assert!(
            maps.get("owned").await.is_err(),
            "the owned config map was not collected"
        );
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "the pod's process outlived it"
        );
    });
}

#[test]
fn the_kubelet_reports_exit_codes_and_serves_logs() {
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    runtime().block_on(async {
        let pods: Api<Pod> = Api::namespaced(client(&sim), "default");
        pods.create(
            &PostParams::default(),
            &pod(
                "fails",
                &[
                    "executor",
                    "--driver",
                    "127.0.0.1:1",
                    "--connect-attempts",
                    "1",
                ],
            ),
        )
        .await
        .unwrap();
        let failed = wait_for_phase(&pods, "fails", "Failed").await;
        let terminated = failed.status.unwrap().container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap();
        assert_eq!(terminated.exit_code, 1);
        let message = terminated.message.unwrap_or_default();
        assert!(
            message.contains("cannot reach the driver"),
            "the log's tail stands in for the termination message: {message}"
        );
        let log = pods.logs("fails", &Default::default()).await.unwrap();
        assert!(log.contains("cannot reach the driver"), "{log}");
        let ok = pod("lists-settings", &["conf"]);
        pods.create(&PostParams::default(), &ok).await.unwrap();
        wait_for_phase(&pods, "lists-settings", "Succeeded").await;
        let log = pods
            .logs("lists-settings", &Default::default())
            .await
            .unwrap();
        assert!(log.contains("spark.master"), "{log}");
    });
}

/// `ember sql` arguments for a client-mode driver on this machine with two executor pods on
/// the simulated cluster; the statements to run come after.
fn client_mode_base(sim: &KubeSim) -> Vec<String> {
    [
        "sql",
        "--master",
        &format!("k8s://{}", sim.url()),
        "--format",
        "csv",
        "--log-level",
        "info",
        "--conf",
        "spark.submit.deployMode=client",
        "--conf",
        "spark.kubernetes.container.image=ember:test",
        "--conf",
        "spark.executor.instances=2",
        "--conf",
        "spark.executor.memory=512m",
        "--conf",
        "spark.driver.host=127.0.0.1",
        "--conf",
        &format!("spark.driver.port={}", common::free_port()),
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// `ember sql` arguments for TPC-H query `query` in client mode (see `client_mode_base`).
fn client_mode_args(sim: &KubeSim, query: usize, data: &std::path::Path) -> Vec<String> {
    let file = common::repo_root().join(format!("examples/tpch/q{query:02}.sql"));
    let mut args = client_mode_base(sim);
    args.extend(["-f".to_string(), file.display().to_string()]);
    args.extend(common::tpch_table_args(data));
    args
}

/// A client-mode query that keeps its executors busy until it is stopped: a cross join of
/// lineitem with itself (scale 0.1: 3.6e11 rows).
fn client_mode_endless_args(sim: &KubeSim, data: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut args = client_mode_base(sim);
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend([
        "-e".to_string(),
        "select sum(a.l_quantity * b.l_quantity) from lineitem a cross join lineitem b".to_string(),
    ]);
    args.extend(common::tpch_table_args(data));
    args
}

/// A running `ember` whose log is read line by line as it is written.
struct FollowedProcess {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    reader: std::thread::JoinHandle<String>,
}

impl FollowedProcess {
    fn start(args: &[String]) -> FollowedProcess {
        let mut child = common::ember()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut all = String::new();
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                all.push_str(&line);
                all.push('\n');
                let _ = lines_tx.send(line);
            }
            all
        });
        FollowedProcess {
            child,
            lines,
            reader,
        }
    }

    /// Starts a query and waits until its first stage has started.
    fn start_job(args: &[String]) -> FollowedProcess {
        let driver = FollowedProcess::start(args);
        assert!(
            driver
                .wait_for(|line| line.contains("stage started"))
                .is_some(),
            "the job did not start"
        );
        driver
    }

    /// The next log line for which `wanted` holds, or None if the log ends or stays quiet for
    /// two minutes first.
    fn wait_for(&self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(120)) {
            if wanted(&line) {
                return Some(line);
            }
        }
        None
    }

    fn exited(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_some()
    }

    fn interrupt(&self) {
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit: its output and its whole log.
    fn finish(self) -> (std::process::Output, String) {
        let output = self.child.wait_with_output().unwrap();
        (output, self.reader.join().unwrap())
    }
}

fn executor_pods(sim: &KubeSim) -> Vec<serde_json::Value> {
    sim.objects("pods", "default")
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["ember-role"] == "executor")
        .collect()
}

/// Client mode: the driver here, two executor pods on the cluster; TPC-H Q1, Q5 and Q18 give
/// the reference answers, and each application leaves no pod and no Secret behind.
#[test]
fn client_mode_runs_tpch_on_executor_pods_and_cleans_up() {
    let data = common::tpch_data("0.1");
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    for query in [1, 5, 18] {
        let args = client_mode_args(&sim, query, &data);
        let output = common::ember().args(&args).output().unwrap();
        let log = common::stderr(&output);
        assert!(output.status.success(), "Q{query} failed:\n{log}");
        assert!(
            log.matches("requested executor pod").count() >= 2,
            "Q{query}: executors did not come from pods:\n{log}"
        );
        // Executors registered from their pods' own addresses (127.0.0.x, never the host's).
        let registered: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("executor registered"))
            .collect();
        assert!(
            registered.len() >= 2
                && registered.iter().all(|l| l.contains("flight_address=127.")
                    && !l.contains("flight_address=127.0.0.1:")),
            "Q{query}: {registered:?}"
        );
        common::assert_reference_answer(
            query,
            &common::stdout(&output),
            "in client mode on executor pods",
        );
        assert!(
            executor_pods(&sim).is_empty(),
            "Q{query} left executor pods: {:?}",
            executor_pods(&sim)
        );
        assert!(
            sim.objects("secrets", "default").is_empty(),
            "a Secret was left behind"
        );
    }
}

/// A namespace whose quota allows one pod: the driver says which quota refused the second
/// executor pod, and the query still finishes, with the reference answer, on the one it got.
#[test]
fn an_over_quota_namespace_is_explained_and_the_job_finishes_on_what_it_got() {
    let data = common::tpch_data("0.1");
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    sim.create(
        "resourcequotas",
        "default",
        json!({"apiVersion": "v1", "kind": "ResourceQuota",
               "metadata": {"name": "one-pod"}, "spec": {"hard": {"pods": "1"}}}),
    );
    let mut args = client_mode_args(&sim, 1, &data);
    args.extend([
        "--conf".to_string(),
        "spark.scheduler.maxRegisteredResourcesWaitingTime=2s".to_string(),
    ]);
    let output = common::ember().args(&args).output().unwrap();
    let log = common::stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(
        log.contains("the Kubernetes API refused executor pod")
            && log.contains(
                "exceeded quota: one-pod, requested: pods=1, used: pods=1, limited: pods=1"
            ),
        "the refusal was not explained:\n{log}"
    );
    assert!(log.contains("starting with 1 of 2 executors"), "{log}");
    common::assert_reference_answer(1, &common::stdout(&output), "over quota");
    assert!(executor_pods(&sim).is_empty(), "{:?}", executor_pods(&sim));
}

/// Deleting an executor pod while a stage reads shuffle blocks: its work is recomputed, a
/// replacement pod is asked for, and Q18 gives the same answer as in one process.
#[test]
fn deleting_an_executor_pod_mid_query_gives_the_same_answer() {
    let data = common::tpch_data("1");
    let file = common::repo_root().join("examples/tpch/q18.sql");
    let mut local = vec![
        "sql".to_string(),
        "--master".into(),
        "local[2]".into(),
        "--format".into(),
        "csv".into(),
        "-f".into(),
        file.display().to_string(),
    ];
    local.extend(common::tpch_table_args(&data));
    let expected = common::ember().args(&local).output().unwrap();
    assert!(expected.status.success(), "{}", common::stderr(&expected));

    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    let mut args = client_mode_args(&sim, 18, &data);
    args.extend(["--conf".to_string(), "spark.executor.memory=1g".to_string()]);
    let driver = FollowedProcess::start(&args);
    let mut deleted = None;
    while deleted.is_none() {
        if driver
            .wait_for(|line| line.contains("stage started") && !line.contains("reads=[]"))
            .is_none()
        {
            break;
        }
        let victim = executor_pods(&sim)
            .into_iter()
            .find(|p| p["status"]["phase"] == "Running")
            .and_then(|p| p["metadata"]["name"].as_str().map(str::to_string));
        if let Some(victim) = victim {
            runtime().block_on(async {
                let pods: Api<Pod> = Api::namespaced(client(&sim), "default");
                pods.delete(&victim, &DeleteParams::default())
                    .await
                    .unwrap();
            });
            deleted = Some(victim);
        }
    }
    let (output, log) = driver.finish();
    let victim = deleted.unwrap_or_else(|| panic!("no executor pod was deleted:\n{log}"));
    assert!(
        output.status.success(),
        "Q18 failed after deleting {victim}:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains(&victim) && l.contains("executor pod ended: exit code 137")),
        "the deletion was not explained:\n{log}"
    );
    assert!(
        log.contains("requested executor pod pod=") && log.contains("-exec-3"),
        "no replacement pod was asked for:\n{log}"
    );
    common::assert_same_answer(
        18,
        &common::stdout(&expected),
        &common::stdout(&output),
        "after an executor pod was deleted",
    );
    assert!(executor_pods(&sim).is_empty(), "{:?}", executor_pods(&sim));
}

/// A SQL application that declares the TPC-H tables and runs query `query`.
fn tpch_application(
    dir: &std::path::Path,
    data: &std::path::Path,
    query: usize,
) -> std::path::PathBuf {
    let mut sql = String::new();
    for (table, _) in ember_tpch::TABLES {
        sql.push_str(&format!(
            "create external table {table} stored as parquet location '{}/';\n",
            data.join(table).display()
        ));
    }
    sql.push_str(
        &std::fs::read_to_string(
            common::repo_root().join(format!("examples/tpch/q{query:02}.sql")),
        )
        .unwrap(),
    );
    let path = dir.join(format!("tpch-q{query:02}.sql"));
    std::fs::write(&path, sql).unwrap();
    path
}

fn submit(sim: &KubeSim, extra: &[&str]) -> std::process::Output {
    common::ember()
        .args(["submit", "--master", &format!("k8s://{}", sim.url())])
        .args(extra)
        .output()
        .unwrap()
}

fn leftovers(sim: &KubeSim) -> Vec<String> {
    ["pods", "services", "configmaps", "secrets"]
        .iter()
        .flat_map(|plural| {
            sim.objects(plural, "default")
                .into_iter()
                .map(move |o| format!("{plural}/{}", o["metadata"]["name"].as_str().unwrap_or("")))
        })
        .collect()
}

/// Waits (bounded) for garbage collection, then asserts no pod, service, config map or secret
/// is left.
fn assert_nothing_left(sim: &KubeSim) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !leftovers(sim).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        leftovers(sim).is_empty(),
        "left behind: {:?}",
        leftovers(sim)
    );
}

/// Cluster mode: `ember submit` creates the driver pod and its Secret, ConfigMap and Service;
/// the driver pod creates two executor pods; the submitter streams the driver's log (the
/// answer, as CSV) and exits 0. A finished application leaves no executor pod, and --kill
/// removes everything else.
#[test]
fn cluster_mode_runs_tpch_and_kill_leaves_nothing() {
    let data = common::tpch_data("0.1");
    let dir = tempfile::tempdir().unwrap();
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    for query in [1, 5, 18] {
        let app = tpch_application(dir.path(), &data, query);
        let name = format!("tpch-q{query}");
        let output = submit(
            &sim,
            &[
                "--deploy-mode",
                "cluster",
                "--name",
                &name,
                "--conf",
                "spark.kubernetes.container.image=ember:test",
                "--conf",
                "spark.executor.instances=2",
                "--conf",
                "spark.executor.memory=512m",
                "--conf",
                "ember.sql.format=csv",
                "--conf",
                "spark.log.level=ERROR",
                app.to_str().unwrap(),
            ],
        );
        let log = common::stderr(&output);
        assert!(
            output.status.success(),
            "Q{query} in cluster mode failed:\n{log}\n{}",
            common::stdout(&output)
        );
        assert!(log.contains("succeeded"), "{log}");
        common::assert_reference_answer(query, &common::stdout(&output), "in cluster mode");
        assert!(executor_pods(&sim).is_empty(), "{:?}", executor_pods(&sim));

        let status = submit(&sim, &["--status", &format!("default:{name}*")]);
        assert!(status.status.success(), "{}", common::stderr(&status));
        assert!(
            common::stdout(&status).contains("Succeeded, exit code 0"),
            "{}",
            common::stdout(&status)
        );
    }
    let killed = submit(&sim, &["--kill", "default:tpch-q*"]);
    assert!(killed.status.success(), "{}", common::stderr(&killed));
    assert_eq!(
        common::stdout(&killed)
            .matches("deleted driver pod")
            .count(),
        3
    );
    assert_nothing_left(&sim);
}

/// An application that runs until it is killed.
fn endless_application(dir: &std::path::Path) -> std::path::PathBuf {
    let app = dir.join("forever.sql");
    std::fs::write(
        &app,
        "select sum(value) from generate_series(1, 100000000000);\n",
    )
    .unwrap();
    app
}

/// --kill on a running application deletes its driver pod, and with it its executor pods,
/// Service, ConfigMap and Secret; the submitter reports that the driver went away.
#[test]
fn killing_a_running_application_leaves_no_object_behind() {
    let dir = tempfile::tempdir().unwrap();
    let app = endless_application(dir.path());
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    let mut follower = common::ember()
        .args(["submit", "--master", &format!("k8s://{}", sim.url())])
        .args([
            "--deploy-mode",
            "cluster",
            "--name",
            "forever",
            "--conf",
            "spark.kubernetes.container.image=ember:test",
            "--conf",
            "spark.executor.instances=2",
            "--conf",
            "spark.executor.memory=512m",
        ])
        .arg(&app)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while executor_pods(&sim)
        .iter()
        .filter(|p| p["status"]["phase"] == "Running")
        .count()
        < 2
    {
        if std::time::Instant::now() > deadline {
            let _ = follower.kill();
            let output = follower.wait_with_output().unwrap();
            panic!(
                "executors never ran: {:?}\n{}\n{:?}",
                leftovers(&sim),
                common::stderr(&output),
                sim.objects("pods", "default")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed = submit(&sim, &["--kill", "default:forever*"]);
    assert!(killed.status.success(), "{}", common::stderr(&killed));
    let output = follower.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(
        common::stderr(&output).contains("was deleted before it finished"),
        "{}",
        common::stderr(&output)
    );
    assert_nothing_left(&sim);
}

/// A failing application: the submitter exits non-zero with the driver's reason, taken from
/// the driver's termination message, and --status still says why after the log is not read.
#[test]
fn a_failed_application_says_why_in_its_termination_message() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("broken.sql");
    std::fs::write(&app, "select * from no_such_table;\n").unwrap();
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    let output = submit(
        &sim,
        &[
            "--deploy-mode",
            "cluster",
            "--name",
            "broken",
            "--conf",
            "spark.kubernetes.container.image=ember:test",
            "--conf",
            "spark.executor.instances=1",
            app.to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    let log = common::stderr(&output);
    assert!(
        log.contains("failed with exit code 1") && log.contains("no_such_table"),
        "{log}"
    );
    let driver = sim
        .objects("pods", "default")
        .into_iter()
        .find(|p| p["metadata"]["labels"]["ember-role"] == "driver")
        .unwrap();
    let message = driver["status"]["containerStatuses"][0]["state"]["terminated"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        // The log's tail would read `error: …`; the driver writes the bare reason.
        message.contains("no_such_table") && !message.starts_with("error:"),
        "the driver's own termination message, not the log's tail: {message:?}"
    );
    let status = submit(&sim, &["--status", "default:broken*"]);
    let text = common::stdout(&status);
    assert!(
        text.contains("Failed, exit code 1") && text.contains("no_such_table"),
        "{text}"
    );
    assert!(executor_pods(&sim).is_empty(), "{:?}", executor_pods(&sim));
}

/// Executors that keep failing (here: refused for a wrong secret) are replaced only
/// spark.executor.maxNumFailures times; then the application fails with the reason instead of
/// waiting or crash-looping, and leaves no pod behind.
#[test]
fn executors_that_keep_failing_fail_the_application_with_the_reason() {
    let data = common::tpch_data("0.1");
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    let mut args = client_mode_args(&sim, 1, &data);
    args.extend(
        [
            "--conf",
            "spark.executorEnv.EMBER_SECRET=not-the-secret",
            "--conf",
            "spark.executor.maxNumFailures=3",
            "--conf",
            "spark.kubernetes.allocation.batch.delay=100ms",
        ]
        .map(String::from),
    );
    let started = std::time::Instant::now();
    let output = common::ember().args(&args).output().unwrap();
    let log = common::stderr(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("spark.executor.maxNumFailures = 3")
            && log.contains("the driver refused this executor"),
        "{log}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "it waited for the registration timeout instead of failing: {:?}",
        started.elapsed()
    );
    assert!(executor_pods(&sim).is_empty(), "{:?}", executor_pods(&sim));
    assert!(sim.objects("secrets", "default").is_empty());
}

/// Submitting again with the same submission id (a retry after a lost response, say) finds the
/// driver pod the first attempt made instead of starting the application twice.
#[test]
fn a_retried_submission_does_not_start_the_application_twice() {
    let dir = tempfile::tempdir().unwrap();
    let app = endless_application(dir.path());
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    let attempt = || {
        submit(
            &sim,
            &[
                "--deploy-mode",
                "cluster",
                "--name",
                "retried",
                "--conf",
                "spark.kubernetes.container.image=ember:test",
                "--conf",
                "spark.executor.instances=1",
                "--conf",
                "ember.kubernetes.submissionId=retry-1",
                "--conf",
                "spark.kubernetes.submission.waitAppCompletion=false",
                app.to_str().unwrap(),
            ],
        )
    };
    let first = attempt();
    assert!(first.status.success(), "{}", common::stderr(&first));
    let second = attempt();
    assert!(second.status.success(), "{}", common::stderr(&second));
    assert!(
        common::stderr(&second).contains("submission retry-1 already made driver pod"),
        "{}",
        common::stderr(&second)
    );
    let drivers: Vec<_> = sim
        .objects("pods", "default")
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["ember-role"] == "driver")
        .collect();
    assert_eq!(drivers.len(), 1, "{drivers:?}");
    let killed = submit(&sim, &["--kill", "default:retried*"]);
    assert!(killed.status.success(), "{}", common::stderr(&killed));
    assert_nothing_left(&sim);
}

/// Executor pods that cannot start (their image cannot be pulled) are deleted after
/// spark.kubernetes.allocation.executor.timeout and counted as failures: the application
/// fails with the pull error instead of waiting forever.
#[test]
fn executor_pods_that_never_start_are_replaced_until_the_application_gives_up() {
    let data = common::tpch_data("0.1");
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    sim.remove_image("ember:no-such-tag");
    let mut args = client_mode_args(&sim, 1, &data);
    args.extend(
        [
            "--conf",
            "spark.kubernetes.executor.container.image=ember:no-such-tag",
            "--conf",
            "spark.kubernetes.allocation.executor.timeout=1s",
            "--conf",
            "spark.executor.maxNumFailures=3",
            "--conf",
            "spark.kubernetes.allocation.batch.delay=100ms",
        ]
        .map(String::from),
    );
    let output = common::ember().args(&args).output().unwrap();
    let log = common::stderr(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("did not start within 1s (spark.kubernetes.allocation.executor.timeout)")
            && log.contains("ErrImagePull: failed to pull image \"ember:no-such-tag\"")
            && log.contains("spark.executor.maxNumFailures = 3"),
        "{log}"
    );
    assert!(executor_pods(&sim).is_empty(), "{:?}", executor_pods(&sim));
}

/// Executors killed while a job runs are replaced until spark.executor.maxNumFailures is
/// reached; then the running job, and with it the application, fails with that reason.
#[test]
fn executors_failing_under_a_running_job_fail_it_with_the_reason() {
    let data = common::tpch_data("0.1");
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    let args = client_mode_endless_args(
        &sim,
        &data,
        &[
            "--conf",
            "spark.executor.instances=1",
            "--conf",
            "spark.executor.maxNumFailures=2",
            "--conf",
            "spark.kubernetes.allocation.batch.delay=100ms",
        ],
    );
    let mut driver = FollowedProcess::start_job(&args);
    // Kill each executor pod's process as it comes up, as an out-of-memory killer would.
    let mut killed = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while killed.len() < 2 && !driver.exited() && std::time::Instant::now() < deadline {
        for pod in executor_pods(&sim) {
            let name = pod["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if pod["status"]["phase"] == "Running"
                && !killed.contains(&name)
                && let Some(pid) = sim.pod_pid("default", &name)
            {
                let status = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(status.success());
                killed.insert(name);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (output, log) = driver.finish();
    assert_eq!(killed.len(), 2, "two executors were not killed:\n{log}");
    assert!(!output.status.success(), "{log}");
    let error = log
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        error.contains("spark.executor.maxNumFailures = 2") && error.contains("exit code 137"),
        "the job did not fail with the reason:\n{log}"
    );
    assert!(executor_pods(&sim).is_empty(), "{:?}", executor_pods(&sim));
}

/// A pod that vanishes without the watch hearing of it (a lost node, a missed event) is found
/// by the full listings: after spark.kubernetes.executor.missingPodDetectDelta its executor is
/// lost and a replacement pod is asked for; stopping the driver then leaves no pod behind.
#[test]
fn an_executor_pod_missing_from_listings_is_lost_and_replaced() {
    let data = common::tpch_data("0.1");
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    let args = client_mode_endless_args(
        &sim,
        &data,
        &[
            "--conf",
            "spark.kubernetes.executor.apiPollingInterval=300ms",
            "--conf",
            "spark.kubernetes.executor.missingPodDetectDelta=1s",
        ],
    );
    let driver = FollowedProcess::start_job(&args);
    let victim = executor_pods(&sim)
        .into_iter()
        .find(|p| p["status"]["phase"] == "Running")
        .and_then(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .expect("a running executor pod");
    sim.vanish_pod("default", &victim);
    let lost = driver.wait_for(|line| line.contains("executor lost") && line.contains("missing"));
    let replaced =
        driver.wait_for(|line| line.contains("requested executor pod") && line.contains("-exec-3"));
    driver.interrupt();
    let (_, log) = driver.finish();
    assert!(
        lost.is_some_and(|l| l.contains("missing from the API server's listings")),
        "the vanished pod {victim} was not taken as lost:\n{log}"
    );
    assert!(replaced.is_some(), "no replacement was asked for:\n{log}");
    assert!(executor_pods(&sim).is_empty(), "{:?}", executor_pods(&sim));
}

/// PySpark (the pinned client scripts/setup.sh installs) against a driver pod: it runs a
/// grouped query through Spark Connect and prints the rows as JSON.
const PYSPARK_CLIENT: &str = r#"
import json, sys
from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.remote(sys.argv[1]).create()
try:
    rows = (spark.range(0, 70000, 1, 4).withColumn("k", F.col("id") % 7)
            .groupBy("k").agg(F.count("*").alias("n"), F.sum("id").alias("s")).orderBy("k").collect())
    print(json.dumps([[r.k, r.n, r.s] for r in rows]))
finally:
    spark.stop()
"#;

/// `ember submit --server` in cluster mode: the driver pod serves Spark Connect on its address
/// (what the Service resolves to) with executor pods of its own; a real PySpark client runs a
/// query there, and --kill removes the server, its executors and everything else.
#[test]
fn a_spark_connect_server_runs_in_the_driver_pod() {
    let python = common::test_venv_program("python", "PySpark client");
    let sim = KubeSim::start(std::path::Path::new(env!("CARGO_BIN_EXE_ember"))).unwrap();
    let submitted = submit(
        &sim,
        &[
            "--deploy-mode",
            "cluster",
            "--name",
            "notebooks",
            "--server",
            "--conf",
            "spark.kubernetes.container.image=ember:test",
            "--conf",
            "spark.executor.instances=2",
            "--conf",
            "spark.executor.memory=512m",
            "--conf",
            "spark.kubernetes.submission.waitAppCompletion=false",
        ],
    );
    let said = common::stderr(&submitted);
    assert!(submitted.status.success(), "{said}");
    assert!(
        said.contains("sc://notebooks-") && said.contains("-driver-svc.default.svc:15002"),
        "{said}"
    );

    let rt = runtime();
    let pods: Api<Pod> = rt.block_on(async { Api::namespaced(client(&sim), "default") });
    let driver = sim
        .objects("pods", "default")
        .into_iter()
        .find(|p| p["metadata"]["labels"]["ember-role"] == "driver")
        .expect("a driver pod");
    let name = driver["metadata"]["name"].as_str().unwrap().to_string();
    let (address, log) = rt.block_on(async {
        let pod = wait_for_phase(&pods, &name, "Running").await;
        let ip = pod.status.and_then(|s| s.pod_ip).expect("a pod IP");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let log = pods
                .logs(&name, &Default::default())
                .await
                .unwrap_or_default();
            if log.contains("serving Spark Connect") {
                return (format!("sc://{ip}:15002"), log);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server never started:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert!(log.contains(&address.replace("sc://", "")), "{log}");

    // A file, not `python -c`: PySpark takes a main module without a file for doctests.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("client.py");
    std::fs::write(&script, PYSPARK_CLIENT).unwrap();
    let client = std::process::Command::new(&python)
        .arg(&script)
        .arg(&address)
        .output()
        .unwrap();
    assert!(
        client.status.success(),
        "the PySpark client failed:\n{}",
        common::stderr(&client)
    );
    let rows: Vec<[i64; 3]> = serde_json::from_str(common::stdout(&client).trim()).unwrap();
    let expected: Vec<[i64; 3]> = (0..7)
        .map(|k| {
            let ids = (0..70000i64).filter(|id| id % 7 == k);
            [k, ids.clone().count() as i64, ids.sum()]
        })
        .collect();
    assert_eq!(rows, expected);
    let running = executor_pods(&sim)
        .iter()
        .filter(|p| p["status"]["phase"] == "Running")
        .count();
    assert_eq!(running, 2, "{:?}", executor_pods(&sim));

    let killed = submit(&sim, &["--kill", "default:notebooks*"]);
    assert!(killed.status.success(), "{}", common::stderr(&killed));
    assert_nothing_left(&sim);
}
