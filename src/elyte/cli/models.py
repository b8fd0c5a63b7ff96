"""`elyte models`: the potentials usable on this machine."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

TRUST_NOTE = (
    "A model file is code: loading a pickled model (MACE, SevenNet, CHGNet files) can run "
    "whatever it contains. elyte loads only files you name, refuses pickles that call code "
    "outside the model's own packages, and loads those only with trust_model_file = true "
    "(--trust-model-file). Load model files only from people you trust."
)
RESUME_NOTE = (
    "Resume: a killed run continues from its checkpoint bit-identically with spcfw (no "
    "skin), D3, ZBL, chgnet-0.3.0, chgnet-r2scan and sevennet-0 on CPU, and with xtb when "
    "OMP_NUM_THREADS=1; otherwise to round-off (README: What resume guarantees)."
)


# ---------------------------------------------------------------- models  [issue 2 (potentials)]
def models_command() -> None:
    """List the potentials usable on this machine, and why others are not.

    Example: elyte models
    """
    from rich.table import Table

    from elyte.potentials import available_models

    table = Table(title="elyte potentials (usable = installed and offline)")
    for column in ("model", "kind", "usable", "needs file", "why", "what"):
        table.add_column(column)
    for row in available_models():
        # Text(...) cells are printed literally: "pip install 'elyte[mace]'" keeps its
        # brackets (a plain string would be parsed as rich markup and lose "[mace]").
        table.add_row(
            Text(row.name),
            Text(row.kind),
            Text("yes", style="green") if row.usable else Text("no", style="red"),
            Text("yes" if row.needs_file else ""),
            Text(row.reason),
            Text(row.description),
        )
    console = Console()
    console.print(table)
    console.print(Text(TRUST_NOTE))
    console.print(Text(RESUME_NOTE))
