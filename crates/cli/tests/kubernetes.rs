//! What `ember submit` renders for Kubernetes (`--dry-run=client`): every object validated
//! against the official Kubernetes 1.37 schemas (kubernetes-validate, installed by
//! scripts/setup.sh), compared with a reviewed golden file, and checked field by field for the
//! settings that must show: templates, volumes, node selectors, tolerations, resources.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{assert_fails_with, ember, repo_root, stderr, stdout};
use serde_json::Value;

/// Ids fixed so the output repeats.
const FIXED_IDS: [&str; 4] = [
    "--conf",
    "ember.kubernetes.appId=ember-0123456789abcdef",
    "--conf",
    "ember.kubernetes.submissionId=feedc0de",
];

fn submit(args: &[&str]) -> Output {
    ember()
        .current_dir(repo_root())
        .arg("submit")
        .args(args)
        .output()
        .unwrap()
}

fn dry_run(args: &[&str]) -> String {
    let mut all = vec!["--dry-run=client", "-o", "yaml"];
    all.extend(FIXED_IDS);
    all.extend(args);
    let output = submit(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

fn validator() -> PathBuf {
    common::test_venv_program("kubernetes-validate", "kubernetes-validate")
}

/// Validates YAML documents against Kubernetes 1.37's schemas, rejecting unknown fields.
fn validate(yaml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("objects.yaml");
    std::fs::write(&file, yaml).unwrap();
    let output = std::process::Command::new(validator())
        .args(["--strict", "--quiet", "-k", "1.37.0"])
        .arg(&file)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", stdout(&output), stderr(&output)))
    }
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name_suffix: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| {
            o["kind"] == kind
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(name_suffix))
        })
        .unwrap_or_else(|| panic!("no {kind} named *{name_suffix}"))
}

fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name} in {pod}"))
}

const CLUSTER_ARGS: &[&str] = &[
    "--master",
    "k8s://https://10.0.0.1:6443",
    "--deploy-mode",
    "cluster",
    "--name",
    "Nightly Revenue",
    "--conf",
    "spark.kubernetes.namespace=analytics",
    "--conf",
    "spark.kubernetes.container.image=ember:0.1.0",
    "--conf",
    "spark.kubernetes.executor.container.image=ember:0.1.0-exec",
    "--conf",
    "spark.kubernetes.container.image.pullPolicy=Always",
    "--conf",
    "spark.kubernetes.container.image.pullSecrets=registry-a, registry-b",
    "--conf",
    "spark.kubernetes.authenticate.driver.serviceAccountName=ember-driver",
    "--conf",
    "spark.executor.instances=2",
    "--conf",
    "spark.executor.cores=2",
    "--conf",
    "spark.executor.memory=4g",
    "--conf",
    "spark.executor.memoryOverhead=512m",
    "--conf",
    "spark.kubernetes.executor.limit.cores=2500m",
    "--conf",
    "spark.driver.memory=2g",
    "--conf",
    "spark.kubernetes.driver.request.cores=2",
    "--conf",
    "spark.kubernetes.driver.limit.cores=3",
    "--conf",
    "spark.kubernetes.node.selector.disktype=ssd",
    "--conf",
    "spark.kubernetes.driver.node.selector.disktype=nvme",
    "--conf",
    "spark.kubernetes.executor.label.team=revenue",
    "--conf",
    "spark.kubernetes.executor.annotation.cost-center=42",
    "--conf",
    "spark.executorEnv.TZ=UTC",
    "--conf",
    "spark.kubernetes.driverEnv.MODE=nightly",
    "--conf",
    "spark.kubernetes.executor.volumes.persistentVolumeClaim.data.mount.path=/data",
    "--conf",
    "spark.kubernetes.executor.volumes.persistentVolumeClaim.data.mount.readOnly=true",
    "--conf",
    "spark.kubernetes.executor.volumes.persistentVolumeClaim.data.options.claimName=warehouse",
    "--conf",
    "spark.kubernetes.executor.volumes.emptyDir.ember-local.mount.path=/scratch",
    "--conf",
    "spark.kubernetes.executor.volumes.emptyDir.ember-local.options.medium=Memory",
    "--conf",
    "spark.kubernetes.driver.volumes.hostPath.certs.mount.path=/etc/certs",
    "--conf",
    "spark.kubernetes.driver.volumes.hostPath.certs.options.path=/etc/ssl/certs",
    "--conf",
    "spark.kubernetes.driver.podTemplateFile=testdata/kubernetes/driver-template.yaml",
    "--conf",
    "spark.kubernetes.driver.podTemplateContainerName=main",
    "--conf",
    "spark.kubernetes.executor.podTemplateFile=deploy/example/executor-template.yaml",
    "--conf",
    "spark.kubernetes.executor.podTemplateContainerName=ember",
    "--conf",
    "spark.kubernetes.scheduler.name=volcano",
    "--conf",
    "ember.kubernetes.priorityClassName=batch-low",
    "examples/revenue-report/report.sql",
];

