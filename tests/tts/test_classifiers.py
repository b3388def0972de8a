"""The judge classifiers learn separable classes and their embeddings group by class; their
randomness comes from ``seed`` / ``generator``, never the global RNG."""

import numpy as np
import torch

from paperzoo.tts.classifiers import embed, fit_classifier, predict
from paperzoo.tts.metrics import cosine_similarity


def _clips(n_per=20, seed=0):
    rng = np.random.default_rng(seed)
    mels, labels = [], []
    for c in range(3):
        for _ in range(n_per):
            t = int(rng.integers(8, 20))
            m = rng.standard_normal((t, 12)).astype(np.float32) * 0.5
            m[:, 4 * c : 4 * c + 4] += 2.0  # each class lights its own band
            mels.append(m)
            labels.append(c)
    return mels, labels


def test_classifier_learns_and_embeddings_cluster():
    mels, labels = _clips()
    model = fit_classifier(mels, labels, 3, epochs=15)
    test, truth = _clips(10, seed=1)
    assert (predict(model, test) == np.array(truth)).mean() > 0.9
    e = embed(model, test)
    same = cosine_similarity(e[0], e[1])
    other = cosine_similarity(e[0], e[-1])
    assert same > other


def _weights(model):
    return [v.clone() for v in model.state_dict().values()]


def test_same_generator_seed_same_classifier_and_global_rng_untouched():
    mels, labels = _clips(4)
    torch.manual_seed(7)
    state = torch.get_rng_state()
    a = fit_classifier(mels, labels, 3, epochs=2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), state)  # neither the weights nor the batches
    b = fit_classifier(mels, labels, 3, epochs=2, generator=torch.Generator().manual_seed(1))
    c = fit_classifier(mels, labels, 3, epochs=2, generator=torch.Generator().manual_seed(2))
    assert all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b)))
    assert not all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(c)))


def test_seed_alone_is_deterministic_and_leaves_the_global_rng():
    mels, labels = _clips(4)
    state = torch.get_rng_state()
    a = fit_classifier(mels, labels, 3, epochs=2, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    torch.rand(5)  # whatever ran before does not matter
    b = fit_classifier(mels, labels, 3, epochs=2, seed=3)
    assert all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b)))
