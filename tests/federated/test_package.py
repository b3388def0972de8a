"""Package contract: no flwr at import time, clear errors for absent paper data, presets."""

import subprocess
import sys

import pytest

from paperzoo.core import DataMissingError
from paperzoo.federated.experiments import paper, quick, smoke
from paperzoo.federated.federation import load_dataset


def test_import_does_not_import_flwr():
    code = "import sys, paperzoo.federated; assert 'flwr' not in sys.modules, 'flwr imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_paper_data_absent_is_a_clear_error(tmp_path):
    with pytest.raises(DataMissingError, match=r"cifar10\.npz"):
        load_dataset("cifar10", tmp_path)


def test_presets_follow_the_issue():
    q = quick()
    assert set(q.datasets) == {"mnist", "fashion_mnist"} and q.data.classes_per_client == 2
    assert 20 <= q.data.num_clients <= 30 and q.fl.clients_per_round == 5
    assert q.fl.batch_size == 10 and q.fl.learning_rate == 0.01
    assert q.fl.learning_rate_decay == 0.999
    assert 50 <= q.fl.num_rounds <= 100 and len(q.seeds) >= 2 and q.lam_sweep
    assert smoke().datasets == ["digits"]
    assert paper().datasets == ["cifar10"] and paper().fl.num_rounds == 500
