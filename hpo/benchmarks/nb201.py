"""NAS-Bench-201 (Dong & Yang 2020) cell search space; the table stores accuracy in percent.

Loss = ``1 - validation accuracy`` (accuracy as a fraction). ``imagenet`` is ImageNet16-120.
"""

from hpo.benchmarks.tabular import TableFamily

FAMILY = TableFamily(
    name="nasbench201",
    bench_class="NASBench201",
    metric="val_acc",
    loss_name="1 - validation accuracy",
    to_loss=lambda pct: 1.0 - pct / 100.0,
    description="NAS-Bench-201 (6 operations, 15,625 cells, 3 seeds)",
    datasets=("cifar10", "cifar100", "imagenet"),
    model="NAS-Bench-201 cell convolutional network",
    task="image classification",
    metric_name="accuracy",
    dataset_cards={"cifar10": {"n_classes": 10}, "cifar100": {"n_classes": 100}, "imagenet": {"n_classes": 120}},
)
PREFIX = "nb201"
