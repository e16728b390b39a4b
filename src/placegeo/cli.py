"""The ``placegeo`` command.

Exit status: 0 on success, 2 when input is refused (bad file, bad parameter,
validation problems), 1 on an unexpected failure. Messages go to stderr; data
goes to stdout (``--json`` for machine-readable output).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import click

from placegeo.errors import PlacegeoError, ValidationError

ATLAS_HELP = ("Atlas: a .gpkg file or a postgresql://user@host:port/db?schema=name URL "
              "(default: $PLACEGEO_ATLAS, else ./atlas.gpkg).")


def _atlas_option(f):
    return click.option("--atlas", "atlas_path", metavar="FILE|URL", envvar="PLACEGEO_ATLAS", default=None,
                        help=ATLAS_HELP)(f)


def _open(atlas_path):
    from placegeo.atlas import Atlas

    return Atlas(atlas_path)


def _echo_json(data) -> None:
    """Strict JSON: missing and non-finite numbers are written as null, never NaN."""
    from placegeo._json import dumps_strict

    click.echo(dumps_strict(data, ensure_ascii=False, indent=2))


def _missing(value) -> bool:
    import pandas as pd  # imported here: a cold `placegeo search` needs no pandas

    return bool(pd.isna(value))


def _err(msg: str) -> None:
    click.echo(msg, err=True)


def _echo_notice(attrs) -> None:
    """The "rests on sample data: …" line, printed with a result that rests on sample data."""
    from placegeo.provenance import sample_notice

    notice = sample_notice(attrs)
    if notice:
        click.echo(notice)


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (Chinese characters take two), cutting if needed."""
    import unicodedata

    out, used = "", 0
    for ch in str(text):
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


def _rpad(text: str, width: int) -> str:
    """Right-align ``text`` in ``width`` terminal columns."""
    padded = _pad(text, width)
    return padded[len(padded.rstrip()):] + padded.rstrip()


