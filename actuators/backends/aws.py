"""The AWS Auto Scaling backend: ``REPLICAS`` grants become an ASG's desired capacity.

A component maps to one Auto Scaling group (``groups`` keys or globs, else ``group_template``).
At forewarn's first change to a group the backend remembers the group's desired capacity as its
*baseline*. A ``GRANT`` of ``amount`` replicas sets the component's extra to ``amount`` (it
replaces the previous grant; a negative amount is a scale-down), and the group's desired
capacity to the baseline plus the extras of every component granted on it. ``RELEASE`` and
``PREEMPT`` drop the component's extra; with no extra left, the baseline is restored. A target
over ``MaxSize`` (or under ``MinSize``) fails, unless ``raise_max`` lets the backend raise
``MaxSize``, which comes back with the baseline.

The books live in memory and, so that a restarted actuator restores the true baseline, in tags
on the group: ``forewarn:baseline-desired``, ``forewarn:grant:<component>`` and, when
``MaxSize`` was raised, ``forewarn:baseline-max``. Tags are written before the capacity changes
(and taken back if the change fails) and deleted once the baseline is restored. After each
change the group is read back: the confirmed desired capacity goes into the outcome's detail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from actuators.backends.aws_options import CLIENT_OPTIONS, OPTIONS, AwsOptions
from actuators.backends.base import IdempotentBackend, Record, check_options, make_outcome
from schemas.errors import BackendError, ConfigError

log = logging.getLogger(__name__)

__all__ = ["AwsAutoScalingBackend", "AwsOptions", "GroupBooks", "make_client"]

BASELINE_TAG = "forewarn:baseline-desired"
MAX_TAG = "forewarn:baseline-max"
GRANT_TAG = "forewarn:grant:"
TAG_KEY_MAX = 128  # AWS's limit on a tag key
CLIENT_METHODS = ("describe_auto_scaling_groups", "set_desired_capacity",
                  "update_auto_scaling_group", "create_or_update_tags", "delete_tags")


@dataclass(frozen=True)
class GroupBooks:
    """What forewarn changed on one group: the baseline and each component's extra."""

    baseline: int  # desired capacity before forewarn's first change
    grants: Mapping[str, int] = field(default_factory=dict)  # component -> extra instances
    original_max: int | None = None  # MaxSize before forewarn raised it; None: never raised

    @property
    def target(self) -> int:
        return self.baseline + sum(self.grants.values())

    def tags(self) -> dict[str, str]:
        tags = {BASELINE_TAG: str(self.baseline)}
        tags.update({GRANT_TAG + c: str(n) for c, n in self.grants.items()})
        if self.original_max is not None:
            tags[MAX_TAG] = str(self.original_max)
        return tags

    @classmethod
    def from_tags(cls, group: str, tags: Mapping[str, str]) -> GroupBooks | None:
        """The books a (possibly earlier) actuator left in the group's tags, if any."""
        if BASELINE_TAG not in tags:
            return None
        try:
            grants = {k[len(GRANT_TAG):]: int(v) for k, v in tags.items()
                      if k.startswith(GRANT_TAG)}
            original_max = int(tags[MAX_TAG]) if MAX_TAG in tags else None
            return cls(int(tags[BASELINE_TAG]), grants, original_max)
        except ValueError as exc:
            raise BackendError(
                f"ASG {group!r} has an unreadable forewarn tag ({exc}); fix or delete the "
                f"forewarn:* tags (baseline {tags[BASELINE_TAG]!r})"
            ) from exc


def make_client(options: AwsOptions) -> Any:
    """A boto3 Auto Scaling client; credentials come from the usual boto3 chain."""
    config = Config(
        retries={"max_attempts": options.max_attempts, "mode": "standard"},
        connect_timeout=options.timeout_s,
        read_timeout=options.timeout_s,
    )
    try:
        session = boto3.session.Session(region_name=options.region)
        return session.client("autoscaling", endpoint_url=options.endpoint_url, config=config)
    except BotoCoreError as exc:  # NoRegionError above all
        raise ConfigError(f"aws backend cannot make an Auto Scaling client: {exc}; set the "
                          "'region' option or AWS_DEFAULT_REGION") from exc


