//! Rendering an application's objects from its settings.

use std::collections::BTreeMap;

use ember_config::{ConfSource, EmberConf, lookup};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, LocalObjectReference, ObjectFieldSelector, Pod, PodSecurityContext,
    ResourceRequirements, Secret, SecretKeySelector, SecurityContext, Service, ServicePort,
    ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::{ByteString, Resource};

use crate::volumes::configured_volumes;
use crate::{AppIdentity, KubeError, template};

/// The port of the driver's executor endpoint inside a driver pod.
pub const DRIVER_PORT: u16 = 7078;
/// Where shuffle blocks and spill files live in Ember's pods.
pub const LOCAL_DIR: &str = "/var/data/ember";
/// Where the application's files (and its settings) are mounted in the driver pod.
pub const APP_FILES_DIR: &str = "/opt/ember/app";
/// The executor pod template inside [`APP_FILES_DIR`], in cluster mode.
const EXECUTOR_TEMPLATE_FILE: &str = "executor-pod-template.yaml";
/// The settings file inside [`APP_FILES_DIR`].
const PROPERTIES_FILE: &str = "ember.properties";
/// Kubernetes refuses a ConfigMap whose data exceeds 1 MiB.
const CONFIG_MAP_LIMIT: usize = 1024 * 1024;
/// Where the driver container's termination message is written.
const TERMINATION_LOG: &str = "/dev/termination-log";
/// The key of the application secret inside its Secret.
const SECRET_KEY: &str = "secret";
/// The Secret's key holding `ember.connect.token`, when a Spark Connect server has one.
const CONNECT_TOKEN_KEY: &str = "connect-token";
/// Spark Connect's port when `spark.connect.grpc.binding.port` does not say.
pub const CONNECT_PORT: u16 = 15002;
const LOCAL_VOLUME: &str = "ember-local";
const APP_VOLUME: &str = "ember-app";
/// Spark's floor for memory overhead.
const MIN_OVERHEAD_BYTES: u64 = 384 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployMode {
    Cluster,
    Client,
}

/// A file of the application, shipped to the driver pod in its ConfigMap.
#[derive(Debug, Clone)]
pub struct LocalFile {
    pub name: String,
    pub contents: String,
}

/// What the driver pod runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverProgram {
    /// `ember sql -f` on this application file (shipped in the ConfigMap).
    SqlFile(String),
    /// `ember server`: a Spark Connect endpoint behind the driver's Service.
    ConnectServer,
}

/// What cluster mode creates, in creation order after the driver pod.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub driver_pod: Pod,
    pub secret: Secret,
    pub config_map: ConfigMap,
    pub service: Service,
}

/// Renders one application's objects.
pub struct Renderer<'a> {
    conf: &'a EmberConf,
    app: AppIdentity,
    namespace: String,
}

#[derive(Clone, Copy)]
enum Role {
    Driver,
    Executor,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Driver => "driver",
            Role::Executor => "executor",
        }
    }
}

