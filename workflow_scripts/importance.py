"""Snakemake script of rules ``importance`` (one benchmark's ground-truth hyperparameter importance -> JSON) and
``importance_table`` (every benchmark's importance in one long CSV)."""

from hpo.insight.truth.compute import importance_json
from hpo.insight.truth.importance import importance_table, load_importance, write_importance
from hpo.util.atomic import atomic_path
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    if sm.rule == "importance_table":
        table = importance_table([load_importance(p) for p in sm.input])
        with atomic_path(sm.output[0]) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g")
        print(f"{len(table)} rows from {len(sm.input)} benchmarks")
    else:
        benchmark = sm.wildcards.benchmark
        bench = None
        if sm.params.definition:  # a custom (HPOBench-native) benchmark of the study
            from hpo import benchmarks

            bench = benchmarks.make(benchmark, definition=sm.params.definition)
        record = importance_json(benchmark, table=sm.input.get("table"), bench=bench)
        write_importance(record, sm.output[0])
        rank = record["transforms"]["rank"]
        print(
            f"{benchmark}: {record['method']} on {record['n_points']} points in {record['seconds']:.2f} s; "
            f"top pair {rank['top_pair']}; main effects sum to {rank['sum_main']:.3g}; "
            f"unresolved pairs {rank['unresolved_pairs'] or 'none'}\n{record['estimator']}"
        )
