"""The package namespace: every exported name resolves to the object its module defines, and
importing the package alone imports neither torch nor librosa."""

import importlib
import subprocess
import sys

import pytest

import paperzoo.asr as asr

MODULES = ("attention", "data", "decoding", "encoder", "features", "metrics", "model", "monotonic")


@pytest.mark.parametrize("name", asr.__all__)
def test_every_exported_name_resolves(name):
    value = getattr(asr, name)
    homes = [importlib.import_module(f"paperzoo.asr.{m}") for m in MODULES]
    homes = [m for m in homes if name in m.__all__]
    assert len(homes) == 1, f"{name} is public in {len(homes)} modules"
    assert value is getattr(homes[0], name)


def test_exports_cover_the_streaming_api():
    for name in ("MMARecognizer", "Vocabulary", "save_recognizer", "load_recognizer",
                 "StreamingRecognizer", "transcribe", "LogMel", "error_rates", "latencies",
                 "make_digit_strings"):  # fmt: skip
        assert name in asr.__all__
    assert asr.__all__ == sorted(asr.__all__) and sorted(dir(asr)) == asr.__all__


def test_importing_the_package_is_light():
    code = "import sys, paperzoo.asr\nprint(sorted({'torch', 'librosa'} & set(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
