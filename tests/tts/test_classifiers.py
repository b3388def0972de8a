"""The judge classifiers learn separable classes and their embeddings group by class."""

import numpy as np

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
