//! Distributed execution under failure, with real processes: executors killed mid-query,
//! a killed driver, strangers without the secret, and a driver that is not there.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{
    assert_fails_with, assert_same_answer, ember, repo_root, run, stderr, stdout, tpch_data,
    tpch_table_args,
};

/// Executor processes started by `parent`, found through /proc.
fn executor_children(parent: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The parent pid is the second field after the parenthesised command name.
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let ppid: u32 = after_name
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if ppid == parent && cmdline.contains("executor") {
            pids.push(pid);
        }
    }
    pids
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            !stat
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
                .unwrap_or(true)
        })
        .unwrap_or(false)
}

fn kill(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

/// Streams a child's stderr lines to a channel, keeping a copy of everything.
fn watch_stderr(child: &mut Child) -> (mpsc::Receiver<String>, std::thread::JoinHandle<String>) {
    let (sender, receiver) = mpsc::channel();
    let stream = child.stderr.take().unwrap();
    let handle = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            let _ = sender.send(line);
        }
        all
    });
    (receiver, handle)
}

/// Starts `ember` with the driver's stage log on its stderr, watched line by line.
fn spawn_with_stage_log(
    args: &[String],
) -> (
    Child,
    mpsc::Receiver<String>,
    std::thread::JoinHandle<String>,
) {
    let mut child = ember()
        .args(args)
        .env("RUST_LOG", "ember_driver=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, all) = watch_stderr(&mut child);
    (child, lines, all)
}

/// Waits until a stage that reads shuffle blocks starts; false if the log ended first.
fn wait_for_shuffle_read(lines: &mpsc::Receiver<String>) -> bool {
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(60)) {
        if line.contains("stage started") && !line.contains("reads=[]") {
            return true;
        }
    }
    false
}

