"""The capability declarations and combination rules (plrf.capabilities) drive the docs' table and the refusals."""
import pathlib
import re

import pytest

import plrf
from plrf import capabilities as cap
from plrf import transforms

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "families.md"


def test_the_docs_table_is_the_generated_one():
    text = DOC.read_text()
    table = re.search(r"<!-- capabilities:begin -->\n(.*?)\n<!-- capabilities:end -->", text, re.S).group(1)
    assert table == cap.table(), "docs/families.md §5: paste plrf.capabilities.table() between the markers"


def test_every_transform_kind_is_in_the_table():
    assert set(cap.KINDS) == {"momentum", "decay", "svag", "controller", "experts", "gradient_model", "clip",
                              "coordinatewise"}
    for kind in cap.KINDS:
        assert f"| {kind} |" in cap.table()


def test_a_transform_without_declarations_is_refused():
    with pytest.raises(TypeError, match="declares no capability"):
        class Clip(cap.Transform):  # noqa: F841
            KIND = "clip_planted"
            DECLARES = {"exact": cap.EXACT}
    assert "clip_planted" not in cap.KINDS


def test_a_declaration_outside_the_vocabulary_is_refused():
    with pytest.raises(TypeError, match="is not one of"):
        class Sign(cap.Transform):  # noqa: F841
            KIND = "sign_planted"
            DECLARES = {e: "maybe" for e in cap.ENGINES}


def test_every_rule_names_two_known_kinds_and_a_reason():
    for pair, rule in cap.RULES.items():
        assert len(pair) == 2 and pair <= set(cap.KINDS) and rule.reason


# The refusals, as rules: each pair stays refused until its engines land (then one RULES entry flips).
REFUSED = [("controller", "svag"), ("controller", "experts"), ("controller", "gradient_model"),
           ("experts", "gradient_model"), ("decay", "gradient_model"), ("svag", "gradient_model")]
# Opened with their Monte Carlo checks (tests/test_opened_combinations.py).
OPENED = [("controller", "decay"), ("experts", "decay"), ("experts", "svag"), ("decay", "svag")]


@pytest.mark.parametrize("a,b", REFUSED)
def test_refused_pairs_stay_refused(a, b):
    assert not cap.RULES[frozenset({a, b})].composes


@pytest.mark.parametrize("a,b", OPENED)
def test_opened_pairs_compose(a, b):
    assert cap.RULES[frozenset({a, b})].composes


def test_opened_pairs_run_where_both_members_are_defined():
    assert plrf.chain(plrf.sgd(0.1), plrf.decay(decay=0.01), plrf.controllers.risk_norm()).engines() == ["exact", "eigen",
                                                                                                   "full"]
    assert plrf.chain(plrf.sgd(0.1), plrf.decay(decay=0.01), plrf.Experts.zipf(3, 1.0)).engines() == ["exact",
                                                                                                     "eigen"]
    assert plrf.chain(plrf.sgd(0.1), plrf.svag(4), plrf.Experts.zipf(3, 1.0)).engines() == ["exact", "fast", "ode",
                                                                                           "eigen"]


def _members():
    return {"decay": plrf.decay(decay=0.01), "svag": plrf.svag(4), "controller": plrf.controllers.risk_norm(),
            "experts": plrf.Experts.zipf(3, 1.0), "gradient_model": plrf.gaussianised()}


def test_a_refused_chain_names_the_members_and_lists_no_engine():
    c = plrf.chain(plrf.sgd(0.1), plrf.svag(4), plrf.controllers.risk_norm())
    with pytest.raises(ValueError, match=r"svag\(4\) and controllers.risk_norm\(\) do not compose.*no engine"):
        c.check("exact")


def test_an_undefined_member_names_the_engine_and_the_engines_that_run_it():
    c = plrf.chain(plrf.sgd(0.1), plrf.svag(4))
    with pytest.raises(ValueError, match=r"svag\(4\) is not defined for simulate\(space='full'\).*"
                                         r"exact_risk\(method='exact'\).*simulate\(space='eigen'\)"):
        c.check("full")


def test_labels_are_the_weakest_members():
    assert plrf.chain(plrf.sgd(0.1)).check("exact") == cap.EXACT
    assert plrf.chain(plrf.sgd(0.1), plrf.controllers.risk_norm()).check("ode") == cap.APPROXIMATE
    assert plrf.chain(plrf.sgd(0.1), plrf.hsgd(4)).check("eigen") == cap.MODEL_LAW
    assert plrf.chain(plrf.sgd(0.1), plrf.decay(l2=1e-3)).check("full") == cap.IN_LAW


def test_instance_refinements():
    assert plrf.chain(plrf.sgd_momentum(0.1, 0.9)).engines() == ["exact", "fast", "ode", "eigen", "full", "param"]
    assert plrf.chain(plrf.sgd(0.1), plrf.controllers.polyak()).engines() == ["exact", "ode", "eigen"]
    assert plrf.chain(plrf.sgd(0.1), plrf.continuized()).engines() == ["continuous"]


def test_a_knobbed_genmomentum_splits_into_its_members():
    opt = plrf.svag(plrf.with_decay(plrf.sgd(0.1), decay=0.01), 4)
    kinds = [m.KIND for m in plrf.chain(opt).members]
    assert kinds == ["momentum", "decay", "svag"]
    low = plrf.chain(opt).lower().optimizer
    assert (low.svag_l, low.decay.c, low.gamma2.c) == (4.0, 0.01, 0.1)


def test_a_chain_needs_one_momentum_and_one_member_per_kind():
    with pytest.raises(ValueError, match="exactly one momentum"):
        plrf.chain(plrf.svag(4))
    with pytest.raises(ValueError, match="one member of each kind"):
        plrf.chain(plrf.sgd(0.1), plrf.svag(4), plrf.svag(2)).check("exact")
    with pytest.raises(ValueError, match="not a transform"):
        plrf.chain(plrf.sgd(0.1), "adam")
    assert transforms.as_chain(plrf.sgd(0.1)).members == plrf.chain(plrf.sgd(0.1)).members
    with pytest.raises(ValueError, match="optimizer must be"):
        transforms.as_chain("sgd")
