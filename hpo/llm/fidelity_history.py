"""A multi-fidelity history as the model reads it: one row per configuration, its loss at each fidelity it reached.

Shared by the kinds that show a model several fidelities (``llm_hb``, ``llm_mf``, ``mm_llm_mf``) and by the learning
curve image (:mod:`hpo.llm.curves`), so the table and the image show the same configurations under the same ids.
A configuration's id is its 1-based position in first-evaluation order; it never changes, so the model can name a
configuration ("promote 4") in any later request.
"""

from __future__ import annotations

import json

History = dict[str, dict[float, float]]  # config_json key -> {fidelity: latest loss there}, first-record order


def shown_configurations(history: History, best_k: int, recent_m: int) -> tuple[list[int], str]:
    """The 0-based positions of the configurations shown (first-evaluation order) and the note that says which.

    Every configuration while there are at most ``best_k + recent_m``; beyond that the ``best_k`` best of the earlier
    ones (highest fidelity reached first, then loss) and the ``recent_m`` latest, so the prompt stops growing.
    """
    keys = list(history)

    def rank(i: int) -> tuple[float, float]:
        top = max(history[keys[i]])
        loss = history[keys[i]][top]
        return (-top, loss if loss == loss else float("inf"))

    if len(keys) <= best_k + recent_m:
        note = "History (configurations in the order first evaluated; loss at each fidelity, empty = not evaluated):"
        return list(range(len(keys))), note
    best = sorted(range(len(keys) - recent_m), key=rank)[:best_k]
    note = (
        f"History ({len(keys)} configurations; the {best_k} best of the earlier ones, then the {recent_m} latest; "
        "loss at each fidelity, empty = not evaluated):"
    )
    return sorted(best) + list(range(len(keys) - recent_m, len(keys))), note


def fidelity_history_text(history: History, best_k: int, recent_m: int) -> str:
    """Every shown configuration (:func:`shown_configurations`) with its loss at each fidelity it reached.

    One row per configuration (``id`` first) and one column per fidelity, empty where it was not evaluated, so the
    model sees how each one's loss changed with fidelity; the last line is the best loss at the highest fidelity.
    """
    from hpo.llm.prompt import EMPTY_HISTORY, cell

    if not history:
        return EMPTY_HISTORY
    keys = list(history)
    fids = sorted({f for losses in history.values() for f in losses})
    shown, note = shown_configurations(history, best_k, recent_m)
    configs = [json.loads(k) for k in keys]
    names = sorted(configs[0])
    header = ",".join(["id", *names, *(f"loss@{f:.4g}" for f in fids)])
    rows = []
    for i in shown:
        losses = history[keys[i]]
        cells = [f"{losses[f]:.6g}" if f in losses else "" for f in fids]
        rows.append(",".join([str(i + 1), *(cell(configs[i][n]) for n in names), *cells]))
    top = fids[-1]
    at_top = [v[top] for v in history.values() if top in v]
    best_line = f"Best loss at fidelity {top:.4g}: {min(at_top):.6g}."
    return "\n".join([note, header, *rows, best_line])
