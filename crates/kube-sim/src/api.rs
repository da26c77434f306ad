//! The HTTP side: the paths and verbs of the core/v1 API that Ember and kube-rs use.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::quota;
use crate::status::ApiError;
use crate::store::{KINDS, kind_of, matches_fields, matches_labels};
use crate::{Sim, kubelet};

type Params = Query<HashMap<String, String>>;

pub async fn handle(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    Query(params): Params,
    body: Bytes,
) -> Response {
    let parts: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let result = match (method.clone(), parts.as_slice()) {
        (Method::GET, ["version"]) => Ok(json_response(json!({
            "major": "1", "minor": "37", "gitVersion": "v1.37.0-ember-sim",
            "platform": "linux/amd64",
        }))),
        (Method::GET, ["api"]) => Ok(json_response(json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        }))),
        (Method::GET, ["apis"]) => Ok(json_response(
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
        )),
        (Method::GET, ["api", "v1"]) => Ok(json_response(discovery())),
        (Method::GET, ["api", "v1", plural]) => list_or_watch(&sim, plural, None, &params).await,
        (_, ["api", "v1", "namespaces", ns, plural]) => match method {
            Method::GET => list_or_watch(&sim, plural, Some(ns), &params).await,
            Method::POST => create(&sim, plural, ns, &body),
            _ => Err(ApiError::method_not_allowed()),
        },
        (_, ["api", "v1", "namespaces", ns, plural, name]) => match method {
            Method::GET => get(&sim, plural, ns, name),
            Method::DELETE => delete(&sim, plural, ns, name, &body),
            Method::PUT => replace(&sim, plural, ns, name, &body),
            _ => Err(ApiError::method_not_allowed()),
        },
        (Method::GET, ["api", "v1", "namespaces", ns, "pods", name, "status"]) => {
            get(&sim, "pods", ns, name)
        }
        (Method::GET, ["api", "v1", "namespaces", ns, "pods", name, "log"]) => {
            logs(&sim, ns, name, &params).await
        }
        _ => Err(ApiError::bad_request(format!(
            "the simulated API server does not serve {method} {}",
            uri.path()
        ))),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn json_response(value: Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

fn discovery() -> Value {
    let resources: Vec<Value> = KINDS
        .iter()
        .map(|(plural, kind)| {
            json!({"name": plural, "singularName": kind.to_lowercase(), "namespaced": true,
                   "kind": kind, "verbs": ["create", "delete", "get", "list", "watch", "update"]})
        })
        .chain([
            json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}),
            json!({"name": "pods/status", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}),
        ])
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": resources})
}

fn known(plural: &str) -> Result<&'static str, ApiError> {
    kind_of(plural).ok_or_else(|| {
        ApiError::bad_request(format!("the simulated API server has no resource {plural}"))
    })
}

fn selected(object: &Value, params: &HashMap<String, String>) -> bool {
    params
        .get("labelSelector")
        .is_none_or(|s| matches_labels(s, &object["metadata"]["labels"]))
        && params
            .get("fieldSelector")
            .is_none_or(|s| matches_fields(s, object))
}

