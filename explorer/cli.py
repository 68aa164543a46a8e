"""`explorer` command line: train, evaluate, embed, neighbors, list, ship. Bad input: one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from explorer.errors import ExplorerError

ROOT_HELP = "checkpoint root (default $EXPLORER_CHECKPOINTS, else the checkpoints/ folder shipped with the app)"


def _add_data_args(p):
    p.add_argument("--data-root", help="folder holding downloadable datasets (default $EXPLORER_DATA or ./data)")
    p.add_argument("--image-size", type=int, help="side length for sprites (32/64) and folder: datasets")
    p.add_argument("--color", choices=["gray", "rgb"], default="gray", help="folder: datasets only")


def _add_model_options(p) -> None:
    """A flag for each option a model family declares (explorer.models.options): --top-k, --beta, ..."""
    from explorer.models.base import declared_options

    for name, (option, families) in declared_options().items():
        kind = ({"action": argparse.BooleanOptionalAction} if option.type is bool
                else {"type": option.type, "metavar": None if option.choices else name.upper()})
        p.add_argument(f"--{name.replace('_', '-')}", dest=f"option_{name}", choices=option.choices or None,
                       help=f"{', '.join(families)}: {option.help}", **kind)


def _model_options(args) -> dict:
    """The family options given on the command line (the others keep their defaults)."""
    prefix = "option_"
    return {k[len(prefix):]: v for k, v in vars(args).items() if k.startswith(prefix) and v is not None}


def build_parser() -> argparse.ArgumentParser:
    from explorer.datasets.registry import DEFAULT_DATASET, descriptions
    from explorer.models import MODELS
    from explorer.models.likelihood import LOSSES

    parser = argparse.ArgumentParser(
        prog="explorer", description="Latent Explorer: train, evaluate and inspect autoencoders.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model and write a checkpoint (PCA at the same d is fitted beside it)")
    p.add_argument("--dataset", default=DEFAULT_DATASET,
                   help=f"{', '.join(descriptions())} (default {DEFAULT_DATASET}; `explorer list` describes them)")
    p.add_argument("--model", default="conv-ae", choices=list(MODELS))
    p.add_argument("--dim", type=int, default=16, help="code size d")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="optimisation steps (default: chosen from the data size, and stated)")
    budget.add_argument("--epochs", type=int, help="passes over the training images, instead of --steps")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--loss", choices=["auto", *LOSSES], default="auto",
                   help="reconstruction likelihood (default: bernoulli for near-binary pixels, else gaussian)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--patience", type=int, default=0,
                   help="early stopping: validation passes without improvement (0 = off; 30 passes per run)")
    p.add_argument("--conv-fc", type=int, nargs="+", help="conv backbone: fully connected widths before the code")
    _add_model_options(p)
    p.add_argument("--out", help="checkpoint folder (default checkpoints/<dataset>/<model>-d<dim>)")
    p.add_argument("--device", help="cuda, mps or cpu (default: the fastest available)")
    _add_data_args(p)

    p = sub.add_parser("evaluate", help="held-out metrics of a checkpoint beside PCA at the same d")
    p.add_argument("checkpoint")
    p.add_argument("--json", action="store_true")
    p.add_argument("--data-root")

    p = sub.add_parser("embed", help="the codes of every image: stored beside the checkpoint (computed once, in "
                                     "parallel under torchrun) and optionally written, with labels, to .csv or "
                                     ".parquet")
    p.add_argument("checkpoint")
    p.add_argument("--out", help="also write a table of the codes (.csv or .parquet)")
    p.add_argument("--data-root")

    p = sub.add_parser("maps", help="2-D maps of a checkpoint's codes (PCA, UMAP, t-SNE), stored beside it for the "
                                    "app; UMAP and t-SNE are fitted on a sample of a large set and place the rest")
    p.add_argument("checkpoint")
    p.add_argument("--method", action="append", choices=["pca", "umap", "tsne"],
                   help="a map to compute (repeatable; default pca and umap)")
    p.add_argument("--data-root")

    p = sub.add_parser("neighbors", help="the k nearest images to a dataset image or an image file, in the code "
                                         "space (the approximate index is built once and stored beside the checkpoint)")
    p.add_argument("checkpoint")
    query = p.add_mutually_exclusive_group(required=True)
    query.add_argument("--index", type=int, help="row number of a dataset image (itself excluded from the answer)")
    query.add_argument("--image", help="an image file (PNG, JPEG), converted to the dataset's kind of image")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--metric", choices=["euclidean", "cosine"], default="euclidean")
    p.add_argument("--method", choices=["auto", "exact", "approximate"], default="auto",
                   help="auto: exact search up to 20,000 images, the stored approximate index above")
    p.add_argument("--json", action="store_true")
    p.add_argument("--data-root")

    p = sub.add_parser("list", help="datasets, models and checkpoints")
    p.add_argument("--json", action="store_true")
    p.add_argument("--root", help=ROOT_HELP)

    from explorer.experiments.base import experiments

    for exp in experiments().values():
        if exp.run is not None:
            _add_experiment_args(sub.add_parser(exp.name, help=exp.help), exp)

    p = sub.add_parser("ship", help="retrain the checkpoints shipped with the app")
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("--only", help="substring of '<dataset>/<model>-d<dim>' to retrain only some")
    return parser


def cmd_train(args) -> int:
    from tqdm import tqdm

    from explorer import distributed
    from explorer.pipeline import pca_verdict, train_checkpoint
    from explorer.train import TrainConfig

    if min(args.dim, args.batch_size, *(n for n in (args.steps, args.epochs) if n is not None)) < 1 or args.lr <= 0:
        raise ExplorerError("--dim, --steps, --epochs and --batch-size must be positive integers and --lr positive")
    options = {**_model_options(args), "loss": args.loss}
    if args.conv_fc is not None:
        options["conv_fc"] = args.conv_fc
    config = TrainConfig(steps=args.steps, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         patience=args.patience, device=args.device)
    distributed.init(args.device)  # under torchrun: join the process group (gloo on CPU, nccl on CUDA)
    bars = []  # made at the first validation pass, so bad data fails before a bar is drawn

    def progress(log):
        if not bars:
            bars.append(tqdm(total=log.steps, desc=f"{args.model} d={args.dim}", unit="step"))
        bars[0].update(log.step - bars[0].n)
        bars[0].set_postfix(train=f"{log.train_loss:.2f}", validation=f"{log.val_loss:.2f}")

    dataset = _load_data(args.dataset, args.data_root, image_size=args.image_size, color=args.color)
    path, metrics, _ = train_checkpoint(args.dataset, args.model, args.dim, config, options, out=args.out,
                                        callbacks=[progress], image_size=args.image_size, color=args.color,
                                        dataset=dataset,
                                        announce=lambda line: print(line, file=sys.stderr))
    for bar in bars:
        bar.close()
    distributed.barrier()  # the other ranks wait while rank 0 evaluates and writes, then all leave together
    if metrics is None:  # a rank other than 0 under torchrun: rank 0 reports and writes
        return 0
    print(f"saved {path}")
    print(f"held-out error {metrics['recon_sse']:.2f} (PCA at d={args.dim}: {metrics['pca_recon_sse']:.2f})")
    verdict = pca_verdict(metrics, args.model)
    if verdict:
        print(f"warning: {verdict}", file=sys.stderr)
    return 0


def _load_data(spec, data_root=None, **options):
    """The dataset, with a progress bar while a folder of images is decoded into its cache (once)."""
    from explorer.datasets import load_dataset

    return _decoding(lambda progress: load_dataset(spec, data_root=data_root, progress=progress, **options))


def _decoding(load):
    """load(progress): a dataset, with a progress bar while a folder of images is decoded into its cache (once);
    under torchrun rank 0 decodes and the others then read the cache."""
    from tqdm import tqdm

    from explorer import distributed

    bar = None

    def progress(done, total):
        nonlocal bar
        bar = bar or tqdm(total=total, desc="decoding images (once, into a cache)", unit="image",
                          disable=not distributed.is_main())
        bar.update(done - bar.n)

    if not distributed.is_main():
        distributed.barrier()
    try:
        return load(progress)
    finally:
        if bar is not None:
            bar.close()
        if distributed.is_main():
            distributed.barrier()


def _load_for_checkpoint(path, data_root=None):
    """(model, Checkpoint, dataset) of a checkpoint folder: config.json read once, the dataset it was trained on."""
    from explorer.checkpoints import Checkpoint

    ckpt = Checkpoint(path)
    dataset = _decoding(lambda progress: ckpt.load_dataset(data_root, progress))
    return ckpt.load_model(dataset.image_shape), ckpt, dataset


def cmd_evaluate(args) -> int:
    from explorer.codes import read_codes
    from explorer.evaluate import evaluate_model, with_pca_beside
    from explorer.pipeline import beats_pca, pca_baseline, pca_verdict

    model, ckpt, dataset = _load_for_checkpoint(args.checkpoint, args.data_root)
    pca, stored = pca_baseline(ckpt, dataset)
    if stored is None:
        print(f"note: {ckpt.path} has no stored PCA baseline fitted on this data; fitted PCA at d={ckpt.dim} "
              "now for the comparison (not stored)", file=sys.stderr)
    pca_codes = None if stored is None else read_codes(stored.path, pca, dataset)
    metrics = with_pca_beside(evaluate_model(model, dataset, ckpt.codes(model, dataset)),
                              evaluate_model(pca, dataset, pca_codes))
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "family": model.family, "dim": model.dim,
                          "dataset": ckpt.spec, "pca_checkpoint": None if stored is None else str(stored.path),
                          **metrics, "beats_pca": beats_pca(metrics)}))
        return 0
    baseline = "fitted now" if stored is None else f"stored in {stored.path}"
    print(f"{args.checkpoint}: {model.family}, d={model.dim}, dataset {ckpt.spec}, "
          f"{len(dataset.test_idx)} held-out images; PCA baseline {baseline}")
    names = [k for k in metrics if not k.startswith("pca_")]
    print(f"{'metric':<20}{'model':>12}{'PCA':>12}")
    for k in names:
        pca_value = metrics.get(f"pca_{k}")
        print(f"{k:<20}{metrics[k]:>12.4f}{'' if pca_value is None else f'{pca_value:>12.4f}':>12}")
    verdict = pca_verdict(metrics, model.family)
    if verdict:
        print(f"warning: {verdict}", file=sys.stderr)
    return 0


def cmd_embed(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from explorer import distributed
    from explorer.codes import read_codes, store_codes
    from explorer.export import codes_frame, write_table

    distributed.init()
    model, ckpt, dataset = _load_for_checkpoint(args.checkpoint, args.data_root)
    codes = read_codes(ckpt.path, model, dataset)
    if codes is None:
        with tqdm(total=len(distributed.shard(len(dataset))), desc="encoding", unit="image",
                  disable=not distributed.is_main()) as bar:
            codes = store_codes(ckpt.path, model, dataset, lambda done, _: bar.update(done - bar.n))
        if distributed.is_main():
            print(f"stored {len(codes):,} codes of size {model.dim} in {ckpt.codes_path}")
    elif distributed.is_main():
        print(f"read {len(codes):,} stored codes of size {model.dim} from {ckpt.codes_path}")
    if args.out and distributed.is_main():
        frame = codes_frame(np.asarray(codes), dataset)
        print(f"wrote {len(frame):,} codes to {write_table(frame, args.out)}")
    return 0


def cmd_maps(args) -> int:
    import time

    import numpy as np
    from tqdm import tqdm

    from explorer.project import FIT_SAMPLE, MAP_METHODS, estimated_seconds, project, stored_projection

    model, ckpt, dataset = _load_for_checkpoint(args.checkpoint, args.data_root)
    codes = np.asarray(ckpt.codes(model, dataset))
    n = len(codes)
    for method in args.method or ("pca", "umap"):
        if stored_projection(codes, method, args.checkpoint) is not None:
            print(f"{MAP_METHODS[method]} map of {n:,} codes: already stored in {args.checkpoint}")
            continue
        sample = f", fitted on {FIT_SAMPLE[method]:,} sampled codes" if n > FIT_SAMPLE.get(method, n) else ""
        seconds = estimated_seconds(method, n)
        print(f"{MAP_METHODS[method]} of {n:,} codes{sample}: about {seconds:.0f} s", file=sys.stderr)
        start = time.perf_counter()
        with tqdm(total=n, desc=MAP_METHODS[method], unit="code", file=sys.stderr) as bar:
            project(codes, method, args.checkpoint, progress=lambda placed, _: bar.update(placed - bar.n))
            bar.update(n - bar.n)
        seconds = time.perf_counter() - start
        print(f"stored the {MAP_METHODS[method]} map of {n:,} codes in {args.checkpoint} ({seconds:.1f} s)")
    return 0


def cmd_neighbors(args) -> int:
    from pathlib import Path

    import numpy as np

    from explorer.evaluate import encode_all
    from explorer.neighbors import APPROX_THRESHOLD, NeighborIndex, build_index, stored_index
    from explorer.query_image import data_style, from_upload

    if args.k < 1:
        raise ExplorerError(f"--k must be a positive integer, got {args.k}")
    model, ckpt, dataset = _load_for_checkpoint(args.checkpoint, args.data_root)
    if args.index is not None and not 0 <= args.index < len(dataset):
        raise ExplorerError(f"--index {args.index} is out of range: the dataset has {len(dataset):,} images, "
                            f"numbered 0 to {len(dataset) - 1}")
    codes = ckpt.codes(model, dataset)
    if args.index is not None:
        vector, query = np.asarray(codes[args.index]), args.index
    else:
        path = Path(args.image)
        if not path.is_file():
            raise ExplorerError(f"{path}: no such image file; give the path of a PNG or JPEG")
        image = from_upload(path.read_bytes(), data_style(dataset.images), name=str(path)).image  # (C, H, W)
        vector, query = encode_all(model, image[None]).numpy()[0], str(path)
    approximate = args.method == "approximate" or (args.method == "auto" and len(codes) > APPROX_THRESHOLD)
    index = stored_index(ckpt.path, codes, args.metric) if approximate else None
    if index is None and approximate:
        print(f"building the neighbour index of {len(codes):,} codes (once: it is stored beside the checkpoint) ...",
              file=sys.stderr)
        index = build_index(ckpt.path, codes, args.metric, method="approximate")
        path = ckpt.index_path(args.metric)
        where = f"stored in {path}" if path.is_file() else "kept in memory only: the folder is read-only"
        print(f"built in {index.build_seconds_:.1f} s, {where}", file=sys.stderr)
    elif index is None:
        index = NeighborIndex(args.metric, "exact").fit(codes)
    idx, dist = index.query(vector, args.k, exclude=args.index)
    labels = None if dataset.labels is None else dataset.labels[idx[0]]
    found = [{"index": int(i), "distance": float(d), "label": None if labels is None else int(labels[r])}
             for r, (i, d) in enumerate(zip(idx[0], dist[0]))]
    if args.json:
        print(json.dumps({"query": query, "k": args.k, "metric": args.metric, "neighbors": found,
                          "index": {"method": index.method_, "build_seconds": round(index.build_seconds_, 3)}}))
        return 0
    names = dataset.class_names
    print(f"the {args.k} nearest to {'image ' if args.index is not None else ''}{query} in code space "
          f"({args.metric}, {index.method_} search)")
    print(f"{'rank':>4} {'index':>9} {'distance':>10}" + ("  label" if labels is not None else ""))
    for rank, nb in enumerate(found, 1):
        label = "" if labels is None else f"  {names[nb['label']] if nb['label'] < len(names) else nb['label']}"
        print(f"{rank:>4} {nb['index']:>9} {nb['distance']:>10.4f}{label}")
    return 0


def cmd_list(args) -> int:
    from explorer.checkpoints import Checkpoint, list_checkpoints
    from explorer.datasets.registry import descriptions
    from explorer.models import MODELS

    ckpts = []
    for path in list_checkpoints(args.root):
        ckpt = Checkpoint(path)
        ckpts.append({"path": str(path), "dataset": ckpt.config.get("dataset"), "family": ckpt.family, "dim": ckpt.dim,
                      "recon_sse": ckpt.metrics.get("recon_sse"),
                      "pca_recon_sse": ckpt.config.get("pca_metrics", {}).get("recon_sse")})
    if args.json:
        print(json.dumps({"datasets": descriptions(), "models": list(MODELS), "checkpoints": ckpts}))
        return 0
    print("datasets:")
    for name, text in descriptions().items():
        print(f"  {name:<14} {text}")
    print("models: " + ", ".join(MODELS))
    print("checkpoints:")
    for c in ckpts:
        err = "" if c["recon_sse"] is None else f"  held-out error {c['recon_sse']:.2f} (PCA {c['pca_recon_sse']:.2f})"
        print(f"  {c['path']}{err}")
    return 0


# The experiments' subcommands come from their table (explorer.experiments.base): the config's scalar fields and
# the training flags the experiment names become flags; what the CLI prints is the experiment's own report.
FLAG_TYPES = {"int": int, "float": float, "str": str}
TRAIN_HELP = {"steps": "optimisation steps of each model", "epochs": "passes over the training images",
              "lr": "learning rate", "seed": "seed of the data drawn and of the initial weights"}


def _config_flags(config_class, skip=()) -> list:
    """(field, type) for each field of a config dataclass that a flag can set: ints, floats, strings (maybe None)."""
    from dataclasses import fields

    out = []
    for f in fields(config_class):
        named = f.type.__name__ if isinstance(f.type, type) else str(f.type)  # a class, or a string annotation
        kind = FLAG_TYPES.get(named.removesuffix(" | None"))
        if kind is not None and f.name not in skip:
            out.append((f, kind))
    return out


def _experiment_flags(exp) -> list:
    from explorer.train import TrainConfig

    train = [(f, kind) for f, kind in _config_flags(TrainConfig) if f.name in exp.train_flags]
    return _config_flags(exp.config, skip={"train"}) + train


def _add_experiment_args(p, exp) -> None:
    defaults = exp.config()
    train = getattr(defaults, "train", None)
    if exp.on_checkpoint:
        p.add_argument("checkpoint")
        p.add_argument("--data-root")
    for f, kind in _experiment_flags(exp):
        default = getattr(train if f.name in exp.train_flags else defaults, f.name)
        text = exp.flag_help.get(f.name) or f.metadata.get("help") or TRAIN_HELP.get(f.name, f.name.replace("_", " "))
        shown = "" if default is None else f" (default {default})"
        p.add_argument(f"--{f.name.replace('_', '-')}", type=kind, choices=f.metadata.get("choices"),
                       help=f"{text}{shown}")
    if exp.save is not None and exp.on_checkpoint:
        p.add_argument("--no-save", action="store_true", help="print the results without storing them")
    elif exp.save is not None:
        default_dir = exp.default_dir(defaults, "checkpoints")
        p.add_argument("--out", help=f"run folder (default {default_dir})")


def _stage_bar():
    """A tqdm bar per training stage, as a progress(stage, done, total) callback."""
    from tqdm import tqdm

    bars = {}

    def progress(stage, done, total):
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr)
        bars[stage].n = done
        bars[stage].refresh()

    return progress


def cmd_experiment(args) -> int:
    from explorer.experiments.base import Progress, experiments

    exp = experiments()[args.command]
    values = {f.name: getattr(args, f.name) for f, _ in _experiment_flags(exp) if getattr(args, f.name) is not None}
    config = exp.config.make(**values) if hasattr(exp.config, "make") else exp.config(**values)
    inputs = {"checkpoint": args.checkpoint, "data_root": args.data_root} if exp.on_checkpoint else {}
    result = exp.run(config, Progress(_stage_bar()), **inputs)
    if exp.save is not None and not getattr(args, "no_save", False):
        print(f"saved {exp.save(result, getattr(args, 'out', None))}")
    if exp.report is not None:
        print(exp.report(result))
    return 0


def cmd_ship(args) -> int:
    from explorer.shipped import train_shipped

    train_shipped(args.root, args.only)
    return 0


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "embed": cmd_embed, "maps": cmd_maps,
            "neighbors": cmd_neighbors, "list": cmd_list, "ship": cmd_ship}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.formatwarning = lambda msg, *a, **k: f"warning: {msg}\n"
        try:
            return COMMANDS.get(args.command, cmd_experiment)(args)
        except ExplorerError as exc:
            print(f"error: {exc}", file=sys.stderr)
        except (OSError, ValueError, KeyboardInterrupt) as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            from explorer import distributed

            distributed.close()
    return 2