def _handle_errors(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except ValidationError as exc:
            if kwargs.get("as_json"):
                _echo_json({"ok": False, "problems": [p.to_dict() for p in exc.problems]})
            _err(f"refused: {exc}")
            sys.exit(2)
        except (PlacegeoError, ValueError) as exc:
            if kwargs.get("as_json"):  # a script reading stdout gets JSON either way
                _echo_json({"ok": False, "error": str(exc), "kind": type(exc).__name__})
            _err(f"error: {exc}")
            sys.exit(2)

    return wrapper


class _Main(click.Group):
    """The command group; it tells the atlas's history which command makes a write."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["placegeo_args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        import shlex

        from placegeo._command import CURRENT

        token = CURRENT.set(shlex.join(["placegeo", *ctx.meta.get("placegeo_args", [])]))
        try:
            return super().invoke(ctx)
        finally:
            CURRENT.reset(token)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="placegeo")
def main() -> None:
    """placegeo: civil-affairs planning layers for Chinese cities (one profile per city under cities/)."""


# -- demo -----------------------------------------------------------------------------------------
@main.command()
@_atlas_option
@click.option("--city", default=None,
              help="The city whose demo to build: a profile name under cities/ (default: $PLACEGEO_CITY, else the "
                   "first profile by name).")
@click.option("--seed", default=20240101, show_default=True, help="Seed of the generated sample layers.")
@click.option("--overwrite", is_flag=True,
              help="Replace an atlas holding imports or edits (a dated backup is kept beside it).")
@_handle_errors
def demo(atlas_path, city, seed, overwrite) -> None:
    """Build a city's demo atlas (real boundaries, codes and census; marked sample facilities).

    An atlas already there is replaced only if it holds nothing but an earlier demo; one with
    imports or edits is refused unless --overwrite.
    """
    from placegeo.atlas import default_atlas_path
    from placegeo.cities import default_city, load_city
    from placegeo.demo import build_demo_atlas

    profile = load_city(city) if city else load_city(default_city())
    path = atlas_path or default_atlas_path()
    label = f"building the {profile.names['en']} demo atlas"
    with click.progressbar(length=100, label=label, file=sys.stderr) as bar:
        done = [0]

        def step(share: float, what: str) -> None:
            if what.startswith("kept a backup"):
                _err(f"\n{what}")
            bar.update(int(share * 100) - done[0])
            done[0] = int(share * 100)

        atlas = build_demo_atlas(path, city=profile.name, seed=seed, progress=step, overwrite=overwrite)
    _err(f"demo atlas written to {atlas.location}")
    _print_layer_rows(_layer_rows(atlas.location))


# -- layers ---------------------------------------------------------------------------------------
@main.group(invoke_without_command=True)
@_atlas_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_handle_errors
def layers(ctx, atlas_path, as_json) -> None:
    """List the layers: definitions, and counts, sample share and sources in the atlas."""
    if ctx.invoked_subcommand is not None:
        return
    from placegeo.atlas import atlas_exists, default_atlas_path

    path = atlas_path or default_atlas_path()
    rows = _layer_rows(path)
    if as_json:
        _echo_json(rows)
        return
    if not atlas_exists(path):
        _err(f"(no atlas at {path}: showing definitions only; build one with `placegeo demo`)")
    _print_layer_rows(rows)


def _layer_rows(location: str) -> list[dict]:
    from placegeo.atlas import Atlas, atlas_exists
    from placegeo.registry import load_registry

    summary = Atlas(location).summary().set_index("layer") if atlas_exists(location) else None
    rows = []
    for name, spec in load_registry().items():
        s = summary.loc[name] if summary is not None and name in summary.index else None
        rows.append({
            "layer": name, "title_zh": spec.title_zh, "title_en": spec.title_en, "geometry": spec.geometry,
            "features": int(s["features"]) if s is not None else 0,
            "sample_share": float(s["sample_share"]) if s is not None else 0.0,
            "sources": s["sources"] if s is not None else "",
            "attribution": s["attribution"] if s is not None else "",
        })
    return rows


def _print_layer_rows(rows: list[dict]) -> None:
    w = max(len(r["layer"]) for r in rows)
    click.echo(f"{'layer':<{w}}  {'features':>8}  {'sample':>6}  title; sources")
    for r in rows:
        sources = r["sources"].split(" | ")
        shown = sources[0][:70] + (f" (+{len(sources) - 1} more)" if len(sources) > 1 else "")
        click.echo(f"{r['layer']:<{w}}  {r['features']:>8}  {r['sample_share']:>6.0%}  {r['title_zh']} "
                   f"({r['title_en']}){'; ' + shown if r['sources'] else ''}")
    notices = sorted({r["attribution"] for r in rows if r["attribution"]})
    for n in notices:
        click.echo(f"attribution: {n}")
    if any(r["sample_share"] > 0 for r in rows):
        click.echo("sample: features marked sample=true are generated demonstration data, not real facts")


@layers.command("validate")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of layer definitions (default: the registry in use).")
def layers_validate(directory) -> None:
    """Check every layer definition against the registry schema."""
    from placegeo.registry import layers_dir, validate_registry

    directory = directory or layers_dir()
    problems = validate_registry(directory)
    if problems:
        for p in problems:
            _err(f"  - {p}")
        _err(f"{len(problems)} problem(s) in the layer definitions")
        sys.exit(2)
    n = len(list(Path(directory).glob("*.yaml")))
    _err(f"{n} layer definitions are valid")


@layers.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def layers_show(name, as_json) -> None:
    """Show the fields of one layer."""
    from dataclasses import asdict

    from placegeo.registry import get_layer

    spec = get_layer(name)
    if as_json:
        _echo_json({**{k: v for k, v in asdict(spec).items() if k != "path"}})
        return
    click.echo(f"{spec.name}: {spec.title_zh} / {spec.title_en} ({spec.geometry}, key {spec.primary_key})")
    for f in spec.fields:
        extra = []
        if f.required:
            extra.append("required")
        if f.enum:
            extra.append("one of " + "/".join(map(str, f.enum)))
        if f.unit:
            extra.append(f"unit {f.unit}")
        if f.levels:
            extra.append("levels " + "/".join(f.levels))
        click.echo(f"  {f.name:<18} {f.type:<11} {f.title_zh}  {'; '.join(extra)}")


# -- import / validate ----------------------------------------------------------------------------
def _echo_report(report, *, max_derived: int = 200) -> None:
    """Notes, every derived value (row, field, value, how) and warnings, on stderr."""
    for note in report.notes:
        _err(f"note: {note}")
    derived = report.derived
    for r in derived.head(max_derived).itertuples(index=False):
        _err(f"derived: row {r.row}, {r.field} = {r.value} ({r.how})")
    if len(derived) > max_derived:
        _err(f"derived: … and {len(derived) - max_derived} more values (--json lists them all)")
    for w in report.warnings[:50]:
        _err(f"warning: {w}")


def _input_options(f):
    for opt in reversed([
        click.option("--layer", "layer", required=True, help="Target layer (see `placegeo layers`)."),
        click.option("--datum", type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]), default=None,
                     help="Datum of the coordinates, when the file does not say it (no 坐标系 column, no CRS); "
                          "refused if it contradicts the file."),
        click.option("--encoding", default=None, help="Text encoding (detected when omitted)."),
        click.option("--lon-col", default=None, help="Longitude column of a table."),
        click.option("--lat-col", default=None, help="Latitude column of a table."),
        click.option("--source-layer", default=None, help="Layer to read from a multi-layer file."),
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
        click.option("--no-derive", "no_derive", is_flag=True,
                     help="Do not fill in keys, admin codes, open_24h/opening_hours or layer defaults."),
        click.option("--allow-duplicates", is_flag=True,
                     help="Accept rows that repeat another (same or near-same name, close by) as warnings."),
        click.option("--duplicate-distance-m", type=click.FloatRange(min=0, min_open=True), default=50.0,
                     show_default=True, help="Same-name features this close (metres) are duplicates."),
    ]):
        f = opt(f)
    return f


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_input_options
@click.option("--mode", type=click.Choice(["append", "replace"]), default="append", show_default=True)
@click.option("--strict", is_flag=True, help="Refuse the whole file if any row has a problem.")
@click.option("--source", default=None, help="Value of `source` where the file has none (default: file name).")
@_atlas_option
@_handle_errors
def import_(file, layer, datum, encoding, lon_col, lat_col, source_layer, as_json, no_derive, allow_duplicates,
            duplicate_distance_m, mode, strict, source, atlas_path) -> None:
    """Import FILE (CSV, XLSX, Shapefile, GeoJSON, GeoPackage, KML) into a layer, validating every row."""
    atlas = _open(atlas_path)
    with click.progressbar(length=1, label=f"importing {file.name}", file=sys.stderr) as bar:
        result = atlas.import_file(file, layer, datum=datum, encoding=encoding, mode=mode, strict=strict,
                                   source=source, lon_col=lon_col, lat_col=lat_col, source_layer=source_layer,
                                   derive=not no_derive, allow_duplicates=allow_duplicates,
                                   duplicate_distance_m=duplicate_distance_m)
        bar.update(1)
    if as_json:
        _echo_json({"ok": True, **result.to_dict()})
    _echo_report(result.report)
    for p in result.report.problems[:50]:
        _err(f"skipped: {p}")
    _err(f"{result.n_written} of {result.n_read} rows written to '{layer}' ({mode}); {result.n_skipped} skipped")


@main.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_input_options
@_atlas_option
@_handle_errors
def validate_(file, layer, datum, encoding, lon_col, lat_col, source_layer, as_json, no_derive, allow_duplicates,
              duplicate_distance_m, atlas_path) -> None:
    """Check FILE for a layer without writing anything (exit 2 if it has problems)."""
    from placegeo.atlas import Atlas, atlas_exists, default_atlas_path
    from placegeo.ingest import check_file

    path = atlas_path or default_atlas_path()
    atlas = Atlas(path) if atlas_exists(path) else None
    report = check_file(file, layer, atlas=atlas, datum=datum, encoding=encoding, lon_col=lon_col, lat_col=lat_col,
                        source_layer=source_layer, derive=not no_derive, allow_duplicates=allow_duplicates,
                        duplicate_distance_m=duplicate_distance_m)
    if as_json:
        _echo_json({"ok": report.ok, "rows": report.n_rows, "rows_with_problems": report.n_bad,
                    "notes": report.notes, "derived": report.derived.astype({"row": int}).to_dict(orient="records"),
                    "warnings": [p.to_dict() for p in report.warnings],
                    "problems": [p.to_dict() for p in report.problems]})
    _echo_report(report)
    if not report.ok:
        for p in report.problems[:100]:
            _err(f"  - {p}")
        _err(f"{len(report.problems)} problem(s) in {report.n_bad} of {report.n_rows} rows")
        sys.exit(2)
    _err(f"{report.n_rows} rows are valid for '{layer}'")


# -- export ---------------------------------------------------------------------------------------
@main.command()
@_atlas_option
@click.option("--layer", "layer_names", multiple=True, help="Layer(s) to export (default: all).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["gpkg", "shp", "geojson", "kml", "csv"]),
              help="Format(s) (default: gpkg, shp, geojson, csv for a bundle; geojson for one layer).")
@click.option("--crs", default="EPSG:4490", show_default=True,
              help="EPSG:4490, EPSG:4326, gk (Gauss-Kruger zone), an EPSG code, gcj02 or bd09.")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"]), default="utf-8", show_default=True,
              help="Encoding of Shapefile and CSV output.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output: a .zip bundle (default exports/bundle.zip) or, with one layer and format, a file.")
@_handle_errors
def export(atlas_path, layer_names, formats, crs, encoding, out) -> None:
    """Export layers for other departments: one file, or a zipped bundle with a README of sources."""
    from placegeo.export import FORMATS, export_bundle, export_layer

    atlas = _open(atlas_path)
    single = len(layer_names) == 1 and len(formats) <= 1 and (out is None or out.suffix.lower() != ".zip")
    if single:
        fmt = formats[0] if formats else "geojson"
        name = layer_names[0]
        out = out or Path("exports") / f"{name}{FORMATS[fmt]}"
        export_layer(atlas.read(name), out, fmt=fmt, crs=crs, encoding=encoding, name=name)
        _err(f"wrote {out}")
        return
    out = out or Path("exports") / "bundle.zip"
    names = list(layer_names) or atlas.layers()
    fmts = list(formats) or ["gpkg", "shp", "geojson", "csv"]
    with click.progressbar(length=len(names) * len(fmts), label="exporting", file=sys.stderr) as bar:
        path = export_bundle(atlas, out, formats=fmts, crs=crs, encoding=encoding, layers=names,
                             progress=lambda _what: bar.update(1))
    _err(f"wrote {path}")


# -- convert --------------------------------------------------------------------------------------
@main.command()
@click.option("--from", "src", required=True, help="Datum of the input: wgs84, cgcs2000, gcj02, bd09.")
@click.option("--to", "dst", required=True, help="Datum of the output.")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Convert the coordinate columns of a CSV instead of one point.")
@click.option("--lon-col", default=None, help="Longitude column of the CSV.")
@click.option("--lat-col", default=None, help="Latitude column of the CSV.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the converted CSV (default: stdout).")
@click.argument("coords", nargs=-1, type=float)
@_handle_errors
def convert(src, dst, csv_path, lon_col, lat_col, out, coords) -> None:
    """Convert a point (LON LAT) or a CSV's coordinates between datums; prints LON LAT."""
    from placegeo import crs as pcrs

    if csv_path is None:
        if len(coords) != 2:
            raise click.UsageError("give LON LAT (two numbers), or --csv FILE")
        x, y = pcrs.convert(coords[0], coords[1], src=src, dst=dst)
        click.echo(f"{float(x):.8f} {float(y):.8f}")
        return
    if coords:
        raise click.UsageError("give either LON LAT or --csv FILE, not both")
    from placegeo.csvsafe import safe_table
    from placegeo.readers import convert_table, read_table

    df = safe_table(convert_table(read_table(csv_path), src=src, dst=dst, lon_col=lon_col, lat_col=lat_col))
    if out:
        df.to_csv(out, index=False, encoding="utf-8-sig")
        _err(f"wrote {len(df)} rows to {out}")
    else:
        click.echo(df.to_csv(index=False), nl=False)


# -- cemetery -------------------------------------------------------------------------------------
@main.command()
@_atlas_option
@click.option("--horizon", "horizon_years", default=10, show_default=True, type=int,
              help="Years of demand the cemeteries must meet.")
@click.option("--eco-share-target", type=float, default=None, help="Eco-burial share to reach (0-1; default 0.6).")
@click.option("--eco-target-year", type=int, default=None, help="Year the eco-burial target is reached.")
@click.option("--death-rate", "death_rate_per_1000", type=float, default=None,
              help="Crude death rate, deaths per 1,000 residents a year (default 7.2).")
@click.option("--growth-rate", "growth_rate_per_year", type=float, default=None,
              help="Annual change of residents, e.g. 0.005 (default 0).")
@click.option("--public-share", "public_welfare_share", type=float, default=None,
              help="Share of remains laid to rest in public-welfare cemeteries (default 0.55).")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a PNG comparing eco-burial targets 40/60/80% (and yours).")
@click.option("--by-level", is_flag=True, help="Also list each district's cemeteries by level and those planned.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def cemetery(atlas_path, horizon_years, chart, by_level, as_json, **overrides) -> None:
    """Do public-welfare cemeteries meet HORIZON years of burial demand? Per district and for the city.

    The eco-burial target and its year default to the atlas's city profile (policy).
    """

    from placegeo.cemetery import capacity_by_area, compare_scenarios, plot_scenarios

    atlas = _open(atlas_path)
    params = _burial_params(atlas, overrides)
    cemeteries, population = atlas.read("cemeteries"), atlas.read("population_units")
    names = atlas.code_names()
    table = capacity_by_area(cemeteries, population, horizon_years=horizon_years, params=params, names=names)
    levels = [c for c in table.columns if c.startswith("built_")] + ["planned"]
    if not by_level:
        table = table.drop(columns=[*levels, "planned_plots"])
    if chart is not None:
        from placegeo.pinyin import romanize

        scenarios = {f"eco {t:.0%}": params.with_(eco_share_target=t)
                     for t in sorted({0.4, 0.6, 0.8, params.eco_share_target})}
        years, paths = compare_scenarios(cemeteries, population, scenarios, horizon_years=max(horizon_years, 30))
        labels = {code: romanize(name) for code, name in names.items() if len(code) == 6}
        plot_scenarios(years, paths, labels=labels).savefig(chart, dpi=120)
        _err(f"wrote {chart}")
    start = table.attrs["start_year"]
    if as_json:
        from placegeo.cemetery import PARAM_SOURCES
        from placegeo.provenance import sample_notice

        _echo_json({"start_year": start, "horizon_years": horizon_years, "method": table.attrs["method"],
                    "atlas_revision": atlas.revision, "sample": table.attrs["sample"],
                    "sample_inputs": table.attrs["sample_inputs"], "notice": sample_notice(table.attrs),
                    "params": {k: v for k, v in vars(params).items() if k != "name"},
                    "param_sources": PARAM_SOURCES, "areas": table.reset_index()})
        return
    click.echo(f"Public-welfare cemeteries against {horizon_years} years of demand ({start}-"
               f"{start + horizon_years - 1}); eco-burial share {params.eco_share_start:.0%} -> "
               f"{params.eco_share_target:.0%} by {params.eco_target_year}; plots in standard plots")
    _echo_notice(table.attrs)
    click.echo(f"{'area':<8} {'name':<14} {'demand':>9} {'free':>9} {'planned':>9} {'meets':>5} "
               f"{'short plots':>11} {'short ha':>8} {'full in':>7}")
    for code, r in table.iterrows():
        full = "-" if _missing(r["full_year"]) else f"{int(r['full_year'])}"
        click.echo(f"{code:<8} {_pad(r['name'], 14)} {r['demand_plots']:>9,.0f} {r['free_plots']:>9,.0f} "
                   f"{r['added_plots']:>9,.0f} {'yes' if r['meets'] else 'NO':>5} {r['shortfall_plots']:>11,.0f} "
                   f"{r['shortfall_ha']:>8.2f} {full:>7}")
    if table.loc[["city"], "meets"].all() and not table["meets"].all():
        click.echo("The city as a whole has room, but some districts do not: their residents must be served "
                   "by other districts' cemeteries or new sites.")
    if by_level:
        click.echo("\ncemeteries by level (built) and planned to open within the horizon")
        click.echo(f"{'area':<8} {'name':<14} " + " ".join(_rpad(c.removeprefix("built_"), 7) for c in levels))
        for code, r in table.iterrows():
            click.echo(f"{code:<8} {_pad(r['name'], 14)} " + " ".join(f"{r[c]:>7,}" for c in levels))


def _burial_params(atlas, overrides):
    """The city profile's eco-burial policy (defaults without one), then the options given."""
    from placegeo.cemetery import BurialParams
    from placegeo.cities import city_of_atlas
    from placegeo.errors import CityError

    try:
        base = BurialParams.from_policy(city_of_atlas(atlas).policy)
    except CityError:
        base = BurialParams()
    return base.with_(**{k: v for k, v in overrides.items() if v is not None})


# -- relocation -----------------------------------------------------------------------------------
@main.command()
@_atlas_option
@click.option("--priority", is_flag=True,
              help="Only graves in the priority zones: near protection_lines and protection_areas features.")
@click.option("--dist", "dists", multiple=True, metavar="KIND=METRES",
              help="Width of a kind's priority zone, e.g. highway=500 (repeatable; default: the city profile's "
                   "policy.grave_priority_dist_m).")
@click.option("--method", type=click.Choice(["optimal", "greedy"]), default="optimal", show_default=True)
@click.option("--max-dist-km", type=float, default=None, help="Leave graves farther than this from any room unplaced.")
@click.option("--year", type=int, default=None, help="Count planned cemeteries open by this year.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the list of graves (.csv or .geojson).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def relocation(atlas_path, priority, dists, method, max_dist_km, year, out, as_json) -> None:
    """Where scattered graves go (never above a cemetery's free plots); --priority: those to move first."""
    atlas = _open(atlas_path)
    graves, cemeteries = atlas.read("scattered_graves"), atlas.read("cemeteries")
    if priority:
        result = _priority(atlas, graves, cemeteries, dists, method=method, max_dist_km=max_dist_km, year=year)
    else:
        from placegeo.cemetery import relocate_graves

        todo = graves[graves["status"] == "in_place"]
        moved = relocate_graves(todo, cemeteries, method=method, max_dist_km=max_dist_km, year=year).graves
        result = moved.rename(columns={"dist_km": "move_km"})
    if out is not None:
        _write_table(result, out)
        _err(f"wrote {len(result):,} graves to {out}")
    placed = result[result["placed"]]
    summary = {"graves": len(result), "placed": len(placed), "total_move_km": round(float(placed["move_km"].sum()), 1),
               "by_reason": result["reason"].value_counts().to_dict() if priority else None,
               "by_cemetery": placed["cemetery_id"].value_counts().head(10).to_dict()}
    if as_json:
        _echo_json({**summary, "method": result.attrs["method"], "parameters": result.attrs["parameters"],
                    "sample": result.attrs["sample"], "sample_inputs": result.attrs["sample_inputs"]})
        return
    what = "graves in priority zones" if priority else "graves in place"
    click.echo(f"{len(result):,} {what}; {len(placed):,} placed, {summary['total_move_km']:,.1f} km in all "
               f"({result.attrs['method']})")
    if priority:
        for reason, n in summary["by_reason"].items():
            click.echo(f"  {reason:<14} {n:>7,}  within {result.attrs['parameters']['dist_m'][reason]:g} m")
    if result.attrs["sample"]:
        click.echo(f"note: rests on sample data ({', '.join(result.attrs['sample_inputs'])})")


def _priority(atlas, graves, cemeteries, dists, **options):
    from placegeo.cities import city_of_atlas
    from placegeo.errors import CityError
    from placegeo.relocation import priority_zones, split_by_kind

    zones = {}
    for layer in ("protection_lines", "protection_areas"):
        if layer in atlas.layers():
            zones.update(split_by_kind(atlas.read(layer)))
    if not zones:
        raise click.UsageError("the atlas has no protection_lines or protection_areas layer; import the highways, "
                               "railways and scenic areas first (placegeo import --layer protection_lines FILE)")
    dist_m: dict[str, float] = {}
    try:
        city = city_of_atlas(atlas)
        dist_m.update(city.policy.get("grave_priority_dist_m", {}))
        epsg = city.metric_epsg
    except CityError:
        epsg = None
    for item in dists:
        kind, _, value = item.partition("=")
        try:
            dist_m[kind.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"{item!r}: write KIND=METRES, e.g. highway=500", param_hint="--dist") from None
    return priority_zones(graves, zones, dist_m, cemeteries=cemeteries, epsg=epsg, **options)


def _write_table(gdf, path: Path) -> None:
    if path.suffix.lower() == ".csv":
        gdf.drop(columns="geometry").assign(lon=gdf.geometry.x, lat=gdf.geometry.y).to_csv(
            path, index=False, encoding="utf-8-sig")
    elif path.suffix.lower() in (".geojson", ".json"):
        gdf.to_file(path, driver="GeoJSON")
    else:
        raise click.BadParameter(f"{path.name}: write .csv or .geojson", param_hint="--out")



# -- coverage -------------------------------------------------------------------------------------
@main.command()
@_atlas_option
@click.option("--layer", "facility_layer", type=click.Choice(["elderly_facilities", "relief_points"]),
              default="elderly_facilities", show_default=True, help="Facilities to measure the walk to.")
@click.option("--type", "types", multiple=True, help="Only facilities of this type (repeatable), e.g. 日间照料中心.")
@click.option("--by", type=click.Choice(["town", "district"]), default="town", show_default=True)
@click.option("--rule", type=click.Choice(["gb50180", "speed"]), default="gb50180", show_default=True,
              help="gb50180: 5/10/15 min = 300/500/1000 m; speed: minutes x --speed-kmh.")
@click.option("--speed-kmh", type=float, default=4.0, show_default=True, help="Walking speed.")
@click.option("--target-min", type=int, default=15, show_default=True, help="Circle the target applies to.")
@click.option("--target-share", type=float, default=0.9, show_default=True,
              help="Share of residents 60+ that must be covered.")
@click.option("--hour", type=float, default=None, help="Relief points: count only those open at this hour (0-24).")
@click.option("--weekday", type=click.IntRange(1, 7), default=None,
              help="With --hour: the day, 1 (Monday) to 7 (Sunday); needed where hours differ by day.")
@click.option("--no-network", is_flag=True, help="Straight line x detour factor even if the atlas has a network.")
@click.option("--central", is_flag=True,
              help="Only the central districts of the atlas's city profile, with their total.")
@click.option("--write", is_flag=True, help="Store coverage_units and coverage_gaps in the atlas.")
@click.option("--service-areas", "with_areas", is_flag=True, help="With --write, also store service areas.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def coverage(atlas_path, facility_layer, types, by, rule, speed_kmh, target_min, target_share, hour, weekday,
             no_network, central, write, with_areas, as_json) -> None:
    """Who lives within a 5/10/15-minute walk of care: shares per town or district, gaps, and more."""

    from placegeo import coverage as cov
    from placegeo.network import WalkNetwork

    atlas = _open(atlas_path)
    units = atlas.read("population_units")
    central_codes: tuple[str, ...] = ()
    if central:
        from placegeo.cities import city_of_atlas

        central_codes = city_of_atlas(atlas).central_districts
        units = units[units["district_code"].isin(central_codes)]
    facilities = atlas.read(facility_layer)
    if types:
        col = "type" if "type" in facilities else "kind"
        facilities = facilities[facilities[col].isin(types)]
    the_rule = cov.CoverageRule(rule=rule, speed_kmh=speed_kmh)
    network = None
    if not no_network and "walk_edges" in atlas.layers():
        network = WalkNetwork.from_edges(atlas.read("walk_edges"))
    elif not no_network:
        _err("note: the atlas has no walking network (walk_edges); using straight lines x "
             f"{the_rule.detour_factor:g}")
    if facility_layer == "relief_points":
        result = cov.relief_reach(units, facilities, network=network, rule=the_rule, hour=hour, weekday=weekday)
        if result.attrs.get("unknown_hours"):
            _err(f"note: {len(result.attrs['unknown_hours'])} relief points have opening hours that could not be "
                 "read and were not counted: " + ", ".join(map(str, result.attrs["unknown_hours"][:10])))
    else:
        result = cov.travel_to_nearest(units, facilities, network=network, rule=the_rule)
    names = atlas.code_names()
    key = f"{by}_code"
    table = cov.coverage_summary(result, by=key, target_min=target_min, target_share=target_share, names=names)
    if write:
        _write_coverage(atlas, result, facility_layer, target_min, network, facilities, with_areas)
    if as_json:
        from placegeo.provenance import sample_notice

        _echo_json({"method": table.attrs["method"], "atlas_revision": atlas.revision, "sample": table.attrs["sample"],
                    "sample_inputs": table.attrs["sample_inputs"], "notice": sample_notice(table.attrs),
                    "parameters": table.attrs["parameters"],
                    "facility_layer": facility_layer, "facilities": len(facilities), "target_min": target_min,
                    "target_share": target_share, "hour": hour, "areas": table.reset_index()})
        return
    when = f" open at {hour:g}:00" if hour is not None else ""
    click.echo(f"{len(facilities):,} {facility_layer}{when}"
               f"; method: {result.attrs['method']}; circles {', '.join(map(str, the_rule.thresholds_min))} min "
               f"({the_rule.rule}); target: {target_share:.0%} of residents 60+ within {target_min} min")
    _echo_notice(table.attrs)
    circles = the_rule.thresholds_min
    click.echo(f"{'code':<10} {'name':<14} {'residents':>9} {'60+':>8} "
               + " ".join(f"{f'60+ {t}min':>9}" for t in circles) + "  meets")
    for code, r in table.iterrows():
        shares = " ".join(f"{r[f'share60_{t}min']:>9.1%}" if not _missing(r[f"share60_{t}min"]) else f"{'-':>9}"
                          for t in circles)
        click.echo(f"{code:<10} {_pad(r['name'], 14)} {r['residents']:>9,} {r['residents_60plus']:>8,} {shares}  "
                   f"{'yes' if r['meets_target'] else 'NO'}")
    met = int(table["meets_target"].sum())
    click.echo(f"{met} of {len(table)} {by}s meet the target")
    if central:
        whole = cov.area_coverage(result, central_codes, target_min=target_min, target_share=target_share,
                                  label="central").loc["central"]
        click.echo(f"central districts ({', '.join(central_codes)}): {whole[f'share60_{target_min}min']:.1%} of "
                   f"{whole['residents_60plus']:,} residents 60+ within {target_min} min; target {target_share:.0%}: "
                   f"{'met' if whole['meets_target'] else 'NOT met'}")


def _write_coverage(atlas, result, facility_layer, target_min, network, facilities, with_areas) -> None:
    from placegeo.coverage import write_coverage

    written = write_coverage(atlas, result, facilities=facilities, facility_layer=facility_layer,
                             target_min=target_min, network=network, with_service_areas=with_areas)
    _err("wrote " + " and ".join(f"{name} ({n:,})" for name, n in written.items()) + f" to {atlas.location}")


# -- indicators and the report --------------------------------------------------------------------
@main.command()
@_atlas_option
@click.option("--by", type=click.Choice(["city", "district", "town"]), default="city", show_default=True,
              help="Also one row per district or town.")
@click.option("--city", default=None, help="City profile for the targets (default: the atlas's city).")
@click.option("--no-network", is_flag=True, help="Straight line x detour factor even if the atlas has a network.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def indicators(atlas_path, by, city, no_network, as_json) -> None:
    """The bureau's planning indicators: each with its definition, value, target and the target's source."""
    import pandas as pd

    from placegeo.indicators import as_document, compute_indicators

    table = compute_indicators(_open(atlas_path), by=None if by == "city" else by, city=city,
                               use_network=not no_network)
    if as_json:
        _echo_json(as_document(table))
        return
    click.echo(f"Indicators of {table.attrs['city']} (atlas revision {table.attrs['atlas_revision']}); "
               f"{table.attrs['method']}")
    _echo_notice(table.attrs)
    click.echo(f"{'indicator':<24} {'area':<10} {'area name':<14} {'value':>9} {'target':>7} {'meets':>5}  unit")
    for r in table.itertuples():
        value = "-" if pd.isna(r.value) else f"{r.value:.3g}" if r.unit != "years" else f"{r.value:g}"
        target = "-" if pd.isna(r.target) else f"{r.target:g}"
        meets = "-" if r.meets is None or pd.isna(r.meets) else ("yes" if r.meets else "NO")
        click.echo(f"{r.indicator:<24} {r.area:<10} {_pad(r.area_name, 14)} {value:>9} {target:>7} {meets:>5}  "
                   f"{r.unit}{'; ' + r.note if r.note else ''}")
    click.echo("targets: " + "; ".join(sorted({f"{r.indicator}: {r.target_source}" for r in table.itertuples()
                                               if pd.notna(r.target)})))


@main.command()
@_atlas_option
@click.option("--city", default=None, help="City profile for the targets (default: the atlas's city).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="The HTML file to write.")
@click.option("--no-network", is_flag=True, help="Straight line x detour factor even if the atlas has a network.")
@_handle_errors
def report(atlas_path, city, out, no_network) -> None:
    """Write one self-contained HTML planning report (indicators, maps, scenarios, gaps, sources)."""
    from placegeo.report import write_report

    path = write_report(_open(atlas_path), out, city=city, use_network=not no_network)
    _err(f"wrote {path}")


# -- search ---------------------------------------------------------------------------------------
@main.command()
@click.argument("query")
@_atlas_option
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--layer", default=None, help="Only this layer (e.g. traditional_place_names).")
@click.option("--category", default=None, help="Only this category or type (e.g. 泉水).")
@click.option("--district", default=None, help="Only this district (its 6-digit code).")
@click.option("--json", "as_json", is_flag=True, help="Print GeoJSON.")
@_handle_errors
def search(query, atlas_path, limit, layer, category, district, as_json) -> None:
    """Find places by name, pinyin (baotuquan), initials (frj), mixed input (芙rj) or with a typo (芙容街)."""
    import json

    from placegeo.search import SearchIndex, hit_rows, open_index

    # a GeoPackage's index tables, opened: nothing built, no GDAL; else through the atlas
    idx = open_index(atlas_path) or SearchIndex.for_atlas(_open(atlas_path))
    rows = hit_rows(idx.query(query, limit=limit, layer=layer, category=category, district=district))
    if as_json:
        click.echo(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")},
             "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]}} for r in rows]},
            ensure_ascii=False))
        return
    if not rows:
        _err(f"nothing found for {query!r}")
        return
    for r in rows:
        click.echo(f"{_pad(r['name'], 24)} {_pad(r['pinyin'], 26)} {_pad(r['layer'], 24)} "
                   f"{_pad(r['category'] or '', 10)} {r['district_code']:<7} {r['lon']:.5f},{r['lat']:.5f}  "
                   f"({r['match']}{', sample' if r['sample'] else ''})")


@main.command()
@click.argument("name")
@_atlas_option
@click.option("--type", "feature_type", default=None, metavar="TYPE",
              help="Feature type: road, town, village, county, residential, natural, park, bridge, or as the "
                   "layers write it (街巷, 村, 泉 …). Default: from the name's generic term (路 → road).")
@click.option("--area", "area_code", default=None, metavar="CODE",
              help="6-digit county or 9-digit town code where the name would be used; names outside the "
                   "jurisdiction are reported for information only.")
@click.option("--rules", "rules_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Extra rule file (YAML) extending the built-in lists; also $PLACEGEO_NAMECHECK_RULES.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def namecheck(name, atlas_path, feature_type, area_code, rules_file, as_json) -> None:
    """Check a proposed name by the place-name regulations (地名命名审核): 大、洋、怪、重, persons' names,
    characters, length; each finding cites its rule.

    The verdict is refused, needs_approval, warning or ok. The exit status is 0 whatever the verdict
    (this is a report; read the verdict); 2 only when the name, type, area or rule file is unusable.
    """
    from placegeo.namecheck import check_name
    from placegeo.search import SearchIndex

    index: Any = SearchIndex.for_atlas(_open(atlas_path))  # in memory or kept in the atlas: both hold .records
    report = check_name(index, name, feature_type=feature_type,
                        area_code=area_code, rules_file=rules_file)
    if as_json:
        _echo_json(report)
        return
    click.echo(f"{report['name']} ({report['pinyin']}; sign: {report['romanized']}): {report['verdict'].upper()}")
    click.echo(f"  type {report['feature_type']} ({report['feature_type_from']}), "
               f"area {report['area_code'] or 'not given'}")
    for f in report["findings"]:
        click.echo(f"  [{f['severity']}] {f['rule']}  {f['message']}")
        click.echo(f"      依据: {f['citation']}")
        for m in f["matches"][:10]:
            if isinstance(m, dict):
                where = m["town_code"] or m["district_code"]
                click.echo(f"      {m['name']} ({m['layer']}, {m['type'] or '-'}, {where})")


@main.command()
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@_atlas_option
@click.option("--datum", type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]), default="cgcs2000",
              show_default=True, help="Datum of LON LAT (a point from Amap is gcj02).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def reverse(lon, lat, atlas_path, datum, as_json) -> None:
    """What is at LON LAT: district, town and the nearest named places."""
    from placegeo.search import reverse_lookup

    found = reverse_lookup(_open(atlas_path), lon, lat, datum=datum)
    if as_json:
        _echo_json(found)
        return
    for level in ("district", "town", "village"):
        unit = found[level]
        text = f"{unit['name']} ({unit['code']}{', sample' if unit['sample'] else ''})" if unit else "-"
        click.echo(f"{level:<9} {text}")
    for place in found["nearest"]:
        click.echo(f"  {_pad(place['name'], 24)} {place['layer']:<24} {place['dist_m']:>8,.0f} m")



# -- atlas ----------------------------------------------------------------------------------------
@main.group()
def atlas() -> None:
    """Whole atlases: show one, list and undo its revisions, copy one between GeoPackage and PostGIS."""


@atlas.command("info")
@_atlas_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def atlas_info(atlas_path, as_json) -> None:
    """Where the atlas is, its metadata, revision and layers."""
    a = _open(atlas_path)
    info = {"location": a.location, "backend": a.backend, "revision": a.revision,
            "meta": {k: list(v) if isinstance(v, tuple) else v for k, v in a.meta.items()},
            "layers": {name: a.count(name) for name in a.layers()}, "codes": len(a.codes)}
    if as_json:
        _echo_json(info)
        return
    click.echo(f"{info['location']} ({info['backend']}), revision {info['revision']}")
    for k, v in info["meta"].items():
        click.echo(f"  {k}: {v}")
    click.echo(f"  admin codes: {info['codes']}")
    for name, n in info["layers"].items():
        click.echo(f"  {_pad(name, 26)}{n:>9,} features")


@atlas.command("history")
@_atlas_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def atlas_history(atlas_path, as_json) -> None:
    """The atlas's revisions that can be undone, newest first: when, what command, which layers, rows."""
    a = _open(atlas_path)
    records = a.store.history()
    if as_json:
        _echo_json(records)
        return
    if not records:
        click.echo(f"{a.location}: no revisions kept")
    for r in records:
        layers = "; ".join(f"{n} {c['op']} {c['rows_before']}→{c['rows_after']}"
                           for n, c in sorted(r["layers"].items()))
        click.echo(f"{r['rev']:>5}  {r['at']}  {r['command'] or ''}")
        click.echo(f"       {layers or 'metadata, codes or layer records only'}")


@atlas.command("undo")
@_atlas_option
@_handle_errors
def atlas_undo(atlas_path) -> None:
    """Put the atlas back as it was before its last write (see `placegeo atlas history`)."""
    a = _open(atlas_path)
    r = a.undo()
    layers = ", ".join(f"{n} ({c['rows_after']} → {c['rows_before']} rows)" for n, c in sorted(r["layers"].items()))
    _err(f"undid revision {r['rev']} of {r['at']} ({r['command'] or 'unknown command'}): {layers or 'metadata'}")


@atlas.command("copy")
@click.argument("src", metavar="SRC")
@click.argument("dst", metavar="DST")
@click.option("--overwrite", is_flag=True, help="Replace an atlas already at DST.")
@_handle_errors
def atlas_copy(src, dst, overwrite) -> None:
    """Copy the whole atlas SRC to DST: a .gpkg file or a postgresql:// URL, in either direction.

    Metadata, the code tree, every layer and the layer records are copied as they are, in one
    transaction: if anything fails DST is left as it was.
    """
    from placegeo.atlas import copy_atlas

    target = copy_atlas(src, dst, overwrite=overwrite)
    layers = target.layers()
    _err(f"copied {len(layers)} layers ({sum(target.count(n) for n in layers):,} features) "
         f"and {len(target.codes):,} admin codes to {target.location}")


# -- serve ----------------------------------------------------------------------------------------
@main.command()
@click.option("--atlas", "atlas_paths", metavar="FILE|URL", multiple=True,
              help="An atlas to serve (repeatable: one per city, the first is the default). "
                   "Default: $PLACEGEO_ATLASES (a comma-separated list), else $PLACEGEO_ATLAS, else ./atlas.gpkg.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@_handle_errors
def serve(atlas_paths, host, port) -> None:
    """Serve the public web map on HOST:PORT (development server; see the README for gunicorn)."""
    from placegeo.web import create_app

    app = create_app({"atlases": list(atlas_paths)} if atlas_paths else None)
    cities = app.extensions["placegeo"].cities
    where = f" with {len(cities)} cities under /<city>/: {', '.join(cities)}" if len(cities) > 1 else ""
    _err(f"serving the web map on http://{host}:{port}/{where} (Ctrl-C to stop)")
    app.run(host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    main()
