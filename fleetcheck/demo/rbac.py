"""ClusterRoles and ClusterRoleBindings: Kubernetes' bootstrap ones, kubeadm's, and the organisation's.

The organisation's RBAC (``platform-*``, ``oidc:platform-admins``, a
break-glass binding to an OIDC user, Velero's service account) is the same
on every clean cluster, so FC-RBAC-001 has a fleet baseline to compare with.
Add-on roles that follow the add-on (CNI, Prometheus, fluent-bit) are left
out on purpose: a cluster on another CNI would otherwise differ in RBAC too,
and that difference is FC-CNI-002's finding, not drift.
"""

from __future__ import annotations

from fleetcheck.demo.build import DAY, ClusterBuild, Obj
from fleetcheck.demo.controllers import gitops_marks

__all__ = [
    "ORG_RBAC_APP",
    "READONLY_RULES",
    "add_cluster_role",
    "add_cluster_role_binding",
    "add_rbac",
    "subject",
]

ORG_RBAC_APP = "platform-rbac"
_RBAC = "rbac.authorization.k8s.io"
_READ = ["get", "list", "watch"]
_BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}

#: What ``platform-readonly`` grants: read on everything people debug with, never Secrets.
READONLY_RULES: list[Obj] = [
    {
        "apiGroups": [""],
        "resources": [
            "configmaps",
            "endpoints",
            "events",
            "limitranges",
            "namespaces",
            "nodes",
            "persistentvolumeclaims",
            "persistentvolumes",
            "pods",
            "pods/log",
            "resourcequotas",
            "serviceaccounts",
            "services",
        ],
        "verbs": _READ,
    },
    {"apiGroups": ["apps", "batch", "autoscaling", "policy"], "resources": ["*"], "verbs": _READ},
    {"apiGroups": ["networking.k8s.io", "storage.k8s.io", "coordination.k8s.io"], "resources": ["*"], "verbs": _READ},
    {
        "apiGroups": [_RBAC],
        "resources": ["clusterrolebindings", "clusterroles", "rolebindings", "roles"],
        "verbs": _READ,
    },
    {"apiGroups": ["velero.io", "monitoring.coreos.com", "argoproj.io"], "resources": ["*"], "verbs": _READ},
]

# Bootstrap roles: name -> rules (abridged from what kube-apiserver reconciles at start-up).
_SYSTEM_ROLES: dict[str, list[Obj]] = {
    "system:auth-delegator": [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
    ],
    "system:basic-user": [
        {
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            "verbs": ["create"],
        },
        {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]},
    ],
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient": [
        {
            "apiGroups": ["certificates.k8s.io"],
            "resources": ["certificatesigningrequests/nodeclient"],
            "verbs": ["create"],
        }
    ],
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient": [
        {
            "apiGroups": ["certificates.k8s.io"],
            "resources": ["certificatesigningrequests/selfnodeclient"],
            "verbs": ["create"],
        }
    ],
    "system:discovery": [
        {
            "nonResourceURLs": [
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ],
            "verbs": ["get"],
        }
    ],
    "system:kube-controller-manager": [
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create", "get", "update"]},
        {"apiGroups": [""], "resources": ["secrets", "serviceaccounts"], "verbs": ["create", "get", "update"]},
    ],
    "system:kube-dns": [{"apiGroups": [""], "resources": ["endpoints", "services"], "verbs": ["list", "watch"]}],
    "system:kube-scheduler": [
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create", "get", "update"]},
        {"apiGroups": [""], "resources": ["pods/binding", "bindings"], "verbs": ["create"]},
    ],
    "system:kubelet-api-admin": [
        {"apiGroups": [""], "resources": ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"], "verbs": ["*"]}
    ],
    "system:monitoring": [
        {
            "nonResourceURLs": [
                "/healthz",
                "/healthz/*",
                "/livez",
                "/livez/*",
                "/metrics",
                "/metrics/slis",
                "/readyz",
                "/readyz/*",
            ],
            "verbs": ["get"],
        }
    ],
    "system:node": [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "create", "delete"]},
        {
            "apiGroups": [""],
            "resources": ["nodes", "nodes/status"],
            "verbs": ["create", "get", "list", "watch", "patch", "update"],
        },
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["create", "delete", "get", "patch", "update"],
        },
    ],
    "system:node-bootstrapper": [
        {
            "apiGroups": ["certificates.k8s.io"],
            "resources": ["certificatesigningrequests"],
            "verbs": ["create", "get", "list", "watch"],
        }
    ],
    "system:node-proxier": [
        {"apiGroups": [""], "resources": ["endpoints", "services"], "verbs": _READ},
        {"apiGroups": [""], "resources": ["nodes"], "verbs": _READ},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": _READ},
    ],
    "system:persistent-volume-provisioner": [
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["create", "delete", "get", "list", "watch"]},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": _READ},
    ],
    "system:public-info-viewer": [
        {"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}
    ],
    "system:service-account-issuer-discovery": [
        {"nonResourceURLs": ["/.well-known/openid-configuration", "/openid/v1/jwks"], "verbs": ["get"]}
    ],
    "system:volume-scheduler": [
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["get", "list", "patch", "update", "watch"]},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": _READ},
    ],
}
_CONTROLLERS = (
    "attachdetach-controller",
    "clusterrole-aggregation-controller",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "replicaset-controller",
    "replication-controller",
    "resourcequota-controller",
    "service-account-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
    "ttl-controller",
)


