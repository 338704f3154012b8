"""The AWS Auto Scaling backend against moto's server mode: real HTTP on loopback, real boto3.

Each test makes its own groups (unique names) on one moto server for the module; credentials
and region are dummies set for this module only, so nothing can reach a real AWS endpoint.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from actuators.backends.aws import AwsAutoScalingBackend, AwsOptions
from schemas.codec import Codec
from schemas.errors import ConfigError

REGION = "us-east-1"
TEMPLATE = "lt-forewarn-test"
CODEC = Codec()


@pytest.fixture(scope="module")
def aws_env() -> Iterator[None]:
    """Dummy credentials and region for this module only; no profile, no instance metadata."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                           "AWS_CONFIG_FILE": "/nonexistent",
                           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                           "AWS_EC2_METADATA_DISABLED": "true"}.items():
            mp.setenv(key, value)
        mp.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="module")
def moto_url(aws_env: None) -> Iterator[str]:
    """A moto server on a free loopback port, with a launch template for the groups."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        boto3.client("ec2", region_name=REGION, endpoint_url=url).create_launch_template(
            LaunchTemplateName=TEMPLATE,
            LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
        )
        yield url
    finally:
        server.stop()


@pytest.fixture
def admin(moto_url: str) -> Any:
    """The test's own client, to set groups up and look at them (not the backend's)."""
    return boto3.client("autoscaling", region_name=REGION, endpoint_url=moto_url)


@pytest.fixture
def make_group(admin: Any) -> Callable[..., str]:
    def make(desired: int = 2, max_size: int = 10, min_size: int = 1) -> str:
        name = f"asg-{uuid.uuid4().hex[:10]}"
        admin.create_auto_scaling_group(
            AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateName": TEMPLATE},
            MinSize=min_size, MaxSize=max_size, DesiredCapacity=desired,
            AvailabilityZones=[f"{REGION}a"],
        )
        return name

    return make


def group(admin: Any, name: str) -> dict[str, Any]:
    found = admin.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return dict(found["AutoScalingGroups"][0])


def forewarn_tags(admin: Any, name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in group(admin, name).get("Tags", [])
            if t["Key"].startswith("forewarn:")}


def make_backend(url: str, **options: Any) -> AwsAutoScalingBackend:
    hosts = options.pop("hosts", ())
    return AwsAutoScalingBackend.from_options(
        {"region": REGION, "endpoint_url": url, "max_attempts": 1, **options}, hosts=hosts
    )


def command(cid: str, action: str = "GRANT", amount: float = 0.0, **kw: Any) -> dict[str, Any]:
    base = {"command_id": cid, "component": "web-1/app", "host": "web-1",
            "ts": 1_700_000_000_000, "resource": "REPLICAS", "action": action,
            "amount": amount, "unit": "replicas", "lease_s": 900 if action == "GRANT" else 0,
            "reason": "test", "risk": 0.8, "priority": 580}
    return {**base, **kw}


def count_calls(backend: AwsAutoScalingBackend, event: str) -> list[dict[str, Any]]:
    """The parameters of every call the backend's client makes for ``event``."""
    seen: list[dict[str, Any]] = []
    backend.client.meta.events.register(
        f"provide-client-params.autoscaling.{event}",
        lambda params, **_: seen.append(dict(params)),
    )
    return seen


def test_grant_replaces_and_release_preempt_restore_the_baseline(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=2)
    backend = make_backend(moto_url, groups={"web-1/app": name})
    out = backend.apply(command("g1", amount=3.0))
    assert (out["status"], out["backend"], out["effect"]) == ("APPLIED", "aws", None)
    assert "confirmed desired 5" in out["detail"] and name in out["detail"]
    assert CODEC.decode(CODEC.encode("AllocationOutcome", out))[1] == out
    assert group(admin, name)["DesiredCapacity"] == 5
    assert forewarn_tags(admin, name) == {"forewarn:baseline-desired": "2",
                                          "forewarn:grant:web-1/app": "3"}
    backend.apply(command("g2", amount=1.0))  # replaces the grant of 3: baseline + 1
    assert group(admin, name)["DesiredCapacity"] == 3
    out = backend.apply(command("r1", "RELEASE"))
    assert out["status"] == "APPLIED" and "confirmed desired 2" in out["detail"]
    assert group(admin, name)["DesiredCapacity"] == 2 and forewarn_tags(admin, name) == {}
    backend.apply(command("g3", amount=4.0))
    assert group(admin, name)["DesiredCapacity"] == 6
    assert backend.apply(command("p1", "PREEMPT"))["status"] == "APPLIED"
    assert group(admin, name)["DesiredCapacity"] == 2 and backend.books() == {}
    assert backend.changes == 5


