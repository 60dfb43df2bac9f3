//! The team's records, kept in each environment's cluster as immutable labelled ConfigMaps —
//! the way Helm keeps releases there — so every console sees colleagues' operations, signed
//! checklists and approvals, and a gate holds from any laptop, with no server to run. The local
//! audit log stays the journal of what this console did; the cluster is the team's. Pure: the
//! objects' shape, and what a set of them means; the cluster layer reads and writes them.

pub mod approval;
pub mod lease;
mod object;
pub mod signoff;

pub use object::{
    DATA_KEY, Kind, MANAGED_BY, RECORD_LABEL, REQUESTER_ANNOTATION, Shared, USER_ANNOTATION, label_value,
    object_name,
};

/// The ValidatingAdmissionPolicy opsdeck ships for its records; its presence is how a console
/// tells whether the server enforces who wrote a record.
pub const POLICY_NAME: &str = "opsdeck-records";

/// The shipped manifest (`config/kubernetes/opsdeck-records.json`): the records' namespace,
/// the admission policy and its binding, for the namespace `namespace`.
pub fn manifest(namespace: &str) -> Vec<serde_json::Value> {
    const SHIPPED: &str = include_str!("../config/kubernetes/opsdeck-records.json");
    let list: serde_json::Value = serde_json::from_str(SHIPPED).unwrap_or_default();
    let mut items = list["items"].as_array().cloned().unwrap_or_default();
    for item in &mut items {
        if item["kind"] == "Namespace" {
            item["metadata"]["name"] = namespace.into();
        }
        if let Some(labels) = item.pointer_mut("/spec/matchResources/namespaceSelector/matchLabels") {
            labels["kubernetes.io/metadata.name"] = namespace.into();
        }
    }
    items
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_manifest_parses_and_follows_the_namespace() {
        let items = super::manifest("release-team");
        let kinds: Vec<&str> = items.iter().filter_map(|i| i["kind"].as_str()).collect();
        assert_eq!(kinds, ["Namespace", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);
        assert_eq!(items[0]["metadata"]["name"], "release-team");
        assert_eq!(
            items[2]
                .pointer("/spec/matchResources/namespaceSelector/matchLabels/kubernetes.io~1metadata.name"),
            Some(&serde_json::json!("release-team"))
        );
        assert_eq!(items[1]["metadata"]["name"], super::POLICY_NAME);
    }
}
