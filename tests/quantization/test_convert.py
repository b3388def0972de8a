import io

import pytest
import torch
from torch import nn

from paperzoo.quantization import (
    LayerSpec,
    LeNet5,
    QuantConv2d,
    QuantizerSpec,
    QuantLinear,
    ResNet20,
    clustering_index,
    export_integer,
    integer_model,
    quantize_model,
)


def _lenet_spec(method="cpq", bits=2, **kw):
    w8 = QuantizerSpec(method, 8)
    return {
        "conv1": LayerSpec(w8),
        "fc3": LayerSpec(w8, w8),
        "*": LayerSpec(QuantizerSpec(method, bits, **kw), QuantizerSpec(method, bits, **kw)),
    }


def test_quantize_model_leaves_unlisted_layers_untouched():
    torch.manual_seed(0)
    model = LeNet5(image_size=16)
    q = quantize_model(model, {"conv2": LayerSpec(QuantizerSpec("lsq", 4))})
    assert isinstance(q.conv2, QuantConv2d)
    for name in ("conv1", "fc1", "fc2", "fc3"):
        assert type(getattr(q, name)) is type(getattr(model, name))
        for p, p0 in zip(getattr(q, name).parameters(), getattr(model, name).parameters()):
            assert torch.equal(p, p0)
    assert torch.equal(q.conv2.weight, model.conv2.weight)
    assert type(model.conv2) is nn.Conv2d  # not in place by default


def test_exact_names_win_over_patterns_and_unknown_names_fail():
    q = quantize_model(LeNet5(16), _lenet_spec())
    assert q.conv1.weight_quantizer.num_bits == 8 and q.conv1.input_quantizer is None
    assert q.fc1.weight_quantizer.num_bits == 2 and isinstance(q.fc1, QuantLinear)
    with pytest.raises(ValueError, match="not a Conv2d/Linear"):
        quantize_model(LeNet5(16), {"nope": LayerSpec(QuantizerSpec())})
    r = quantize_model(ResNet20(), {"layers.0.conv1": LayerSpec(QuantizerSpec("lsq", 4))})
    assert isinstance(r.layers[0].conv1, QuantConv2d) and not isinstance(r.conv1, QuantConv2d)


@pytest.mark.parametrize("method", ["cpq", "lsq", "rq", "ste"])
def test_integer_inference_reproduces_fake_quant_outputs(method):
    torch.manual_seed(1)
    model = quantize_model(LeNet5(image_size=16), _lenet_spec(method))
    x = torch.rand(8, 1, 16, 16)
    model.train()
    model(x)  # initialise every quantizer's step from data
    model.eval()
    with torch.no_grad():
        fake = model(x)
        exported = export_integer(model)
        integer = integer_model(model, exported)(x)
    assert exported["fc1"]["weight_codes"].dtype == torch.int8
    assert exported["fc1"]["weight_codes"].abs().max() <= 2
    assert torch.allclose(integer, fake, atol=1e-4, rtol=1e-4)


def test_export_requires_initialised_quantizers():
    with pytest.raises(ValueError, match="never run"):
        export_integer(quantize_model(LeNet5(16), _lenet_spec()))


def test_state_dict_round_trip_reproduces_the_model():
    torch.manual_seed(2)
    spec = _lenet_spec("cpq", 4, learn_bits=True, drop_rate=0.3)
    model = quantize_model(LeNet5(16), spec)
    x = torch.rand(4, 1, 16, 16)
    model.train()
    model(x)
    with torch.no_grad():
        model.fc1.weight_quantizer.gates.log_alpha.copy_(torch.tensor([4.0, -4.0, 0.0]))
    model.eval()
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    fresh = quantize_model(LeNet5(16), spec).eval()
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    assert bool(fresh.fc1.weight_quantizer.initialized)
    assert fresh.fc1.weight_quantizer.effective_bits() == 2
    with torch.no_grad():
        assert torch.equal(fresh(x), model(x))


def test_clustering_index_by_hand():
    q = quantize_model(nn.Sequential(nn.Linear(2, 2)), {"0": LayerSpec(QuantizerSpec("lsq", 2))})
    wq = q[0].weight_quantizer
    wq.initialize(torch.ones(1))
    with torch.no_grad():
        wq.step.fill_(1.0)
    w = torch.tensor([0.0, 0.25, -1.5, 0.9])  # errors 0, 0.25, 0.5 (tie rounds up), 0.1
    assert clustering_index(w, wq) == pytest.approx((0 + 0.25 + 0.5 + 0.1) / 4)


@pytest.mark.parametrize("bits,signed", [(2, True), (3, False), (4, True), (8, True)])
def test_bit_packing_round_trips_and_has_the_stated_size(bits, signed):
    from paperzoo.quantization import integer_range, pack_codes, unpack_codes

    qmin, qmax = integer_range(bits, signed)
    codes = torch.randint(qmin, qmax + 1, (7, 13), generator=torch.Generator().manual_seed(0))
    data = pack_codes(codes, bits, signed)
    assert len(data) == (91 * bits + 7) // 8
    assert torch.equal(unpack_codes(data, bits, signed, (7, 13)), codes)
    with pytest.raises(ValueError):
        pack_codes(torch.tensor([qmax + 1]), bits, signed)


def test_export_size_of_a_two_bit_lenet_by_hand():
    from paperzoo.quantization import export_integer, export_size

    model = quantize_model(
        LeNet5(),
        {
            "conv1": LayerSpec(QuantizerSpec("lsq", 8)),
            "fc3": LayerSpec(QuantizerSpec("lsq", 8), QuantizerSpec("lsq", 8)),
            "*": LayerSpec(QuantizerSpec("cpq", 2), QuantizerSpec("cpq", 2)),
        },
    )
    model.train()
    model(torch.rand(4, 1, 28, 28))
    size = export_size(export_integer(model))
    # weights: conv1 150 + fc3 840 at 8 bits, conv2 2,400 + fc1 48,000 + fc2 10,080 at 2 bits
    weights = 150 + 840 + (2400 + 48000 + 10080) * 2 // 8
    biases = 4 * (6 + 16 + 120 + 84 + 10)
    scales = 4 * (1 + 4 * 2)  # conv1: weight scale only; the other four: weight + input
    assert size["packed_bytes"] == weights + biases + scales
    assert size["float32_bytes"] == 4 * (150 + 840 + 2400 + 48000 + 10080) + biases
