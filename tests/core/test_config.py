from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

import pytest

from paperzoo.core.config import (
    ConfigError,
    Fraction,
    OneOf,
    PosFloat,
    PosInt,
    Range,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_toml,
    to_toml,
    validate,
)


@dataclass
class Opt:
    lr: float = 1e-3
    """learning rate"""
    schedule: Literal["cosine", "none"] = "cosine"
    betas: tuple[float, float] = (0.9, 0.999)


@dataclass
class Cfg:
    seeds: list[int] = field(default_factory=lambda: [0])
    steps: int = 10
    name: str = "x"
    verbose: bool = False
    clip: float | None = None
    opt: Opt = field(default_factory=Opt)


def test_overrides_apply_and_type_convert():
    cfg = apply_overrides(
        Cfg(),
        ["steps=5", "opt.lr=3e-4", "seeds=0,1,2", "verbose=true", "name=abc", "clip=1"],
    )
    assert cfg.steps == 5 and cfg.opt.lr == pytest.approx(3e-4)
    assert cfg.seeds == [0, 1, 2] and cfg.verbose is True and cfg.name == "abc"
    assert cfg.clip == 1.0 and isinstance(cfg.clip, float)
    assert apply_overrides(cfg, ["clip=none"]).clip is None
    assert apply_overrides(cfg, ["seeds=[3, 4]"]).seeds == [3, 4]
    assert apply_overrides(cfg, ["opt.betas=[0.5, 0.6]"]).opt.betas == (0.5, 0.6)
    # the original is untouched
    assert Cfg().steps == 10


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"unknown config key 'stepz'.*steps"):
        apply_overrides(Cfg(), ["stepz=3"])
    with pytest.raises(ConfigError, match=r"'opt.lrr'.*valid keys in opt: lr, schedule, betas"):
        apply_overrides(Cfg(), ["opt.lrr=3"])


@pytest.mark.parametrize(
    "override, message",
    [
        ("steps=1.5", "expected an integer"),
        ("steps=abc", "expected an integer"),
        ("verbose=maybe", "true/false"),
        ("opt.schedule=linear", "not one of"),
        ("opt=3", "is a section"),
        ("steps.x=3", "not a section"),
        ("steps", "must look like"),
        ("opt.betas=[1.0]", "expected 2 values"),
        ("seeds=a,b", "expected an integer"),
    ],
)
def test_bad_overrides_raise_clear_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(Cfg(), [override])