fn query_args(query: usize, master: &str, data: &std::path::Path) -> Vec<String> {
    let file = repo_root().join(format!("examples/tpch/q{query:02}.sql"));
    let mut args: Vec<String> = [
        "sql",
        "--master",
        master,
        "--format",
        "csv",
        "--log-level",
        "info",
        "-f",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    args.push(file.display().to_string());
    args.extend(tpch_table_args(data));
    args
}

/// Kills one executor as soon as a stage that reads shuffle blocks starts, and expects the
/// answer of an undisturbed run.
fn survives_executor_loss(query: usize) {
    let data = tpch_data("1");
    let expected = run(&query_args(query, "local[2]", &data)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(expected.status.success(), "{}", stderr(&expected));

    let (child, lines, all) =
        spawn_with_stage_log(&query_args(query, "local-cluster[2,1,1024]", &data));
    let mut killed = None;
    if wait_for_shuffle_read(&lines) {
        let executors = executor_children(child.id());
        assert_eq!(executors.len(), 2, "expected two executor processes");
        kill("-KILL", executors[0]);
        killed = Some(executors[0]);
    }
    let output = child.wait_with_output().unwrap();
    let log = all.join().unwrap();
    assert!(killed.is_some(), "no shuffle-reading stage started:\n{log}");
    assert!(
        output.status.success(),
        "Q{query} failed after losing an executor:\n{log}"
    );
    assert!(
        log.contains("executor lost"),
        "the driver did not notice the loss:\n{log}"
    );
    assert_same_answer(
        query,
        &stdout(&expected),
        &stdout(&output),
        "after losing an executor",
    );
}

#[test]
fn q09_survives_a_killed_executor() {
    survives_executor_loss(9);
}

#[test]
fn q18_survives_a_killed_executor() {
    survives_executor_loss(18);
}

#[test]
fn q21_survives_a_killed_executor() {
    survives_executor_loss(21);
}

/// A query that keeps the driver busy in its own process for as long as a test needs.
const LONG_DRIVER_QUERY: &str = "select sum(value) from generate_series(1, 100000000000)";

#[test]
fn executors_exit_when_the_driver_is_killed() {
    let mut child = ember()
        .args([
            "sql",
            "--master",
            "local-cluster[2,1,512]",
            "--conf",
            "spark.network.timeout=5s",
            "-e",
            LONG_DRIVER_QUERY,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut executors = Vec::new();
    while executors.len() < 2 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
        executors = executor_children(child.id());
    }
    assert_eq!(executors.len(), 2, "executors did not start");
    std::thread::sleep(Duration::from_millis(500));
    kill("-KILL", child.id());
    let _ = child.wait();
    let killed_at = Instant::now();
    while executors.iter().any(|pid| alive(*pid)) && killed_at.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let survivors: Vec<_> = executors.iter().filter(|pid| alive(**pid)).collect();
    assert!(
        survivors.is_empty(),
        "executors {survivors:?} outlived their driver by 5 s (the network timeout)"
    );
}

#[test]
fn an_executor_pointed_at_a_dead_address_gives_up() {
    let port = common::free_port();
    let started = Instant::now();
    let output = ember()
        .args([
            "executor",
            "--driver",
            &format!("127.0.0.1:{port}"),
            "--connect-attempts",
            "3",
        ])
        .env("EMBER_SECRET", "anything")
        .output()
        .unwrap();
    assert_fails_with(
        &output,
        &[
            &format!("cannot reach the driver at 127.0.0.1:{port} after 3 attempts"),
            "refused",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

/// A driver on `port` with `secret` (and `extra` arguments) running a query that never ends on
/// one local executor; returns it, its executor's block server address, and its whole log once
/// it exits.
fn start_driver_with_one_executor(
    port: u16,
    secret: &str,
    extra: &[String],
) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut driver = ember()
        .args([
            "sql",
            "--master",
            "local-cluster[1,1,512]",
            "--log-level",
            "info",
            "--conf",
            &format!("spark.driver.port={port}"),
            "--conf",
            &format!("spark.authenticate.secret={secret}"),
            "-e",
            LONG_DRIVER_QUERY,
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, all) = watch_stderr(&mut driver);
    // Its executor registers, telling us where its block server is.
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(60)) {
        if line.contains("executor registered")
            && let Some(address) = line
                .split("flight_address=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
        {
            return (driver, address.to_string(), all);
        }
    }
    kill("-KILL", driver.id());
    panic!("the executor never registered:\n{}", all.join().unwrap());
}

#[test]
fn strangers_without_the_secret_are_refused() {
    let port = common::free_port();
    let (mut driver, flight_address, all) =
        start_driver_with_one_executor(port, "the-right-one", &[]);

    let stranger = ember()
        .args([
            "executor",
            "--driver",
            &format!("127.0.0.1:{port}"),
            "--connect-attempts",
            "1",
        ])
        .env("EMBER_SECRET", "a-guess")
        .output()
        .unwrap();
    assert_fails_with(&stranger, &["the driver refused this executor"]);
    assert!(!stderr(&stranger).contains("the-right-one"));

    let location = ember_proto::MapOutputLocation {
        map_partition: 0,
        executor_id: "exec-0".into(),
        flight_address,
        stage_attempt: 0,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(async {
        let fetcher = ember_plan::FlightFetcher::new(None, "a-guess", None);
        ember_plan::BlockFetcher::fetch(&fetcher, &location, ember_proto::BlockTicket::default())
            .await
    });
    assert!(
        matches!(result, Err(ember_plan::BlockError::Refused(_))),
        "Flight answered a stranger: {result:?}"
    );

    kill("-KILL", driver.id());
    let _ = driver.wait();
    let log = all.join().unwrap();
    assert!(
        log.contains("refused a call without the application secret"),
        "{log}"
    );
    assert!(
        !log.contains("a-guess") && !log.contains("the-right-one"),
        "a secret reached the log:\n{log}"
    );
}

#[test]
fn ctrl_c_cancels_a_distributed_query() {
    let data = tpch_data("1");
    let (mut child, lines, all) =
        spawn_with_stage_log(&query_args(18, "local-cluster[2,1,1024]", &data));
    // Interrupt once work is under way on the executors.
    assert!(
        wait_for_shuffle_read(&lines),
        "no shuffle-reading stage started"
    );
    let executors = executor_children(child.id());
    kill("-INT", child.id());
    let started = Instant::now();
    let status = child.wait().unwrap();
    let log = all.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "cancellation took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(
        log.contains("job cancelled"),
        "running tasks were not killed:\n{log}"
    );
    assert!(
        executors.iter().all(|pid| !alive(*pid)),
        "executors outlived the cancelled application"
    );
}

/// A standing driver (`ember-driver://`) runs Q18 on executors started by hand; one more joins
/// while the query runs and the first one is then killed. The answer must not change.
#[test]
fn a_standing_driver_survives_executors_joining_and_leaving_mid_query() {
    let data = tpch_data("1");
    let expected = run(&query_args(18, "local[2]", &data)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(expected.status.success(), "{}", stderr(&expected));

    let port = common::free_port();
    let master = format!("ember-driver://127.0.0.1:{port}");
    let mut args = query_args(18, &master, &data);
    args.extend([
        "--conf".into(),
        "spark.authenticate.secret=standing".into(),
        "--conf".into(),
        "spark.sql.shuffle.partitions=4".into(),
    ]);
    let mut driver = ember()
        .args(&args)
        .env("RUST_LOG", "ember_driver=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, all) = watch_stderr(&mut driver);
    let local_dir = tempfile::tempdir().unwrap();
    let start_executor = |id: &str| {
        ember()
            .args([
                "executor",
                "--driver",
                &format!("127.0.0.1:{port}"),
                "--id",
                id,
                "--cores",
                "1",
                "--memory",
                "1g",
            ])
            .arg("--local-dir")
            .arg(local_dir.path())
            .env("EMBER_SECRET", "standing")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = start_executor("first");
    let mut second = None;
    let mut killed_first = false;
    while !killed_first {
        let Ok(line) = lines.recv_timeout(Duration::from_secs(60)) else {
            break;
        };
        if second.is_none() && line.contains("stage started") && !line.contains("reads=[]") {
            second = Some(start_executor("second"));
        }
        if line.contains("executor registered") && line.contains("second") {
            kill("-KILL", first.id());
            killed_first = true;
        }
    }
    let output = driver.wait_with_output().unwrap();
    let log = all.join().unwrap();
    let _ = first.wait();
    if let Some(mut second) = second {
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(second.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            matches!(second.try_wait(), Ok(Some(_))),
            "the second executor outlived its driver"
        );
        assert!(
            !local_dir.path().join("ember-second").exists(),
            "the second executor left its blocks and spill files behind"
        );
    }
    assert!(killed_first, "the second executor never joined:\n{log}");
    assert!(output.status.success(), "Q18 failed:\n{log}");
    assert_same_answer(
        18,
        &stdout(&expected),
        &stdout(&output),
        "on a standing driver",
    );
}

#[test]
fn a_standing_driver_requires_a_secret() {
    assert_fails_with(
        &run(&[
            "sql",
            "--master",
            "ember-driver://127.0.0.1:0",
            "-e",
            "select 1",
        ]),
        &["spark.authenticate.secret"],
    );
}

/// A full sort of lineitem at scale 1 (about 400 MB of the sorted columns) on two executors
/// with 256 MiB each: it completes by spilling, and the result is complete and in order.
#[test]
fn a_sort_larger_than_executor_memory_spills_and_completes() {
    let data = tpch_data("1");
    let dir = tempfile::tempdir().unwrap();
    let sorted = dir.path().join("sorted.parquet");
    let output = ember()
        .args(["sql", "--master", "local-cluster[2,1,256]", "--table"])
        .arg(format!("lineitem={}", data.join("lineitem").display()))
        .args(["-e", "select l_orderkey, l_linenumber, l_extendedprice, l_comment from lineitem order by l_extendedprice desc, l_orderkey, l_linenumber"])
        .arg("--output")
        .arg(&sorted)
        // Executors inherit this and report their spills on the driver's stderr.
        .env("RUST_LOG", "datafusion_physical_plan::sorts::sort=debug")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Spilling sort data"),
        "the executors did not spill"
    );
    let check = run(&[
        "sql",
        "--master",
        "local[1]",
        "--format",
        "csv",
        "--table",
        &format!("s={}", sorted.display()),
        "--table",
        &format!("lineitem={}", data.join("lineitem").display()),
        "-e",
        "select (select count(*) from s) as n, \
         (select count(*) from (select l_extendedprice, lag(l_extendedprice) over () as prev from s) where prev < l_extendedprice) as out_of_order, \
         (select sum(l_orderkey * l_linenumber) from s) = (select sum(l_orderkey * l_linenumber) from lineitem) as same_rows",
    ]);
    assert_eq!(
        stdout(&check),
        "n,out_of_order,same_rows\n6001215,0,true\n",
        "{}",
        stderr(&check)
    );
}

/// With every executor gone and none coming back, a query fails after the network timeout
/// with the reason instead of waiting forever.
#[test]
fn a_query_fails_when_no_executor_is_left() {
    let data = tpch_data("1");
    let mut args = query_args(18, "local-cluster[1,2,1024]", &data);
    args.extend(["--conf".into(), "spark.network.timeout=3s".into()]);
    let (mut child, lines, all) = spawn_with_stage_log(&args);
    assert!(
        wait_for_shuffle_read(&lines),
        "no shuffle-reading stage started"
    );
    for pid in executor_children(child.id()) {
        kill("-KILL", pid);
    }
    let killed_at = Instant::now();
    let status = child.wait().unwrap();
    let log = all.join().unwrap();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("no executor has been available"), "{log}");
    assert!(
        killed_at.elapsed() < Duration::from_secs(15),
        "gave up after {:?}",
        killed_at.elapsed()
    );
}

/// On a cluster, the orders side of Q3's join with lineitem is broadcast (so lineitem is not
/// shuffled) under the default spark.sql.autoBroadcastJoinThreshold, and shuffled when it is -1.
#[test]
fn small_join_sides_are_broadcast_unless_turned_off() {
    let data = tpch_data("0.1");
    let sql = std::fs::read_to_string(repo_root().join("examples/tpch/q03.sql")).unwrap();
    let explain = |extra: &[&str]| {
        let mut args = vec![
            "sql".to_string(),
            "--master".into(),
            "local-cluster[2,1,512]".into(),
            "-e".into(),
            format!("EXPLAIN {}", sql.trim().trim_end_matches(';')),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(tpch_table_args(&data));
        let output = ember().args(&args).output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    let lineitem_shuffled = |plan: &str| {
        // A stage that scans lineitem and ends in a hash repartition on l_orderkey alone.
        plan.split("Stage ").any(|stage| {
            stage.contains("lineitem")
                && stage.contains("RepartitionExec: partitioning=Hash([l_orderkey@0], ")
        })
    };
    let default = explain(&[]);
    assert!(default.contains("mode=CollectLeft"), "{default}");
    assert!(!lineitem_shuffled(&default), "{default}");
    let off = explain(&["-c", "spark.sql.autoBroadcastJoinThreshold=-1"]);
    assert!(lineitem_shuffled(&off), "{off}");
}

/// PEM files for one application: a CA, and a certificate it signed for 127.0.0.1 and
/// localhost with its key.
struct TlsFixture {
    dir: tempfile::TempDir,
}

impl TlsFixture {
    fn new() -> TlsFixture {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        TlsFixture { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn conf_args(&self) -> Vec<String> {
        ["cert", "key", "ca"]
            .iter()
            .flat_map(|k| {
                [
                    "--conf".to_string(),
                    format!("ember.tls.{k}={}", self.path(&format!("{k}.pem"))),
                ]
            })
            .collect()
    }

    fn executor_args(&self) -> Vec<String> {
        ["cert", "key", "ca"]
            .iter()
            .flat_map(|k| [format!("--tls-{k}"), self.path(&format!("{k}.pem"))])
            .collect()
    }

    fn tls(&self) -> ember_proto::Tls {
        ember_proto::Tls::load(&ember_proto::TlsFiles {
            cert: self.path("cert.pem").into(),
            key: self.path("key.pem").into(),
            ca: self.path("ca.pem").into(),
        })
        .unwrap()
    }
}

/// With ember.tls.* set, a TPC-H query runs over TLS on both planes and gives the right answer.
#[test]
fn tls_on_both_planes_gives_the_same_answer() {
    let data = tpch_data("0.1");
    let tls = TlsFixture::new();
    let expected = run(&query_args(3, "local[2]", &data)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let mut args = query_args(3, "local-cluster[2,1,512]", &data);
    args.extend(tls.conf_args());
    let output = ember().args(&args).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_same_answer(3, &stdout(&expected), &stdout(&output), "over TLS");
}

/// A TLS application refuses, on both planes, peers that speak plain text or hold a
/// certificate from another CA — even when they know the secret.
#[test]
fn tls_refuses_plain_text_and_foreign_certificates() {
    let tls = TlsFixture::new();
    let foreign = TlsFixture::new();
    let port = common::free_port();
    let (mut driver, flight_address, _all) =
        start_driver_with_one_executor(port, "known", &tls.conf_args());
    let executor = |extra: Vec<String>| {
        ember()
            .args([
                "executor",
                "--driver",
                &format!("127.0.0.1:{port}"),
                "--connect-attempts",
                "1",
            ])
            .args(extra)
            .env("EMBER_SECRET", "known")
            .output()
            .unwrap()
    };
    assert_fails_with(
        &executor(vec![]),
        &["cannot register with the driver", "--tls-cert"],
    );
    assert_fails_with(
        &executor(foreign.executor_args()),
        &["cannot reach the driver", "invalid peer certificate"],
    );

    let location = ember_proto::MapOutputLocation {
        map_partition: 0,
        executor_id: "exec-0".into(),
        flight_address,
        stage_attempt: 0,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fetch = |tls: Option<ember_proto::Tls>| {
        runtime.block_on(async {
            let fetcher = ember_plan::FlightFetcher::new(None, "known", tls);
            ember_plan::BlockFetcher::fetch(
                &fetcher,
                &location,
                ember_proto::BlockTicket::default(),
            )
            .await
        })
    };
    let plain = fetch(None);
    assert!(
        matches!(plain, Err(ember_plan::BlockError::Unreachable { .. })),
        "Flight answered plain text: {plain:?}"
    );
    let stranger = fetch(Some(foreign.tls()));
    assert!(
        matches!(stranger, Err(ember_plan::BlockError::Unreachable { .. })),
        "Flight answered a foreign certificate: {stranger:?}"
    );
    // A client that trusts the application's CA but presents another CA's certificate is
    // refused by the server.
    let impostor = ember_proto::Tls::load(&ember_proto::TlsFiles {
        cert: foreign.path("cert.pem").into(),
        key: foreign.path("key.pem").into(),
        ca: tls.path("ca.pem").into(),
    })
    .unwrap();
    let impostor = fetch(Some(impostor));
    assert!(
        matches!(impostor, Err(ember_plan::BlockError::Unreachable { .. })),
        "Flight answered a client certificate from another CA: {impostor:?}"
    );
    // The application's own certificate gets through to the block lookup (there is no such
    // block), which shows the refusals above came from TLS.
    let own = fetch(Some(tls.tls()));
    assert!(
        matches!(own, Err(ember_plan::BlockError::Missing(_))),
        "{own:?}"
    );
    kill("-KILL", driver.id());
    let _ = driver.wait();
}

#[test]
fn tls_settings_must_come_together_and_be_readable() {
    let tls = TlsFixture::new();
    assert_fails_with(
        &run(&[
            "sql",
            "--master",
            "local-cluster[1,1,512]",
            "--conf",
            &format!("ember.tls.cert={}", tls.path("cert.pem")),
            "-e",
            "select 1",
        ]),
        &["ember.tls.key and ember.tls.ca not set"],
    );
    let mut args: Vec<String> = [
        "sql",
        "--master",
        "local-cluster[1,1,512]",
        "-e",
        "select 1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(tls.conf_args());
    args.extend(["--conf".into(), "ember.tls.ca=/nonexistent/ca.pem".into()]);
    assert_fails_with(
        &run(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        &["cannot read the TLS CA certificate /nonexistent/ca.pem"],
    );
}

/// `count(*)` over a series needs none of its columns; the series must still decode on the
/// executors (DataFusion's encoding drops the projection, see `ember_plan::encode_plan`).
#[test]
fn counting_a_series_runs_on_executors() {
    let output = common::run(&[
        "sql",
        "--master",
        "local-cluster[2,1,512]",
        "--format",
        "csv",
        "-e",
        "select count(*) as n from range(0, 10000)",
    ]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    assert_eq!(common::stdout(&output), "n\n10000\n");
}
