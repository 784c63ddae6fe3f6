"""moto's EC2 reads an object's tags by scanning every tag of the region (TagBackend.describe_tags
with a `resource-id` filter, a regular expression matched against each tagged id), once per object
it serializes: a Describe of n objects costs n × (all tags). With 20 stacks in one region
(the bench's fleet) that made localcloud, not the stacks, the bottleneck (py-spy: 22 % of its time
in TaggedEC2Resource.get_tags). Reading one object's tags is a dict lookup: the same answer,
in the same order as the backend stores them."""
from __future__ import annotations

from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix


def _get_tags(self) -> list[dict[str, str]]:
    rid = getattr(self, "id", None)
    if not rid:
        return []
    tags = self.ec2_backend.tags.get(rid)
    if not tags:
        return []
    kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(rid), "")
    return [{"resource_id": rid, "key": k, "value": v, "resource_type": kind} for k, v in list(tags.items())]


def install() -> None:
    TaggedEC2Resource.get_tags = _get_tags
