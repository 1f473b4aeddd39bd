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
    model="multilayer perceptron (MLP)",
    task="classification",
    metric_name="balanced accuracy",
    # OpenML's descriptions of the eight datasets: instances, features (target excluded), classes, and how many of
    # the features are categorical (LLAMBO's data card splits them; the reference counts every feature as one).
    dataset_cards={
        name: {"n_samples": s, "n_features": f, "n_classes": c, "n_categorical": k}
        for name, (s, f, c, k) in {
            "australian": (690, 14, 2, 8),
            "blood_transfusion": (748, 4, 2, 0),
            "car": (1728, 6, 4, 6),
            "credit_g": (1000, 20, 2, 13),
            "kc1": (2109, 21, 2, 0),
            "phoneme": (5404, 5, 2, 0),
            "segment": (2310, 19, 7, 0),
            "vehicle": (846, 18, 4, 0),
        }.items()
    },
)
PREFIX = "mlp"
