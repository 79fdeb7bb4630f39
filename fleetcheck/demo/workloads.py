"""Namespaces and the teams' applications: Deployments, StatefulSets, Services, ConfigMaps, hand-run pods.

Team namespaces are named ``team-<team>-<service>``; their pods pull from
the cluster's regional registry (``registry.<region>.example.com/team-<team>/...``),
pinned by tag and often by digest. The team workloads take whatever is left
of the cluster's pod count after the system pods, so ``pods.json`` holds
exactly the number the spec asks for.
"""

from __future__ import annotations

from fleetcheck.demo.build import DAY, ClusterBuild, NodeSlot, Obj
from fleetcheck.demo.controllers import add_deployment, add_statefulset, gitops_marks, pick_node
from fleetcheck.demo.pods import container, image_ref, make_pod
from fleetcheck.demo.quotas import format_cpu, format_memory, parse_cpu, parse_memory
from fleetcheck.demo.storage import LOCAL_STORAGE_CLASS, REPLICATED_STORAGE_CLASSES, add_claim, claim_template

__all__ = ["SYSTEM_NAMESPACES", "add_namespaces", "add_team_workloads", "platform_namespaces"]

#: Namespaces every cluster has and no team owns.
SYSTEM_NAMESPACES: tuple[str, ...] = ("default", "kube-node-lease", "kube-public", "kube-system")
_TEAMS = (
    "payments",
    "checkout",
    "search",
    "catalog",
    "identity",
    "orders",
    "shipping",
    "pricing",
    "reviews",
    "media",
    "ads",
    "fraud",
    "loyalty",
    "inventory",
    "notify",
    "analytics",
)
_SERVICES = ("api", "ledger", "gateway", "events", "reports", "sync", "store", "jobs", "portal", "feeds")
_COMPONENTS = (
    "api",
    "worker",
    "web",
    "consumer",
    "scheduler",
    "exporter",
    "notifier",
    "indexer",
    "renderer",
    "admin",
    "cache",
    "proxy",
)
_SERVED = frozenset({"api", "web", "proxy", "admin"})
_CPU = ("50m", "100m", "100m", "250m", "250m", "500m")
_MEMORY = ("64Mi", "128Mi", "128Mi", "256Mi", "512Mi")


def platform_namespaces(build: ClusterBuild) -> list[str]:
    """The platform's add-on namespaces this cluster has."""
    plan = build.plan
    return (
        ["velero"]
        + (["logging"] if plan.log_shipper else [])
        + (["monitoring"] if plan.prometheus else [])
        + (["cert-manager"] if plan.cert_manager else [])
    )


def add_namespaces(build: ClusterBuild) -> None:
    """System, platform and team namespaces: ``plan.namespaces`` in all."""
    plan = build.plan
    platform = platform_namespaces(build)
    teams = plan.namespaces - len(SYSTEM_NAMESPACES) - len(platform)
    if teams < 1:
        raise ValueError(
            f"{plan.name}: {plan.namespaces} namespaces leave no team namespace "
            f"(the cluster needs {len(SYSTEM_NAMESPACES) + len(platform)} for system and platform add-ons)"
        )
    combos = [(team, service) for team in _TEAMS for service in _SERVICES]
    build.rng.shuffle(combos)
    names: list[tuple[str, str, str]] = []
    for index in range(teams):
        team, service = combos[index % len(combos)]
        lap = index // len(combos)
        names.append((f"team-{team}-{service}" + (f"-{lap + 1}" if lap else ""), team, service))
    cluster_age = build.rng.uniform(300, 500) * DAY
    for name in (*SYSTEM_NAMESPACES, *platform):
        _namespace(build, name, age=cluster_age - build.rng.uniform(0, 5) * 60, labels={})
    for name, team, _service in names:
        _namespace(
            build,
            name,
            age=build.rng.uniform(30, cluster_age / DAY - 10) * DAY,
            labels={"team": team},
            annotations={"example.com/owner": f"team-{team}@example.com"},
        )
    build.team_namespaces = [name for name, _team, _service in names]


def _namespace(
    build: ClusterBuild, name: str, *, age: float, labels: dict[str, str], annotations: dict[str, str] | None = None
) -> None:
    build.add(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": build.metadata(
                name, age=age, labels={"kubernetes.io/metadata.name": name, **labels}, annotations=annotations
            ),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
    )