/// The reviewed rendering of CLUSTER_ARGS; `EMBER_BLESS=1` rewrites it after a change that
/// is meant.
#[test]
fn cluster_mode_rendering_matches_the_golden_file_and_the_schemas() {
    let yaml = dry_run(CLUSTER_ARGS);
    validate(&yaml).unwrap_or_else(|e| panic!("invalid Kubernetes objects:\n{e}\n{yaml}"));
    let golden = repo_root().join("testdata/kubernetes/cluster-mode.yaml");
    if std::env::var_os("EMBER_BLESS").is_some() {
        std::fs::write(&golden, &yaml).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        yaml == expected,
        "the rendering differs from {} (EMBER_BLESS=1 to accept it):\n{yaml}",
        golden.display()
    );
}

#[test]
fn cluster_mode_objects_carry_what_was_configured() {
    let objects = documents(&dry_run(CLUSTER_ARGS));
    assert_eq!(
        objects.len(),
        6,
        "driver, secret, config map, service, 2 executors"
    );
    let driver = find(&objects, "Pod", "-driver");
    let meta = &driver["metadata"];
    assert_eq!(meta["name"], "nightly-revenue-01234567-driver");
    assert_eq!(meta["namespace"], "analytics");
    assert_eq!(meta["labels"]["ember-app-id"], "ember-0123456789abcdef");
    assert_eq!(meta["labels"]["ember-role"], "driver");
    assert_eq!(meta["annotations"]["from-template"], "yes");
    let spec = &driver["spec"];
    assert_eq!(spec["tolerations"][0]["key"], "dedicated", "template kept");
    assert_eq!(spec["securityContext"]["fsGroup"], 10001, "template kept");
    assert_eq!(spec["nodeSelector"]["disktype"], "nvme", "driver key wins");
    assert_eq!(spec["nodeSelector"]["pool"], "from-template");
    assert_eq!(spec["serviceAccountName"], "ember-driver");
    assert_eq!(spec["schedulerName"], "volcano");
    assert_eq!(spec["priorityClassName"], "batch-low");
    assert_eq!(spec["restartPolicy"], "Never");
    assert_eq!(spec["imagePullSecrets"][1]["name"], "registry-b");
    let main = container(driver, "main");
    assert_eq!(main["image"], "ember:0.1.0");
    assert_eq!(main["imagePullPolicy"], "Always");
    assert_eq!(main["resources"]["requests"]["cpu"], "2");
    assert_eq!(main["resources"]["limits"]["cpu"], "3");
    // 2 GiB plus Spark's minimum overhead of 384 MiB.
    assert_eq!(main["resources"]["requests"]["memory"], "2432Mi");
    assert_eq!(main["resources"]["limits"]["memory"], "2432Mi");
    let env: Vec<&str> = main["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for name in [
        "FROM_TEMPLATE",
        "MODE",
        "EMBER_CONF_spark_authenticate_secret",
    ] {
        assert!(env.contains(&name), "{name} missing from {env:?}");
    }
    let mounts = main["volumeMounts"].to_string();
    assert!(
        mounts.contains("/etc/certs") && mounts.contains("/opt/ember/app"),
        "{mounts}"
    );

    let executor = find(&objects, "Pod", "-exec-2");
    let meta = &executor["metadata"];
    assert_eq!(meta["labels"]["team"], "revenue");
    assert_eq!(meta["labels"]["ember-exec-id"], "2");
    assert_eq!(meta["annotations"]["cost-center"], "42");
    assert_eq!(
        meta["ownerReferences"][0]["name"],
        "nightly-revenue-01234567-driver"
    );
    assert_eq!(meta["ownerReferences"][0]["kind"], "Pod");
    let spec = &executor["spec"];
    assert_eq!(
        spec["tolerations"][0]["value"], "ember",
        "executor template kept"
    );
    assert!(spec["affinity"]["nodeAffinity"].is_object());
    assert_eq!(spec["nodeSelector"]["disktype"], "ssd");
    container(executor, "log-shipper");
    let ember_container = container(executor, "ember");
    assert_eq!(ember_container["image"], "ember:0.1.0-exec");
    let resources = &ember_container["resources"];
    assert_eq!(resources["requests"]["cpu"], "2");
    assert_eq!(resources["limits"]["cpu"], "2500m");
    assert_eq!(resources["requests"]["memory"], "4608Mi");
    assert_eq!(
        resources["limits"]["ephemeral-storage"], "8Gi",
        "template kept"
    );
    let args: Vec<&str> = ember_container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args[..3],
        [
            "executor",
            "--driver",
            "nightly-revenue-01234567-driver-svc.analytics.svc:7078"
        ]
    );
    let local_dir = args.iter().position(|a| *a == "--local-dir").unwrap();
    assert_eq!(
        args[local_dir + 1],
        "/scratch",
        "the ember-local volume replaces the default"
    );
    let volumes = spec["volumes"].to_string();
    assert!(
        volumes.contains("warehouse") && volumes.contains("Memory"),
        "{volumes}"
    );
    assert_eq!(
        ember_container["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "EMBER_SECRET")
            .unwrap()["valueFrom"]["secretKeyRef"]["name"],
        "nightly-revenue-01234567-secret"
    );

    let service = find(&objects, "Service", "-driver-svc");
    assert_eq!(service["spec"]["clusterIP"], "None");
    assert_eq!(service["spec"]["selector"]["ember-role"], "driver");
    let config = find(&objects, "ConfigMap", "-conf");
    let properties = config["data"]["ember.properties"].as_str().unwrap();
    assert!(
        properties.contains("spark.submit.deployMode=cluster"),
        "{properties}"
    );
    assert!(properties.contains(
        "spark.kubernetes.executor.podTemplateFile=/opt/ember/app/executor-pod-template.yaml"
    ));
    assert!(!properties.contains("authenticate.secret"), "{properties}");
    assert!(config["data"]["executor-pod-template.yaml"].is_string());
    assert!(config["data"]["report.sql"].is_string());
    for owned in [service, config, find(&objects, "Secret", "-secret")] {
        assert_eq!(owned["metadata"]["ownerReferences"][0]["kind"], "Pod");
    }
}