def test_repeated_command_id_acts_once(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=1)
    backend = make_backend(moto_url, groups={"web-1/app": name})
    sets = count_calls(backend, "SetDesiredCapacity")
    first = backend.apply(command("g1", amount=2.0))
    admin.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=7)  # someone else
    again = backend.apply(command("g1", amount=2.0))  # a redelivery must not set it back to 3
    assert again == first and len(sets) == 1 and backend.changes == 1
    assert group(admin, name)["DesiredCapacity"] == 7


def test_honor_cooldown_is_passed_through(moto_url: str, make_group: Callable[..., str]) -> None:
    name = make_group()
    default = make_backend(moto_url, groups={"web-1/app": name})
    honoring = make_backend(moto_url, groups={"web-1/app": name}, honor_cooldown=True)
    calls_default = count_calls(default, "SetDesiredCapacity")
    calls_honoring = count_calls(honoring, "SetDesiredCapacity")
    default.apply(command("g1", amount=1.0))
    honoring.apply(command("g2", amount=2.0))
    assert [c["HonorCooldown"] for c in calls_default] == [False]
    assert [c["HonorCooldown"] for c in calls_honoring] == [True]
    assert [c["DesiredCapacity"] for c in calls_default + calls_honoring] == [3, 4]


def test_grant_over_max_size_fails_clearly_and_leaves_the_group_alone(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=2, max_size=4)
    backend = make_backend(moto_url, groups={"web-*": name})
    out = backend.apply(command("g1", amount=3.0))
    assert out["status"] == "FAILED"
    assert "exceeds MaxSize 4" in out["detail"] and "raise_max" in out["detail"]
    assert name in out["detail"] and "web-1/app" in out["detail"]
    after = group(admin, name)
    assert (after["DesiredCapacity"], after["MaxSize"]) == (2, 4)
    assert forewarn_tags(admin, name) == {} and backend.changes == 0
    assert backend.apply(command("g2", amount=2.0))["status"] == "APPLIED"  # fits exactly
    assert group(admin, name)["DesiredCapacity"] == 4


def test_raise_max_raises_max_size_and_restores_it_on_release(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=2, max_size=4)
    backend = make_backend(moto_url, groups={"web-1/app": name}, raise_max=True)
    assert backend.apply(command("g1", amount=5.0))["status"] == "APPLIED"
    after = group(admin, name)
    assert (after["DesiredCapacity"], after["MaxSize"]) == (7, 7)
    assert forewarn_tags(admin, name)["forewarn:baseline-max"] == "4"
    backend.apply(command("g2", amount=1.0))  # back under the original MaxSize
    after = group(admin, name)
    assert (after["DesiredCapacity"], after["MaxSize"]) == (3, 4)
    backend.apply(command("r1", "RELEASE"))
    after = group(admin, name)
    assert (after["DesiredCapacity"], after["MaxSize"]) == (2, 4)
    assert forewarn_tags(admin, name) == {}


def test_restarted_backend_restores_the_true_baseline_from_the_tags(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=2, max_size=4)
    options = {"groups": {"web-1/app": name}, "raise_max": True}
    make_backend(moto_url, **options).apply(command("g1", amount=4.0))
    assert (group(admin, name)["DesiredCapacity"], group(admin, name)["MaxSize"]) == (6, 6)
    restarted = make_backend(moto_url, **options)  # no memory of the first grant
    restarted.apply(command("g2", amount=1.0))  # baseline 2 from the tag, not the current 6
    assert group(admin, name)["DesiredCapacity"] == 3
    again = make_backend(moto_url, **options)
    out = again.apply(command("r1", "RELEASE"))
    assert out["status"] == "APPLIED" and "baseline 2" in out["detail"]
    after = group(admin, name)
    assert (after["DesiredCapacity"], after["MaxSize"]) == (2, 4)
    assert forewarn_tags(admin, name) == {}