def _shares(build: ClusterBuild, total: int, buckets: int) -> list[int]:
    """``total`` split over ``buckets`` with uneven, seeded weights; sums to ``total`` exactly."""
    weights = [build.rng.uniform(0.3, 1.7) for _ in range(buckets)]
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(buckets), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def add_team_workloads(build: ClusterBuild) -> None:
    """Every pod the spec asks for beyond the system ones, spread over the team namespaces."""
    plan = build.plan
    for bare in plan.bare_pods:
        bare.namespace = build.team_namespaces[bare.namespace_index % len(build.team_namespaces)]
    budget = plan.pods - build.count("pods") - len(plan.bare_pods)
    if budget < 0:
        raise ValueError(
            f"{plan.name}: {plan.pods} pods is fewer than the {build.count('pods') + len(plan.bare_pods)} "
            "system and hand-run pods this cluster needs"
        )
    stateful: dict[int, list[tuple[str, int, str]]] = {}
    reserved = 0
    for index in range(len(build.team_namespaces)):
        wants = []
        if plan.persistent_volumes and index % 6 == 0:
            wants.append(("postgres", 3, REPLICATED_STORAGE_CLASSES[0]))
        if plan.local_volume and index == min(3, len(build.team_namespaces) - 1):
            wants.append(("clickhouse", 1, LOCAL_STORAGE_CLASS))
        for want in wants:
            if reserved + want[1] <= budget:
                stateful.setdefault(index, []).append(want)
                reserved += want[1]
    shares = _shares(build, budget - reserved, len(build.team_namespaces))
    choices = (2, 3, 3, 4, 4, 6, 8, 10, 12) if plan.nodes >= 20 else (1, 2, 2, 3)
    first = True
    for index, namespace in enumerate(build.team_namespaces):
        team, service = namespace.split("-")[1:3]
        for name, replicas, storage_class in stateful.get(index, []):
            _add_database(build, namespace, team, name, replicas, storage_class)
        remaining = shares[index]
        components = list(_COMPONENTS)
        build.rng.shuffle(components)
        count = 0
        while remaining > 0:
            replicas = min(build.rng.choice(choices), remaining)
            remaining -= replicas
            component = components[count % len(components)]
            suffix = f"-{count // len(components) + 1}" if count >= len(components) else ""
            name = f"{service}-{component}{suffix}"
            count += 1
            recent = build.rng.uniform(0.5, 3) * DAY if first and not plan.quiet_days else None
            first = False
            _add_app(build, namespace, team, name, component, replicas, rolled_out=recent)
        if count:
            _add_config(build, namespace, service)
    for bare in plan.bare_pods:
        _add_bare_pod(build, bare.name, bare.namespace, bare.image, bare.host_path)


def _app_pod_spec(build: ClusterBuild, image: str, name: str, component: str) -> Obj:
    plan = build.plan
    cpu = build.rng.choice(_CPU)
    memory = build.rng.choice(_MEMORY)
    app = container(
        component,
        image,
        env=[
            {"name": "APP_ENV", "value": plan.labels.get("env", "prod")},
            {"name": "OTEL_SERVICE_NAME", "value": name},
        ],
        ports=[{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        requests={"cpu": cpu, "memory": memory},
        limits={"cpu": format_cpu(parse_cpu(cpu) * 4), "memory": format_memory(parse_memory(memory) * 2)},
        probe_port="http",
    )
    if build.rng.random() < 0.5:
        del app["livenessProbe"]
    return {"containers": [app], "serviceAccountName": "default"}


def _add_app(
    build: ClusterBuild,
    namespace: str,
    team: str,
    name: str,
    component: str,
    replicas: int,
    *,
    rolled_out: float | None,
) -> None:
    plan = build.plan
    version = f"{build.rng.randint(1, 4)}.{build.rng.randint(0, 30)}.{build.rng.randint(0, 12)}"
    image = image_ref(plan.registry, f"team-{team}/{name}", version, pin_digest=build.rng.random() < 0.5)
    tracked = build.rng.random() >= plan.gitops_untracked_share
    app = namespace if tracked else None
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component, "team": team}
    add_deployment(
        build,
        name=name,
        namespace=namespace,
        labels=labels,
        pod_spec=_app_pod_spec(build, image, name, component),
        replicas=replicas,
        app=app,
        old_revisions=build.rng.choice((0, 1, 1, 2)),
        rolled_out=rolled_out,
    )
    if component in _SERVED:
        track_labels, annotations = gitops_marks(app, "", "Service", namespace, name)
        octets = build.rng.randint(1, 15), build.rng.randint(0, 255), build.rng.randint(2, 254)
        cluster_ip = f"10.{96 + octets[0]}.{octets[1]}.{octets[2]}"
        build.add(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": build.metadata(
                    name,
                    namespace,
                    age=build.rng.uniform(30, 300) * DAY,
                    labels={**labels, **track_labels},
                    annotations=annotations,
                ),
                "spec": {
                    "clusterIP": cluster_ip,
                    "clusterIPs": [cluster_ip],
                    "internalTrafficPolicy": "Cluster",
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
                    "selector": labels,
                    "sessionAffinity": "None",
                    "type": "ClusterIP",
                },
                "status": {"loadBalancer": {}},
            }
        )


