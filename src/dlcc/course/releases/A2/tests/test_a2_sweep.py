"""Public test for a2_sweep.py: dlcc's sweep reader accepts your config and it selects on
the validation split."""

import pytest


@pytest.mark.task("A2.9")
def test_sweep_config_selects_on_validation(student):
    from dlcc.errors import DlccError
    from dlcc.tune import parse_space

    config = student.module("a2_sweep").make_sweep_config()
    assert isinstance(config, dict), f"make_sweep_config() should return a dict, got {type(config).__name__}"
    try:
        space = parse_space(config, source="make_sweep_config()")
    except DlccError as exc:  # e.g. a metric measured on the test split
        pytest.fail(f"dlcc sweep refuses this config: {exc.message}\n  fix: {exc.fix}")
    assert space.metric == "val_accuracy", \
        f"the sweep selects on {space.metric!r}; select on the validation accuracy (val_accuracy)"
    assert space.direction == "maximize", f"accuracy should be maximized, not {space.direction}d"
    assert space.method == "random", f"the course's search method was random, not {space.method!r}"
