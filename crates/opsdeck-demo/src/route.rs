//! Turning a request path into what it names, the way the API server's mux does.

use super::resources::{self, Resource};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Version,
    Health,
    /// `/api`
    CoreVersions,
    /// `/apis`
    GroupList,
    /// `/apis/GROUP`
    Group(String),
    /// `/api/v1`, `/apis/GROUP/VERSION`
    ResourceList {
        group: String,
        version: String,
    },
    Collection {
        resource: &'static Resource,
        namespace: Option<String>,
    },
    Object {
        resource: &'static Resource,
        namespace: Option<String>,
        name: String,
    },
    Subresource {
        resource: &'static Resource,
        namespace: Option<String>,
        name: String,
        sub: String,
    },
    /// `/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`
    PodProxy {
        namespace: String,
        pod: String,
        port: Option<String>,
        path: String,
    },
    /// `/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`
    ServiceProxy {
        namespace: String,
        service: String,
        port: Option<String>,
        path: String,
    },
    /// The fleet's request counter (not a Kubernetes path).
    DemoRequests,
    /// Every pod's metrics on one endpoint, for a real Prometheus server to scrape.
    DemoMetrics,
    Unknown,
}

pub fn parse(path: &str) -> Route {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "readyz" | "livez", ..] => Route::Health,
        ["demo", "requests"] => Route::DemoRequests,
        ["demo", "metrics"] => Route::DemoMetrics,
        ["api"] => Route::CoreVersions,
        ["api", version] => Route::ResourceList { group: String::new(), version: (*version).to_owned() },
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis"] => Route::GroupList,
        ["apis", group] => Route::Group((*group).to_owned()),
        ["apis", group, version] => {
            Route::ResourceList { group: (*group).to_owned(), version: (*version).to_owned() }
        }
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => Route::Unknown,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let find = |plural: &str| resources::find(group, version, plural);
    match rest {
        // The Namespace object and its subresources share the prefix with namespaced paths.
        ["namespaces", name] => object(find("namespaces"), None, name),
        ["namespaces", name, sub @ ("status" | "finalize")] => {
            subresource(find("namespaces"), None, name, sub)
        }
        ["namespaces", ns, plural, tail @ ..] => {
            let Some(resource) = find(plural).filter(|r| r.namespaced) else { return Route::Unknown };
            let namespace = Some((*ns).to_owned());
            match tail {
                [] => Route::Collection { resource, namespace },
                [name] => object(Some(resource), namespace, name),
                [name, "proxy", path @ ..] if resource.plural == "pods" => {
                    let (pod, port) = match name.split_once(':') {
                        Some((pod, port)) => (pod.to_owned(), Some(port.to_owned())),
                        None => ((*name).to_owned(), None),
                    };
                    Route::PodProxy { namespace: (*ns).to_owned(), pod, port, path: path.join("/") }
                }
                [name, "proxy", path @ ..] if resource.plural == "services" => {
                    let (service, port) = match name.split_once(':') {
                        Some((service, port)) => (service.to_owned(), Some(port.to_owned())),
                        None => ((*name).to_owned(), None),
                    };
                    Route::ServiceProxy { namespace: (*ns).to_owned(), service, port, path: path.join("/") }
                }
                [name, sub] => subresource(Some(resource), namespace, name, sub),
                _ => Route::Unknown,
            }
        }
        [plural] => {
            find(plural).map_or(Route::Unknown, |resource| Route::Collection { resource, namespace: None })
        }
        [plural, name] => object(find(plural).filter(|r| !r.namespaced), None, name),
        [plural, name, sub] => subresource(find(plural).filter(|r| !r.namespaced), None, name, sub),
        _ => Route::Unknown,
    }
}

fn object(resource: Option<&'static Resource>, namespace: Option<String>, name: &str) -> Route {
    resource.map_or(Route::Unknown, |resource| Route::Object { resource, namespace, name: name.to_owned() })
}

fn subresource(
    resource: Option<&'static Resource>,
    namespace: Option<String>,
    name: &str,
    sub: &str,
) -> Route {
    match resource {
        Some(resource) if resource.subresources.contains(&sub) => {
            Route::Subresource { resource, namespace, name: name.to_owned(), sub: sub.to_owned() }
        }
        _ => Route::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_kubernetes_paths() {
        assert_eq!(
            parse("/api/v1/namespaces"),
            Route::Collection {
                resource: resources::find("", "v1", "namespaces").expect("ns"),
                namespace: None
            }
        );
        assert!(
            matches!(parse("/api/v1/namespaces/shop"), Route::Object { name, namespace: None, .. } if name == "shop")
        );
        assert!(matches!(
            parse("/apis/apps/v1/namespaces/shop/deployments/web/scale"),
            Route::Subresource { name, sub, namespace: Some(ns), .. } if name == "web" && sub == "scale" && ns == "shop"
        ));
        assert!(matches!(
            parse("/api/v1/namespaces/shop/pods/web-1:8080/proxy/metrics"),
            Route::PodProxy { pod, port: Some(port), path, .. } if pod == "web-1" && port == "8080" && path == "metrics"
        ));
        assert!(matches!(parse("/apis/apps/v1/deployments"), Route::Collection { namespace: None, .. }));
        assert_eq!(parse("/apis/apps/v1/namespaces/shop/nodes"), Route::Unknown, "nodes are cluster-scoped");
        assert_eq!(parse("/apis/apps/v1/namespaces/shop/deployments/web/exec"), Route::Unknown);
        assert_eq!(parse("/apis/apps"), Route::Group("apps".into()));
    }
}