def test_dict_and_toml_round_trip(tmp_path):
    cfg = apply_overrides(Cfg(), ["opt.lr=0.5", "seeds=4,5", "clip=2.5"])
    assert config_from_dict(Cfg, config_to_dict(cfg)) == cfg
    p = tmp_path / "c.toml"
    p.write_text(to_toml(cfg))
    assert load_toml(Cfg, p) == cfg
    # partial files keep defaults; unknown keys are rejected
    p.write_text("steps = 7\n[opt]\nlr = 0.1\n")
    assert load_toml(Cfg, p) == Cfg(steps=7, opt=Opt(lr=0.1))
    p.write_text("[opt]\nmomentum = 0.1\n")
    with pytest.raises(ConfigError, match=r"opt\.momentum"):
        load_toml(Cfg, p)
    p.write_text("steps = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(Cfg, p)


# --- declared ranges and choices --------------------------------------------------------------


@dataclass
class Sub:
    RENAMED: ClassVar[dict[str, str]] = {"lr": "learning_rate"}
    learning_rate: PosFloat = 1e-3
    share: Fraction = 0.5
    steps: PosInt = 10
    low: float = 0.0
    high: float = 1.0

    def check(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low = {self.low} > high = {self.high}")


@dataclass
class Ranged:
    sub: Sub = field(default_factory=Sub)
    kinds: list[Annotated[str, OneOf("a", "b")]] = field(default_factory=lambda: ["a"])
    mode: Annotated[str, OneOf(("x", "y"))] = "x"
    tol: Annotated[float, Range(ge=0, finite=False)] = 1.0


@pytest.mark.parametrize(
    "override, message",
    [
        ("sub.learning_rate=-1", "sub.learning_rate = -1.0 is out of range: it must be > 0"),
        ("sub.learning_rate=0", "sub.learning_rate = 0.0 is out of range: it must be > 0"),
        ("sub.learning_rate=nan", "sub.learning_rate = nan is not a number"),
        ("sub.low=nan", "sub.low = nan is not a number"),
        ("sub.low=inf", "sub.low = inf is out of range: it must be finite"),
        ("sub.share=2", "sub.share = 2.0 is out of range: it must be in [0, 1]"),
        ("sub.steps=0", "sub.steps = 0 is out of range: it must be >= 1"),
        ('kinds=["a","c"]', "kinds[1] = 'c' is not allowed: choose from a, b"),
        ("mode=z", "mode = 'z' is not allowed: choose from x, y"),
        ("tol=-inf", "tol = -inf is out of range: it must be >= 0"),
        ("sub.low=3", "sub: low = 3.0 > high = 1.0"),
    ],
)
def test_declared_ranges_reject_bad_values_naming_field_value_and_range(override, message):
    with pytest.raises(ConfigError) as e:
        validate(apply_overrides(Ranged(), [override]))
    assert str(e.value) == message


def test_values_inside_ranges_pass_and_infinity_only_where_declared():
    cfg = apply_overrides(Ranged(), ["sub.share=1", "sub.steps=1", "tol=inf", "kinds=a,b"])
    validate(cfg)
    assert cfg.tol == float("inf") and cfg.kinds == ["a", "b"] and cfg.sub.share == 1.0
    assert Range(gt=0, lt=1).describe() == "in (0, 1)"
    assert Range(le=5).describe() == "<= 5"


def test_validate_checks_defaults_that_were_never_overridden():
    bad = Ranged(sub=Sub(steps=0))
    with pytest.raises(ConfigError, match=r"sub\.steps = 0 is out of range"):
        validate(bad)


def test_renamed_fields_read_old_stored_configs_and_hint_on_override():
    assert config_from_dict(Ranged, {"sub": {"lr": 0.1}}).sub.learning_rate == 0.1
    with pytest.raises(ConfigError, match=r"'sub.lr' \(did you mean 'learning_rate'\?\)"):
        apply_overrides(Ranged(), ["sub.lr=0.1"])
    with pytest.raises(ConfigError, match=r"did you mean 'steps'"):
        apply_overrides(Ranged(), ["sub.step=3"])


def test_ordered_pairs_and_divisibility():
    from paperzoo.core.config import Ordered, require_divisible

    @dataclass
    class Pair:
        span: Annotated[tuple[PosFloat, PosFloat], Ordered()] = (0.1, 0.5)
        width: int = 8
        heads: int = 4

        def check(self) -> None:
            require_divisible(self, "width", "heads")

    validate(Pair())
    with pytest.raises(ConfigError, match=r"span = \(0\.5, 0\.1\) has low > high"):
        validate(apply_overrides(Pair(), ["span=[0.5, 0.1]"]))
    with pytest.raises(ConfigError, match=r"span\[0\] = -1\.0 is out of range"):
        validate(apply_overrides(Pair(), ["span=[-1, 0.1]"]))
    with pytest.raises(ConfigError, match="width = 8 is not divisible by heads = 3"):
        validate(Pair(heads=3))


def test_a_renamed_single_value_field_that_became_a_list_loads():
    """``RENAMED`` maps an old key to its new name; a scalar stored under the old name of a
    field that is now a list is read as a one-element list."""
    import dataclasses as dc
    from typing import ClassVar

    from paperzoo.core.config import config_from_dict

    @dc.dataclass
    class Section:
        RENAMED: ClassVar[dict[str, str]] = {"family": "families", "steps": "num_steps"}
        families: list[str] = dc.field(default_factory=lambda: ["a", "b"])
        num_steps: int = 3

    got = config_from_dict(Section, {"family": "c", "steps": 7})
    assert got.families == ["c"] and got.num_steps == 7
    assert config_from_dict(Section, {"families": ["x"]}).families == ["x"]


def test_a_retired_key_loads_from_a_stored_run_and_is_refused_by_set():
    """``RETIRED`` keys of a stored config are skipped (not mapped onto a new field); setting
    one names the reason, and an unknown key is still an error."""
    import dataclasses as dc
    from typing import ClassVar

    import pytest

    from paperzoo.core.config import ConfigError, apply_overrides, config_from_dict

    @dc.dataclass
    class Section:
        RETIRED: ClassVar[dict[str, str]] = {"gain": "absolute gains became relative"}
        rel_gain: float = 0.05

    @dc.dataclass
    class Top:
        section: Section = dc.field(default_factory=Section)

    got = config_from_dict(Top, {"section": {"gain": 0.01}})
    assert got.section.rel_gain == 0.05
    with pytest.raises(ConfigError, match="retired: absolute gains became relative"):
        apply_overrides(Top(), ["section.gain=0.2"])
    with pytest.raises(ConfigError, match=r"unknown config key 'section\.gian'"):
        config_from_dict(Top, {"section": {"gian": 0.01}})


def test_one_entry_of_a_table_field_is_set_by_its_key():
    """``--set section.table.name=value`` adds or replaces one entry of a dict field (a level
    per data set), keeping the others; a table stored as a plain number must be set whole."""
    import dataclasses as dc
    from typing import Annotated

    from paperzoo.core.config import ConfigError, Range, apply_overrides

    @dc.dataclass
    class Claims:
        levels: dict[str, Annotated[float, Range(gt=0)]] | float = dc.field(
            default_factory=lambda: {"mnist": 1.0}
        )

    @dc.dataclass
    class Cfg:
        claims: Claims = dc.field(default_factory=Claims)

    got = apply_overrides(Cfg(), ["claims.levels.fashion_mnist=13", "claims.levels.mnist=2"])
    assert got.claims.levels == {"mnist": 2.0, "fashion_mnist": 13.0}
    with pytest.raises(ConfigError, match="out of range"):
        apply_overrides(Cfg(), ["claims.levels.fashion_mnist=-1"])
    with pytest.raises(ConfigError, match="not a table"):
        apply_overrides(Cfg(claims=Claims(levels=3.0)), ["claims.levels.cifar10=5"])