#[test]
fn client_mode_renders_executors_that_reach_this_process() {
    let yaml = dry_run(&[
        "--master",
        "k8s://",
        "--deploy-mode",
        "client",
        "--conf",
        "spark.kubernetes.container.image=ember:0.1.0",
        "--conf",
        "spark.driver.host=10.1.2.3",
        "--conf",
        "spark.driver.port=7078",
        "examples/revenue-report/report.sql",
    ]);
    validate(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let objects = documents(&yaml);
    assert_eq!(objects.len(), 2, "spark.executor.instances defaults to 2");
    for pod in &objects {
        assert_eq!(pod["kind"], "Pod");
        assert!(pod["metadata"]["ownerReferences"].is_null());
        assert!(
            pod["spec"]["containers"][0]["args"]
                .to_string()
                .contains("10.1.2.3:7078")
        );
    }
}

#[test]
fn shipped_manifests_are_valid_kubernetes() {
    for file in [
        "deploy/rbac.yaml",
        "deploy/example/executor-template.yaml",
        "testdata/kubernetes/driver-template.yaml",
    ] {
        let yaml = std::fs::read_to_string(repo_root().join(file)).unwrap();
        validate(&yaml).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let example = dry_run(&[
        "--master",
        "k8s://",
        "--deploy-mode",
        "cluster",
        "--properties-file",
        "deploy/example/revenue-report.properties",
        "deploy/example/revenue-report.sql",
    ]);
    validate(&example).unwrap_or_else(|e| panic!("the example: {e}"));
}

/// The schema check can fail: a wrong type and an unknown field are both caught.
#[test]
fn the_schema_check_rejects_broken_objects() {
    let yaml = dry_run(&[
        "--master",
        "k8s://",
        "--conf",
        "spark.kubernetes.container.image=ember:0.1.0",
        "--conf",
        "spark.driver.host=10.1.2.3",
        "--conf",
        "spark.driver.port=7078",
        "examples/revenue-report/report.sql",
    ]);
    validate(&yaml).unwrap();
    let wrong_type = yaml.replacen("restartPolicy: Never", "restartPolicy: [Never]", 1);
    assert!(validate(&wrong_type).unwrap_err().contains("restartPolicy"));
    let unknown = yaml.replacen("restartPolicy: Never", "restartPolicyy: Never", 1);
    assert!(validate(&unknown).unwrap_err().contains("restartPolicyy"));
}

#[test]
fn bad_kubernetes_settings_are_named() {
    let base = |extra: &[&str]| {
        let mut args = vec![
            "--dry-run=client",
            "--master",
            "k8s://",
            "--deploy-mode",
            "cluster",
            "--conf",
            "spark.kubernetes.container.image=ember:0.1.0",
        ];
        args.extend(extra);
        submit(&args)
    };
    let app = "examples/revenue-report/report.sql";
    assert_fails_with(
        &submit(&["--dry-run=client", "--master", "k8s://", app]),
        &["spark.kubernetes.container.image is required"],
    );
    assert_fails_with(
        &base(&[
            "--conf",
            "spark.kubernetes.executor.volumes.nfs.share.mount.path=/x",
            app,
        ]),
        &["unsupported volume type `nfs`"],
    );
    assert_fails_with(
        &base(&[
            "--conf",
            "spark.kubernetes.executor.volumes.hostPath.logs.mount.path=/logs",
            app,
        ]),
        &[
            "spark.kubernetes.executor.volumes.hostPath.logs.options.path",
            "required",
        ],
    );
    assert_fails_with(
        &base(&[
            "--conf",
            "spark.kubernetes.driver.podTemplateFile=testdata/kubernetes/driver-template.yaml",
            "--conf",
            "spark.kubernetes.driver.podTemplateContainerName=nope",
            app,
        ]),
        &["no container named `nope`", "main"],
    );
    assert_fails_with(
        &base(&[
            "--conf",
            "spark.kubernetes.driver.podTemplateFile=/nonexistent.yaml",
            app,
        ]),
        &["cannot read the pod template /nonexistent.yaml"],
    );
    assert_fails_with(
        &submit(&[
            "--dry-run=client",
            "--master",
            "k8s://",
            "--deploy-mode",
            "client",
            "--conf",
            "spark.kubernetes.container.image=ember:0.1.0",
            app,
        ]),
        &["client mode needs spark.driver.host"],
    );
    assert_fails_with(
        &submit(&[
            "--dry-run=client",
            "--master",
            "k8s://",
            "--conf",
            "spark.kubernetes.container.image=ember:0.1.0",
            "--conf",
            "spark.driver.host=10.1.2.3",
            app,
        ]),
        &["client mode needs spark.driver.port"],
    );
    let big = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(big.path(), "-- x\n".repeat(300_000)).unwrap();
    assert_fails_with(
        &base(&[big.path().to_str().unwrap()]),
        &[
            "over the 1048576-byte limit of a ConfigMap",
            "spark.kubernetes.file.upload.path",
        ],
    );
    assert_fails_with(
        &submit(&["--dry-run=client", "--master", "local[2]", app]),
        &["ember submit needs --master k8s://"],
    );
    assert_fails_with(
        &base(&["--conf", "spark.kubernetes.driver.labels.x=y", app]),
        &["spark.kubernetes.driver.labels.x"],
    );
    assert_fails_with(
        &base(&[
            "--conf",
            "spark.kubernetes.file.upload.path=s3a://bucket/up",
            app,
        ]),
        &["spark.kubernetes.file.upload.path", "not supported yet"],
    );
    assert_fails_with(
        &base(&["--conf", "ember.tls.ca=/etc/ember/ca.pem", app]),
        &["ember.tls.ca", "not supported on k8s:// masters yet"],
    );
}

/// `ember submit --server` in cluster mode: the driver pod runs `ember server` on its pod's
/// address, the Service and the container expose Spark Connect's port, and the token travels
/// in the Secret (never printed), not in the properties file.
#[test]
fn a_spark_connect_server_in_cluster_mode_is_reachable_through_the_service() {
    let yaml = dry_run(&[
        "--master",
        "k8s://",
        "--deploy-mode",
        "cluster",
        "--name",
        "notebooks",
        "--server",
        "--conf",
        "spark.kubernetes.container.image=ember:0.1.0",
        "--conf",
        "spark.connect.grpc.binding.port=15003",
        "--conf",
        "ember.connect.token=s3cr3t-token",
    ]);
    validate(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert!(!yaml.contains("s3cr3t-token"), "{yaml}");
    let objects = documents(&yaml);
    let driver = container(find(&objects, "Pod", "-driver"), "ember-driver");
    let args: Vec<&str> = driver["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "server");
    assert!(
        args.windows(2).any(|w| w == ["--port", "15003"]),
        "{args:?}"
    );
    let env = driver["env"].as_array().unwrap();
    let bind = env
        .iter()
        .find(|e| e["name"] == "EMBER_CONF_spark_connect_grpc_binding_address")
        .unwrap();
    assert_eq!(bind["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP");
    let token = env
        .iter()
        .find(|e| e["name"] == "EMBER_CONF_ember_connect_token")
        .unwrap();
    assert_eq!(token["valueFrom"]["secretKeyRef"]["key"], "connect-token");
    assert!(
        driver["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "spark-connect" && p["containerPort"] == 15003)
    );
    let service = find(&objects, "Service", "-driver-svc");
    assert!(
        service["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "spark-connect" && p["port"] == 15003)
    );
    let secret = find(&objects, "Secret", "");
    assert!(secret["data"]["connect-token"].is_string());
    let config_map = find(&objects, "ConfigMap", "");
    let properties = config_map["data"]["ember.properties"].as_str().unwrap();
    assert!(!properties.contains("ember.connect.token"), "{properties}");
}