def subject(kind: str, name: str, namespace: str | None = None) -> Obj:
    """A binding subject (``User``/``Group`` with the RBAC apiGroup, ``ServiceAccount`` with a namespace)."""
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace}
    return {"apiGroup": _RBAC, "kind": kind, "name": name}


def add_cluster_role(
    build: ClusterBuild,
    name: str,
    rules: list[Obj],
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    aggregation: list[str] | None = None,
    age: float,
) -> Obj:
    """A ClusterRole (``aggregation`` names the ``aggregate-to-*`` labels it collects)."""
    role: Obj = {
        "apiVersion": f"{_RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": build.metadata(name, age=age, labels=labels, annotations=annotations),
        "rules": rules,
    }
    if aggregation:
        role["aggregationRule"] = {
            "clusterRoleSelectors": [
                {"matchLabels": {f"rbac.authorization.k8s.io/aggregate-to-{a}": "true"}} for a in aggregation
            ]
        }
    return build.add(role)


def add_cluster_role_binding(
    build: ClusterBuild,
    name: str,
    role: str,
    subjects: list[Obj],
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    age: float,
) -> Obj:
    """A ClusterRoleBinding of ``role`` to ``subjects`` (built with :func:`_subject`)."""
    binding: Obj = {
        "apiVersion": f"{_RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": build.metadata(name, age=age, labels=labels, annotations=annotations),
        "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": role},
    }
    if subjects:
        binding["subjects"] = subjects
    return build.add(binding)


def _org_marks(kind: str, name: str) -> tuple[dict[str, str], dict[str, str]]:
    labels, annotations = gitops_marks(ORG_RBAC_APP, _RBAC, kind, "", name)
    return {**labels, "app.kubernetes.io/part-of": ORG_RBAC_APP}, annotations