impl<'a> Renderer<'a> {
    pub fn new(conf: &'a EmberConf, app: AppIdentity) -> Result<Renderer<'a>, KubeError> {
        if conf.get("spark.kubernetes.container.image").is_none()
            && (conf
                .get("spark.kubernetes.driver.container.image")
                .is_none()
                || conf
                    .get("spark.kubernetes.executor.container.image")
                    .is_none())
        {
            return Err(KubeError::Missing {
                key: "spark.kubernetes.container.image",
                hint: "the image Ember's pods run, built from the project's Dockerfile (e.g. ember:0.1.0)",
            });
        }
        if let Some(path) = conf.get("spark.kubernetes.file.upload.path") {
            return Err(KubeError::Invalid {
                key: "spark.kubernetes.file.upload.path".into(),
                value: path.into(),
                message: "uploading application files is not supported yet; they travel in a ConfigMap (1 MiB at most), so put larger ones in a custom image (FROM ember) or object storage".into(),
            });
        }
        // Refused rather than ignored: executor pods without the certificates could not reach a
        // driver that requires them.
        if let Some(key) = ["ember.tls.cert", "ember.tls.key", "ember.tls.ca"]
            .into_iter()
            .find(|key| conf.get(key).is_some())
        {
            return Err(KubeError::Invalid {
                key: key.into(),
                value: conf.get(key).unwrap_or_default().into(),
                message: "TLS between the driver and executor pods is not supported on k8s:// masters yet; the application secret still authenticates every connection (use a service mesh such as Istio or Linkerd for encryption in the meantime)".into(),
            });
        }
        let namespace = conf
            .get("spark.kubernetes.namespace")
            .unwrap_or("default")
            .to_string();
        Ok(Renderer {
            conf,
            app,
            namespace,
        })
    }

    pub fn app(&self) -> &AppIdentity {
        &self.app
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn driver_pod_name(&self) -> String {
        self.conf
            .get("spark.kubernetes.driver.pod.name")
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}-driver", self.app.prefix))
    }

    pub fn service_name(&self) -> String {
        format!("{}-driver-svc", self.app.prefix)
    }

    pub fn secret_name(&self) -> String {
        format!("{}-secret", self.app.prefix)
    }

    pub fn config_map_name(&self) -> String {
        format!("{}-conf", self.app.prefix)
    }

    pub fn executor_pod_name(&self, index: u32) -> String {
        let prefix = self
            .conf
            .get("spark.kubernetes.executor.podNamePrefix")
            .map(str::to_string)
            .unwrap_or_else(|| self.app.prefix.clone());
        format!("{prefix}-exec-{index}")
    }

    /// The driver's address as executors in the cluster reach it, in cluster mode.
    pub fn driver_service_address(&self) -> String {
        format!(
            "{}.{}.svc:{DRIVER_PORT}",
            self.service_name(),
            self.namespace
        )
    }

    /// The labels that select this application's objects of one role.
    pub fn selector(&self, role: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("ember-app-id".to_string(), self.app.id.clone()),
            ("ember-role".to_string(), role.to_string()),
        ])
    }

    fn labels(&self, role: Role) -> BTreeMap<String, String> {
        let mut labels: BTreeMap<String, String> = self
            .conf
            .with_prefix(&format!("spark.kubernetes.{}.label.", role.as_str()))
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        labels.extend(self.selector(role.as_str()));
        labels.insert("app.kubernetes.io/name".into(), "ember".into());
        labels.insert("app.kubernetes.io/instance".into(), self.app.prefix.clone());
        labels.insert("ember-submission-id".into(), self.app.submission_id.clone());
        labels
    }

    fn metadata(&self, name: String, role: Role) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels(role)),
            ..ObjectMeta::default()
        }
    }

    /// The reference that makes an object owned by the driver pod.
    pub fn owner_reference(driver_pod_name: &str, driver_pod_uid: &str) -> OwnerReference {
        OwnerReference {
            api_version: Pod::API_VERSION.to_string(),
            kind: Pod::KIND.to_string(),
            name: driver_pod_name.to_string(),
            uid: driver_pod_uid.to_string(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    /// The port a Spark Connect server listens on.
    pub fn connect_port(&self) -> u16 {
        self.conf
            .get_usize("spark.connect.grpc.binding.port")
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(CONNECT_PORT)
    }

    /// Everything cluster mode creates. `program` is what the driver runs; `secret` the
    /// application's token; `owner_uid` the driver pod's uid once known (owner references of
    /// the other objects carry it).
    pub fn cluster_mode(
        &self,
        files: &[LocalFile],
        program: &DriverProgram,
        secret: &str,
        owner_uid: &str,
    ) -> Result<Rendered, KubeError> {
        let owner = Self::owner_reference(&self.driver_pod_name(), owner_uid);
        let owned = |mut meta: ObjectMeta| {
            meta.owner_references = Some(vec![owner.clone()]);
            meta
        };
        let mut data: BTreeMap<String, String> = files
            .iter()
            .map(|f| (f.name.clone(), f.contents.clone()))
            .collect();
        // The driver pod renders executor pods, so it needs the executor template itself.
        let mut overrides = Vec::new();
        if let Some(path) = self.conf.get("spark.kubernetes.executor.podTemplateFile") {
            let contents = std::fs::read_to_string(path).map_err(|e| KubeError::Template {
                path: path.into(),
                message: e.to_string(),
            })?;
            data.insert(EXECUTOR_TEMPLATE_FILE.into(), contents);
            overrides.push((
                "spark.kubernetes.executor.podTemplateFile",
                format!("{APP_FILES_DIR}/{EXECUTOR_TEMPLATE_FILE}"),
            ));
        }
        data.insert(PROPERTIES_FILE.into(), self.driver_properties(overrides));
        let bytes: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
        if bytes > CONFIG_MAP_LIMIT {
            return Err(KubeError::TooLargeForConfigMap {
                bytes,
                limit: CONFIG_MAP_LIMIT,
            });
        }
        let config_map = ConfigMap {
            metadata: owned(self.metadata(self.config_map_name(), Role::Driver)),
            data: Some(data),
            ..ConfigMap::default()
        };
        let mut secret_data = BTreeMap::from([(
            SECRET_KEY.to_string(),
            ByteString(secret.as_bytes().to_vec()),
        )]);
        if let Some(token) = self.connect_token(program) {
            secret_data.insert(
                CONNECT_TOKEN_KEY.to_string(),
                ByteString(token.as_bytes().to_vec()),
            );
        }
        let secret = Secret {
            metadata: owned(self.metadata(self.secret_name(), Role::Driver)),
            type_: Some("Opaque".into()),
            data: Some(secret_data),
            ..Secret::default()
        };
        let ports = self
            .driver_ports(program)
            .into_iter()
            .map(|(name, port)| ServicePort {
                name: Some(name.into()),
                port: i32::from(port),
                target_port: None,
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            })
            .collect();
        let service = Service {
            metadata: owned(self.metadata(self.service_name(), Role::Driver)),
            spec: Some(ServiceSpec {
                cluster_ip: Some("None".into()),
                selector: Some(self.selector("driver")),
                ports: Some(ports),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        Ok(Rendered {
            driver_pod: self.driver_pod(program)?,
            secret,
            config_map,
            service,
        })
    }

    /// The settings the driver pod runs with: every setting given explicitly (never the
    /// secret, which comes from the Secret), plus where the driver is and listens.
    fn driver_properties(&self, overrides: Vec<(&'static str, String)>) -> String {
        let mut lines = vec![
            "# Written by ember submit; the application secret comes from its Secret.".to_string(),
        ];
        let fixed = [
            // In the pod the client finds its cluster from the environment: the pod's service
            // account (in-cluster configuration), or a kubeconfig it is given.
            ("spark.master", "k8s://".to_string()),
            ("spark.submit.deployMode", "cluster".to_string()),
            ("spark.kubernetes.driver.pod.name", self.driver_pod_name()),
            ("spark.kubernetes.namespace", self.namespace.clone()),
            (
                "spark.driver.host",
                format!("{}.{}.svc", self.service_name(), self.namespace),
            ),
            ("spark.driver.port", DRIVER_PORT.to_string()),
            ("spark.local.dir", LOCAL_DIR.to_string()),
            ("ember.kubernetes.appId", self.app.id.clone()),
            (
                "ember.kubernetes.submissionId",
                self.app.submission_id.clone(),
            ),
            // Used at submission; the driver pod is already made from it.
            ("spark.kubernetes.driver.podTemplateFile", String::new()),
        ];
        let fixed: Vec<(&str, String)> = fixed.into_iter().chain(overrides).collect();
        for (key, value, source) in self.conf.display_entries() {
            let is_secret = lookup(&key).is_some_and(|k| k.secret);
            if source == ConfSource::Default || is_secret || fixed.iter().any(|(k, _)| *k == key) {
                continue;
            }
            lines.push(format!("{key}={value}"));
        }
        for (key, value) in fixed.into_iter().filter(|(_, v)| !v.is_empty()) {
            lines.push(format!("{key}={value}"));
        }
        lines.join("\n") + "\n"
    }

    /// The driver's named ports, on its container and its Service alike.
    fn driver_ports(&self, program: &DriverProgram) -> Vec<(&'static str, u16)> {
        let mut ports = vec![("driver-rpc", DRIVER_PORT)];
        if *program == DriverProgram::ConnectServer {
            ports.push(("spark-connect", self.connect_port()));
        }
        ports
    }

    /// The token a Spark Connect driver checks, which travels in the Secret.
    fn connect_token(&self, program: &DriverProgram) -> Option<&str> {
        match program {
            DriverProgram::ConnectServer => self.conf.get("ember.connect.token"),
            DriverProgram::SqlFile(_) => None,
        }
    }

    fn driver_pod(&self, program: &DriverProgram) -> Result<Pod, KubeError> {
        let properties = format!("{APP_FILES_DIR}/{PROPERTIES_FILE}");
        let args = match program {
            DriverProgram::SqlFile(main) => vec![
                "sql".to_string(),
                "--properties-file".into(),
                properties,
                "-f".into(),
                format!("{APP_FILES_DIR}/{main}"),
            ],
            DriverProgram::ConnectServer => vec![
                "server".to_string(),
                "--properties-file".into(),
                properties,
                "--port".into(),
                self.connect_port().to_string(),
            ],
        };
        let mut env = vec![
            secret_env(
                "EMBER_CONF_spark_authenticate_secret",
                &self.secret_name(),
                SECRET_KEY,
            ),
            // The driver listens on its pod's address (the environment beats the properties
            // file), which the headless Service resolves to.
            field_env("EMBER_CONF_spark_driver_bindAddress", "status.podIP"),
            EnvVar {
                name: "EMBER_TERMINATION_LOG".into(),
                value: Some(TERMINATION_LOG.into()),
                value_from: None,
            },
        ];
        if *program == DriverProgram::ConnectServer {
            // Clients reach the server through the Service, which resolves to the pod's IP.
            env.push(field_env(
                "EMBER_CONF_spark_connect_grpc_binding_address",
                "status.podIP",
            ));
        }
        if self.connect_token(program).is_some() {
            env.push(secret_env(
                "EMBER_CONF_ember_connect_token",
                &self.secret_name(),
                CONNECT_TOKEN_KEY,
            ));
        }
        env.extend(self.env_family("spark.kubernetes.driverEnv."));
        let mut pod = self.pod(Role::Driver, self.driver_pod_name(), args, env)?;
        let spec = pod.spec.get_or_insert_with(Default::default);
        spec.volumes.get_or_insert_with(Vec::new).push(Volume {
            name: APP_VOLUME.into(),
            config_map: Some(ConfigMapVolumeSource {
                name: self.config_map_name(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
        let index = self.container_index(spec, Role::Driver)?;
        let container = &mut spec.containers[index];
        container
            .volume_mounts
            .get_or_insert_with(Vec::new)
            .push(VolumeMount {
                name: APP_VOLUME.into(),
                mount_path: APP_FILES_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
        let ports = self.driver_ports(program);
        container
            .ports
            .get_or_insert_with(Vec::new)
            .extend(ports.into_iter().map(|(name, port)| ContainerPort {
                name: Some(name.into()),
                container_port: i32::from(port),
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            }));
        // The driver writes why it failed to its termination message, so `ember submit
        // --status` can tell without the log; a crash before that falls back to the log's tail.
        container.termination_message_path = Some(TERMINATION_LOG.into());
        container.termination_message_policy = Some("FallbackToLogsOnError".into());
        Ok(pod)
    }

    /// Executor pod number `index`. `driver_address` is HOST:PORT of the driver's executor
    /// endpoint; `owner` makes the pod the driver pod's (when the driver is a pod).
    pub fn executor_pod(
        &self,
        index: u32,
        driver_address: &str,
        owner: Option<OwnerReference>,
    ) -> Result<Pod, KubeError> {
        let cores = self.conf.get_usize("spark.executor.cores").unwrap_or(1);
        let memory = self
            .conf
            .get_bytes("spark.executor.memory")
            .unwrap_or(1 << 30);
        let local_dir = self.local_dir(Role::Executor)?;
        let args = vec![
            "executor".to_string(),
            "--driver".into(),
            driver_address.into(),
            "--id".into(),
            format!("exec-{index}"),
            "--cores".into(),
            cores.to_string(),
            "--memory".into(),
            format!("{}m", memory / (1024 * 1024)),
            "--local-dir".into(),
            local_dir,
            // Kubernetes substitutes the pod's IP: other executors fetch blocks from it.
            "--host".into(),
            "$(EMBER_POD_IP)".into(),
            "--bind".into(),
            "0.0.0.0".into(),
        ];
        let mut env = vec![secret_env("EMBER_SECRET", &self.secret_name(), SECRET_KEY)];
        env.extend(self.env_family("spark.executorEnv."));
        let mut pod = self.pod(Role::Executor, self.executor_pod_name(index), args, env)?;
        let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.insert("ember-exec-id".into(), index.to_string());
        if let Some(owner) = owner {
            pod.metadata.owner_references = Some(vec![owner]);
        }
        Ok(pod)
    }

    fn local_dir(&self, role: Role) -> Result<String, KubeError> {
        Ok(configured_volumes(self.conf, role.as_str())?
            .into_iter()
            .find(|(v, _)| v.name == LOCAL_VOLUME)
            .map(|(_, m)| m.mount_path)
            .unwrap_or_else(|| LOCAL_DIR.to_string()))
    }

    fn env_family(&self, prefix: &str) -> Vec<EnvVar> {
        self.conf
            .with_prefix(prefix)
            .into_iter()
            .map(|(name, value)| EnvVar {
                name: name.to_string(),
                value: Some(value.to_string()),
                value_from: None,
            })
            .collect()
    }

    fn container_index(
        &self,
        spec: &mut k8s_openapi::api::core::v1::PodSpec,
        role: Role,
    ) -> Result<usize, KubeError> {
        let key = format!(
            "spark.kubernetes.{}.podTemplateContainerName",
            role.as_str()
        );
        let wanted = self.conf.get(&key);
        template::ember_container(spec, wanted, &format!("ember-{}", role.as_str())).map_err(
            |message| KubeError::Invalid {
                key: key.clone(),
                value: wanted.unwrap_or_default().to_string(),
                message,
            },
        )
    }

    /// A pod of `role`: the template (if any) with Ember's fields laid over it.
    fn pod(
        &self,
        role: Role,
        name: String,
        args: Vec<String>,
        mut env: Vec<EnvVar>,
    ) -> Result<Pod, KubeError> {
        let r = role.as_str();
        let conf = self.conf;
        let mut pod = template::load(conf.get(&format!("spark.kubernetes.{r}.podTemplateFile")))?;

        let meta = &mut pod.metadata;
        meta.name = Some(name);
        meta.namespace = Some(self.namespace.clone());
        meta.generate_name = None;
        meta.labels
            .get_or_insert_with(BTreeMap::new)
            .extend(self.labels(role));
        let annotations: Vec<_> = conf.with_prefix(&format!("spark.kubernetes.{r}.annotation."));
        if !annotations.is_empty() {
            meta.annotations.get_or_insert_with(BTreeMap::new).extend(
                annotations
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            );
        }

        let spec = pod.spec.get_or_insert_with(Default::default);
        spec.restart_policy = Some("Never".into());
        if let Some(account) = conf.get(&format!(
            "spark.kubernetes.authenticate.{r}.serviceAccountName"
        )) {
            spec.service_account_name = Some(account.into());
        }
        let mut selector: BTreeMap<String, String> = spec.node_selector.take().unwrap_or_default();
        for prefix in [
            "spark.kubernetes.node.selector.".to_string(),
            format!("spark.kubernetes.{r}.node.selector."),
        ] {
            for (k, v) in conf.with_prefix(&prefix) {
                selector.insert(k.to_string(), v.to_string());
            }
        }
        spec.node_selector = (!selector.is_empty()).then_some(selector);
        if let Some(secrets) = conf.get("spark.kubernetes.container.image.pullSecrets") {
            let list = spec.image_pull_secrets.get_or_insert_with(Vec::new);
            for name in secrets.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                list.push(LocalObjectReference { name: name.into() });
            }
        }
        if let Some(scheduler) = conf
            .get(&format!("spark.kubernetes.{r}.scheduler.name"))
            .or_else(|| conf.get("spark.kubernetes.scheduler.name"))
        {
            spec.scheduler_name = Some(scheduler.into());
        }
        if let Some(class) = conf.get("ember.kubernetes.priorityClassName") {
            spec.priority_class_name = Some(class.into());
        }
        if spec.security_context.is_none() {
            spec.security_context = Some(PodSecurityContext {
                run_as_non_root: Some(true),
                ..PodSecurityContext::default()
            });
        }

        let volumes = configured_volumes(conf, r)?;
        let has_local = volumes.iter().any(|(v, _)| v.name == LOCAL_VOLUME);
        let spec_volumes = spec.volumes.get_or_insert_with(Vec::new);
        let mut mounts = Vec::new();
        for (volume, mount) in volumes {
            spec_volumes.retain(|v| v.name != volume.name);
            spec_volumes.push(volume);
            mounts.push(mount);
        }
        if !has_local {
            spec_volumes.push(Volume {
                name: LOCAL_VOLUME.into(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            });
            mounts.push(VolumeMount {
                name: LOCAL_VOLUME.into(),
                mount_path: LOCAL_DIR.into(),
                ..VolumeMount::default()
            });
        }

        env.push(field_env("EMBER_POD_IP", "status.podIP"));
        let resources = self.resources(role)?;
        let image = conf
            .get(&format!("spark.kubernetes.{r}.container.image"))
            .or_else(|| conf.get("spark.kubernetes.container.image"))
            .unwrap_or_default()
            .to_string();
        let pull_policy = conf
            .get("spark.kubernetes.container.image.pullPolicy")
            .unwrap_or("IfNotPresent")
            .to_string();

        let index = self.container_index(spec, role)?;
        let container: &mut Container = &mut spec.containers[index];
        container.image = Some(image);
        container.image_pull_policy = Some(pull_policy);
        container.command = Some(vec!["ember".into()]);
        container.args = Some(args);
        let container_env = container.env.get_or_insert_with(Vec::new);
        container_env.retain(|e| !env.iter().any(|ours| ours.name == e.name));
        container_env.extend(env);
        container
            .volume_mounts
            .get_or_insert_with(Vec::new)
            .extend(mounts);
        let requirements = container.resources.get_or_insert_with(Default::default);
        for (target, ours) in [
            (&mut requirements.requests, resources.requests),
            (&mut requirements.limits, resources.limits),
        ] {
            if let Some(ours) = ours {
                target.get_or_insert_with(BTreeMap::new).extend(ours);
            }
        }
        if container.security_context.is_none() {
            container.security_context = Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".into()]),
                    add: None,
                }),
                ..SecurityContext::default()
            });
        }
        Ok(pod)
    }

    fn resources(&self, role: Role) -> Result<ResourceRequirements, KubeError> {
        let r = role.as_str();
        let conf = self.conf;
        let memory = conf
            .get_bytes(&format!("spark.{r}.memory"))
            .unwrap_or(1 << 30);
        let overhead = match conf.get_bytes(&format!("spark.{r}.memoryOverhead")) {
            Some(bytes) => bytes,
            None => {
                let factor = conf
                    .get_f64(&format!("spark.{r}.memoryOverheadFactor"))
                    .unwrap_or(0.1);
                ((memory as f64 * factor) as u64).max(MIN_OVERHEAD_BYTES)
            }
        };
        let memory = Quantity(format!("{}Mi", (memory + overhead).div_ceil(1024 * 1024)));
        let cpu_request = conf
            .get(&format!("spark.kubernetes.{r}.request.cores"))
            .map(str::to_string)
            .unwrap_or_else(|| {
                conf.get_usize(&format!("spark.{r}.cores"))
                    .unwrap_or(1)
                    .to_string()
            });
        let mut limits = BTreeMap::from([("memory".to_string(), memory.clone())]);
        if let Some(limit) = conf.get(&format!("spark.kubernetes.{r}.limit.cores")) {
            limits.insert("cpu".into(), Quantity(limit.into()));
        }
        Ok(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_string(), Quantity(cpu_request)),
                ("memory".to_string(), memory),
            ])),
            limits: Some(limits),
            ..ResourceRequirements::default()
        })
    }
}

fn field_env(name: &str, field: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path: field.into(),
            }),
            ..EnvVarSource::default()
        }),
    }
}

fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
    }
}
