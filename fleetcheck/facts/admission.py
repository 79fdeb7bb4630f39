"""Admission facts the fleet compares: each webhook's failure policy, each namespace's enforced Pod Security level.

Both are maps keyed by a name that means the same thing on every cluster
(the webhook's own name, ``validation.gatekeeper.sh``; the namespace's name),
so a fleet check compares one key at a time with the one rule
(:meth:`fleetcheck.view.FleetView.compare`), a peer without the key not
voting. Parsing is :mod:`fleetcheck.facts.webhooks`'s (bounded there).
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetcheck.facts.key import Fact, FactInput
from fleetcheck.facts.webhooks import WEBHOOK_KINDS, webhooks_of

__all__ = ["ENFORCE_LABEL", "NAMESPACE_ENFORCE", "NO_LEVEL", "WEBHOOK_POLICIES", "WebhookPolicy"]

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
#: the value a namespace without the enforce label has in :data:`NAMESPACE_ENFORCE`
NO_LEVEL = "(no enforce label)"
_MAX_NAMESPACES = 20_000
_TEXT = 63


@dataclass(frozen=True)
class WebhookPolicy:
    """One webhook's failure policy, and the configuration that holds it (for the finding's object)."""

    policy: str
    ref: str


def _policies(source: FactInput) -> dict[str, WebhookPolicy]:
    hooks = webhooks_of({kind: source.list(kind) for kind in WEBHOOK_KINDS})
    policies: dict[str, WebhookPolicy] = {}
    for hook in hooks:
        # a name twice (two configurations): Fail wins, it is the one that can block
        known = policies.get(hook.name)
        if known is None or hook.failure_policy == "Fail":
            policies[hook.name] = WebhookPolicy(hook.failure_policy, hook.ref)
    return policies


WEBHOOK_POLICIES: Fact[dict[str, WebhookPolicy]] = Fact(
    "admission.webhook_policies",
    "Each admission webhook's failurePolicy (Fail, the v1 default when unset, or Ignore), by the webhook's name, "
    "with the Validating/MutatingWebhookConfiguration that holds it.",
    WEBHOOK_KINDS,
    _policies,
)


def _levels(source: FactInput) -> dict[str, str]:
    levels: dict[str, str] = {}
    for ns in source.list("namespaces")[:_MAX_NAMESPACES]:
        meta = ns.get("metadata") or {}
        if (ns.get("status") or {}).get("phase") == "Terminating":
            continue
        level = (meta.get("labels") or {}).get(ENFORCE_LABEL)
        levels[str(meta.get("name", "?"))[:_TEXT]] = str(level)[:_TEXT] if level is not None else NO_LEVEL
    return levels


NAMESPACE_ENFORCE: Fact[dict[str, str]] = Fact(
    "podsecurity.enforce",
    "Each namespace's pod-security.kubernetes.io/enforce level (privileged, baseline, restricted, or no label), "
    "by namespace name; terminating namespaces are left out.",
    ("namespaces",),
    _levels,
)
