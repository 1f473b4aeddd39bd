"""HPOBench MLP tabular benchmark on 8 OpenML datasets (Kadra et al. grids as shipped by HPOBench).

The table's ``val_acc`` is the validation *balanced* accuracy, so the loss is ``1 - validation balanced accuracy``.
"""

from hpo.benchmarks.tabular import TableFamily

FAMILY = TableFamily(
    name="hpobench_mlp",
    bench_class="HPOBench",
    metric="val_acc",
    loss_name="1 - validation balanced accuracy",
    to_loss=lambda acc: 1.0 - acc,
    description="HPOBench MLP tabular benchmark (5 hyperparameters, 30,000 configurations, 5 seeds)",
    datasets=("australian", "blood_transfusion", "car", "credit_g", "kc1", "phoneme", "segment", "vehicle"),
)
PREFIX = "mlp"
