"""Model cards of the loop's final committee (JSON and Markdown, one per member).

The final committee is the last one trained. Each member's model file is copied to
``models/member_k.model`` beside ``member_k.card.json`` and ``member_k.card.md``: model
family and hyper-parameters, the training data (size, label ids, SHA-256 of the
training frames), the iterations of the loop, held-out errors with units and where the
held-out frames came from, the oracle (name, settings, version), and elyte's version
and provenance.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from elyte.jsonio import atomic_write_text, read_json, write_json
from elyte.learn.spec import LearnSpec
from elyte.learn.store import LabelStore, _frame_text
from elyte.provenance import provenance


def training_data_hash(store: LabelStore, ids: list[str]) -> str:
    """SHA-256 of the training frames (extxyz text with labels), in label-id order."""
    by_id = {a.info["label_id"]: a for a in store.frames()}
    h = hashlib.sha256()
    for lid in sorted(ids):
        h.update(_frame_text(by_id[lid]).encode())
    return h.hexdigest()


def write_model_cards(
    spec: LearnSpec,
    out: Path,
    history: list[dict[str, Any]],
    oracle: dict[str, Any],
    store: LabelStore,
) -> list[str]:
    """Copy the final committee to ``out/models`` with a card per member; returns the paths."""
    final = history[-1]
    committee = final["committee"]
    errors = final["holdout"]
    data_hash = training_data_hash(store, committee["train_ids"])
    prov = provenance()
    folder = out / "models"
    folder.mkdir(exist_ok=True)
    paths = []
    for k, rel in enumerate(committee["models"]):
        src = out / rel
        dst = folder / f"member_{k}{src.suffix}"  # .model (MACE) or .pth (SevenNet)
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dst)
        marker = src.parent / "done.json"  # SevenNet: member_k/member_k.pth
        done = read_json(marker if marker.exists() else src.parent.parent / "done.json")
        card = {
            "model_file": str(dst.relative_to(out)),
            "family": done.get("family", "mace"),
            "member": k,
            "seed": spec.member_seeds[k],
            "hyper_parameters": _member_model(spec, k),
            "finetuned_from": done.get("finetuned_from"),
            "training_data": {
                "n_frames": len(committee["train_ids"]),
                "sha256": data_hash,
                "label_ids": committee["train_ids"],
                "labels_file": "labels.extxyz",
            },
            "trained_in_iteration": committee["committee_iteration"],
            "iterations_run": len(history),
            "held_out": {
                "source": str(spec.holdout_file)
                if spec.holdout_file
                else "rattled frames of the start structure(s) labelled by the oracle",
                "n_frames": errors["n_frames"],
                "member_force_rmse_eV_per_A": errors["member_force_rmse"][k],
                "committee_force_rmse_eV_per_A": errors["force_rmse"],
                "committee_force_rmse_se_eV_per_A": errors["force_rmse_se"],
                "committee_energy_rmse_meV_per_atom_offset_removed": errors[
                    "energy_rmse_mev_per_atom"
                ],
            },
            "held_out_by_iteration_eV_per_A": [h["holdout"]["force_rmse"] for h in history],
            "oracle": oracle,
            "elyte_version": prov.get("packages", {}).get("elyte", "unknown"),
            "provenance": prov,
        }
        write_json(folder / f"member_{k}.card.json", card)
        atomic_write_text(folder / f"member_{k}.card.md", _markdown(card))
        paths.append(str((folder / f"member_{k}.card.json").relative_to(out)))
    return paths


def _member_model(spec: LearnSpec, k: int) -> dict[str, Any]:
    """Member k's model table: a heterogeneous committee's r_max / channels filled in."""
    hp = spec.model.model_dump(mode="json")
    for key, per in (("r_max", "member_r_max"), ("num_channels", "member_channels")):
        if hp.get(per) is not None:
            hp[key] = hp[per][k]
    return hp


def _markdown(card: dict[str, Any]) -> str:
    h = card["held_out"]
    td = card["training_data"]
    hp = card["hyper_parameters"]
    start = card["finetuned_from"]
    origin = f"fine-tuned from {start}" if start else "from scratch"
    return "\n".join(
        [
            f"# Model card: committee member {card['member']} (`{card['model_file']}`)",
            "",
            f"- Family: {card['family']} ({_size(card['family'], hp)}); seed "
            f"{card['seed']}; trained in iteration {card['trained_in_iteration']} "
            f"({origin}).",
            f"- Training data: {td['n_frames']} oracle-labelled frames, SHA-256 `{td['sha256']}` "
            f"(`{td['labels_file']}`).",
            f"- Held-out error ({h['n_frames']} frames; {h['source']}): member force RMSE "
            f"{h['member_force_rmse_eV_per_A']:.4f} eV/Å; committee "
            f"{h['committee_force_rmse_eV_per_A']:.4f} "
            f"± {h['committee_force_rmse_se_eV_per_A']:.4f} eV/Å; committee energy RMSE "
            f"{h['committee_energy_rmse_meV_per_atom_offset_removed']:.2f} meV/atom "
            "(offset removed).",
            "- Committee held-out force RMSE by iteration (eV/Å): "
            + ", ".join(f"{x:.4f}" for x in card["held_out_by_iteration_eV_per_A"]),
            f"- Oracle: `{card['oracle']['oracle']}` {card['oracle']['kwargs']}, version "
            f"{card['oracle']['version']}.",
            f"- elyte {card['elyte_version']}.",
            "",
        ]
    )


def _size(family: str, hp: dict[str, Any]) -> str:
    if family == "sevennet":  # the architecture is the start checkpoint's
        return f"fine-tuned SevenNet, {hp['epochs']} epoch(s) at lr {hp['lr']} first"
    return (
        f"{hp['num_channels']} channels, max_L {hp['max_L']}, r_max {hp['r_max']} Å, "
        f"{hp['num_interactions']} interaction(s)"
    )
