//! The team's records in a cluster: written once as immutable ConfigMaps, listed by kind, and
//! whether the admission policy that holds them to the requesting user is installed.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};

use super::ops::{OpError, within};
use crate::team::{self, Kind, Shared};

/// Writes one record. A name taken is an error: a record is never overwritten.
pub async fn put(client: &Client, namespace: &str, record: &Shared) -> Result<(), OpError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let what = format!("keeping the {} record in namespace {namespace}", record.kind.word());
    match within(&what, api.create(&PostParams::default(), &record.to_config_map(namespace))).await {
        Ok(_) => Ok(()),
        Err(OpError::NotFound(_)) => Err(OpError::NotFound(format!(
            "{what}: namespace {namespace} does not exist (opsdeck cluster-setup creates it)"
        ))),
        Err(e) => Err(e),
    }
}

/// Every record of `kind` in the namespace, with what could not be read as one. A missing
/// namespace holds no records.
pub async fn list(
    client: &Client,
    namespace: &str,
    kind: Kind,
) -> Result<(Vec<Shared>, Vec<String>), OpError> {
    list_selected(client, namespace, &kind.selector()).await
}

/// Records of `kind` labelled as about `about` (a request id, a checklist run).
pub async fn list_about(
    client: &Client,
    namespace: &str,
    kind: Kind,
    about: &str,
) -> Result<(Vec<Shared>, Vec<String>), OpError> {
    let selector = format!("{},opsdeck.dev/for={}", kind.selector(), team::label_value(about));
    list_selected(client, namespace, &selector).await
}

async fn list_selected(
    client: &Client,
    namespace: &str,
    selector: &str,
) -> Result<(Vec<Shared>, Vec<String>), OpError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let listed =
        match within("listing the team's records", api.list(&ListParams::default().labels(selector))).await {
            Ok(listed) => listed,
            Err(OpError::NotFound(_)) => return Ok((Vec::new(), Vec::new())),
            Err(e) => return Err(e),
        };
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for map in &listed.items {
        match Shared::from_config_map(map) {
            Ok(record) => records.push(record),
            Err(why) => problems.push(why),
        }
    }
    Ok((records, problems))
}

/// Every opsdeck record in the namespace as it is stored (the ones already there first), to
/// `send`, which returns false to stop; runs until then, the watch restarted after an error.
pub async fn watch(client: &Client, namespace: &str, mut send: impl AsyncFnMut(Shared) -> bool) {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let selector = format!("{}={}", team::MANAGED_BY.0, team::MANAGED_BY.1);
    let stream =
        watcher(api, watcher::Config::default().labels(&selector)).default_backoff().applied_objects();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        let Ok(map) = event else {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        };
        if let Ok(record) = Shared::from_config_map(&map)
            && !send(record).await
        {
            return;
        }
    }
}

/// The admission API's versions, newest first: v1 from Kubernetes 1.30, v1beta1 (behind its
/// feature gate) before.
const ADMISSION_VERSIONS: [&str; 2] = ["v1", "v1beta1"];
const ADMISSION_GROUP: &str = "admissionregistration.k8s.io";

fn resource(group: &str, version: &str, kind: &str) -> ApiResource {
    let lower = kind.to_ascii_lowercase();
    let plural = match lower.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{lower}s"),
    };
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") },
        kind: kind.to_owned(),
        plural,
    }
}

/// Whether the server holds records to their writers: the shipped ValidatingAdmissionPolicy
/// and its binding are both there, in whichever version it serves. `Err` when it cannot be
/// told (no answer, or not allowed to read policies): a console says "not known", never
/// "enforced".
pub async fn policy_installed(client: &Client) -> Result<bool, OpError> {
    for version in ADMISSION_VERSIONS {
        let mut found = 0;
        for kind in ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"] {
            let api: Api<DynamicObject> =
                Api::all_with(client.clone(), &resource(ADMISSION_GROUP, version, kind));
            if within("reading the records' admission policy", api.get_opt(team::POLICY_NAME))
                .await?
                .is_some()
            {
                found += 1;
            }
        }
        if found == 2 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Applies the shipped manifest (server-side apply, as `kubectl apply --server-side` would):
/// what was applied, one line each. An admission object the server does not serve as v1 is
/// applied as v1beta1.
pub async fn set_up(client: &Client, items: &[serde_json::Value]) -> Result<Vec<String>, OpError> {
    let mut done = Vec::new();
    for item in items {
        let kind = item["kind"].as_str().unwrap_or_default();
        let name = item.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or_default();
        let (group, version) = match item["apiVersion"].as_str().unwrap_or_default().split_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), item["apiVersion"].as_str().unwrap_or_default().to_owned()),
        };
        let versions: Vec<String> = if group == ADMISSION_GROUP {
            ADMISSION_VERSIONS.iter().map(|v| (*v).to_owned()).collect()
        } else {
            vec![version]
        };
        let mut last = None;
        for version in versions {
            let res = resource(&group, &version, kind);
            let mut body = item.clone();
            body["apiVersion"] = res.api_version.clone().into();
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &res);
            let params = PatchParams::apply("opsdeck").force();
            match within(&format!("applying {kind} {name}"), api.patch(name, &params, &Patch::Apply(&body)))
                .await
            {
                Ok(_) => {
                    done.push(format!("{kind} {name} ({})", res.api_version));
                    last = None;
                    break;
                }
                Err(OpError::NotFound(why)) => last = Some(OpError::NotFound(why)),
                Err(e) => return Err(e),
            }
        }
        if let Some(e) = last {
            return Err(OpError::NotFound(format!(
                "{e}: this API server serves no {kind} (Kubernetes 1.30 has it as v1; 1.28–1.29 as v1beta1 behind the ValidatingAdmissionPolicy feature gate)"
            )));
        }
    }
    Ok(done)
}
