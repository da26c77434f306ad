//! Master URLs, spelt as in Spark.

use std::fmt;

/// Where an application's work runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Master {
    /// `local[N]`: one process with N threads of execution.
    Local { threads: usize },
    /// `local[*]`: one process with as many threads as the machine has cores.
    LocalAllCores,
    /// `local-cluster[E,C,M]`: a driver in this process and E executor processes on this
    /// machine with C cores and M MiB each, talking over real sockets.
    LocalCluster {
        executors: usize,
        cores: usize,
        memory_mb: u64,
    },
    /// `ember-driver://HOST:PORT`: a driver listening on HOST:PORT for executors that someone
    /// else starts (`ember executor --driver ...`), such as a scaled Deployment.
    StandingDriver { host: String, port: u16 },
    /// `k8s://https://HOST:PORT`: executors (and, in cluster mode, the driver) are pods on
    /// the Kubernetes cluster whose API server is at that URL; `k8s://` alone means the
    /// in-cluster configuration or the current kubeconfig context.
    Kubernetes { api_server: Option<String> },
}

impl Master {
    pub fn parse(raw: &str) -> Result<Master, String> {
        let raw = raw.trim();
        if raw == "local" {
            return Ok(Master::Local { threads: 1 });
        }
        if let Some(inner) = raw.strip_prefix("local[").and_then(|r| r.strip_suffix(']')) {
            if inner == "*" {
                return Ok(Master::LocalAllCores);
            }
            return match inner.parse::<usize>() {
                Ok(n) if n > 0 => Ok(Master::Local { threads: n }),
                _ => Err(format!(
                    "`{raw}`: the thread count in local[N] must be a positive integer or *"
                )),
            };
        }
        if let Some(rest) = raw.strip_prefix("k8s://") {
            let api_server = match rest {
                "" => None,
                // Spark reads a bare HOST:PORT as https.
                url if url.starts_with("https://") || url.starts_with("http://") => {
                    Some(url.to_string())
                }
                host_port => Some(format!("https://{host_port}")),
            };
            return Ok(Master::Kubernetes { api_server });
        }
        if let Some(address) = raw.strip_prefix("ember-driver://") {
            let bad = || format!("`{raw}`: expected ember-driver://HOST:PORT");
            let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
            let port = port.parse::<u16>().map_err(|_| bad())?;
            if host.is_empty() {
                return Err(bad());
            }
            return Ok(Master::StandingDriver {
                host: host.to_string(),
                port,
            });
        }
        if let Some(inner) = raw
            .strip_prefix("local-cluster[")
            .and_then(|r| r.strip_suffix(']'))
        {
            let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
            let bad = || {
                format!(
                    "`{raw}`: local-cluster[E,C,M] takes executors, cores and MiB per executor, all positive"
                )
            };
            let [e, c, m] = parts.as_slice() else {
                return Err(bad());
            };
            let positive = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0);
            return match (positive(e), positive(c), positive(m)) {
                (Some(e), Some(c), Some(m)) => Ok(Master::LocalCluster {
                    executors: e as usize,
                    cores: c as usize,
                    memory_mb: m,
                }),
                _ => Err(bad()),
            };
        }
        Err(format!(
            "`{raw}` is not a master Ember supports; use local, local[N], local[*], local-cluster[E,C,M], ember-driver://HOST:PORT or k8s://https://HOST:PORT"
        ))
    }

    /// Threads of execution this master offers: the local engine's threads, or every
    /// executor core of a local cluster. A standing driver does not know yet; this process's
    /// cores stand in until its executors have registered.
    pub fn threads(&self) -> usize {
        match self {
            Master::StandingDriver { .. } | Master::Kubernetes { .. } => {
                Master::LocalAllCores.threads()
            }
            Master::LocalCluster {
                executors, cores, ..
            } => executors * cores,
            Master::Local { threads } => *threads,
            Master::LocalAllCores => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

impl fmt::Display for Master {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Master::Local { threads } => write!(f, "local[{threads}]"),
            Master::LocalAllCores => f.write_str("local[*]"),
            Master::LocalCluster {
                executors,
                cores,
                memory_mb,
            } => {
                write!(f, "local-cluster[{executors},{cores},{memory_mb}]")
            }
            Master::StandingDriver { host, port } => write!(f, "ember-driver://{host}:{port}"),
            Master::Kubernetes { api_server } => {
                write!(f, "k8s://{}", api_server.as_deref().unwrap_or_default())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spark_spellings() {
        assert_eq!(Master::parse("local"), Ok(Master::Local { threads: 1 }));
        assert_eq!(Master::parse("local[4]"), Ok(Master::Local { threads: 4 }));
        assert_eq!(Master::parse("local[*]"), Ok(Master::LocalAllCores));
        assert!(Master::parse("local[0]").is_err());
        assert!(Master::parse("yarn").unwrap_err().contains("yarn"));
        assert_eq!(
            Master::parse("local-cluster[2, 1, 1024]"),
            Ok(Master::LocalCluster {
                executors: 2,
                cores: 1,
                memory_mb: 1024
            })
        );
        assert_eq!(
            Master::parse("local-cluster[3,2,512]").unwrap().threads(),
            6
        );
        assert!(Master::parse("local-cluster[2,1]").is_err());
        assert!(Master::parse("local-cluster[0,1,512]").is_err());
        assert_eq!(
            Master::parse("ember-driver://0.0.0.0:7078"),
            Ok(Master::StandingDriver {
                host: "0.0.0.0".into(),
                port: 7078
            })
        );
        assert!(Master::parse("ember-driver://nohost").is_err());
        assert_eq!(
            Master::parse("k8s://https://10.0.0.1:6443"),
            Ok(Master::Kubernetes {
                api_server: Some("https://10.0.0.1:6443".into())
            })
        );
        assert_eq!(
            Master::parse("k8s://10.0.0.1:6443").unwrap().to_string(),
            "k8s://https://10.0.0.1:6443"
        );
        assert_eq!(
            Master::parse("k8s://"),
            Ok(Master::Kubernetes { api_server: None })
        );
        assert!(Master::LocalAllCores.threads() >= 1);
    }
}
