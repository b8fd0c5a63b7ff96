"""Selection signals beyond the committee's disagreement: the model-free novelty of a
frame's local environments (elyte.learn.select.novelty) and heterogeneous committees
(model.member_r_max / member_channels), on constructed cases whose answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.geometry import get_distances
from cli_helpers import learn_refusal
from optional import need

from elyte.learn.cards import _member_model
from elyte.learn.committee import hyper_parameters
from elyte.learn.select import local_environments, novelty
from elyte.learn.spec import learn_spec_from_dict, load_learn_spec
from elyte.systems.build import build_system

CONFIG = Path(__file__).resolve().parents[1] / "examples" / "learn" / "learn_water_spcfw.toml"


@pytest.fixture(scope="module")
def water():
    spec = load_learn_spec(CONFIG)
    return build_system(spec.system, seed=0)


def _rattled(a, amp, seed):
    b = a.copy()
    b.positions += np.random.default_rng(seed).normal(0, amp, b.positions.shape)
    return b


def _close_contact(a, target=1.2):
    """Move the molecule of H atom 1 rigidly so H 1 sits ``target`` Å from the nearest
    O of another molecule (a close O–H contact: hydrogen bonds are ≥ 1.6 Å)."""
    b = a.copy()
    mol = b.arrays["mol_id"]
    h = 1
    others = [i for i in range(len(b)) if b.numbers[i] == 8 and mol[i] != mol[h]]
    vec, dist = get_distances(b.positions[h], b.positions[others], cell=b.cell, pbc=True)
    k = int(np.argmin(dist[0]))
    shift = vec[0, k] * (1 - target / dist[0, k])  # along H→O, leaving `target` Å
    b.positions[mol == mol[h]] += shift
    _, d = get_distances(b.positions[h], b.positions[others[k]], cell=b.cell, pbc=True)
    assert d[0, 0] == pytest.approx(target)
    return b


def test_novelty_ranks_a_close_oh_contact_above_frames_near_training(water):
    train = [_rattled(water, 0.02, s) for s in range(3)]
    near = [_rattled(water, 0.02, s) for s in (10, 11, 12)]
    contact = _close_contact(_rattled(water, 0.02, 13))
    score = novelty([*near, contact], train)
    assert score[-1] > 2 * max(score[:-1])
    # the training frames themselves are at zero distance
    assert np.allclose(novelty(train, train), 0.0)


def test_novelty_grows_with_the_rattle_and_is_invariant_to_rotation_and_permutation(water):
    train = [water]
    scores = novelty([_rattled(water, a, 1) for a in (0.01, 0.05, 0.2)], train)
    assert scores[0] < scores[1] < scores[2]
    b = _rattled(water, 0.05, 2)
    x = local_environments(b)
    perm = np.random.default_rng(3).permutation(len(b))
    assert np.allclose(local_environments(b[perm]), x[perm])
    c = b.copy()
    c.set_cell(c.cell, scale_atoms=False)
    c.translate([1.3, -0.7, 2.1])
    c.wrap()
    assert np.allclose(local_environments(c), x, atol=1e-10)
    r = b.copy()  # a box is rotated with its contents: the same environments
    r.rotate(90, "z", rotate_cell=True)
    assert np.allclose(local_environments(r), x, atol=1e-10)


def test_novelty_of_an_element_never_trained_on_is_infinite(water):
    other = water.copy()
    other.numbers[0] = 3  # an O become Li
    assert novelty([other], [water])[0] == np.inf


def test_heterogeneous_committee_gives_each_member_its_architecture():
    data = load_learn_spec(CONFIG).model_dump()
    data["model"] |= {"member_r_max": None, "member_channels": None}
    spec = learn_spec_from_dict(data)
    data["model"] |= {"member_r_max": [4.0, 3.5, 4.5], "member_channels": [8, 8, 16]}
    het = type(spec).model_validate(data)
    hp = [hyper_parameters(het, 0, member=k) for k in range(3)]
    assert [h.r_max for h in hp] == [4.0, 3.5, 4.5]
    assert [h.num_channels for h in hp] == [8, 8, 16]
    assert [_member_model(het, k)["r_max"] for k in range(3)] == [4.0, 3.5, 4.5]
    # without the keys every member is the shared model
    assert {hyper_parameters(spec, 0, member=k).r_max for k in range(3)} == {spec.model.r_max}


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ("model = { member_r_max = [4.0, 3.5] }\n", "model.member_r_max has 2 entries"),
        ("model = { member_channels = [8, 8, 8, 8] }\n", "model.member_channels has 4"),
        ("model = { member_r_max = [4.0, 0.5, 4.5] }\n", "member_r_max"),
        ('model = { member_channels = [8, "x", 8] }\n', "member_channels"),
    ],
)
def test_bad_heterogeneous_keys_exit_2_naming_the_key(tmp_path, capsys, extra, named):
    printed = learn_refusal(tmp_path, capsys, extra)
    assert named in printed


@pytest.mark.slow
def test_heterogeneous_members_are_trained_with_their_own_cutoff_and_channels(tmp_path, water):
    """A real (1-epoch) training: each member's mace model carries its r_max and width."""
    need("mace")
    import torch
    from ase.calculators.singlepoint import SinglePointCalculator

    from elyte.learn.committee import train_committee
    from elyte.learn.oracle import Oracle

    spec = load_learn_spec(CONFIG)
    data = spec.model_dump()
    data["model"] |= {"epochs": 1, "member_r_max": [4.0, 3.5], "member_channels": [8, 16]}
    data |= {"committee_size": 2, "seeds": [0, 1]}
    het = type(spec).model_validate(data)
    oracle = Oracle("spcfw").make()
    frames = []
    for s in range(2):
        a = _rattled(water, 0.02, s)
        a.calc = oracle
        e, f = a.get_potential_energy(), a.get_forces()
        a.calc = SinglePointCalculator(a, energy=e, forces=f)
        frames.append(a)
    models = train_committee(het, frames, tmp_path, log=lambda m: None)
    got = []
    for m in models:
        net = torch.load(m, weights_only=False, map_location="cpu")
        got.append((float(net.r_max), int(net.node_embedding.linear.irreps_out.dim)))
    assert got == [(4.0, 8), (3.5, 16)]
