"""``xinyi scores …``: the published model, and the rebuild (:mod:`app.scoring.rebuild_cli`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.scoring.rebuild_cli import rebuild_scores
from app.scoring.scoring_model import active_model

app = typer.Typer(no_args_is_help=True, help="Credit scores: the published model, rebuilds.")
app.command("rebuild")(rebuild_scores)


@app.command("model")
def show_model(
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole model as JSON.")] = False,
) -> None:
    """Show the active scoring model: range, bands and dimensions."""
    model = active_model()
    if as_json:
        typer.echo(json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(
        f"{model.name_zh} / {model.name_en} — model {model.version}, effective {model.effective_from}; "
        f"base {model.base}, range {model.min_score}–{model.max_score}; "
        f"disputed records count ×{model.disputed_record_weight}"
    )
    bands = Table("level", "from", "zh", "en", title="Bands")
    for band in model.bands:
        bands.add_row(band.level, str(band.min_score), band.zh, band.en)
    console.print(bands)
    dimensions = Table("dimension", "zh", "en", "weight", "max +", "max −", title="Dimensions")
    for name, dimension in model.dimensions.items():
        dimensions.add_row(
            name,
            dimension.zh,
            dimension.en,
            f"{dimension.weight:g}",
            str(dimension.max_positive),
            str(dimension.max_negative),
        )
    console.print(dimensions)
