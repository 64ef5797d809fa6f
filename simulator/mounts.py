"""Vendors served at another base path (issue 12 item 5; docs/vendors/crmcom.md CC-M1).

``--mount crmcom=/crm`` (or ``CRMSIM_MOUNTS=crmcom=/crm``) serves CRM.COM's routes under
``/crm/...`` instead of ``/crmapi/rest/v2/...``. A mount replaces the vendor's default base
path; vendors without one keep theirs. Two served vendors whose base paths overlap (equal,
or one inside the other) are refused with a message naming both, and so is a base path
under the control plane (``/__sim``) or the namespaces (``/__ns``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from simulator.config import BadSetting
from simulator.vendors._base import Vendor

RESERVED = {"/__sim": "the control plane", "/__ns": "the namespaces"}


def overlap(a: str, b: str) -> bool:
    """Whether two base paths share requests: equal, or one a path prefix of the other."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def mount(vendors: Iterable[Vendor], mounts: Mapping[str, str]) -> list[Vendor]:
    """``vendors`` with their mounted base paths; raises ``BadSetting`` for a mount of a
    vendor that is not served, or for overlapping base paths (naming both vendors)."""
    served = list(vendors)
    slugs = {v.slug for v in served}
    for slug in mounts:
        if slug not in slugs:
            raise BadSetting(
                f"mount {slug}={mounts[slug]}: {slug} is not served "
                f"(serving {', '.join(sorted(slugs)) or 'no vendor'})"
            )
    out = [dataclasses.replace(v, prefix=mounts[v.slug]) if v.slug in mounts else v for v in served]
    taken: list[tuple[str, str]] = [(p, name) for p, name in RESERVED.items()]
    for vendor in out:
        prefix = vendor.prefix
        for other, owner in taken:
            if overlap(prefix, other):
                how = "mounted" if vendor.slug in mounts else "served"
                raise BadSetting(
                    f"mounts overlap: {vendor.slug} {how} at {prefix} and {owner} at "
                    f"{other} would share requests; give one of them another base path "
                    f"(--mount VENDOR=/PATH, CRMSIM_MOUNTS)"
                )
        taken.append((prefix, vendor.slug))
    return out