class AwsAutoScalingBackend(IdempotentBackend):
    """Applies ``REPLICAS`` commands as the desired capacity of Auto Scaling groups."""

    name = "aws"

    def __init__(
        self,
        client: Any,
        options: AwsOptions,
        *,
        hosts: tuple[str, ...] = (),
        components: tuple[str, ...] = (),
        cache_size: int = 10_000,
    ) -> None:
        missing = [m for m in CLIENT_METHODS if not callable(getattr(client, m, None))]
        if missing:
            raise ConfigError(f"aws backend client lacks {', '.join(missing)}: pass a boto3 "
                              "autoscaling client")
        self.client = client
        self.options = options
        self._books: dict[str, GroupBooks] = {}
        self.changes = 0  # SetDesiredCapacity calls made; a repeated command_id makes none
        super().__init__(hosts=hosts, components=components, cache_size=cache_size)

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        *,
        hosts: tuple[str, ...] = (),
        components: tuple[str, ...] = (),
    ) -> AwsAutoScalingBackend:
        """The backend from ``[backend_options]`` / FOREWARN_BACKEND_OPTIONS values."""
        check_options("aws", options, (*OPTIONS, "client"))
        parsed = AwsOptions.parse(options)
        client = options.get("client")
        if client is None:
            client = make_client(parsed)
        else:
            clash = [k for k in CLIENT_OPTIONS if k in options]
            if clash:
                raise ConfigError(f"aws backend option 'client' excludes {', '.join(clash)}: "
                                  "they configure the client it replaces")
        return cls(client, parsed, hosts=tuple(hosts), components=tuple(components))

    def books(self) -> dict[str, GroupBooks]:
        """Forewarn's books per group, as this process knows them."""
        return dict(self._books)

    def _execute(self, command: Mapping[str, Any]) -> Record:
        component, host = command["component"], command["host"]
        if command["resource"] != "REPLICAS":
            raise BackendError(
                f"aws backend applies REPLICAS only (Auto Scaling desired capacity), not "
                f"{command['resource']} for {component}; route it to another backend"
            )
        group = self.options.group_for(component, host)
        if group is None:
            keys = ", ".join(k for k, _ in self.options.groups)
            raise BackendError(f"no Auto Scaling group for component {component!r} (host "
                               f"{host!r}): groups covers {keys} and no group_template is set")
        extra = _whole(command["amount"], component) if command["action"] == "GRANT" else 0
        with self._aws(group, component):
            before = self._describe(group, component)
            books = self._books.get(group) or GroupBooks.from_tags(group, _tags(before))
            if command["action"] == "GRANT":
                start = books or GroupBooks(int(before["DesiredCapacity"]))  # the first change
                new = replace(start, grants={**start.grants, component: extra})
            elif books is None:  # nothing of ours on the group: nothing to give back
                detail = (f"{command['action'].lower()}: ASG {group!r} holds no forewarn grant "
                          f"for {component}; desired stays {before['DesiredCapacity']}")
                return self._outcome(command, detail)
            else:
                new = replace(books, grants={c: n for c, n in books.grants.items()
                                             if c != component})
            self._change(group, component, before, books, new)
            after = self._describe(group, component)
        held = new.grants.get(component, 0)
        detail = (f"{command['action'].lower()}: ASG {group!r} desired capacity "
                  f"{before['DesiredCapacity']} -> {new.target} (baseline {new.baseline}, "
                  f"{component} {held:+d}, all grants {new.target - new.baseline:+d}); confirmed "
                  f"desired {after['DesiredCapacity']}, max {after['MaxSize']}")
        if after["DesiredCapacity"] != new.target:
            detail += f" (differs from the {new.target} set: another actor changed it)"
        return self._outcome(command, detail)

    def _outcome(self, command: Mapping[str, Any], detail: str) -> Record:
        log.info("aws: %s [%s]", detail, command["command_id"])
        return make_outcome(command["command_id"], command["component"], command["ts"],
                            "APPLIED", detail, self.name)

    def _change(self, group: str, component: str, before: Mapping[str, Any],
                old: GroupBooks | None, new: GroupBooks) -> None:
        """Take the group to ``new.target``: tags first, MaxSize around the capacity change."""
        max_now = int(before["MaxSize"])
        present = set(_tags(before)) | set(old.tags() if old is not None else ())
        grants = new.target - new.baseline
        if new.target < int(before["MinSize"]):  # a scale-down (negative grants) too far
            raise BackendError(
                f"ASG {group!r}: desired {new.target} (baseline {new.baseline}, grants "
                f"{grants:+d}) for {component} is below MinSize {before['MinSize']}; "
                "lower the group's MinSize (or grant a smaller scale-down)"
            )
        if new.original_max is None and new.target > max_now:
            if not self.options.raise_max:
                raise BackendError(
                    f"ASG {group!r}: desired {new.target} (baseline {new.baseline}, grants "
                    f"{grants:+d}) for {component} exceeds MaxSize {max_now}; "
                    "raise the group's MaxSize or set raise_max = true"
                )
            new = replace(new, original_max=max_now)
        max_want = max_now if new.original_max is None else max(new.original_max, new.target)
        if new.grants:
            key = GRANT_TAG + component
            if component in new.grants and len(key) > TAG_KEY_MAX:
                raise BackendError(f"component id {component!r} is too long for an ASG tag key "
                                   f"({len(key)} > {TAG_KEY_MAX} characters with {GRANT_TAG})")
            self._retag(group, present, new)
        try:
            if max_want > max_now:
                self.client.update_auto_scaling_group(AutoScalingGroupName=group,
                                                      MaxSize=max_want)
            self.client.set_desired_capacity(AutoScalingGroupName=group,
                                             DesiredCapacity=new.target,
                                             HonorCooldown=self.options.honor_cooldown)
            self.changes += 1
            if max_want < max_now:
                self.client.update_auto_scaling_group(AutoScalingGroupName=group,
                                                      MaxSize=max_want)
        except Exception:
            if new.grants:
                self._put_back(group, present | set(new.tags()), old)
            raise
        if new.grants:
            self._books[group] = new
        else:  # the baseline is back: forewarn holds nothing on the group any more
            self._retag(group, present, None)
            self._books.pop(group, None)

    def _retag(self, group: str, present: set[str], new: GroupBooks | None) -> None:
        """Make the group's forewarn tags (keys ``present`` now) say ``new`` (None: none)."""
        new_tags = new.tags() if new is not None else {}
        if new_tags:
            self.client.create_or_update_tags(Tags=[
                {"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": k,
                 "Value": v, "PropagateAtLaunch": False} for k, v in new_tags.items()
            ])
        gone = sorted(k for k in present if k not in new_tags)
        if gone:
            self.client.delete_tags(Tags=[
                {"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": k}
                for k in gone
            ])

    def _put_back(self, group: str, present: set[str], old: GroupBooks | None) -> None:
        """After a failed change, the tags go back to ``old`` (best effort, logged)."""
        try:
            self._retag(group, present, old)
        except Exception:
            log.exception("aws: could not put back the forewarn tags of ASG %r (keys %s)",
                          group, sorted(present))

    def _describe(self, group: str, component: str) -> Mapping[str, Any]:
        found = self.client.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
        groups = found.get("AutoScalingGroups", [])
        if not groups:
            region = getattr(getattr(self.client, "meta", None), "region_name", None)
            raise BackendError(
                f"no Auto Scaling group {group!r} in region {region} for component "
                f"{component!r}; check groups / group_template in backend_options"
            )
        first: Mapping[str, Any] = groups[0]
        return first

    @contextmanager
    def _aws(self, group: str, component: str) -> Iterator[None]:
        """Client errors become BackendErrors that say which call, group and component."""
        try:
            yield
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise BackendError(
                f"AWS {exc.operation_name} on ASG {group!r} for {component} failed: "
                f"{err.get('Code', '?')}: {err.get('Message', exc)}"
            ) from exc
        except BotoCoreError as exc:  # no connection, no credentials, bad parameters
            raise BackendError(f"AWS call on ASG {group!r} for {component} failed: {exc}") from exc


def _tags(group: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in group.get("Tags", [])
            if t.get("Key", "").startswith("forewarn:")}


def _whole(amount: float, component: str) -> int:
    if abs(amount - round(amount)) > 1e-6:
        raise BackendError(f"REPLICAS amount {amount!r} for {component} is not a whole number "
                           "of instances")
    return int(round(amount))
