"""Convert each shipped HPOBench table once into the fast .npz layout (pickle loading would dominate a run job)."""


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
