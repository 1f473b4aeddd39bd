"""A tiny study end to end with scripted models on the fake OpenAI server: real runs (run_to_file), real insight
calls (insight_to_file), the real ground truth of mlp-car and the analysis (hpo.insight.stats).

Three scripted models, each a method of the study:

* ``oracle`` (kind llm) states the truth once it has a history (uniform before): the importance record's main
  shares, read by the fake server from a file the test writes -> chance-normalized rank scores 1, above every rung;
* ``hedger`` (kind llm) states uniform weights -> normalized rank scores 0;
* ``parrot`` (kind mm_llm, sees the images) states the pair the images plot as its top two, read from a file the
  test writes per budget, when the request carries images, and uniform weights when it does not -> echo rate 1 on
  the runs whose plotted pair is not the true top pair (the others have no echo), and a known within-history image
  effect: its statement with the images minus its statement on the same history without them.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fake_openai import FakeOpenAI

from hpo.core.influence import influence
from hpo.insight import stats as ins
from hpo.insight.ask import insight_to_file
from hpo.insight.table import top_two
from hpo.insight.truth import importance as imp
from hpo.insight.truth.compute import importance_json
from hpo.run.harness import run_to_file
from hpo.run.provenance import build_spec

BENCH = "mlp-car"
SEEDS = (0, 1)
N_TRIALS, N_INIT = 9, 4
BUDGETS = [6, 9]
METHODS = {"random_search": "random_search", "oracle": "llm", "hedger": "llm", "parrot": "mm_llm"}
ROLES = {"oracle": "text", "hedger": "text", "parrot": "image"}
REGION = {"hyperparameter": "learning_rate_init", "values": [0.0016681006, 0.0059948424]}


def _is_insight(request: dict[str, Any]) -> bool:
    return "weights" in request["response_format"]["json_schema"]["schema"]["properties"]


def _text(request: dict[str, Any]) -> str:
    content = request["messages"][1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def _has_images(request: dict[str, Any]) -> bool:
    content = request["messages"][1]["content"]
    return isinstance(content, list) and any(part.get("type") == "image_url" for part in content)


def _budget(request: dict[str, Any]) -> int:
    """The number of trials in the request's history table (0: the prior's request has none)."""
    rows = re.findall(r"^(\d+),", _text(request), flags=re.M)
    return max(map(int, rows), default=0)


class Script:
    """The fake server's replies: random valid proposals for the runs, the current model's insight answers."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.model = "hedger"

    def __call__(self, request: dict[str, Any]) -> str:
        if not _is_insight(request):
            props = request["response_format"]["json_schema"]["schema"]["properties"]["config"]["properties"]
            config = {k: random.choice(v["enum"]) for k, v in props.items()}
            return json.dumps({"rationale": "random", "config": config})
        names = list(request["response_format"]["json_schema"]["schema"]["properties"]["weights"]["properties"])
        truth = json.loads((self.folder / "truth.json").read_text())
        if self.model == "oracle" and _budget(request) > 0:  # knows nothing before the history: uniform prior
            weights, pair = truth["shares"], truth["top_interaction"]
        elif self.model == "parrot" and _has_images(request):
            shown = json.loads((self.folder / "plotted.json").read_text()).get(str(_budget(request)), names[:2])
            rest = [n for n in names if n not in shown]
            weights = {shown[0]: 0.4, shown[1]: 0.35, **{n: 0.25 / len(rest) for n in rest}}
            pair = shown
        else:
            weights, pair = dict.fromkeys(names, 1 / len(names)), names[:2]
        return json.dumps({"weights": weights, "best_region": REGION, "top_interaction": pair})