def test_components_sharing_a_group_add_their_own_grants(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=3)
    backend = make_backend(moto_url, groups={"web-*/app": name})
    backend.apply(command("a1", amount=2.0))
    backend.apply(command("b1", amount=1.0, component="web-2/app", host="web-2"))
    assert group(admin, name)["DesiredCapacity"] == 6
    backend.apply(command("a2", amount=4.0))  # web-1's grant replaced, web-2's kept
    assert group(admin, name)["DesiredCapacity"] == 8
    backend.apply(command("a3", "RELEASE"))
    assert group(admin, name)["DesiredCapacity"] == 4
    assert forewarn_tags(admin, name) == {"forewarn:baseline-desired": "3",
                                          "forewarn:grant:web-2/app": "1"}
    backend.apply(command("b2", "PREEMPT", component="web-2/app", host="web-2"))
    assert group(admin, name)["DesiredCapacity"] == 3 and forewarn_tags(admin, name) == {}


def test_negative_grant_scales_down_to_min_size_and_no_further(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=3, min_size=1)
    backend = make_backend(moto_url, groups={"web-1/app": name})
    out = backend.apply(command("d1", amount=-2.0))
    assert out["status"] == "APPLIED" and "web-1/app -2" in out["detail"]
    assert group(admin, name)["DesiredCapacity"] == 1
    out = backend.apply(command("d2", amount=-3.0))
    assert out["status"] == "FAILED" and "below MinSize 1" in out["detail"]
    assert group(admin, name)["DesiredCapacity"] == 1
    assert forewarn_tags(admin, name)["forewarn:grant:web-1/app"] == "-2"  # the failed one undone
    backend.apply(command("r1", "RELEASE", amount=-2.0))
    assert group(admin, name)["DesiredCapacity"] == 3 and forewarn_tags(admin, name) == {}


def test_release_without_a_grant_changes_nothing(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=2)
    backend = make_backend(moto_url, groups={"web-1/app": name})
    out = backend.apply(command("r1", "RELEASE"))
    assert out["status"] == "APPLIED" and "holds no forewarn grant" in out["detail"]
    assert backend.changes == 0 and group(admin, name)["DesiredCapacity"] == 2


def test_not_owned_is_rejected_without_calling_aws(
    moto_url: str, make_group: Callable[..., str]
) -> None:
    backend = make_backend(moto_url, group_template="{component}", hosts=("db-*",))
    calls: list[str] = []
    backend.client.meta.events.register("before-call.autoscaling",
                                        lambda model, **_: calls.append(model.name))
    out = backend.apply(command("g1", amount=1.0))
    assert out["status"] == "REJECTED" and "host 'web-1' is not owned" in out["detail"]
    assert calls == []


def test_unknown_group_fails_with_the_reason_and_may_be_retried(moto_url: str) -> None:
    backend = make_backend(moto_url, group_template="{host}-missing")
    calls = count_calls(backend, "DescribeAutoScalingGroups")
    out = backend.apply(command("g1", amount=1.0))
    assert out["status"] == "FAILED" and out["backend"] == "aws"
    assert "no Auto Scaling group 'web-1-missing'" in out["detail"]
    assert f"region {REGION}" in out["detail"] and "web-1/app" in out["detail"]
    backend.apply(command("g1", amount=1.0))  # FAILED is not cached: a redelivery tries again
    assert len(calls) == 2


def test_component_without_a_group_and_other_resources_fail(moto_url: str) -> None:
    backend = make_backend(moto_url, groups={"db-*": "db-asg"})
    out = backend.apply(command("g1", amount=1.0))
    assert out["status"] == "FAILED" and "no Auto Scaling group for component" in out["detail"]
    out = backend.apply(command("c1", amount=200.0, resource="CPU_WEIGHT", unit="weight",
                                component="db-1/pg", host="db-1"))
    assert out["status"] == "FAILED" and "REPLICAS only" in out["detail"]
    assert "CPU_WEIGHT" in out["detail"]
    out = backend.apply(command("g2", amount=1.5, component="db-1/pg", host="db-1"))
    assert out["status"] == "FAILED" and "not a whole number" in out["detail"]


