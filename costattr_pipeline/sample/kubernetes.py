"""Sample Kubernetes clusters and their cost models (issue 17).

Two OpenShift clusters, each with master, infra and worker nodes:
- ``onprem-1``, priced on premises: Infrastructure rates (CPU and memory, a node's monthly cost, PVCs by
  storage class) and Supplementary ones (a cluster subscription, a per-environment rate on effective CPU),
  with a 5 % markup;
- ``eks-prod-1``, running on a cloud whose bill carries the infrastructure: Supplementary rates only.
Platform namespaces (``openshift-*``, ``kube-*``) run on master and infra nodes, user namespaces on workers;
some pods carry ``env``/``app`` labels, some none; claims use three storage classes, and some storage is held
by no claim (unattributed); two virtual machines run on onprem-1; eks-prod-1's machines have their AWS cost
of the day (node_infrastructure_cost) and its namespaces network traffic, some of it unattributed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from costattr_pipeline.lib import kubernetes

if TYPE_CHECKING:
    from costattr_pipeline.sample.generate import DemoPeriod

COST_MODEL_YAML = """\
# Kubernetes cost models (contract section 3): Koku's cost model shape, as YAML.
cost_models:
  - name: On-prem OpenShift
    description: Data-centre cost of onprem-1 and its OpenShift subscription
    source_type: OCP
    source_uuids: [onprem-1]
    rates:
      - metric: {name: cpu_core_usage_per_hour}
        tiered_rates: [{unit: USD, value: 0.035, usage_start: null, usage_end: null}]
        cost_type: Infrastructure
      - metric: {name: memory_gb_usage_per_hour}
        tiered_rates: [{unit: USD, value: 0.004}]
        cost_type: Infrastructure
      - metric: {name: node_cost_per_month}
        tiered_rates: [{unit: USD, value: 450}]
        cost_type: Infrastructure
      - metric: {name: pvc_cost_per_month}
        tag_rates:
          tag_key: storageclass
          tag_values:
            - {tag_value: gold, value: 93, default: false}
            - {tag_value: silver, value: 62, default: false}
            - {tag_value: bronze, value: 31, default: true}
        cost_type: Infrastructure
      - metric: {name: storage_gb_usage_per_month}
        tiered_rates: [{unit: USD, value: 0.08}]
        cost_type: Infrastructure
      - metric: {name: vm_cost_per_month}
        tiered_rates: [{unit: USD, value: 120}]
        cost_type: Infrastructure
      - metric: {name: cluster_cost_per_month}
        tiered_rates: [{unit: USD, value: 6000}]
        cost_type: Supplementary
      - metric: {name: cpu_core_effective_usage_per_hour}
        tag_rates:
          tag_key: env
          tag_values:
            - {tag_value: prod, value: 0.012, default: false}
            - {tag_value: dev, value: 0.004, default: false}
            - {tag_value: default, value: 0.008, default: true}
        cost_type: Supplementary
      - metric: {name: cpu_core_effective_usage_per_hour}
        tiered_rates: [{unit: USD, value: 0.006}]
        cost_type: Supplementary
    markup: {value: 5, unit: percent}
    distribution: cpu
  - name: OpenShift on AWS
    description: The cloud bills eks-prod-1's machines; the model adds the OpenShift overhead
    source_type: OCP
    source_uuids: [eks-prod-1]
    rates:
      - metric: {name: cpu_core_usage_per_hour}
        tiered_rates: [{unit: USD, value: 0.02}]
        cost_type: Supplementary
      - metric: {name: memory_gb_usage_per_hour}
        tiered_rates: [{unit: USD, value: 0.01}]
        cost_type: Supplementary
      - metric: {name: storage_gb_request_per_month}
        tiered_rates: [{unit: USD, value: 0.05}]
        cost_type: Supplementary
      - metric: {name: network_cost_per_gb}
        tiered_rates: [{unit: USD, value: 0.01}]
        cost_type: Supplementary
    markup: {value: 0, unit: percent}
    distribution: memory