async fn list_or_watch(
    sim: &Arc<Sim>,
    plural: &str,
    namespace: Option<&str>,
    params: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let kind = known(plural)?;
    let watching = params.get("watch").is_some_and(|w| w == "true" || w == "1");
    if !watching {
        let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
        let items: Vec<Value> = store
            .list(plural, namespace)
            .into_iter()
            .filter(|o| selected(o, params))
            .cloned()
            .collect();
        return Ok(json_response(json!({
            "apiVersion": "v1",
            "kind": format!("{kind}List"),
            "metadata": {"resourceVersion": store.resource_version().to_string()},
            "items": items,
        })));
    }
    let since: u64 = params
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .unwrap_or(300u64);
    let plural = plural.to_string();
    let namespace = namespace.map(str::to_string);
    let params = params.clone();
    let sim = sim.clone();
    // Replays changes after `since` (or the current objects, for a watch from 0), then
    // follows new ones until the timeout.
    let stream = async_stream(move |tx| async move {
        let mut changes = sim.changes.subscribe();
        let mut cursor = since;
        if since == 0 {
            let initial: Vec<Value> = {
                let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
                cursor = store.resource_version();
                store
                    .list(&plural, namespace.as_deref())
                    .into_iter()
                    .cloned()
                    .collect()
            };
            for object in initial.into_iter().filter(|o| selected(o, &params)) {
                if tx.send(line("ADDED", &object)).await.is_err() {
                    return;
                }
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        loop {
            let pending = {
                let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
                store.changes_since(cursor)
            };
            for change in pending {
                cursor = change.resource_version;
                if change.plural != plural
                    || namespace.as_deref().is_some_and(|n| n != change.namespace)
                    || !selected(&change.object, &params)
                {
                    continue;
                }
                if tx.send(line(change.kind, &change.object)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = changes.recv() => {}
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

fn line(kind: &str, object: &Value) -> Result<String, std::io::Error> {
    Ok(format!("{}\n", json!({"type": kind, "object": object})))
}

/// A stream fed by a task through a channel.
fn async_stream<F, Fut>(
    producer: F,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> + Send
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<String, std::io::Error>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(producer(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn get(sim: &Arc<Sim>, plural: &str, ns: &str, name: &str) -> Result<Response, ApiError> {
    known(plural)?;
    let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
    store
        .get(plural, ns, name)
        .map(|o| json_response(o.clone()))
        .ok_or_else(|| ApiError::not_found(plural, name))
}

/// A lowercase RFC 1123 subdomain (most objects) or RFC 1035 label (services).
fn validate_name(kind: &str, plural: &str, name: &str) -> Result<(), ApiError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let (ok, detail) = if plural == "services" {
        (
            label_ok(name) && name.starts_with(|c: char| c.is_ascii_lowercase()),
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        )
    } else {
        (
            name.len() <= 253 && name.split('.').all(label_ok),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        )
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            kind,
            plural,
            name,
            "metadata.name",
            detail.to_string(),
        ))
    }
}

fn create(sim: &Arc<Sim>, plural: &str, ns: &str, body: &[u8]) -> Result<Response, ApiError> {
    let kind = known(plural)?;
    let mut object: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the object is not JSON: {e}")))?;
    let name = match object["metadata"]["name"].as_str() {
        Some(name) => name.to_string(),
        None => match object["metadata"]["generateName"].as_str() {
            Some(prefix) => {
                let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..5].into();
                let name = format!("{prefix}{suffix}");
                object["metadata"]["name"] = json!(name);
                name
            }
            None => {
                return Err(ApiError::invalid(
                    kind,
                    plural,
                    "",
                    "metadata.name",
                    "name or generateName is required".into(),
                ));
            }
        },
    };
    validate_name(kind, plural, &name)?;
    object["apiVersion"] = json!("v1");
    object["kind"] = json!(kind);
    let mut store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
    if store.get(plural, ns, &name).is_some() {
        return Err(ApiError::already_exists(plural, &name));
    }
    if plural == "secrets"
        && let Some(strings) = object.get("stringData").and_then(Value::as_object).cloned()
    {
        use base64_lite::encode;
        let data = object["data"].as_object().cloned().unwrap_or_default();
        let mut data = data;
        for (k, v) in strings {
            data.insert(k, json!(encode(v.as_str().unwrap_or_default().as_bytes())));
        }
        object["data"] = Value::Object(data);
        if let Some(map) = object.as_object_mut() {
            map.remove("stringData");
        }
    }
    if plural == "pods" {
        let quotas = store.list("resourcequotas", Some(ns));
        let existing: Vec<&Value> = store
            .list("pods", Some(ns))
            .into_iter()
            .filter(|p| !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")))
            .collect();
        quota::admit(&object, &quotas, &existing)
            .map_err(|why| ApiError::forbidden(plural, &name, why))?;
        object["status"] = json!({"phase": "Pending", "qosClass": "Burstable"});
    }
    let created = store.create(plural, ns, object);
    drop(store);
    sim.changed();
    if plural == "pods" {
        kubelet::start(sim.clone(), ns.to_string(), name);
    }
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

fn replace(
    sim: &Arc<Sim>,
    plural: &str,
    ns: &str,
    name: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    known(plural)?;
    let object: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the object is not JSON: {e}")))?;
    let mut store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
    let current = store
        .get(plural, ns, name)
        .ok_or_else(|| ApiError::not_found(plural, name))?;
    if let Some(version) = object["metadata"]["resourceVersion"].as_str()
        && Some(version) != current["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::conflict(plural, name));
    }
    let mut merged = object;
    for field in ["uid", "creationTimestamp", "namespace"] {
        merged["metadata"][field] = current["metadata"][field].clone();
    }
    if plural == "pods" {
        merged["status"] = current["status"].clone();
    }
    let updated = store.update(plural, ns, merged);
    drop(store);
    sim.changed();
    Ok(json_response(updated))
}

fn delete(
    sim: &Arc<Sim>,
    plural: &str,
    ns: &str,
    name: &str,
    _body: &[u8],
) -> Result<Response, ApiError> {
    known(plural)?;
    let object = {
        let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
        store
            .get(plural, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(plural, name))?
    };
    if plural == "pods" {
        // The kubelet stops the process and removes the pod once it has exited.
        let mut marked = object.clone();
        marked["metadata"]["deletionTimestamp"] = json!(crate::store::now());
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        let updated = {
            let mut store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
            store.update(plural, ns, marked)
        };
        sim.changed();
        kubelet::stop(sim, ns, name);
        return Ok(json_response(updated));
    }
    sim.remove(plural, ns, name);
    Ok(json_response(object))
}

async fn logs(
    sim: &Arc<Sim>,
    ns: &str,
    name: &str,
    params: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let path = {
        let store = sim.store.lock().unwrap_or_else(|p| p.into_inner());
        if store.get("pods", ns, name).is_none() {
            return Err(ApiError::not_found("pods", name));
        }
        sim.log_path(ns, name)
    };
    let follow = params.get("follow").is_some_and(|f| f == "true");
    if !follow {
        let text = tokio::fs::read_to_string(&path).await.unwrap_or_default();
        return Ok((StatusCode::OK, text).into_response());
    }
    let sim = sim.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    let stream = async_stream(move |tx| async move {
        let mut offset = 0usize;
        loop {
            let text = tokio::fs::read(&path).await.unwrap_or_default();
            if text.len() > offset {
                let chunk = String::from_utf8_lossy(&text[offset..]).into_owned();
                offset = text.len();
                if tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
            if !sim.is_running(&ns, &name) {
                // One last read after the exit, then the stream ends as kubectl's does.
                let text = tokio::fs::read(&path).await.unwrap_or_default();
                if text.len() > offset {
                    let _ = tx
                        .send(Ok(String::from_utf8_lossy(&text[offset..]).into_owned()))
                        .await;
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .body(Body::from_stream(stream.map(|r| r.map(Bytes::from))))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

/// Base64 without another dependency: Secrets carry their data base64-encoded.
pub mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut buffer = 0u32;
        let mut bits = 0;
        for c in text
            .bytes()
            .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        {
            let value = ALPHABET.iter().position(|a| *a == c)? as u32;
            buffer = (buffer << 6) | value;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trip() {
            for text in ["", "a", "ab", "abc", "secret value!"] {
                let encoded = super::encode(text.as_bytes());
                assert_eq!(super::decode(&encoded).unwrap(), text.as_bytes());
            }
            assert_eq!(super::encode(b"abc"), "YWJj");
        }
    }
}
