"""``mm_llm_mf`` and its control ``mm_llm_mf_blank``: ``llm_mf`` plus the learning curves as an image.

The text part is byte for byte ``llm_mf``'s prompt for the same history, and the image
(:func:`hpo.llm.curves.learning_curves`) draws the configurations of its history table under the same ids, so
``mm_llm_mf`` vs ``llm_mf`` isolates the image, and ``mm_llm_mf`` vs ``mm_llm_mf_blank`` (a white image of the same
size) its content, as ``mm_llm`` / ``mm_llm_blank`` do for full-fidelity proposals. Before any evaluation there is
nothing to draw and no image is sent (the three kinds' first requests are the same). The image a model saw before
trial ``t`` is kept next to the trajectory as ``<seed>_images/trial_<t>_curves.png``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hpo.optimizers.base import object_schema
from hpo.optimizers.llm_mf import LLM_MF_PARAMS, LLMMultiFidelity
from hpo.optimizers.mm_llm import MM_PARAMS

MM_LLM_MF_PARAMS: dict[str, Any] = {**LLM_MF_PARAMS, "endpoint": MM_PARAMS["endpoint"], "detail": MM_PARAMS["detail"]}
IMAGE_NAME = "curves"


class MMLLMMultiFidelity(LLMMultiFidelity):
    """``llm_mf`` whose every request also shows the learning curves of the history."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(MM_LLM_MF_PARAMS)
    USES_IMAGES: ClassVar[bool] = True
    BLANK: ClassVar[bool] = False

    def images(self) -> list[bytes]:
        """The learning-curve PNG of the current history (blank for the control), none before any evaluation."""
        from hpo.llm.curves import learning_curves
        from hpo.llm.images import blank_like

        history = self._schedule().history()
        if not history:
            return []
        name = self.context.info.get("fidelity", {}).get("name", "fidelity")
        png = learning_curves(
            history, self.params["history_best_k"], self.params["history_recent_m"], self.schedule.levels, name
        )
        return [blank_like(png) if self.BLANK else png]

    def build_messages(self, text: str) -> list[dict[str, Any]]:
        from hpo.llm.prompt import messages

        pngs = self.images()
        if self.artifacts is not None and pngs:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            (self.artifacts / f"trial_{len(self.history) + 1:03d}_{IMAGE_NAME}.png").write_bytes(pngs[0])
        return messages(text, pngs, detail=self.params["detail"])


class MMLLMMultiFidelityBlank(MMLLMMultiFidelity):
    """Control: identical prompt, a blank image of the same size."""

    BLANK: ClassVar[bool] = True
