"""deploy/kubernetes/: Helm values valid for the Zero to JupyterHub chart, saying what the course needs.

The chart (appVersion 5.5.0) checks a configuration the way Helm does: the user's values merged over the
chart's values.yaml (maps merged key by key, lists and scalars replaced, null deleting a default), the
result validated against values.schema.yaml (JSON Schema draft 7). Both files are in
../shared/reference/zero-to-jupyterhub/ beside the repository; without them the schema tests skip. The
other tests read only the repository's files.
"""

import ast
import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "zero-to-jupyterhub"
KUBE = REPO / "deploy" / "kubernetes"
CONFIGS = {"native": ["config.yaml"], "lti13": ["config.yaml", "config-lti13.yaml"]}
EXCHANGE = "/srv/nbgrader/exchange"


def load_yaml(path):
    """One YAML document."""
    return yaml.safe_load(Path(path).read_text())


def helm_merge(base, override):
    """`override` merged over `base` as Helm merges values: maps key by key, everything else replaced,
    a null deleting the key. Returns a new object; neither argument is changed."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def user_values(kind):
    """The course's values of one authentication `kind`, its files merged in order (no chart defaults)."""
    values = {}
    for name in CONFIGS[kind]:
        values = helm_merge(values, load_yaml(KUBE / name))
    return values


@pytest.fixture(scope="module")
def chart():
    """The chart's default values and its schema; skips when the reference copy is missing."""
    if not (REFERENCE / "values.yaml").is_file() or not (REFERENCE / "values.schema.yaml").is_file():
        pytest.skip("the Zero to JupyterHub chart's values.yaml and values.schema.yaml are not in "
                    f"{REFERENCE}")
    return load_yaml(REFERENCE / "values.yaml"), load_yaml(REFERENCE / "values.schema.yaml")


def schema_errors(chart, values):
    """The schema's complaints about the chart's defaults with `values` merged over them."""
    defaults, schema = chart
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(helm_merge(defaults, values))]


def grader_documents():
    """grader.yaml's manifests by kind (one of each)."""
    documents = [d for d in yaml.safe_load_all((KUBE / "grader.yaml").read_text()) if d]
    kinds = [d["kind"] for d in documents]
    assert len(kinds) == len(set(kinds)), f"grader.yaml should hold one manifest of each kind: {kinds}"
    return {d["kind"]: d for d in documents}