@pytest.fixture(scope="module")
def study(table_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    random.seed(0)
    root = tmp_path_factory.mktemp("insight_study")
    record = importance_json(BENCH, table=table_dir / f"{BENCH}.npz")
    imp.write_importance(record, root / f"{BENCH}.json")
    record = imp.load_importance(root / f"{BENCH}.json")
    main = record["transforms"]["rank"]["main"]
    truth = {"shares": {k: v / sum(main.values()) for k, v in main.items()}}
    truth["top_interaction"] = record["transforms"]["rank"]["top_interaction"]
    (root / "truth.json").write_text(json.dumps(truth))
    script = Script(root)
    runs, insight_paths = [], []
    with pytest.MonkeyPatch.context() as mp, FakeOpenAI(script) as fake:
        mp.setenv("HPO_TEST_KEY", "sk-test-not-secret")
        endpoint = {"base_url": fake.url, "model": "fake-vision", "vision": True, "structured_output": "json_schema"}
        endpoint |= {"retries": 0, "timeout": 5.0, "api_key_env": "HPO_TEST_KEY"}
        for method, kind in METHODS.items():
            params = {"endpoint": "fake", "endpoint_config": endpoint} if method in ROLES else {}
            for seed in SEEDS:
                spec = build_spec(
                    benchmark=BENCH,
                    method=method,
                    kind=kind,
                    seed=seed,
                    n_trials=N_TRIALS,
                    n_init=N_INIT,
                    params=params,
                )
                path = root / "runs" / method / f"{seed}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                run_to_file(spec, path, table_path=table_dir / f"{BENCH}.npz")
                runs.append(path)
                if method not in ROLES:
                    continue
                run = pd.read_parquet(path).sort_values("trial")
                space = imp.space_of(record)
                plotted = {
                    b: influence(space, [json.loads(c) for c in run["config"][:b]], run["loss"][:b].tolist())[:2]
                    for b in BUDGETS
                }
                (root / "plotted.json").write_text(json.dumps(plotted))
                script.model = method
                out = root / "runs" / method / f"{seed}_insight.json"
                insight_to_file(
                    spec, path, out, BUDGETS, table_path=table_dir / f"{BENCH}.npz", cache_dir=root / method
                )
                insight_paths.append(out)
    df = pd.concat([pd.read_parquet(p) for p in runs], ignore_index=True)
    tables = ins.write_insight(
        df,
        [root / f"{BENCH}.json"],
        insight_paths,
        root / "stats",
        BUDGETS,
        ROLES,
        kinds=METHODS,
        llm_methods=list(ROLES),
        settings={},
    )
    return {"tables": tables, "record": record, "root": root}


def test_the_oracle_scores_one_and_beats_every_rung(study: dict[str, Any]) -> None:
    s = study["tables"]["insight"]
    oracle = s[(s["method"] == "oracle") & (s["source"] == "model")]  # each method has its own reply cache
    assert len(oracle) == len(SEEDS) * len(BUDGETS) and not oracle["fallback"].any()
    for m in ("kendall_tau", "weighted_tau", "ndcg"):
        assert np.allclose(oracle[f"{m}_norm"], 1.0), m
    assert (oracle["pair_hit"] == 1.0).all()
    final = s[(s["method"] == "oracle") & ((s["budget"] == max(BUDGETS)) | (s["source"] == "prior"))]
    means = final.groupby("source")["kendall_tau_norm"].mean()
    assert all(means["model"] > means[r] for r in ins.LADDER if r in means.index), means.to_dict()
    assert set(ins.LADDER) <= set(means.index)  # every rung is there, data_fanova_random included
    t = study["tables"]["insight_tests"]
    primary = t.iloc[0]
    assert primary["primary"] and primary["method"] == "oracle" and primary["contrast"] == "model vs best rung"
    assert primary["n_benchmarks"] == 1 and primary["effect"] > 0  # one benchmark: n = 1, whatever the seeds


def test_uniform_weights_score_zero(study: dict[str, Any]) -> None:
    s = study["tables"]["insight"]
    hedger = s[(s["method"] == "hedger") & s["source"].isin(["model", "prior"])]
    assert len(hedger) == len(SEEDS) * (1 + len(BUDGETS))
    for m in ("kendall_tau", "weighted_tau", "ndcg"):
        assert np.allclose(hedger[f"{m}_norm"], 0.0, atol=1e-9), m
    assert (hedger["stated_pair"] == "").all()


def test_the_parrot_echoes_the_plotted_pair(study: dict[str, Any]) -> None:
    s = study["tables"]["insight"]
    parrot = s[(s["method"] == "parrot") & (s["source"] == "model")]
    assert (parrot["stated_pair"] == parrot["plotted_pair"]).all()
    assert all(top_two(json.loads(w)) == p for w, p in zip(parrot["weights"], parrot["plotted_pair"]))
    # echo counts only runs whose plotted pair is not the true top pair: there a truthful model would match too
    true_pair = top_two(study["record"]["transforms"]["rank"]["main"])
    coincident = parrot["plotted_pair"] == true_pair
    assert parrot.loc[coincident, "echo"].isna().all() and parrot.loc[~coincident, "echo"].astype(bool).all()
    pairs = study["tables"]["insight_pairs"].set_index(["method", "budget"])
    for budget in BUDGETS:
        at = parrot[parrot["budget"] == budget]
        assert pairs.loc[("parrot", budget), "n_runs_echo"] == (at["plotted_pair"] != true_pair).sum()
        if (at["plotted_pair"] != true_pair).any():
            assert pairs.loc[("parrot", budget), "echo_rate"] == 1.0
    rate = study["tables"]["insight_tests"]
    rate = rate[rate["contrast"] == "echo rate: image vs text"]
    assert len(rate) == len(BUDGETS) and (rate["a"] == "parrot").all()


def test_images_are_judged_within_one_history(study: dict[str, Any]) -> None:
    """The parrot is asked twice per budget about the same history: with its images it states the plotted pair,
    without them uniform weights (normalized score 0). The within-history contrast recovers exactly that effect and
    is the images question's primary."""
    s = study["tables"]["insight"]
    parrot = s[s["method"] == "parrot"]
    with_images = parrot[parrot["source"] == "model"].set_index(["seed", "budget"]).sort_index()
    without = parrot[parrot["source"] == "model_text"].set_index(["seed", "budget"]).sort_index()
    assert list(with_images.index) == list(without.index) and len(without) == len(SEEDS) * len(BUDGETS)
    assert np.allclose(without["kendall_tau_norm"], 0.0, atol=1e-9)
    assert not s[s["method"] != "parrot"]["source"].eq("model_text").any()  # text kinds are asked once
    t = study["tables"]["insight_tests"]
    images = t[(t["contrast"] == "images, same history: model vs model_text") & (t["family"] == "all")]
    primary = images[images["primary"]].iloc[0]
    assert (primary["method"], primary["budget"], primary["metric"]) == ("parrot", max(BUDGETS), "kendall_tau")
    expected = with_images.xs(max(BUDGETS), level="budget")["kendall_tau_norm"].mean()
    assert primary["effect"] == pytest.approx(expected) and primary["n_benchmarks"] == 1


def test_the_stated_region_is_scored_exactly_on_the_grid(study: dict[str, Any]) -> None:
    from hpo.insight.truth.region import region_hit

    s = study["tables"]["insight"]
    model = s[s["source"].isin(["model", "prior"])]
    hit = region_hit(study["record"], REGION)  # every scripted model states the same region
    assert np.allclose(model["region_share"], hit["region_share"]) and 0 <= hit["region_share"] <= 1
    assert np.allclose(model["region_norm"], hit["region_norm"])
    base = hit["region_base_rate"]
    assert hit["region_norm"] == pytest.approx((hit["region_share"] - base) / (1 - base))
    chance = s[s["source"] == "chance"]
    assert np.allclose(chance["region_share"], base) and np.allclose(chance["region_norm"], 0.0)
    assert s[s["source"] == "data_fanova"]["region_share"].isna().all()  # the rungs state no region