def add_rbac(build: ClusterBuild) -> None:
    """Bootstrap, kubeadm and organisation RBAC; identical on every clean cluster of the fleet."""
    born = build.rng.uniform(300, 500) * DAY

    def system_role(name: str, rules: list[Obj], aggregation: list[str] | None = None) -> None:
        add_cluster_role(
            build, name, rules, labels=_BOOTSTRAP, annotations=_AUTOUPDATE, aggregation=aggregation, age=born
        )

    def system_binding(name: str, role: str, subjects: list[Obj]) -> None:
        add_cluster_role_binding(build, name, role, subjects, labels=_BOOTSTRAP, annotations=_AUTOUPDATE, age=born)

    system_role(
        "cluster-admin",
        [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}],
    )
    for name, extra in (("admin", ["edit"]), ("edit", ["view"]), ("view", [])):
        system_role(name, [], aggregation=[name])
        add_cluster_role(
            build,
            f"system:aggregate-to-{name}",
            [{"apiGroups": ["", "apps", "batch"], "resources": ["*"], "verbs": _READ if name == "view" else ["*"]}],
            labels={
                **_BOOTSTRAP,
                f"rbac.authorization.k8s.io/aggregate-to-{name}": "true",
                **{f"rbac.authorization.k8s.io/aggregate-to-{e}": "true" for e in extra},
            },
            annotations=_AUTOUPDATE,
            age=born,
        )
    for name, rules in _SYSTEM_ROLES.items():
        system_role(name, rules)
    for controller in _CONTROLLERS:
        system_role(f"system:controller:{controller}", [{"apiGroups": ["*"], "resources": ["*"], "verbs": _READ}])
        system_binding(
            f"system:controller:{controller}",
            f"system:controller:{controller}",
            [subject("ServiceAccount", controller, "kube-system")],
        )
    bootstrap_bindings = [
        ("cluster-admin", "cluster-admin", [subject("Group", "system:masters")]),
        ("system:basic-user", "system:basic-user", [subject("Group", "system:authenticated")]),
        ("system:discovery", "system:discovery", [subject("Group", "system:authenticated")]),
        (
            "system:kube-controller-manager",
            "system:kube-controller-manager",
            [subject("User", "system:kube-controller-manager")],
        ),
        ("system:kube-dns", "system:kube-dns", [subject("ServiceAccount", "kube-dns", "kube-system")]),
        ("system:kube-scheduler", "system:kube-scheduler", [subject("User", "system:kube-scheduler")]),
        ("system:monitoring", "system:monitoring", [subject("Group", "system:monitoring")]),
        ("system:node", "system:node", []),
        ("system:node-proxier", "system:node-proxier", [subject("User", "system:kube-proxy")]),
        (
            "system:public-info-viewer",
            "system:public-info-viewer",
            [subject("Group", "system:authenticated"), subject("Group", "system:unauthenticated")],
        ),
        (
            "system:service-account-issuer-discovery",
            "system:service-account-issuer-discovery",
            [subject("Group", "system:serviceaccounts")],
        ),
        ("system:volume-scheduler", "system:volume-scheduler", [subject("User", "system:kube-scheduler")]),
    ]
    for name, role, subjects in bootstrap_bindings:
        system_binding(name, role, subjects)

    # kubeadm's own (kubeadm init), identical for every minor the fleet runs.
    kubeadm_age = born - 60
    node_token = subject("Group", "system:bootstrappers:kubeadm:default-node-token")
    add_cluster_role(
        build, "kubeadm:get-nodes", [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}], age=kubeadm_age
    )
    add_cluster_role(
        build,
        "system:coredns",
        [
            {
                "apiGroups": [""],
                "resources": ["endpoints", "services", "pods", "namespaces"],
                "verbs": ["list", "watch"],
            },
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
        ],
        age=kubeadm_age,
    )
    for name, role, who in (
        ("kubeadm:cluster-admins", "cluster-admin", subject("Group", "kubeadm:cluster-admins")),
        ("kubeadm:get-nodes", "kubeadm:get-nodes", node_token),
        ("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", node_token),
        (
            "kubeadm:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            node_token,
        ),
        (
            "kubeadm:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            subject("Group", "system:nodes"),
        ),
        ("kubeadm:node-proxier", "system:node-proxier", subject("ServiceAccount", "kube-proxy", "kube-system")),
        ("system:coredns", "system:coredns", subject("ServiceAccount", "coredns", "kube-system")),
    ):
        add_cluster_role_binding(build, name, role, [who], age=kubeadm_age)

    # The organisation's, applied by Argo CD from the platform repo.
    org_age = build.rng.uniform(100, 300) * DAY
    for name, rules in (
        ("platform-readonly", READONLY_RULES),
        ("fleetcheck-reader", [{"apiGroups": ["*"], "resources": ["*"], "verbs": _READ}]),
    ):
        labels, annotations = _org_marks("ClusterRole", name)
        add_cluster_role(
            build, name, [dict(rule) for rule in rules], labels=labels, annotations=annotations, age=org_age
        )
    for name, role, who in (
        ("platform-readonly", "platform-readonly", subject("Group", "oidc:platform-viewers")),
        ("oidc:platform-admins", "cluster-admin", subject("Group", "oidc:platform-admins")),
        ("platform-breakglass", "cluster-admin", subject("User", "oidc:breakglass@example.com")),
        ("fleetcheck-reader", "fleetcheck-reader", subject("Group", "oidc:fleetcheck-scanners")),
        ("velero", "cluster-admin", subject("ServiceAccount", "velero", "velero")),
    ):
        labels, annotations = _org_marks("ClusterRoleBinding", name)
        add_cluster_role_binding(build, name, role, [who], labels=labels, annotations=annotations, age=org_age)
