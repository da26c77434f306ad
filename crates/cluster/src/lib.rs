//! Cluster managers that live outside Kubernetes. [`LocalProcessCluster`] backs the
//! `local-cluster[E,C,M]` master: it starts E `ember executor` child processes on this machine
//! and stops them with the driver. Executors also exit by themselves when their driver's
//! stream breaks, so even a driver killed with SIGKILL leaves no orphans.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use ember_driver::{ClusterManager, ExecutorLaunch};

pub struct LocalProcessCluster {
    pub binary: PathBuf,
    pub executors: usize,
    pub cores: usize,
    pub memory_mb: u64,
    /// Parent of every executor's local directory.
    pub local_dir: PathBuf,
    /// Passed on to the executors (`--log-level`).
    pub log_level: String,
    children: Vec<Child>,
}

impl LocalProcessCluster {
    pub fn new(
        binary: PathBuf,
        executors: usize,
        cores: usize,
        memory_mb: u64,
        local_dir: PathBuf,
        log_level: String,
    ) -> Self {
        LocalProcessCluster {
            binary,
            executors,
            cores,
            memory_mb,
            local_dir,
            log_level,
            children: Vec::new(),
        }
    }
}

impl ClusterManager for LocalProcessCluster {
    fn start(&mut self, launch: &ExecutorLaunch) -> Result<(), String> {
        for index in 0..self.executors {
            let mut command = Command::new(&self.binary);
            command.arg("executor");
            if let Some(tls) = &launch.tls {
                command
                    .arg("--tls-cert")
                    .arg(&tls.cert)
                    .arg("--tls-key")
                    .arg(&tls.key)
                    .arg("--tls-ca")
                    .arg(&tls.ca);
            }
            let child = command
                .args(["--driver", &launch.driver_address])
                .args(["--id", &format!("exec-{index}")])
                .args(["--cores", &self.cores.to_string()])
                .args(["--memory", &format!("{}m", self.memory_mb)])
                .arg("--local-dir")
                .arg(&self.local_dir)
                .args(["--log-level", &self.log_level])
                // The secret travels in the environment, never on a command line others can read.
                .env("EMBER_SECRET", &launch.secret)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
            tracing::info!(pid = child.id(), index, "started executor process");
            self.children.push(child);
        }
        Ok(())
    }

    /// Gives executors a moment to leave on the driver's shutdown message (they remove
    /// their files on the way out), then kills what is left.
    fn stop(&mut self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while std::time::Instant::now() < deadline
            && self
                .children
                .iter_mut()
                .any(|c| matches!(c.try_wait(), Ok(None)))
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        for mut child in self.children.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LocalProcessCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
