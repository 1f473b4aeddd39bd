"""Make each table once: convert a shipped HPOBench table into the fast .npz layout (pickle loading would dominate a
run job), or train a learning-curve table (hpo/benchmarks/lc_mlp.py)."""


rule convert_table:
    output:
        f"{RESULTS}/tables/{{benchmark}}.npz",
    log:
        f"{LOGS}/tables/{{benchmark}}.log",
    conda:
        "../envs/run.yaml"
    params:
        # the family's code (e.g. its loss transform) shapes the converted table: editing it reconverts
        code=lambda wildcards: benchmark_digest(wildcards.benchmark),
    script:
        "../workflow_scripts/convert_table.py"
