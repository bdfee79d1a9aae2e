"""``uv run python -m benchmarks --size national``: the last line printed is one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ingest.synthetic import BENCHMARK_SIZES as SIZES

app = typer.Typer(add_completion=False)


@app.command()
def main(size: str = typer.Option("province", help=f"One of {', '.join(SIZES)}."),
         workdir: Path = typer.Option(Path("benchmarks/work"), help="Generated data (cached) and warehouse homes."),
         seed: int = typer.Option(20261122, help="Generator seed: same seed, same files."),
         generate_only: bool = typer.Option(False, "--generate-only",
                                            help="Write the submissions (landing-area layout) and stop.")) -> None:
    """Time the pipeline against its limits on generated data; print one JSON line last."""
    from ingest.settings import quiet_environment

    if size not in SIZES:
        raise typer.BadParameter(f"unknown size {size!r}; choose one of {', '.join(SIZES)}", param_hint="--size")
    quiet_environment()
    if generate_only:
        from ingest.synthetic import generate

        out = workdir.resolve() / f"data-{size}-{seed}"
        typer.echo(json.dumps(generate(size, out, seed), ensure_ascii=False))
        return
    from benchmarks.run import run

    result = run(size, workdir.resolve(), seed, log=lambda m: typer.echo(m, err=True))
    typer.echo(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    app()