def test_client_errors_are_wrapped_and_the_tags_taken_back(
    moto_url: str, admin: Any, make_group: Callable[..., str]
) -> None:
    name = make_group(desired=2, max_size=2)
    backend = make_backend(moto_url, groups={"web-1/app": name}, raise_max=True)
    untagged = count_calls(backend, "DeleteTags")
    def delete_group(**_: Any) -> None:  # another actor, between the backend's read and write
        admin.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)

    backend.client.meta.events.register("before-call.autoscaling.UpdateAutoScalingGroup",
                                        delete_group)
    out = backend.apply(command("g1", amount=1.0))
    assert out["status"] == "FAILED"
    assert out["detail"].startswith(f"AWS UpdateAutoScalingGroup on ASG {name!r} for web-1/app")
    assert "ValidationError" in out["detail"] and backend.books() == {}
    # the tags written before the change are taken back (here in vain: the group is gone)
    assert [sorted(t["Key"] for t in call["Tags"]) for call in untagged] == [
        ["forewarn:baseline-desired", "forewarn:baseline-max", "forewarn:grant:web-1/app"]
    ]


def test_unreachable_endpoint_is_a_backend_failure(aws_env: None) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    backend = make_backend(url, group_template="{component}", timeout_s=2)
    out = backend.apply(command("g1", amount=1.0))
    assert out["status"] == "FAILED" and "Could not connect" in out["detail"]
    assert "web-1/app" in out["detail"]


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"group_template": "{component}", "regoin": "x"}, "'regoin'; valid: region"),
        ({}, "needs 'groups'"),
        ({"groups": ["web-1"]}, "'groups' must be a table"),
        ({"groups": {"web-*": ""}}, "non-empty strings"),
        ({"group_template": "{pod}-asg"}, "{component} and {host} only"),
        ({"group_template": "{component"}, "'group_template'"),
        ({"group_template": "{component}", "honor_cooldown": "yes"}, "'honor_cooldown'"),
        ({"group_template": "{component}", "raise_max": 1}, "'raise_max' must be true or"),
        ({"group_template": "{component}", "endpoint_url": "localhost:5000"}, "http(s) URL"),
        ({"group_template": "{component}", "max_attempts": 0}, "'max_attempts'"),
        ({"group_template": "{component}", "timeout_s": -1}, "'timeout_s' must be a number"),
        ({"group_template": "{component}", "region": ""}, "'region' must be a non-empty"),
        ({"group_template": "{component}", "client": object()}, "client lacks"),
    ],
)
def test_invalid_options_raise_config_error(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        AwsAutoScalingBackend.from_options(options)
    assert needle in str(err.value)


def test_no_region_anywhere_is_a_config_error(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(ConfigError, match="set the 'region' option"):
        AwsAutoScalingBackend.from_options({"group_template": "{component}"})


def test_injected_client_excludes_client_options(admin: Any) -> None:
    with pytest.raises(ConfigError, match="'client' excludes endpoint_url"):
        AwsAutoScalingBackend.from_options(
            {"client": admin, "endpoint_url": "http://127.0.0.1:1", "groups": {"a": "b"}}
        )
    backend = AwsAutoScalingBackend.from_options({"client": admin, "groups": {"a": "b"}},
                                                 hosts=("web-*",))
    assert backend.client is admin and backend.name == "aws"
    assert backend.ownership.hosts == ("web-*",)


def test_group_lookup_prefers_exact_keys_then_globs_in_order_then_the_template() -> None:
    opts = AwsOptions.parse({"groups": {"web-*": "web", "web-1/app": "special", "*": "all"},
                             "group_template": "{host}-{component}"})
    assert opts.group_for("web-1/app", "web-1") == "special"
    assert opts.group_for("web-2/app", "web-2") == "web"
    assert opts.group_for("db-1/pg", "db-1") == "all"
    only_template = AwsOptions.parse({"group_template": "{host}-asg"})
    assert only_template.group_for("db-1/pg", "db-1") == "db-1-asg"
    assert AwsOptions.parse({"groups": {"web-*": "web"}}).group_for("db-1/pg", "db-1") is None
