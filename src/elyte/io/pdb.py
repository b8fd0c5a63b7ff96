"""PDB files with molecules as residues: the topology beside an H5MD trajectory, and a
multi-model trajectory export.

Each molecule (``mol_id``) is one residue named by the builder's molecule name (first 4
characters, the PDB limit), each atom carries its element (columns 77-78) and its formal
charge (columns 79-80), and ``CRYST1`` carries the cell. MDAnalysis, ASE, VMD, OVITO and
PyMOL read it. PDB holds no masses: readers take them from the element (elyte's masses,
e.g. under hydrogen-mass repartitioning, are in the H5MD file's ``particles/all/mass``).
Serial numbers above 99 999 and residue numbers above 9 999 wrap, as MDAnalysis and VMD
expect.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase.geometry import cell_to_cellpar

from elyte.jsonio import atomic_write_text


def residues(
    symbols: Sequence[str], mol_id: np.ndarray | None, names: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    """Residue number (1-based, in order of first appearance) and residue name per atom.

    Atoms with ``mol_id`` -1 (not in a molecule) are one residue each; without names a
    residue is named by its element symbols (Hill order) up to 4 characters.
    """
    n = len(symbols)
    mol = np.full(n, -1) if mol_id is None else np.asarray(mol_id, int)
    resid = np.zeros(n, dtype=int)
    seen: dict[int, int] = {}
    count = 0
    for i, m in enumerate(mol):
        if m < 0 or int(m) not in seen:
            count += 1
            if m >= 0:
                seen[int(m)] = count
        resid[i] = count if m < 0 else seen[int(m)]
    if names is not None and len(names) == n:
        resname = [str(x) or "MOL" for x in names]
    else:
        from ase.formula import Formula

        resname = [""] * n
        for r in np.unique(resid):
            idx = np.flatnonzero(resid == r)
            name = Formula("".join(symbols[i] for i in idx)).format("hill")
            for i in idx:
                resname[i] = name
    return resid, [name[:4] for name in resname]


def _cryst1(cell: np.ndarray) -> str:
    a, b, c, alpha, beta, gamma = cell_to_cellpar(np.asarray(cell, float))
    return f"CRYST1{a:9.3f}{b:9.3f}{c:9.3f}{alpha:7.2f}{beta:7.2f}{gamma:7.2f} P 1           1\n"


def _atom_lines(symbols, positions, resid, resname, charges) -> list[str]:
    lines = []
    counts: dict[str, int] = {}
    for i, sym in enumerate(symbols):
        x, y, z = positions[i]
        counts[sym] = counts.get(sym, 0) + 1
        name = f"{sym}{counts[sym] % 100}"[:4] if len(sym) == 1 else sym[:4]
        q = int(round(float(charges[i])))
        charge = "  " if q == 0 else f"{abs(q)}{'+' if q > 0 else '-'}"
        lines.append(
            f"HETATM{(i + 1) % 100000:5d} {name:<4s} {resname[i]:<4s}A{resid[i] % 10000:4d}    "
            f"{x:8.3f}{y:8.3f}{z:8.3f}{1.0:6.2f}{0.0:6.2f}          {sym:>2s}{charge}\n"
        )
    return lines


def pdb_text(
    symbols: Sequence[str],
    frames: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    mol_id: np.ndarray | None = None,
    molecule_names: Sequence[str] | None = None,
    charges: np.ndarray | None = None,
    remarks: Sequence[str] = (),
) -> str:
    """PDB text of ``frames`` (positions (N, 3) Å, cell (3, 3) Å); several frames become
    MODEL records."""
    symbols = [str(s) for s in symbols]
    n = len(symbols)
    q = np.zeros(n) if charges is None else np.asarray(charges, float)
    resid, resname = residues(symbols, mol_id, molecule_names)
    out = [f"REMARK   1 {r}\n" for r in remarks]
    many = len(frames) > 1
    for k, (pos, cell) in enumerate(frames):
        if k == 0 or many:
            out.append(_cryst1(cell))
        if many:
            out.append(f"MODEL     {k + 1:4d}\n")
        out.extend(_atom_lines(symbols, np.asarray(pos, float), resid, resname, q))
        if many:
            out.append("ENDMDL\n")
    if not many:  # after ENDMDL an END would read as one more, empty, model in ASE
        out.append("END\n")
    return "".join(out)


def write_pdb(path: str | Path, symbols: Sequence[str], frames, **kw) -> None:
    """Write :func:`pdb_text` atomically to ``path``."""
    atomic_write_text(path, pdb_text(symbols, frames, **kw))
