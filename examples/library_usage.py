"""Use `hpo` as a plain Python library: one optimizer on one benchmark, no Snakemake.

python examples/library_usage.py
"""

from hpo import benchmarks
from hpo.analysis.aggregate import with_normalized_regret
from hpo.run.harness import run
from hpo.run.provenance import build_spec

bench = benchmarks.make("nb201-cifar10")  # converts the table into ~/.cache/mm-llm-hpo/tables on first use
# build_spec fills the kind's parameter defaults and the fingerprint, exactly as the workflow does
spec = build_spec(benchmark="nb201-cifar10", method="tpe", kind="optuna_tpe", seed=0, n_trials=40, n_init=10)
table, meta = run(spec, bench)
df = with_normalized_regret(table, meta).to_pandas()  # derived from the stored regret and f*, f_ref

print(f"{bench.info['description']}; loss = {bench.info['loss']}; f* = {meta['f_star']:.4f}")
for budget in (10, 20, 40):
    row = df[df["trial"] == budget].iloc[0]
    print(
        f"after {budget:3d} trials: best loss {row['best_loss']:.4f}, normalized regret {row['normalized_regret']:.3f}"
    )
print("incumbent:", df["incumbent"].iloc[-1])
