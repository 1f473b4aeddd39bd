"""``mm_llm`` and its control ``mm_llm_blank``: the text prompt of ``llm`` plus plots of the search history.

The text part is byte-for-byte the ``llm`` prompt for the same history, so ``llm`` vs ``mm_llm`` isolates the images
and ``mm_llm`` vs ``mm_llm_blank`` (white images of the same size) isolates their *content*. The images a model saw
for trial ``t`` are kept next to the trajectory as ``<seed>_images/trial_<t>_<name>.png``.

The ``images`` parameter selects which of the three plots are sent (proposals and insight requests alike), so a study
can ablate them. It has no schema ``default`` on purpose: defaults are filled into the resolved parameters, which are
hashed into the run's fingerprint, so a default would rerun every existing multimodal run; unset means all three.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hpo.llm.images import PLOTS
from hpo.optimizers.base import object_schema
from hpo.optimizers.llm import LLM_PARAMS, LLMOptimizer

MM_PARAMS: dict[str, Any] = {
    **LLM_PARAMS,
    "endpoint": {
        "type": ["string", "null"],
        "default": None,
        "description": "an endpoint with vision: true; unset = the study's first vision endpoint",
    },
    "detail": {"enum": ["low", "high", "auto"], "default": "low"},
    "images": {
        "type": "array",
        "items": {"enum": list(PLOTS)},
        "minItems": 1,
        "uniqueItems": True,
        "description": f"which plots are sent, always in this order: {', '.join(PLOTS)}; unset = all three",
    },
}


class MMLLMOptimizer(LLMOptimizer):
    """Multimodal LLM optimizer: sends the history images with every request."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(MM_PARAMS)
    USES_IMAGES: ClassVar[bool] = True
    BLANK: ClassVar[bool] = False

    def images(self) -> list[bytes]:
        from hpo.llm import images

        which = self.selected()
        pngs = images.render(self.space, self.history, which) if self.history else []
        if not pngs:  # zero-shot initial design: nothing to plot yet
            return []
        return [images.blank_like(p) for p in pngs] if self.BLANK else pngs

    def selected(self) -> list[str]:
        """The plots this method sends (keys of :data:`hpo.llm.images.PLOTS`, in that order)."""
        chosen = self.params.get("images") or list(PLOTS)
        return [name for name in PLOTS if name in chosen]

    def build_messages(self, text: str) -> list[dict[str, Any]]:
        from hpo.llm.prompt import messages

        pngs = self.images()
        if self.artifacts is not None and pngs:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            trial = len(self.history) + 1
            for name, png in zip([PLOTS[k] for k in self.selected()], pngs):
                (self.artifacts / f"trial_{trial:03d}_{name}.png").write_bytes(png)
        return messages(text, pngs, detail=self.params["detail"])


class MMLLMBlankOptimizer(MMLLMOptimizer):
    """Control: identical prompt, blank images of the same size."""

    BLANK: ClassVar[bool] = True