def _add_config(build: ClusterBuild, namespace: str, service: str) -> None:
    plan = build.plan
    track_labels, annotations = gitops_marks(namespace, "", "ConfigMap", namespace, f"{service}-config")
    build.add(
        {
            "apiVersion": "v1",
            "data": {
                "FEATURE_FLAGS": "new-checkout=false,async-export=true",
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "info",
                "REGION": plan.region,
            },
            "kind": "ConfigMap",
            "metadata": build.metadata(
                f"{service}-config",
                namespace,
                age=build.rng.uniform(5, 200) * DAY,
                labels=track_labels,
                annotations=annotations,
            ),
        }
    )


def _add_database(build: ClusterBuild, namespace: str, team: str, name: str, replicas: int, storage_class: str) -> None:
    """A StatefulSet with one data PVC per replica (and the PVs bound to them)."""
    plan = build.plan
    image = (
        image_ref(plan.registry, "platform/postgres", "16.4-bookworm", pin_digest=True)
        if name == "postgres"
        else image_ref(plan.registry, "platform/clickhouse-server", "24.8.4.13", pin_digest=True)
    )
    size = "50Gi" if name == "postgres" else "500Gi"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "database", "team": team}
    pod_spec = {
        "containers": [
            container(
                name,
                image,
                ports=[{"containerPort": 5432 if name == "postgres" else 9000, "name": "db", "protocol": "TCP"}],
                requests={"cpu": "500m", "memory": "1Gi"},
                limits={"cpu": "2", "memory": "4Gi"},
                mounts=[{"mountPath": "/var/lib/data", "name": "data"}],
            )
        ],
        "serviceAccountName": "default",
    }
    _statefulset, pods = add_statefulset(
        build,
        name=name,
        namespace=namespace,
        labels=labels,
        pod_spec=pod_spec,
        replicas=replicas,
        app=namespace,
        claim_templates=[claim_template("data", storage_class, size)],
    )
    nodes = {n.name: n for n in build.nodes}
    for pod in pods:
        add_claim(
            build,
            name=f"data-{pod['metadata']['name']}",
            namespace=namespace,
            storage_class=storage_class,
            size=size,
            labels=labels,
            node=nodes[pod["spec"]["nodeName"]],
            age=build.rng.uniform(30, 300) * DAY,
        )


def _add_bare_pod(build: ClusterBuild, name: str, namespace: str, image: str, host_path: str | None = None) -> None:
    """What ``kubectl run NAME --image=IMAGE`` leaves: an ownerless pod labelled ``run=NAME``.

    With ``host_path`` the pod writes its data to that node directory (a ``hostPath`` volume).
    """
    node: NodeSlot = pick_node(build)
    app = container(name, image, requests={"cpu": "100m", "memory": "128Mi"}, limits={"cpu": "500m", "memory": "512Mi"})
    volumes: list[Obj] = []
    if host_path is not None:
        volumes.append({"name": "data", "hostPath": {"path": host_path, "type": "DirectoryOrCreate"}})
        app = {**app, "volumeMounts": [*app.get("volumeMounts", []), {"name": "data", "mountPath": "/data"}]}
    make_pod(
        build,
        name=name,
        namespace=namespace,
        node=node,
        containers=[app],
        volumes=volumes,
        labels={"run": name},
        age=build.rng.uniform(2, 20) * DAY,
    )
