"""Admission webhooks as checks read them: each webhook of each configuration, and label selectors.

``admissionregistration.k8s.io/v1`` configurations hold a list of webhooks;
the checks judge one webhook at a time and name it as
``ValidatingWebhookConfiguration/<config>`` plus the webhook's name. The
label-selector reading is the API server's own (``matchLabels`` and
``matchExpressions`` ANDed; an empty selector matches everything). Every loop
is bounded: a configuration with more than :data:`MAX_WEBHOOKS` webhooks or
a selector with more than :data:`MAX_EXPRESSIONS` terms is read only that far.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_EXPRESSIONS", "MAX_WEBHOOKS", "WEBHOOK_KINDS", "Webhook", "selector_matches", "webhooks_of"]

Obj = dict[str, Any]

#: the two configuration kinds, as checks spell them in ``reads=``
WEBHOOK_KINDS = (
    "admissionregistration.k8s.io/v1 validatingwebhookconfigurations",
    "admissionregistration.k8s.io/v1 mutatingwebhookconfigurations",
)
MAX_WEBHOOKS = 200
MAX_EXPRESSIONS = 64
_KIND_OF = {
    WEBHOOK_KINDS[0]: "ValidatingWebhookConfiguration",
    WEBHOOK_KINDS[1]: "MutatingWebhookConfiguration",
}


@dataclass(frozen=True)
class Webhook:
    """One webhook of one configuration."""

    kind: str
    config: Obj
    spec: Obj

    @property
    def ref(self) -> str:
        """How findings name the configuration: ``Kind/name``."""
        return f"{self.kind}/{(self.config.get('metadata') or {}).get('name', '?')}"

    @property
    def name(self) -> str:
        """The webhook's own name (``pod-policy.example.com``)."""
        return str(self.spec.get("name", "?"))

    @property
    def failure_policy(self) -> str:
        """``Fail`` or ``Ignore``; v1 defaults an unset policy to ``Fail``."""
        return str(self.spec.get("failurePolicy") or "Fail")

    @property
    def service(self) -> tuple[str, str] | None:
        """``(namespace, name)`` of the backing Service, or None for a ``url:`` webhook."""
        service = (self.spec.get("clientConfig") or {}).get("service")
        if not isinstance(service, dict):
            return None
        return str(service.get("namespace", "")), str(service.get("name", ""))

    @property
    def url(self) -> str | None:
        """The ``clientConfig.url`` of a webhook outside the cluster's service discovery."""
        url = (self.spec.get("clientConfig") or {}).get("url")
        return str(url) if url else None

    @property
    def ca_bundle(self) -> str:
        """``clientConfig.caBundle`` (base64 PEM), empty when unset."""
        return str((self.spec.get("clientConfig") or {}).get("caBundle") or "")

    def rules(self) -> list[Obj]:
        """The webhook's rules (bounded)."""
        rules = self.spec.get("rules") or []
        return [r for r in rules[:MAX_EXPRESSIONS] if isinstance(r, dict)]


def webhooks_of(configs_by_kind: dict[str, list[Obj]]) -> Iterator[Webhook]:
    """Every webhook of the listed configurations (``{reads spelling: objects}``), bounded per configuration."""
    for spelling, configs in configs_by_kind.items():
        kind = _KIND_OF.get(spelling, spelling)
        for config in configs:
            hooks = config.get("webhooks") or []
            for spec in hooks[:MAX_WEBHOOKS] if isinstance(hooks, list) else []:
                if isinstance(spec, dict):
                    yield Webhook(kind, config, spec)


def _expression_matches(expression: Obj, labels: dict[str, str]) -> bool:
    key = str(expression.get("key", ""))
    operator = expression.get("operator")
    values = [str(v) for v in (expression.get("values") or [])[:MAX_EXPRESSIONS]]
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False  # an operator the API server would have rejected: selects nothing


def selector_matches(selector: Obj | None, labels: dict[str, str]) -> bool:
    """Whether a ``LabelSelector`` selects an object with ``labels`` (None or ``{}`` selects everything)."""
    if not selector:
        return True
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(str(k)) != str(v) for k, v in list(match_labels.items())[:MAX_EXPRESSIONS]):
        return False
    expressions = selector.get("matchExpressions") or []
    return all(_expression_matches(e, labels) for e in expressions[:MAX_EXPRESSIONS] if isinstance(e, dict))