def grader_container():
    """The formgrader container of grader.yaml's Deployment."""
    (container,) = grader_documents()["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


def grader_env():
    """The formgrader container's environment: plain values, and secret references as (secret, key)."""
    env = {}
    for item in grader_container()["env"]:
        secret = item.get("valueFrom", {}).get("secretKeyRef")
        env[item["name"]] = (secret["name"], secret["key"]) if secret else item["value"]
    return env


def course_id():
    """`c.CourseDirectory.course_id` of grading/nbgrader_config.py, read from its source (not imported)."""
    tree = ast.parse((REPO / "grading" / "nbgrader_config.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if any(ast.unparse(target) == "c.CourseDirectory.course_id" for target in node.targets):
                return node.value.value
    raise AssertionError("grading/nbgrader_config.py sets no c.CourseDirectory.course_id")


def exec_config(source, c, **names):
    """Run a traitlets config snippet with `c` (and `get_config`, `load_subconfig` as no-ops that record)."""
    loaded = []
    namespace = {"c": c, "get_config": lambda: c, "load_subconfig": loaded.append, **names}
    exec(compile(source, "<config>", "exec"), namespace)
    return loaded


def test_helm_merge_merges_maps_and_replaces_lists_and_scalars():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": {"d": 1}, "e": 5}
    merged = helm_merge(base, {"a": {"y": [3], "z": 4}, "b": {"n": 1}, "c": None})
    assert merged == {"a": {"x": 1, "y": [3], "z": 4}, "b": {"n": 1}, "e": 5}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": {"d": 1}, "e": 5}


@pytest.mark.parametrize("kind", CONFIGS)
def test_values_pass_the_charts_schema(chart, kind):
    assert schema_errors(chart, user_values(kind)) == []


@pytest.mark.parametrize("mistake", [
    {"singleuser": {"memmory": {"limit": "1G"}}},            # misspelt key
    {"singleuser": {"cpu": {"limit": "two"}}},               # a string where a number belongs
    {"cull": {"timeout": "one hour"}},                       # the same, elsewhere
    {"hub": {"config": {"jupyterHub": {"admin_access": True}}}},  # config section not a class name
    {"singleuser": {"storage": {"type": "dynamic", "homeMountPath": 5}}},
])
def test_schema_rejects_a_broken_config(chart, mistake):
    assert schema_errors(chart, helm_merge(user_values("native"), mistake)), f"{mistake} passed the schema"


@pytest.mark.parametrize("kind", CONFIGS)
def test_the_hub_is_not_open(chart, kind):
    hub = helm_merge(chart[0], user_values(kind))["hub"]
    authenticator = hub["config"]["JupyterHub"]["authenticator_class"]
    assert authenticator in {"nativeauthenticator.NativeAuthenticator",
                             "ltiauthenticator.lti13.auth.LTI13Authenticator"}, authenticator
    assert all("allow_all" not in section for section in hub["config"].values()), "allow_all is set"
    assert hub["config"]["Authenticator"]["allowed_users"], "no roster: Authenticator.allowed_users is empty"
    for name, snippet in hub["extraConfig"].items():
        assert not re.search(r"allow_all|dummy|nullauth", snippet, re.IGNORECASE), f"extraConfig {name}"
    if kind == "native":
        assert hub["config"]["NativeAuthenticator"]["open_signup"] is False


def test_lti13_settings_are_complete():
    lti = user_values("lti13")["hub"]["config"]["LTI13Authenticator"]
    assert set(lti) >= {"issuer", "client_id", "authorize_url", "jwks_endpoint", "username_key"}
    assert all(lti[key].startswith("https://") for key in ("issuer", "authorize_url", "jwks_endpoint"))
    assert isinstance(lti["client_id"], list) and lti["client_id"], "client_id is a set: a YAML list"


def test_extra_config_snippets_compile():
    for name, snippet in user_values("native")["hub"]["extraConfig"].items():
        compile(snippet, name, "exec")


def test_grader_token_snippet_sets_only_the_course_service(monkeypatch):
    monkeypatch.setenv("TFCORE_GRADER_API_TOKEN", "the-token")
    c = Config()
    c.JupyterHub.services = [{"name": course_id()}, {"name": "jupyterhub-idle-culler"}]
    exec_config(user_values("native")["hub"]["extraConfig"]["10-grader-token"], c)
    assert c.JupyterHub.services == [{"name": course_id(), "api_token": "the-token"},
                                     {"name": "jupyterhub-idle-culler"}]
    hub_env = user_values("native")["hub"]["extraEnv"]["TFCORE_GRADER_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert (hub_env["name"], hub_env["key"]) == grader_env()["JUPYTERHUB_API_TOKEN"], "hub and grader differ"


def test_every_pod_runs_the_course_image():
    singleuser = user_values("native")["singleuser"]
    image = f"{singleuser['image']['name']}:{singleuser['image']['tag']}"
    assert singleuser["image"]["name"].endswith("/tfcore-course"), image
    assert [c["image"] for c in singleuser["initContainers"]] == [image]
    pod = grader_documents()["Deployment"]["spec"]["template"]["spec"]
    assert {c["image"] for c in pod["containers"] + pod["initContainers"]} == {image}


def test_the_exchange_is_shared_and_mounted_everywhere():
    claim = load_yaml(KUBE / "exchange-pvc.yaml")
    assert claim["kind"] == "PersistentVolumeClaim" and claim["spec"]["accessModes"] == ["ReadWriteMany"]
    storage = user_values("native")["singleuser"]["storage"]
    (volume,) = [v for v in storage["extraVolumes"] if v.get("persistentVolumeClaim")]
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert {"name": volume["name"], "mountPath": EXCHANGE} in storage["extraVolumeMounts"]
    pod = grader_documents()["Deployment"]["spec"]["template"]["spec"]
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]
              if "persistentVolumeClaim" in v}
    mounts = {m["mountPath"]: m["name"] for m in grader_container()["volumeMounts"]}
    assert claims[mounts[EXCHANGE]] == claim["metadata"]["name"]


def test_students_and_grader_use_the_same_course_and_exchange():
    student = Config()
    files = user_values("native")["singleuser"]["extraFiles"]
    exec_config(files["nbgrader-config"]["stringData"], student)
    assert files["nbgrader-config"]["mountPath"] == "/etc/jupyter/nbgrader_config.py"
    assert student.CourseDirectory.course_id == course_id()
    assert (student.Exchange.root, student.Exchange.path_includes_course) == (EXCHANGE, True)
    grader = Config()
    data = grader_documents()["ConfigMap"]["data"]
    assert exec_config(data["nbgrader_config.py"], grader) == ["/home/jovyan/grading/nbgrader_config.py"]
    assert (grader.Exchange.root, grader.Exchange.path_includes_course) == (EXCHANGE, True)
    extensions = json.loads(data["jupyter_server_config.json"])["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is True
    assert grader_env()["JUPYTER_CONFIG_PATH"] == "/srv/nbgrader/config"


def test_formgrader_is_the_hub_service_named_after_the_course():
    name = course_id()
    hub = user_values("native")["hub"]
    assert list(hub["services"]) == [name]
    service = grader_documents()["Service"]
    port = service["spec"]["ports"][0]["port"]
    assert hub["services"][name]["url"] == f"http://{service['metadata']['name']}:{port}"
    env = grader_env()
    assert env["JUPYTERHUB_SERVICE_NAME"] == name
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == f"/services/{name}/"
    assert env["JUPYTERHUB_CLIENT_ID"] == f"service-{name}"
    assert env["JUPYTERHUB_DEFAULT_URL"] == "/formgrader"
    assert env["JUPYTERHUB_SERVICE_URL"].endswith(f":{grader_container()['ports'][0]['containerPort']}")
    group = f"formgrade-{name}"
    assert hub["config"]["JupyterHub"]["load_groups"][group]["users"]
    role = hub["loadRoles"][group]
    assert role["groups"] == [group] and f"access:services!service={name}" in role["scopes"]


def kubespawner_bytes(text):
    """A KubeSpawner memory size ("896M", "1.5G", bytes) in bytes: K, M, G, T are powers of 1024."""
    match = re.fullmatch(r"([\d.]+)([KMGT]?)", str(text))
    assert match, f"not a KubeSpawner size: {text!r}"
    return float(match.group(1)) * 1024 ** " KMGT".index(match.group(2) or " ")


def kubernetes_quantity(text):
    """A Kubernetes quantity ("500m", "2", "896Mi", "1Gi") as a number (cores or bytes)."""
    match = re.fullmatch(r"([\d.]+)(m|Ki|Mi|Gi)?", str(text))
    assert match, f"not a quantity this test knows: {text!r}"
    scale = {None: 1, "m": 1e-3, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3}[match.group(2)]
    return float(match.group(1)) * scale


def test_limits_are_at_least_the_guarantees():
    singleuser = user_values("native")["singleuser"]
    memory, cpu = singleuser["memory"], singleuser["cpu"]
    assert 0 < kubespawner_bytes(memory["guarantee"]) <= kubespawner_bytes(memory["limit"])
    assert 0 < cpu["guarantee"] <= cpu["limit"]
    resources = grader_container()["resources"]
    for kind in ("cpu", "memory"):
        request, limit = (kubernetes_quantity(resources[part][kind]) for part in ("requests", "limits"))
        assert 0 < request <= limit, f"grader {kind}: request {request} > limit {limit}"


def test_memory_sizes_cover_the_measured_lessons():
    """config.yaml's rule, against the committed measurement (benchmarks/results/lesson_memory.json)."""
    measured = json.loads((REPO / "benchmarks" / "results" / "lesson_memory.json").read_text())
    assert not measured["fast"], "the sizes must come from the lessons' default sizes"
    peaks = sorted((lesson["peak_rss_mib"] for lesson in measured["lessons"]), reverse=True)
    server, memory = measured["idle"]["server_rss_mib"], user_values("native")["singleuser"]["memory"]
    assert kubespawner_bytes(memory["guarantee"]) / 1024 ** 2 >= server + peaks[0]
    assert kubespawner_bytes(memory["limit"]) / 1024 ** 2 >= server + peaks[0] + peaks[1]


def test_culling_is_on_and_the_first_lesson_opens():
    values = user_values("native")
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    url = values["singleuser"]["defaultUrl"]
    assert url.startswith("/lab/tree/") and (REPO / url.removeprefix("/lab/tree/")).is_file(), url


def test_copy_lessons_fills_the_home_without_overwriting(tmp_path):
    image_home, volume = tmp_path / "image-home", tmp_path / "volume"
    image_files = {"lessons/01.ipynb": "new", "lessons/images/a.png": "png", "lessons/02.ipynb": "2",
                   ".cache/tfcore/mnist/train.gz": "data", "exercises/02/02.ipynb": "solution"}
    for relative, text in image_files.items():
        (image_home / relative).parent.mkdir(parents=True, exist_ok=True)
        (image_home / relative).write_text(text)
    (volume / "lessons").mkdir(parents=True)
    (volume / "lessons" / "01.ipynb").write_text("the student's edits")
    (init,) = user_values("native")["singleuser"]["initContainers"]
    assert init["volumeMounts"][0]["mountPath"] == init["command"][-1]
    env = {k: v for k, v in os.environ.items() if k not in ("TFCORE_CACHE", "XDG_CACHE_HOME")}
    command = [sys.executable, *init["command"][1:-1], str(volume)]
    subprocess.run(command, env=dict(env, HOME=str(image_home), PYTHONPATH=str(REPO)), check=True, timeout=60)
    copied = {str(p.relative_to(volume)): p.read_text() for p in volume.rglob("*") if p.is_file()}
    assert copied == {"lessons/01.ipynb": "the student's edits", "lessons/images/a.png": "png",
                      "lessons/02.ipynb": "2", ".cache/tfcore/mnist/train.gz": "data"}