"""

# (node, role, cores, memory GB) per cluster.
NODES = {
    "onprem-1": [("master-1", "master", 8, 32), ("master-2", "master", 8, 32), ("infra-1", "infra", 8, 32),
                 ("worker-1", "worker", 16, 64), ("worker-2", "worker", 16, 64), ("worker-3", "worker", 32, 128)],
    "eks-prod-1": [("ip-10-0-1-10", "master", 4, 16), ("ip-10-0-2-20", "infra", 4, 16),
                   ("ip-10-0-3-30", "worker", 16, 64), ("ip-10-0-3-31", "worker", 16, 64)],
}
PLATFORM_NAMESPACES = ["openshift-etcd", "openshift-monitoring", "kube-system", "openshift-ingress"]
USER_NAMESPACES = {
    # tenant_id / module_id labels attribute a namespace (settings kubernetes.tenant_label); `search` is mapped in
    # tenants.yaml `namespaces`.
    "onprem-1": [("payments-prod", {"env": "prod", "app": "payments", "tenant_id": "acme", "module_id": "risk-engine"}),
                 ("payments-dev", {"env": "dev", "app": "payments", "tenant_id": "acme", "module_id": "risk-engine"}),
                 ("risk-batch", {"env": "qa", "tenant_id": "umbrella"}), ("analytics", {"tenant_id": "wayne"})],
    "eks-prod-1": [("web-shop", {"env": "prod", "app": "shop", "tenant_id": "globex", "module_id": "reporting"}),
                   ("search", {"app": "search"}), ("ml-training", {"tenant_id": "wayne"})],
}
STORAGE_CLASSES = ["gold", "silver", "bronze"]
HOURS = 24


def pod_usage_row(day: dt.date, cluster: str, node: str, role: str, namespace: str, pod: str,
                  labels: dict[str, str], cpu_usage: object, cpu_request: object, memory_usage: object,
                  memory_request: object, cpu_capacity: object, memory_capacity: object) -> dict[str, object]:
    """One row of ``kubernetes/pod_usage`` (contract 2.7) by column name, its labels as their JSON object; the
    hours as given (text for a CSV file, Decimal for a warehouse row)."""
    return {"usage_date": day, "cluster_id": cluster, "node": node, "node_role": role, "namespace": namespace,
            "pod": pod, "pod_labels": json.dumps(labels), "cpu_core_usage_hours": cpu_usage,
            "cpu_core_request_hours": cpu_request, "memory_gb_usage_hours": memory_usage,
            "memory_gb_request_hours": memory_request, "node_capacity_cpu_core_hours": cpu_capacity,
            "node_capacity_memory_gb_hours": memory_capacity}


def storage_usage_row(day: dt.date, cluster: str, namespace: str | None, pvc: str | None, storage_class: str,
                      labels: dict[str, str] | None, usage: object, request: object) -> dict[str, object]:
    """One row of ``kubernetes/storage_usage`` (contract 2.7) by column name: a claim's volume, or storage no
    claim holds (namespace and pvc empty); labels None: the row has none (an empty cell)."""
    return {"usage_date": day, "cluster_id": cluster, "namespace": namespace, "pvc": pvc,
            "storage_class": storage_class, "volume_labels": "" if labels is None else json.dumps(labels),
            "storage_gb_usage_months": usage, "storage_gb_request_months": request}


def write_config(config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "cost_model.yaml").write_text(COST_MODEL_YAML, encoding="utf-8")


def _hours(value: float) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.000001")))


def generate(source_dir: Path, period: DemoPeriod, rng: random.Random) -> None:
    """Write ``kubernetes/pod_usage.csv``, ``storage_usage.csv`` and ``vm_usage.csv`` for the period, and cost_model.yaml."""
    write_config(Path(source_dir) / "config")
    folder = Path(source_dir) / "kubernetes"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "pod_usage.csv").open("w", newline="", encoding="utf-8") as pods, \
            (folder / "storage_usage.csv").open("w", newline="", encoding="utf-8") as storage, \
            (folder / "vm_usage.csv").open("w", newline="", encoding="utf-8") as machines, \
            (folder / "network_usage.csv").open("w", newline="", encoding="utf-8") as traffic, \
            (folder / "node_infrastructure_cost.csv").open("w", newline="", encoding="utf-8") as cloud:
        pod_rows = csv.DictWriter(pods, [column.name for column in kubernetes.POD_USAGE.columns])
        claim_rows = csv.DictWriter(storage, [column.name for column in kubernetes.STORAGE_USAGE.columns])
        vm_rows = csv.writer(machines)
        network_rows, cloud_rows = csv.writer(traffic), csv.writer(cloud)
        vm_rows.writerow(["usage_date", "cluster_id", "node", "namespace", "vm_name", "vm_labels"])
        network_rows.writerow(["usage_date", "cluster_id", "node", "namespace", "data_transfer_in_gb",
                               "data_transfer_out_gb"])
        cloud_rows.writerow(["usage_date", "cluster_id", "node", "resource_id", "cost_usd"])
        pod_rows.writeheader()
        claim_rows.writeheader()
        for day in period.days():
            days_in_month = ((day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - day.replace(day=1)).days
            for cluster, nodes in NODES.items():
                workers = [node for node in nodes if node[1] == "worker"]
                platform = [node for node in nodes if node[1] != "worker"]
                placements = ([(namespace, {}, node) for index, namespace in enumerate(PLATFORM_NAMESPACES)
                               for node in platform[index % len(platform):][:1]]
                              + [(namespace, labels, workers[(index + replica) % len(workers)])
                                 for index, (namespace, labels) in enumerate(USER_NAMESPACES[cluster])
                                 for replica in range(2)])
                for number, (namespace, labels, (node, role, cores, memory)) in enumerate(placements):
                    # Requests take up to a quarter of the node; usage runs between 40 % and 130 % of them.
                    cpu_request = cores * HOURS * rng.uniform(0.05, 0.25)
                    memory_request = memory * HOURS * rng.uniform(0.05, 0.25)
                    pod_rows.writerow(pod_usage_row(
                        day, cluster, node, role, namespace, f"{namespace}-{number}", labels,
                        _hours(cpu_request * rng.uniform(0.4, 1.3)), _hours(cpu_request),
                        _hours(memory_request * rng.uniform(0.4, 1.3)), _hours(memory_request), cores * HOURS,
                        memory * HOURS))
                for index, (namespace, _) in enumerate(USER_NAMESPACES[cluster]):
                    size = 20 * (index + 1)
                    storage_class = STORAGE_CLASSES[index % len(STORAGE_CLASSES)]
                    claim_rows.writerow(storage_usage_row(
                        day, cluster, namespace, f"{namespace}-data", storage_class, {"app": namespace},
                        _hours(size * rng.uniform(0.3, 0.9) / days_in_month), _hours(size / days_in_month)))
                if cluster == "onprem-1":  # two virtual machines (OpenShift Virtualization), one from the 10th
                    for vm_name, node in (("legacy-erp", "worker-3"), ("build-agent", "worker-2")):
                        if vm_name == "legacy-erp" or day.day >= 10:
                            vm_rows.writerow([day.isoformat(), cluster, node, "virt-workloads", vm_name,
                                              json.dumps({"app": vm_name})])
                if cluster == "eks-prod-1":  # on AWS: each machine's cost of the day, and the traffic
                    for number, (node, _, cores, _) in enumerate(nodes):
                        cloud_rows.writerow([day.isoformat(), cluster, node, f"i-0{number}4f1a9c2b7e8d{number}",
                                             f"{cores * HOURS * 0.048:.6f}"])
                    for index, (namespace, _) in enumerate(USER_NAMESPACES[cluster]):
                        network_rows.writerow([day.isoformat(), cluster, workers[index % len(workers)][0], namespace,
                                               _hours(rng.uniform(5, 40)), _hours(rng.uniform(10, 120))])
                    network_rows.writerow([day.isoformat(), cluster, workers[0][0], "", _hours(rng.uniform(1, 8)),
                                           _hours(rng.uniform(2, 20))])
                # Storage no claim holds (released volumes): unattributed.
                claim_rows.writerow(storage_usage_row(day, cluster, "", "", "bronze", None, _hours(15 / days_in_month),
                                                      _hours(15 / days_in_month)))
