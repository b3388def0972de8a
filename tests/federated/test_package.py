"""Package contract: no flwr at import time, clear errors for absent paper data, presets."""

import subprocess
import sys

import pytest

from paperzoo.core import DataMissingError
from paperzoo.federated.repro.experiments import paper, quick, smoke
from paperzoo.federated.repro.federation import load_dataset


def test_import_does_not_import_flwr():
    code = "import sys, paperzoo.federated; assert 'flwr' not in sys.modules, 'flwr imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_paper_data_absent_is_a_clear_error(tmp_path):
    with pytest.raises(DataMissingError, match=r"cifar10\.npz"):
        load_dataset("cifar10", tmp_path)


def test_presets_follow_the_issue():
    q = quick()
    assert set(q.datasets) == {"mnist", "fashion_mnist"} and q.data.classes_per_client == 2
    # the paper's pathological setting (CIFAR-10 row): 60 clients, 15 per round, batch 10
    assert q.data.num_clients == 60 and q.fl.clients_per_round == 15
    assert q.model == "lenet5" and q.fl.batch_size == 10 and q.fl.learning_rate_decay == 0.999
    assert q.fl.fedmix_lam == 0.05 and q.fl.naivemix_lam == 0.1
    assert q.fl.num_rounds >= 300 and len(q.seeds) >= 4  # hundreds of rounds, 4+ paired seeds
    # 3 λ values and the private means, paired on (the first) 3 seeds
    assert len(q.lam_sweep) == 2 and 3 <= q.lam_sweep_seeds <= len(q.seeds)
    assert q.dp_epsilons and 3 <= q.dp_seeds <= len(q.seeds)
    assert set(q.claims.reference_acc) == set(q.datasets)  # FedAvg gated on every data set
    assert smoke().datasets == ["digits"]
    assert paper().datasets == ["cifar10"] and paper().fl.num_rounds == 500
